/**
 * {@link BTF}: a parsed set of types with the lookups everything else needs.
 *
 * @module
 */

import { newInt32s } from "../uapi/bytes.ts";
import { BTFError } from "./errors.ts";
import { decodeRecord, type RecordSource, VOID_TYPE } from "./records.ts";
import type { StringTable } from "./strings.ts";
import {
  type BTFHeader,
  type BTFKind,
  BTFKindNumber,
  type BTFType,
  type TypeId,
  type TypeOfKind,
} from "./types.ts";

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
 * Parsed BTF. `type(id)` is the type with that id (id 0 is `void`). Parsed from a
 * blob, types are decoded from the raw records on first use, so a lookup by name in
 * vmlinux decodes the few types it touches, not all of them. Build one with
 * `parseBTF`.
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
  /** The string section. */
  readonly strings: StringTable;
  /** The base BTF (vmlinux) this one is split from, for a kernel module's BTF. */
  readonly base: BTF | undefined;
  /** The first type id this blob defines: 1, or the base's {@link count} for split BTF. */
  readonly firstId: TypeId;
  /** Number of type ids, counting `void` (so the last id is `count - 1`). */
  readonly count: number;
  /** The blob this was parsed from, when there is one. */
  readonly bytes: Uint8Array | undefined;
  /** The raw type records, when parsed from a blob: types and the name index come from them. */
  readonly #raw: RawTypes | undefined;
  readonly #src: RecordSource | undefined;
  /** This blob's types decoded so far, by `id - firstId`. */
  readonly #decoded: (BTFType | undefined)[];
  /** Every type, once someone asked for {@link types}. */
  #all: readonly BTFType[] | undefined;
  #nameIndex: NameIndex | undefined;
  /** Answers of {@link findAllByName} already given (the same array for the same name). */
  readonly #found = new Map<string, readonly BTFType[]>();
  #byName: Map<string, BTFType[]> | undefined;

  /**
   * Prefer `parseBTF`. Either `types` holds every id from 0 (the base's types first
   * for split BTF), or it is undefined and `opts.raw` holds this blob's records.
   */
  constructor(
    header: BTFHeader,
    types: readonly BTFType[] | undefined,
    strings: StringTable,
    opts: { base?: BTF | undefined; firstId?: TypeId; bytes?: Uint8Array; raw?: RawTypes } = {},
  ) {
    this.header = header;
    this.strings = strings;
    this.base = opts.base;
    this.firstId = opts.firstId ?? (opts.base ? opts.base.count : 1);
    this.bytes = opts.bytes;
    this.#raw = opts.raw;
    if (types !== undefined) {
      this.#all = types;
      this.count = types.length;
      this.#decoded = [];
    } else {
      const raw = opts.raw;
      if (raw === undefined) throw new BTFError("BTF needs either its types or its raw records");
      this.count = this.firstId + raw.starts.length;
      this.#src = { words: raw.words, strings };
      this.#decoded = new Array(raw.starts.length);
    }
  }

  /**
   * Every type, indexed by id; index 0 is `void`. Decodes every type the first time:
   * prefer {@link type}, {@link findByName} and {@link ofKind} on large BTF.
   */
  get types(): readonly BTFType[] {
    if (this.#all === undefined) {
      const all: BTFType[] = new Array(this.count);
      for (let id = 0; id < this.count; id++) all[id] = this.type(id);
      this.#all = all;
    }
    return this.#all;
  }

  /** The types this blob defines itself (from {@link firstId}), without the base's. */
  get ownTypes(): readonly BTFType[] {
    return this.types.slice(Math.max(this.firstId, 1));
  }

  /**
   * The type with id `id`.
   *
   * @throws {BTFError} when there is no such id
   */
  type(id: TypeId): BTFType {
    const all = this.#all;
    if (all !== undefined) {
      const t = all[id];
      if (t !== undefined) return t;
    } else if (id >= this.firstId && id < this.count) {
      const i = id - this.firstId;
      let t = this.#decoded[i];
      if (t === undefined) {
        const raw = this.#raw as RawTypes;
        t = decodeRecord(this.#src as RecordSource, id, raw.starts[i] as number);
        this.#decoded[i] = t;
      }
      return t;
    } else if (id === 0) return VOID_TYPE;
    else if (id > 0 && id < this.firstId && this.base) return this.base.type(id);
    throw new BTFError(`no type [${id}]: ids go from 0 to ${this.count - 1}`);
  }

  /**
   * The type section as native-endian words, when parsed from a blob: with
   * {@link rawStarts}, for code that walks many types without decoding them.
   */
  get rawWords(): Uint32Array | undefined {
    return this.#raw?.words;
  }

  /**
   * Where each of this blob's own records starts in {@link rawWords}: entry `i` is type
   * `firstId + i`. Undefined for BTF built from objects.
   */
  get rawStarts(): Int32Array | undefined {
    return this.#raw?.starts;
  }

  /**
   * The kind number (`BTF_KIND_*`, 0 for void) of type `id`, read from the raw record
   * without decoding the type.
   */
  kindNumber(id: TypeId): number {
    const raw = this.#raw;
    if (raw !== undefined && id >= this.firstId && id < this.count) {
      return ((raw.words[(raw.starts[id - this.firstId] as number) + 1] as number) >>> 24) & 0x1f;
    }
    if (raw !== undefined && id > 0 && id < this.firstId && this.base) {
      return this.base.kindNumber(id);
    }
    return BTFKindNumber[this.type(id).kind as keyof typeof BTFKindNumber] ?? 0;
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
      found = [...base, ...own.map((i) => this.type(this.firstId + i))];
      this.#found.set(name, found);
    }
    return found;
  }

  /** Every type of kind `kind`, in id order. */
  *ofKind<K extends BTFKind>(kind: K): IterableIterator<TypeOfKind<K>> {
    const want = kind === "VOID" ? 0 : BTFKindNumber[kind as keyof typeof BTFKindNumber];
    for (let id = 0; id < this.count; id++) {
      if (this.kindNumber(id) === want) yield this.type(id) as TypeOfKind<K>;
    }
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

/**
 * Types by name offset. BTF writers (pahole, clang, libbpf) store each distinct
 * string once, so a lookup by name finds the name's offset(s) in the string section
 * with one native substring search ({@link StringTable.offsetsOf}) and then the types
 * whose record points there, chained by offset in typed arrays. Building it reads one
 * word per type and no string: about a millisecond on vmlinux (~126k types), where
 * hashing every name's bytes took ~20 ms cold and a Map of strings 90-160 ms.
 */
class NameIndex {
  /** First type (index into `starts`) per bucket, -1 when empty. */
  readonly #head: Int32Array;
  /** Next type in the same bucket, in id order; -1 at the end. */
  readonly #next: Int32Array;
  readonly #mask: number;
  readonly #raw: RawTypes;
  readonly #strings: StringTable;

  constructor(raw: RawTypes, strings: StringTable) {
    this.#raw = raw;
    this.#strings = strings;
    const n = raw.starts.length;
    let size = 16;
    while (size < 2 * n) size *= 2;
    this.#mask = size - 1;
    const head = newInt32s(size).fill(-1);
    const next = newInt32s(n).fill(-1);
    const { words, starts } = raw;
    const mask = this.#mask;
    // Backwards, so that each chain comes out in id order.
    for (let i = n - 1; i >= 0; i--) {
      const off = words[starts[i] as number] as number;
      if (off === 0) continue;
      const b = Math.imul(off, 0x9e3779b1) & mask;
      next[i] = head[b] as number;
      head[b] = i;
    }
    this.#head = head;
    this.#next = next;
  }

  /** Indexes (into `starts`) of the types named `name`, in id order. */
  lookup(name: string): number[] {
    const out: number[] = [];
    if (name === "") return out;
    const { words, starts } = this.#raw;
    const offs = this.#strings.offsetsOf(name);
    for (const off of offs) {
      const b = Math.imul(off, 0x9e3779b1) & this.#mask;
      for (let i = this.#head[b] as number; i >= 0; i = this.#next[i] as number) {
        if (words[starts[i] as number] === off) out.push(i);
      }
    }
    // Several copies of one string (BTF written without deduplication): merge by id.
    if (offs.length > 1) out.sort((x, y) => x - y);
    return out;
  }
}

/** A short human description of a type: `STRUCT 'bpf_attr'`, `anonymous UNION [42]`. */
export function describeType(t: BTFType): string {
  return t.name === "" ? `anonymous ${t.kind} [${t.id}]` : `${t.kind} '${t.name}' [${t.id}]`;
}
