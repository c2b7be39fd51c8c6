/**
 * The shape both backends give a loaded object: `Collection` (src/kernel/, the object
 * in the Linux kernel) and `VirtualMachine` (src/vm/, the object in the userspace VM)
 * implement {@link LoadedCollection}; their programs implement {@link BackendProgram},
 * their maps {@link BackendMap}, their global variables {@link BackendVariable}. Code
 * written against these types runs on either, and `kernelBackend` / `vmBackend` (from
 * "tsbpf/kernel" and "tsbpf/vm") load a spec into the one a caller picks:
 *
 * ```ts
 * function countPackets(backend: Backend, spec: CollectionSpec): bigint {
 *   using coll = backend.load(spec);
 *   coll.program("xdp_count").run({ data: new Uint8Array(64) });
 *   return coll.variable("packets_seen").toBigInt();
 * }
 * countPackets(kernelBackend, spec); // needs root
 * countPackets(vmBackend, spec);     // runs anywhere
 * ```
 *
 * Each backend adds its own members (the kernel's fds, pins, links and BTF; the VM's
 * address space and helpers); those stay on the concrete classes.
 *
 * Pure: types only.
 *
 * @module
 */
import type { CollectionSpec, VariableSpec } from "./collection-spec.ts";
import type { BatchMap, KeyValueMap, PerCpuMap } from "./map-api.ts";

/**
 * A map of a loaded collection: key/value calls, per-CPU calls and batches, on raw
 * bytes, with the conventions of src/spec/map-api.ts (errors carry the kernel's errno
 * name in `code`). Queue, stack and bloom filter maps add their own calls on the
 * concrete classes.
 */
export interface BackendMap extends KeyValueMap, PerCpuMap, BatchMap {}

/** What a program run takes: BPF_PROG_TEST_RUN's inputs that both backends accept. */
export interface ProgramRunInput {
  /** Packet data (XDP, tc, socket filters...). */
  readonly data?: Uint8Array;
  /** The context (`struct __sk_buff`, `struct xdp_md`, tracing args...). */
  readonly ctx?: Uint8Array;
  /** Runs in a row (the result is the last one's; `duration` their mean). */
  readonly repeat?: number;
}

/** What a program run gives back, from either backend. */
export interface ProgramRunResult {
  /** The program's return value (R0's low 32 bits). */
  readonly retval: number;
  /** Mean time of one run in nanoseconds. */
  readonly duration: number;
  /** The packet after the run. */
  readonly dataOut: Uint8Array;
  /** The context after the run, when one was given. */
  readonly ctxOut: Uint8Array | undefined;
}

/** A program of a loaded collection. */
export interface BackendProgram {
  /** Its name (the function's name in the object). */
  readonly name: string;
  /** `enum bpf_prog_type`. */
  readonly type: number;
  /** Runs it once (or `repeat` times) on `input`. */
  run(input?: ProgramRunInput): ProgramRunResult;
}

/** A global variable (`.data`, `.bss`, `.rodata`, custom sections) of a loaded collection. */
export interface BackendVariable {
  /** Its name. */
  readonly name: string;
  /** Byte offset in its map's value. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** True when its map is frozen or read-only to user space (`.rodata`, `.kconfig`). */
  readonly readOnly: boolean;
  /** The spec it came from. */
  readonly spec: VariableSpec;
  /** A copy of its bytes. */
  get(): Uint8Array;
  /** Its value as an unsigned little-endian integer (variables up to 8 bytes). */
  toBigInt(): bigint;
  /** Writes it: bytes of its size, or an integer stored little-endian in its size. */
  set(value: Uint8Array | number | bigint): void;
}

/**
 * A collection loaded by either backend. `M`, `P` and `V` are the names of its maps,
 * programs and variables (generated code fills them in; `string` otherwise).
 */
export interface LoadedCollection<
  M extends string = string,
  P extends string = string,
  V extends string = string,
> extends Disposable {
  /** Maps by their spec name (global data maps as ".data", ".bss", ".rodata"...). */
  readonly maps: Readonly<Record<M, BackendMap>>;
  /** Programs by name. */
  readonly programs: Readonly<Record<P, BackendProgram>>;
  /** Global variables by name. */
  readonly variables: Readonly<Record<V, BackendVariable>>;
  /** The map named `name`; throws an Error listing the maps when there is none. */
  map(name: string): BackendMap;
  /** The program named `name`; throws an Error listing the programs when there is none. */
  program(name: string): BackendProgram;
  /** The variable named `name`; throws an Error listing the variables when there is none. */
  variable(name: string): BackendVariable;
  /** Releases what the collection holds (kernel descriptors; nothing in the VM). */
  close(): void;
}

/** Load options both backends take. */
export interface LoadOptions {
  /**
   * Values for `const volatile` variables (`.rodata`), by name: bytes of the
   * variable's size, or an integer.
   */
  readonly constants?: Readonly<Record<string, Uint8Array | number | bigint>>;
}

/** A way to load a spec: into the kernel (`kernelBackend`) or the VM (`vmBackend`). */
export interface Backend {
  /** "kernel" or "vm". */
  readonly name: string;
  /** Loads `spec`; the caller closes the result (or `using` it). */
  load<M extends string = string, P extends string = string, V extends string = string>(
    spec: CollectionSpec,
    opts?: LoadOptions,
  ): LoadedCollection<M, P, V>;
}
