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
  /** The raw type records, when parsed from a blob: the name index is built from them. */
  readonly #raw: RawTypes | undefined;
  #nameIndex: NameIndex | undefined;
  /** Answers of {@link findAllByName} already given (the same array for the same name). */
  readonly #found = new Map<string, readonly BTFType[]>();
  #byName: Map<string, BTFType[]> | undefined;

  /**
   * Prefer `parseBTF`. `types` must hold every id from 0 (the base's types first for
   * split BTF).
   */
  constructor(
    header: BTFHeader,
    types: readonly BTFType[],
    strings: StringTable,
    opts: { base?: BTF | undefined; firstId?: TypeId; bytes?: Uint8Array; raw?: RawTypes } = {},
  ) {
    this.header = header;
    this.types = types;
    this.strings = strings;
    this.base = opts.base;
    this.firstId = opts.firstId ?? (opts.base ? opts.base.count : 1);
    this.bytes = opts.bytes;
    this.#raw = opts.raw;
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
    for (const t of this.findAllByName(name)) {
      if (t.kind === kind) return t as TypeOfKind<K>;
    }
    return undefined;
  }

  /** Every type named `name`, of any kind, in id order. */
  findAllByName(name: string): readonly BTFType[] {
    if (this.#raw === undefined) return this.#index().get(name) ?? [];
    let found = this.#found.get(name);
    if (found === undefined) {
      this.#nameIndex ??= new NameIndex(this.#raw, this.strings);
      const own = this.#nameIndex.lookup(name);
      const base = this.base?.findAllByName(name) ?? [];
      found = [...base, ...own.map((i) => this.types[this.firstId + i] as BTFType)];
      this.#found.set(name, found);
    }
    return found;
  }

  /** Every type of kind `kind`, in id order. */
  *ofKind<K extends BTFKind>(kind: K): IterableIterator<TypeOfKind<K>> {
    for (const t of this.types) if (t.kind === kind) yield t as TypeOfKind<K>;
  }

  /** The name index of BTF built without raw records: a map over the type objects. */
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

/**
 * The raw type section as {@link parseBTF} walked it: the records as native-endian
 * words and the word index where each of this blob's types starts (`starts[i]` is type
 * `firstId + i`; its name offset is `words[starts[i]]`).
 */
export interface RawTypes {
  readonly words: Uint32Array;
  readonly starts: Int32Array;
}

const utf8 = new TextEncoder();

/**
 * Types by name, built from the raw records without touching a type object or making
 * a string: each named type's name bytes are hashed (FNV-1a) in the string section,
 * and types with the same hash are chained in typed arrays. A lookup hashes the UTF-8
 * bytes of the name, walks its chain and compares bytes. On vmlinux (~127k types) this
 * takes a few milliseconds where a Map of strings to arrays took 90–160 ms.
 */
class NameIndex {
  /** First type (index into `starts`) per bucket, -1 when empty. */
  readonly #head: Int32Array;
  /** Next type in the same bucket, in id order; -1 at the end. */
  readonly #next: Int32Array;
  readonly #hash: Uint32Array;
  readonly #mask: number;
  readonly #raw: RawTypes;
  readonly #own: Uint8Array;
  readonly #baseBytes: Uint8Array | undefined;
  readonly #baseLen: number;

  constructor(raw: RawTypes, strings: StringTable) {
    this.#raw = raw;
    this.#own = strings.bytes;
    this.#baseBytes = strings.base?.bytes;
    this.#baseLen = strings.base?.length ?? 0;
    const n = raw.starts.length;
    let size = 16;
    while (size < 2 * n) size *= 2;
    this.#mask = size - 1;
    this.#head = new Int32Array(size).fill(-1);
    this.#next = new Int32Array(n).fill(-1);
    this.#hash = new Uint32Array(n);
    const { words, starts } = raw;
    // Backwards, so that each chain comes out in id order.
    for (let i = n - 1; i >= 0; i--) {
      const off = words[starts[i] as number] as number;
      if (off === 0) continue;
      const h = this.#hashAt(off);
      this.#hash[i] = h;
      const b = h & this.#mask;
      this.#next[i] = this.#head[b] as number;
      this.#head[b] = i;
    }
  }

  /** Indexes (into `starts`) of the types named `name`, in id order. */
  lookup(name: string): number[] {
    const out: number[] = [];
    if (name === "") return out;
    const q = utf8.encode(name);
    let h = 0x811c9dc5;
    for (let k = 0; k < q.length; k++) h = Math.imul(h ^ (q[k] as number), 0x01000193);
    h >>>= 0;
    for (let i = this.#head[h & this.#mask] as number; i >= 0; i = this.#next[i] as number) {
      if (this.#hash[i] !== h) continue;
      if (this.#equals(this.#raw.words[this.#raw.starts[i] as number] as number, q)) out.push(i);
    }
    return out;
  }

  #hashAt(off: number): number {
    const [bytes, at] = this.#locate(off);
    let h = 0x811c9dc5;
    for (let k = at; k < bytes.length; k++) {
      const c = bytes[k] as number;
      if (c === 0) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return h >>> 0;
  }

  #equals(off: number, q: Uint8Array): boolean {
    const [bytes, at] = this.#locate(off);
    if (at + q.length >= bytes.length || bytes[at + q.length] !== 0) return false;
    for (let k = 0; k < q.length; k++) if (bytes[at + k] !== q[k]) return false;
    return true;
  }

  /** The section holding string offset `off` and the position in it. */
  #locate(off: number): [Uint8Array, number] {
    if (off < this.#baseLen) return [this.#baseBytes as Uint8Array, off];
    return [this.#own, off - this.#baseLen];
  }
}

/** A short human description of a type: `STRUCT 'bpf_attr'`, `anonymous UNION [42]`. */
export function describeType(t: BTFType): string {
  return t.name === "" ? `anonymous ${t.kind} [${t.id}]` : `${t.kind} '${t.name}' [${t.id}]`;
}
