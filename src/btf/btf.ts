/**
 * {@link BTF}: a parsed set of types with the lookups everything else needs.
 *
 * @module
 */

import { BTFError } from "./errors.ts";
import type { StringTable } from "./strings.ts";
import type { BTFHeader, BTFKind, BTFType, TypeId, TypeOfKind } from "./types.ts";

/** Kinds that only name or qualify another type; {@link BTF.resolve} skips them. */
const MODIFIERS: ReadonlySet<BTFKind> = new Set([
  "TYPEDEF",
  "CONST",
  "VOLATILE",
  "RESTRICT",
  "TYPE_TAG",
]);

/** Longest chain of typedefs/qualifiers/arrays followed before assuming a cycle. */
const MAX_CHAIN = 64;

/** Size of a pointer in bytes: BPF and every 64-bit kernel tsbpf targets. */
export const POINTER_SIZE = 8;

/**
 * Parsed BTF: `types[id]` is the type with that id (`types[0]` is `void`).
 * Build one with `parseBTF`.
 *
 * @example
 * ```ts
 * const btf = parseBTF(bytes);
 * const attr = btf.findByName("UNION", "bpf_attr");
 * console.log(attr && btf.sizeof(attr.id));
 * ```
 */
export class BTF {
  /** The header the blob started with. */
  readonly header: BTFHeader;
  /** Every type, indexed by id; index 0 is `void`. */
  readonly types: readonly BTFType[];
  /** The string section. */
  readonly strings: StringTable;
  /** The base BTF (vmlinux) this one is split from, for a kernel module's BTF. */
  readonly base: BTF | undefined;
  /** The first type id this blob defines: 1, or the base's {@link count} for split BTF. */
  readonly firstId: TypeId;
  /** The blob this was parsed from, when there is one. */
  readonly bytes: Uint8Array | undefined;
  #byName: Map<string, BTFType[]> | undefined;

  /**
   * Prefer `parseBTF`. `types` must hold every id from 0 (the base's types first for
   * split BTF).
   */
  constructor(
    header: BTFHeader,
    types: readonly BTFType[],
    strings: StringTable,
    opts: { base?: BTF | undefined; firstId?: TypeId; bytes?: Uint8Array } = {},
  ) {
    this.header = header;
    this.types = types;
    this.strings = strings;
    this.base = opts.base;
    this.firstId = opts.firstId ?? (opts.base ? opts.base.count : 1);
    this.bytes = opts.bytes;
  }

  /** The types this blob defines itself (from {@link firstId}), without the base's. */
  get ownTypes(): readonly BTFType[] {
    return this.firstId <= 1 ? this.types.slice(1) : this.types.slice(this.firstId);
  }

  /** Number of type ids, counting `void` (so the last id is `count - 1`). */
  get count(): number {
    return this.types.length;
  }

  /**
   * The type with id `id`.
   *
   * @throws {BTFError} when there is no such id
   */
  type(id: TypeId): BTFType {
    const t = this.types[id];
    if (t === undefined) {
      throw new BTFError(`no type [${id}]: ids go from 0 to ${this.types.length - 1}`);
    }
    return t;
  }

  /**
   * The type behind `id` once typedefs, const, volatile, restrict and type tags are
   * skipped: `resolve(id of "const __u32")` is the INT `unsigned int`.
   *
   * @throws {BTFError} on a missing id or a reference cycle
   */
  resolve(id: TypeId): BTFType {
    let t = this.type(id);
    for (let i = 0; i < MAX_CHAIN; i++) {
      if (!MODIFIERS.has(t.kind)) return t;
      t = this.type((t as TypeOfKind<"TYPEDEF">).type);
    }
    throw new BTFError(`type [${id}] does not resolve after ${MAX_CHAIN} steps (a cycle?)`);
  }

  /**
   * Size in bytes of a value of type `id` (pointers are {@link POINTER_SIZE}).
   *
   * @throws {BTFError} for types that have no size: void, functions, forward declarations
   */
  sizeof(id: TypeId): number {
    let mult = 1;
    let cur = id;
    for (let i = 0; i < MAX_CHAIN; i++) {
      const t = this.resolve(cur);
      switch (t.kind) {
        case "INT":
        case "STRUCT":
        case "UNION":
        case "ENUM":
        case "ENUM64":
        case "FLOAT":
        case "DATASEC":
          return mult * t.size;
        case "PTR":
          return mult * POINTER_SIZE;
        case "ARRAY":
          mult *= t.nelems;
          cur = t.type;
          break;
        case "VAR":
          cur = t.type;
          break;
        default:
          throw new BTFError(`type [${id}] has no size: it is ${describeType(t)}`);
      }
    }
    throw new BTFError(`type [${id}] does not resolve after ${MAX_CHAIN} steps (a cycle?)`);
  }

  /**
   * The first type of kind `kind` named `name`, or undefined.
   *
   * @example
   * ```ts
   * const e = btf.findByName("ENUM", "bpf_cmd"); // EnumType | undefined
   * ```
   */
  findByName<K extends BTFKind>(kind: K, name: string): TypeOfKind<K> | undefined {
    for (const t of this.#index().get(name) ?? []) {
      if (t.kind === kind) return t as TypeOfKind<K>;
    }
    return undefined;
  }

  /** Every type named `name`, of any kind, in id order. */
  findAllByName(name: string): readonly BTFType[] {
    return this.#index().get(name) ?? [];
  }

  /** Every type of kind `kind`, in id order. */
  *ofKind<K extends BTFKind>(kind: K): IterableIterator<TypeOfKind<K>> {
    for (const t of this.types) if (t.kind === kind) yield t as TypeOfKind<K>;
  }

  #index(): Map<string, BTFType[]> {
    if (this.#byName === undefined) {
      const m = new Map<string, BTFType[]>();
      for (const t of this.types) {
        if (t.name === "") continue;
        const list = m.get(t.name);
        if (list) list.push(t);
        else m.set(t.name, [t]);
      }
      this.#byName = m;
    }
    return this.#byName;
  }
}

/** A short human description of a type: `STRUCT 'bpf_attr'`, `anonymous UNION [42]`. */
export function describeType(t: BTFType): string {
  return t.name === "" ? `anonymous ${t.kind} [${t.id}]` : `${t.kind} '${t.name}' [${t.id}]`;
}
