/**
 * The shape of the struct layouts in bpf.generated.ts. Hand-written.
 *
 * @module
 */

/**
 * Where a field sits in a struct: `offset` and `size` in bytes from the start of the
 * struct (for `union bpf_attr` layouts, from the start of the union). For a bitfield,
 * `offset`/`size` describe the storage unit that holds it (the member's declared type)
 * and `bitOffset`/`bitSize` the bits within it, counted from the least significant bit
 * of the little-endian unit.
 */
export interface Field {
  readonly offset: number;
  readonly size: number;
  readonly bitOffset?: number;
  readonly bitSize?: number;
}

/**
 * A struct's size and fields. Field keys are the kernel's C member names; members of
 * anonymous unions/structs are hoisted to the top, members of named nested ones are
 * joined with dots (`"perf_event.bpf_cookie"`), arrays are one field of the whole size.
 */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, Field>>;
}
