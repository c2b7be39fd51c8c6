/**
 * BTF as C type definitions: the header `bpftool btf dump file F format c` prints
 * (a `vmlinux.h`), with the same text, line for line.
 *
 * How it works, in two passes per top-level type (ids in order):
 *
 * 1. **Ordering** walks what a type needs to be complete. A named struct, union,
 *    enum, forward declaration or typedef goes into the emission queue after
 *    everything it embeds. Reaching a named struct through a pointer needs nothing
 *    (a forward declaration will do), which is how pointer cycles are broken.
 * 2. **Emission** prints each queued type. Printing a struct first makes sure its
 *    members' types were printed; a named struct met on the way that is not ready is
 *    forward-declared (`struct foo;`). Anonymous structs, unions and enums are
 *    printed inline where they are used.
 *
 * Declarations are built as in C's declarator grammar: qualifiers directly on the base
 * type go before it (`volatile const int`), pointers, arrays and function prototypes
 * wrap the name, with parentheses where precedence needs them (`int (*(*f)(int))[3]`).
 *
 * Layout is reproduced with explicit padding (`long: 64;`) where natural alignment
 * would not place a member at its offset, and `__attribute__((packed))` on structs
 * whose members are not naturally aligned. Names that occur more than once in a
 * namespace (struct/union/enum tags; typedefs and enumerators) get `___2`, `___3`...
 * suffixes in the order they are first printed.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import { encodeBTF } from "./encode.ts";
import { BTFError } from "./errors.ts";
import { parseBTF } from "./parse.ts";
import type { StringTable } from "./strings.ts";
import { BTFKindNumber, type TypeId } from "./types.ts";

/** Options for {@link dumpC}. */
export interface DumpCOptions {
  /**
   * Wrap the types in bpftool's vmlinux.h header and footer (`#ifndef __VMLINUX_H__`,
   * the `preserve_access_index` pragma). Default true.
   */
  readonly header?: boolean;
  /** Only these types (and what they need), instead of every type. */
  readonly rootIds?: readonly TypeId[];
}

const HEADER =
  "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n";
const FOOTER =
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/**
 * All types of `btf` as C, as `bpftool btf dump file F format c` prints them.
 *
 * @example
 * ```ts
 * writeFileSync("vmlinux.h", dumpC(parseBTF(readFileSync("/sys/kernel/btf/vmlinux"))));
 * ```
 * @throws {BTFError} on a type cycle C cannot express or a kind that has no C form
 */
export function dumpC(btf: BTF, options: DumpCOptions = {}): string {
  const parts: string[] = [];
  dumpCTo(btf, (chunk) => parts.push(chunk), options);
  return parts.join("");
}

/**
 * {@link dumpC}, streamed: `write` receives the text in chunks of about 64 KiB as it is
 * produced, so a dump costs the memory of one chunk however long it is (a struct of
 * 4 GiB prints half a billion padding lines). A `write` that throws stops the dump.
 *
 * @example
 * ```ts
 * const fd = openSync("vmlinux.h", "w");
 * dumpCTo(parseBTF(readFileSync("/sys/kernel/btf/vmlinux")), (s) => writeSync(fd, s));
 * ```
 * @throws {BTFError} as {@link dumpC}, and on a type nested deeper than
 * {@link MAX_DUMP_DEPTH} (a chain of pointers or anonymous types that loops)
 */
export function dumpCTo(
  btf: BTF,
  write: (chunk: string) => void,
  options: DumpCOptions = {},
): void {
  const d = new CDumper(btf, new Sink(write));
  if (options.header !== false) d.out.push(HEADER);
  if (options.rootIds) for (const id of options.rootIds) d.dumpType(id);
  else d.dumpAll();
  if (options.header !== false) d.out.push(FOOTER);
  d.out.flush();
}

/**
 * Limits of the C dump: how deep the walk may nest (pointers to pointers, anonymous
 * structs inside anonymous structs, typedef chains) before it stops with a BTFError.
 * Real BTF nests a few levels (the kernel resolves at most 32 in a row); a loop of
 * pointers or of anonymous types, which the parser lets through, ends here instead of
 * in a stack overflow. Output is not limited: it is streamed ({@link dumpCTo}).
 */
export const MAX_DUMP_DEPTH = 1000;

/**
 * Text out in chunks of about {@link Sink.CHUNK} characters. Pieces are joined by `+=`:
 * V8 links them into a rope and flattens it once per chunk, which measured faster
 * than collecting an array and joining it.
 */
class Sink {
  static readonly CHUNK = 1 << 16;
  readonly #write: (chunk: string) => void;
  #text = "";

  constructor(write: (chunk: string) => void) {
    this.#write = write;
  }

  push(text: string): void {
    this.#text += text;
    if (this.#text.length >= Sink.CHUNK) this.flush();
  }

  flush(): void {
    if (this.#text.length === 0) return;
    const chunk = this.#text;
    this.#text = "";
    this.#write(chunk);
  }
}

// Order and emit states (0 is "not yet").
const ORDERING = 1;
const ORDERED = 2;
const NOT_EMITTED = 0;
const EMITTING = 1;
const EMITTED = 2;

// BTF_KIND_* numbers the dumper switches on.
const K = BTFKindNumber;

/** Kind names by number, for error messages. */
const KIND_NAME: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, num] of Object.entries(BTFKindNumber)) names[num] = name;
  return names;
})();

const PADS: readonly (readonly [string, number])[] = [
  ["long", 64],
  ["int", 32],
  ["short", 16],
  ["char", 8],
];

const TABS: string[] = [""];
function pfx(lvl: number): string {
  while (TABS.length <= lvl) TABS.push(`${TABS[TABS.length - 1]}\t`);
  return TABS[lvl] as string;
}

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/**
 * The records the dump reads: every type's record start by id (-1 for void) in one
 * array of words, base types first for split BTF. Types are never decoded into
 * objects: on vmlinux that saves ~125,000 objects and their member lists.
 */
interface RawView {
  readonly words: Uint32Array;
  readonly starts: Int32Array;
}

function rawView(btf: BTF): RawView {
  const words = btf.rawWords;
  const own = btf.rawStarts;
  if (words === undefined || own === undefined) {
    // Built from objects: write it out and read it back.
    return rawView(parseBTF(encodeBTF(btf), btf.base ? { base: btf.base } : {}));
  }
  const starts = new Int32Array(btf.count);
  starts[0] = -1;
  if (btf.base === undefined) {
    starts.set(own, 1);
    return { words, starts };
  }
  const base = rawView(btf.base);
  const shift = base.words.length;
  const all = new Uint32Array(shift + words.length);
  all.set(base.words);
  all.set(words, shift);
  starts.set(base.starts.subarray(0, btf.firstId));
  for (let i = 0; i < own.length; i++) starts[btf.firstId + i] = (own[i] as number) + shift;
  return { words: all, starts };
}

/** The dump's state; one per {@link dumpC} call. */
class CDumper {
  readonly out: Sink;
  /** Nesting of the recursive walks, against {@link MAX_DUMP_DEPTH}. */
  #depth = 0;
  readonly #n: number;
  readonly #w: Uint32Array;
  readonly #at: Int32Array;
  /** Kind number by id (0 for void): read on every step of every walk, so kept flat. */
  readonly #kinds: Uint8Array;
  readonly #strings: StringTable;
  readonly #order: Uint8Array;
  readonly #emit: Uint8Array;
  readonly #fwdEmitted: Uint8Array;
  readonly #referenced: Uint8Array;
  /** Per id: 0 not looked at yet, 1 named, 2 anonymous. */
  readonly #namedMemo: Uint8Array;
  readonly #queue: TypeId[] = [];
  readonly #typeNames = new Map<string, number>();
  readonly #identNames = new Map<string, number>();
  readonly #cachedType: (string | undefined)[];
  readonly #cachedIdent: (string | undefined)[];
  readonly #ptrSize = 8;
  /** Memoised alignment per id (0 = not computed yet, -1 = none). */
  readonly #align: Int32Array;

  constructor(btf: BTF, out: Sink) {
    this.out = out;
    const view = rawView(btf);
    this.#w = view.words;
    this.#at = view.starts;
    this.#strings = btf.strings;
    const n = btf.count;
    this.#n = n;
    this.#order = new Uint8Array(n);
    this.#emit = new Uint8Array(n);
    this.#fwdEmitted = new Uint8Array(n);
    this.#referenced = new Uint8Array(n);
    this.#namedMemo = new Uint8Array(n);
    this.#cachedType = new Array(n);
    this.#cachedIdent = new Array(n);
    this.#align = new Int32Array(n);
    this.#kinds = new Uint8Array(n);
    this.#scan();
  }

  /** One level deeper into a recursive walk; throws past {@link MAX_DUMP_DEPTH}. */
  #enter(id: TypeId): void {
    if (++this.#depth > MAX_DUMP_DEPTH) this.#tooDeep(id);
  }

  #tooDeep(id: TypeId): never {
    throw new BTFError(
      `C dump: types nest deeper than ${MAX_DUMP_DEPTH} levels at type [${id}] (a loop of pointers or anonymous types?)`,
    );
  }

  // ---- the records ----------------------------------------------------------------

  /**
   * Word index of `id`'s record (not void). Every id the walks reach is a root checked
   * by {@link dumpType} or a reference checked by {@link #scan}.
   */
  #rec(id: TypeId): number {
    return this.#at[id] as number;
  }

  /** Kind number of `id` (0 for void). */
  #kind(id: TypeId): number {
    return this.#kinds[id] as number;
  }

  #vlen(id: TypeId): number {
    return (this.#w[this.#rec(id) + 1] as number) & 0xffff;
  }

  #kflag(id: TypeId): boolean {
    return (this.#w[this.#rec(id) + 1] as number) >>> 31 === 1;
  }

  /** The size or type word (`size_type`). */
  #st(id: TypeId): number {
    return this.#w[this.#rec(id) + 2] as number;
  }

  /** Whether `id` has a name (a name offset that is not 0 and not an empty string). */
  #named(id: TypeId): boolean {
    if (id === 0) return false;
    let m = this.#namedMemo[id] as number;
    if (m === 0) {
      m = this.#strings.isEmpty(this.#w[this.#rec(id)] as number) ? 2 : 1;
      this.#namedMemo[id] = m;
    }
    return m === 1;
  }

  #rawName(id: TypeId): string {
    return this.#strings.get(this.#w[this.#rec(id)] as number);
  }

  /** Member `i` of struct/union `id`: its words start at the returned index (name, type, offset). */
  #member(id: TypeId, i: number): number {
    return this.#rec(id) + 3 + 3 * i;
  }

  /** The bit offset of the member at word `m`; `kf` is its struct's kind_flag. */
  #bitOffset(m: number, kf: boolean): number {
    const off = this.#w[m + 2] as number;
    return kf ? off & 0xffffff : off;
  }

  /** The bitfield size of the member at word `m` (0: not a bitfield). */
  #bitfield(m: number, kf: boolean): number {
    return kf ? (this.#w[m + 2] as number) >>> 24 : 0;
  }

  /** A member that is not a bitfield and does not sit at a multiple of `align` bytes. */
  #misaligned(m: number, kf: boolean, align: number): boolean {
    return this.#bitfield(m, kf) === 0 && this.#bitOffset(m, kf) % (8 * align) !== 0;
  }

  #isComposite(kind: number): boolean {
    return kind === K.STRUCT || kind === K.UNION;
  }

  /**
   * One pass over the records: each type's kind into {@link #kinds}, and which types
   * are referred to by another (an anonymous enum that is only a typedef's is printed
   * there). Every reference is checked to name a type, so the walks need not (BTF
   * parsed with `checkReferences: false` may hold any number).
   */
  #scan(): void {
    const r = this.#referenced;
    const words = this.#w;
    const n = this.#n;
    const kinds = this.#kinds;
    for (let id = 1; id < n; id++) {
      const w = this.#at[id] as number;
      const info = words[w + 1] as number;
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      kinds[id] = kind;
      // The largest id this record refers to (0: none, or void).
      let ref = 0;
      switch (kind) {
        case K.PTR:
        case K.TYPEDEF:
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.FUNC:
        case K.VAR:
        case K.DECL_TAG:
        case K.TYPE_TAG:
          ref = words[w + 2] as number;
          break;
        case K.ARRAY: {
          const elem = words[w + 3] as number;
          const index = words[w + 4] as number;
          r[elem] = 1;
          r[index] = 1;
          ref = Math.max(elem, index);
          break;
        }
        case K.STRUCT: // name, type, offset per member
        case K.UNION:
          for (let i = 0, m = w + 4; i < vlen; i++, m += 3) {
            const t = words[m] as number;
            r[t] = 1;
            if (t > ref) ref = t;
          }
          break;
        case K.FUNC_PROTO: // return type, then name, type per parameter
          ref = words[w + 2] as number;
          for (let i = 0, m = w + 4; i < vlen; i++, m += 2) {
            const t = words[m] as number;
            r[t] = 1;
            if (t > ref) ref = t;
          }
          break;
        case K.DATASEC: // type, offset, size per variable
          for (let i = 0, m = w + 3; i < vlen; i++, m += 3) {
            const t = words[m] as number;
            r[t] = 1;
            if (t > ref) ref = t;
          }
          break;
        default:
          break;
      }
      r[ref] = 1;
      if (ref >= n) {
        throw new BTFError(
          `C dump: type [${id}] refers to type [${ref}], but the last type is [${n - 1}]`,
        );
      }
    }
  }

  /** Every type, in id order. */
  dumpAll(): void {
    for (let id = 1; id < this.#n; id++) if (!this.#printsNothing(id)) this.#dump(id);
  }

  /** One root type (and what it needs). */
  dumpType(id: TypeId): void {
    if (!(id >= 0 && id < this.#n && Number.isInteger(id))) {
      throw new BTFError(`C dump: no type [${id}]`);
    }
    if (!this.#printsNothing(id)) this.#dump(id);
  }

  /**
   * True for a top-level type that orders and prints nothing: functions, variables,
   * sections and tags (marked ordered, as the walk would), a pointer to a named struct.
   */
  #printsNothing(id: TypeId): boolean {
    const k = this.#kinds[id];
    if (k === K.FUNC || k === K.VAR || k === K.DATASEC || k === K.DECL_TAG) {
      this.#order[id] = ORDERED;
      return true;
    }
    return k === K.PTR && this.#ptrToNamedComposite(id);
  }

  #dump(id: TypeId): void {
    this.#queue.length = 0;
    this.#orderType(id, false);
    const queue = this.#queue;
    for (let i = 0; i < queue.length; i++) this.#emitType(queue[i] as TypeId, 0);
  }

  // ---- ordering -------------------------------------------------------------------

  /**
   * Queues what `id` needs, then `id` itself when it is a named definition. Returns
   * true when `id` must be complete before a user ("strong"), false when a forward
   * declaration would do.
   */
  #orderType(id: TypeId, throughPtr: boolean): boolean {
    // Pointers, qualifiers and arrays hand the walk to the type they wrap: a loop, not
    // a call per level (they are never ORDERING, so the checks below do not apply).
    for (let steps = 0; ; steps++) {
      if (id === 0 || this.#order[id] === ORDERED) return true;
      const kind = this.#kinds[id] as number;
      if (kind === K.PTR) throughPtr = true;
      else if (kind === K.ARRAY) throughPtr = false;
      else if (
        !(kind === K.CONST || kind === K.VOLATILE || kind === K.RESTRICT || kind === K.TYPE_TAG)
      ) {
        // A named struct reached through a pointer needs nothing, whether it is being
        // ordered or not (ordered ones returned above).
        if (throughPtr && this.#isComposite(kind) && this.#named(id)) return false;
        break;
      }
      if (steps === MAX_DUMP_DEPTH) this.#tooDeep(id);
      id = kind === K.ARRAY ? (this.#w[this.#rec(id) + 3] as number) : this.#st(id);
    }
    this.#enter(id);
    try {
      const st = this.#order[id];
      const kind = this.#kind(id);
      if (st === ORDERING) {
        if (this.#isComposite(kind) && throughPtr && this.#named(id)) return false;
        throw new BTFError(`C dump: unsatisfiable type cycle through type [${id}]`);
      }
      switch (kind) {
        case K.INT:
        case K.FLOAT:
          this.#order[id] = ORDERED;
          return false;
        case K.STRUCT:
        case K.UNION: {
          const named = this.#named(id);
          if (throughPtr && named) return false;
          this.#order[id] = ORDERING;
          const vlen = this.#vlen(id);
          for (let i = 0; i < vlen; i++) {
            // The result is not used here; most members need no walk.
            this.#orderQuick(this.#w[this.#member(id, i) + 1] as number, false);
          }
          if (named) this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        }
        case K.ENUM:
        case K.ENUM64:
        case K.FWD:
          if (this.#named(id) || !this.#referenced[id]) this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        case K.TYPEDEF: {
          const strong = this.#orderType(this.#st(id), throughPtr);
          if (throughPtr && !strong) return false;
          this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        }
        case K.FUNC_PROTO: {
          // The return type's word, then each parameter's type word.
          let strong = false;
          const words = this.#w;
          const end = this.#rec(id) + 4 + 2 * this.#vlen(id);
          for (let p = this.#rec(id) + 2; p < end; p += 2) {
            if (this.#orderQuick(words[p] as number, throughPtr)) strong = true;
          }
          return strong;
        }
        case K.FUNC:
        case K.VAR:
        case K.DATASEC:
        case K.DECL_TAG:
          this.#order[id] = ORDERED;
          return false;
        default:
          return false;
      }
    } finally {
      this.#depth--;
    }
  }

  /**
   * {@link #orderType}'s result for `t`, without the walk where it is known: void, a
   * type ordered already, a pointer to a named struct (most parameters).
   */
  #orderQuick(t: TypeId, throughPtr: boolean): boolean {
    if (t === 0 || this.#order[t] === ORDERED) return true;
    if (this.#ptrToNamedComposite(t)) return this.#order[this.#st(t)] === ORDERED;
    return this.#orderType(t, throughPtr);
  }

  // ---- emission -------------------------------------------------------------------

  /** Prints `id` if it is a definition that is due; `contId` is the type being defined (0 at top level). */
  #emitType(id: TypeId, contId: TypeId): void {
    // Pointers, qualifiers and arrays: on to the type they wrap, in a loop (they are
    // never EMITTING).
    for (let steps = 0; ; steps++) {
      if (id === 0 || this.#emit[id] === EMITTED) return;
      const kind = this.#kinds[id] as number;
      if (kind === K.ARRAY) id = this.#w[this.#rec(id) + 3] as number;
      else if (
        kind === K.PTR ||
        kind === K.CONST ||
        kind === K.VOLATILE ||
        kind === K.RESTRICT ||
        kind === K.TYPE_TAG
      )
        id = this.#st(id);
      else break;
      if (steps === MAX_DUMP_DEPTH) this.#tooDeep(id);
    }
    this.#enter(id);
    try {
      const topLevel = contId === 0;
      const kind = this.#kind(id);
      const out = this.out;
      if (this.#emit[id] === EMITTING) {
        if (this.#fwdEmitted[id]) return;
        if (this.#isComposite(kind)) {
          if (id === contId) return;
          if (!this.#named(id)) return; // an anonymous loop: nothing C can say
          out.push(`${this.#fwdName(id)};\n\n`);
          this.#fwdEmitted[id] = 1;
        } else if (kind === K.TYPEDEF) {
          if (!this.#skipTypedef(id)) {
            this.#typedefDef(id, 0);
            out.push(";\n\n");
          }
          this.#fwdEmitted[id] = 1;
        }
        return;
      }
      switch (kind) {
        case K.INT:
        case K.FLOAT:
          this.#emit[id] = EMITTED;
          break;
        case K.ENUM:
        case K.ENUM64:
          if (topLevel) {
            this.#enumDef(id, 0);
            out.push(";\n\n");
          }
          this.#emit[id] = EMITTED;
          break;
        case K.FWD:
          out.push(`${this.#kflag(id) ? "union" : "struct"} ${this.#typeName(id)};\n\n`);
          this.#emit[id] = EMITTED;
          break;
        case K.TYPEDEF:
          this.#emit[id] = EMITTING;
          this.#emitType(this.#st(id), id);
          if (!this.#fwdEmitted[id] && !this.#skipTypedef(id)) {
            this.#typedefDef(id, 0);
            out.push(";\n\n");
          }
          this.#emit[id] = EMITTED;
          break;
        case K.STRUCT:
        case K.UNION: {
          this.#emit[id] = EMITTING;
          const named = this.#named(id);
          if (topLevel || !named) {
            const inner = named ? id : contId;
            const vlen = this.#vlen(id);
            for (let i = 0; i < vlen; i++) {
              const t = this.#w[this.#member(id, i) + 1] as number;
              // Skip what the walk would do nothing for: a type printed already, a
              // pointer to a named struct declared already (or the one being defined).
              if (this.#emit[t] === EMITTED) continue;
              if (this.#ptrToNamedComposite(t)) {
                const u = this.#st(t);
                if (this.#emit[u] === EMITTED || this.#fwdEmitted[u] || u === inner) continue;
              }
              this.#emitType(t, inner);
            }
          } else if (!this.#fwdEmitted[id] && id !== contId) {
            out.push(`${this.#fwdName(id)};\n\n`);
            this.#fwdEmitted[id] = 1;
          }
          if (topLevel) {
            this.#structDef(id, 0);
            out.push(";\n\n");
            this.#emit[id] = EMITTED;
          } else {
            this.#emit[id] = NOT_EMITTED;
          }
          break;
        }
        case K.FUNC_PROTO: {
          this.#emitType(this.#st(id), contId);
          const vlen = this.#vlen(id);
          for (let i = 0, p = this.#rec(id) + 3; i < vlen; i++, p += 2) {
            this.#emitType(this.#w[p + 1] as number, contId);
          }
          break;
        }
        default:
          break;
      }
    } finally {
      this.#depth--;
    }
  }

  /** A pointer straight to a named struct or union (the walks stop there: a declaration does). */
  #ptrToNamedComposite(id: TypeId): boolean {
    if (this.#kinds[id] !== K.PTR) return false;
    const u = this.#st(id);
    return this.#isComposite(this.#kinds[u] as number) && this.#named(u);
  }

  #skipTypedef(id: TypeId): boolean {
    return this.#rawName(id) === "__builtin_va_list";
  }

  // ---- names ----------------------------------------------------------------------

  #resolveName(id: TypeId, cache: (string | undefined)[], names: Map<string, number>): string {
    const cached = cache[id];
    if (cached !== undefined) return cached;
    if (!this.#named(id)) return "";
    const orig = this.#rawName(id);
    const n = (names.get(orig) ?? 0) + 1;
    names.set(orig, n);
    const s = n > 1 ? `${orig}___${n}` : orig;
    cache[id] = s;
    return s;
  }

  #typeName(id: TypeId): string {
    return this.#resolveName(id, this.#cachedType, this.#typeNames);
  }

  #identName(id: TypeId): string {
    return this.#resolveName(id, this.#cachedIdent, this.#identNames);
  }

  #fwdName(id: TypeId): string {
    return `${this.#kind(id) === K.STRUCT ? "struct" : "union"} ${this.#typeName(id)}`;
  }

  // ---- definitions ----------------------------------------------------------------

  #typedefDef(id: TypeId, lvl: number): void {
    const name = this.#identName(id);
    const type = this.#st(id);
    if (type === 0 && name === "__gnuc_va_list") {
      this.out.push("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.out.push("typedef ");
    this.#typeDecl(type, name, lvl);
  }

  #enumDef(id: TypeId, lvl: number): void {
    const out = this.out;
    const name = this.#typeName(id);
    const vlen = this.#vlen(id);
    if (vlen === 0) {
      out.push(name === "" ? "enum" : `enum ${name}`);
      return;
    }
    const ind = pfx(lvl + 1);
    const is64 = this.#kind(id) === K.ENUM64;
    const signed = this.#kflag(id);
    const suffix = is64 ? (signed ? "LL" : "ULL") : "";
    const words = this.#w;
    const stride = is64 ? 3 : 2;
    let text = name === "" ? "enum {" : `enum ${name} {`;
    for (let i = 0, e = this.#rec(id) + 3; i < vlen; i++, e += stride) {
      const vname = this.#strings.get(words[e] as number);
      const n = (this.#identNames.get(vname) ?? 0) + 1;
      this.#identNames.set(vname, n);
      const vn = n > 1 ? `${vname}___${n}` : vname;
      const lo = words[e + 1] as number;
      let value: number | bigint;
      if (!is64) value = signed ? lo | 0 : lo;
      else {
        const raw = (BigInt(words[e + 2] as number) << 32n) | BigInt(lo);
        value = signed ? BigInt.asIntN(64, raw) : raw;
      }
      text += `\n${ind}${vn} = ${value}${suffix},`;
    }
    out.push(`${text}\n${pfx(lvl)}}`);
  }

  #structDef(id: TypeId, lvl: number): void {
    this.#enter(id);
    try {
      const out = this.out;
      const isStruct = this.#kind(id) === K.STRUCT;
      const name = this.#typeName(id);
      out.push(`${isStruct ? "struct" : "union"}${name === "" ? " {" : ` ${name} {`}`);
      const packed = isStruct && this.#isPacked(id);
      const vlen = this.#vlen(id);
      const size = this.#st(id);
      const ind = pfx(lvl + 1);
      const words = this.#w;
      const kf = this.#kflag(id);
      let off = 0;
      let prevBitfield = false;
      for (let i = 0; i < vlen; i++) {
        const m = this.#member(id, i);
        const type = words[m + 1] as number;
        const bitOffset = this.#bitOffset(m, kf);
        const bitfield = this.#bitfield(m, kf);
        const align = packed ? 1 : this.#alignOf(type);
        this.#padding(off, bitOffset, align, prevBitfield && bitfield > 0, lvl + 1);
        const mname = this.#strings.get(words[m] as number);
        const simple = this.#simpleDecl(type, mname);
        if (simple === undefined) {
          out.push(`\n${ind}`);
          this.#typeDecl(type, mname, lvl + 1);
        }
        if (bitfield) {
          out.push(simple === undefined ? `: ${bitfield};` : `\n${ind}${simple}: ${bitfield};`);
          off = bitOffset + bitfield;
          prevBitfield = true;
        } else {
          out.push(simple === undefined ? ";" : `\n${ind}${simple};`);
          off = bitOffset + Math.max(0, this.#resolveSize(type)) * 8;
          prevBitfield = false;
        }
      }
      if (isStruct) {
        this.#padding(off, size * 8, packed ? 1 : this.#alignOf(id), false, lvl + 1);
      }
      let end = vlen > 0 || size > 0 ? `\n${pfx(lvl)}}` : "}";
      if (packed) end += " __attribute__((packed))";
      out.push(end);
    } finally {
      this.#depth--;
    }
  }

  /**
   * Explicit padding from bit `cur` to bit `next` where the compiler's natural
   * alignment of the next member (`nextAlign` bytes) would not get there by itself.
   */
  #padding(cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (cur >= next) return;
    const out = this.out;
    const ind = pfx(lvl);
    // The widest of long/int/short/char whose alignment boundary lies in the gap.
    let padType = "char";
    let padBits = 8;
    let newOff = cur;
    for (const [ty, bits] of PADS) {
      padType = ty;
      padBits = bits;
      newOff = roundUp(cur, bits);
      if (newOff <= next) break;
    }
    if (newOff > cur && newOff <= next) {
      // A `type: 0` marker (or the bit count inside a bitfield run) is needed when
      // the compiler would not align to newOff by itself.
      if (
        inBitfield ||
        (newOff === next && roundUp(cur, nextAlign * 8) !== newOff) ||
        (newOff !== next && next - newOff <= newOff - cur)
      ) {
        out.push(`\n${ind}${padType}: ${inBitfield ? newOff - cur : 0};`);
      }
      cur = newOff;
    }
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        // Whole pad lines in batches: a struct of 4 GiB is half a billion of them.
        const n = Math.min(Math.floor((next - cur) / padBits), 4096);
        out.push(`\n${ind}${padType}: ${padBits};`.repeat(n));
        cur += n * padBits;
        continue;
      }
      // The remainder: the smallest type that holds it.
      for (let i = PADS.length - 1; i >= 0; i--) {
        const [ty, pb] = PADS[i] as readonly [string, number];
        if (pb < bits) continue;
        out.push(`\n${ind}${ty}: ${bits};`);
        cur += bits;
        break;
      }
    }
  }

  /** A struct is packed when a member is not at a multiple of its alignment, or the size is not. */
  #isPacked(id: TypeId): boolean {
    let maxAlign = 1;
    const vlen = this.#vlen(id);
    const kf = this.#kflag(id);
    for (let i = 0; i < vlen; i++) {
      const m = this.#member(id, i);
      const align = this.#alignOf(this.#w[m + 1] as number);
      if (align && this.#misaligned(m, kf, align)) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return this.#st(id) % maxAlign !== 0;
  }

  /** Natural alignment in bytes, as a compiler for a 64-bit target sees it (0 when there is none). */
  #alignOf(id: TypeId): number {
    const memo = this.#align[id] as number;
    if (memo !== 0) return Math.max(memo, 0);
    const a = this.#computeAlign(id);
    this.#align[id] = a === 0 ? -1 : a;
    return a;
  }

  #computeAlign(id: TypeId): number {
    this.#enter(id);
    try {
      switch (this.#kind(id)) {
        case K.INT:
        case K.ENUM:
        case K.ENUM64:
        case K.FLOAT:
          return Math.min(this.#ptrSize, this.#st(id));
        case K.PTR:
          return this.#ptrSize;
        case K.TYPEDEF:
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.TYPE_TAG:
          return this.#alignOf(this.#st(id));
        case K.ARRAY:
          return this.#alignOf(this.#w[this.#rec(id) + 3] as number);
        case K.STRUCT:
        case K.UNION: {
          let maxAlign = 1;
          const vlen = this.#vlen(id);
          const kf = this.#kflag(id);
          for (let i = 0; i < vlen; i++) {
            const m = this.#member(id, i);
            const align = this.#alignOf(this.#w[m + 1] as number);
            if (align <= 0) return 0;
            maxAlign = Math.max(maxAlign, align);
            if (this.#misaligned(m, kf, align)) return 1;
          }
          return this.#st(id) % maxAlign !== 0 ? 1 : maxAlign;
        }
        default:
          return 0;
      }
    } finally {
      this.#depth--;
    }
  }

  /** Size in bytes, or -1 for types without one (void, functions, forward declarations). */
  #resolveSize(id: TypeId): number {
    let mult = 1;
    let cur = id;
    for (let depth = 0; depth < 64; depth++) {
      switch (this.#kind(cur)) {
        case K.INT:
        case K.ENUM:
        case K.ENUM64:
        case K.FLOAT:
        case K.STRUCT:
        case K.UNION:
        case K.DATASEC:
          return mult * this.#st(cur);
        case K.PTR:
          return mult * this.#ptrSize;
        case K.TYPEDEF:
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.TYPE_TAG:
        case K.VAR:
          cur = this.#st(cur);
          break;
        case K.ARRAY: {
          const w = this.#rec(cur);
          mult *= this.#w[w + 5] as number;
          cur = this.#w[w + 3] as number;
          break;
        }
        default:
          return -1;
      }
    }
    return -1;
  }

  // ---- declarations ---------------------------------------------------------------

  /**
   * Prints a declaration of `name` with type `id`: `int (*name)[3]`, `struct foo *name`.
   * An empty name gives an abstract declarator (`struct foo *`, for parameters).
   */
  #typeDecl(id: TypeId, name: string, lvl: number): void {
    const simple = this.#simpleDecl(id, name);
    if (simple !== undefined) {
      this.out.push(simple);
      return;
    }
    // The declarator chain, outermost first; the walk stops at the base type.
    const stack: TypeId[] = [];
    let cur = id;
    for (;;) {
      if (cur === 0) break;
      if (stack.length > MAX_DUMP_DEPTH) {
        throw new BTFError(
          `C dump: the declarator of type [${id}] is deeper than ${MAX_DUMP_DEPTH} levels (a loop of pointers?)`,
        );
      }
      const kind = this.#kind(cur);
      if (
        kind === K.PTR ||
        kind === K.CONST ||
        kind === K.VOLATILE ||
        kind === K.RESTRICT ||
        kind === K.TYPE_TAG ||
        kind === K.FUNC_PROTO
      ) {
        stack.push(cur);
        cur = this.#st(cur);
      } else if (kind === K.ARRAY) {
        stack.push(cur);
        cur = this.#w[this.#rec(cur) + 3] as number;
      } else if (
        kind === K.INT ||
        kind === K.FLOAT ||
        kind === K.STRUCT ||
        kind === K.UNION ||
        kind === K.ENUM ||
        kind === K.ENUM64 ||
        kind === K.FWD ||
        kind === K.TYPEDEF
      ) {
        break;
      } else {
        throw new BTFError(
          `C dump: type [${cur}] ${KIND_NAME[kind]} cannot appear in a declaration`,
        );
      }
    }
    // Qualifiers right on the base type are printed before it.
    const out = this.out;
    while (stack.length > 0) {
      const top = this.#kind(stack[stack.length - 1] as TypeId);
      if (top === K.VOLATILE) out.push("volatile ");
      else if (top === K.CONST) out.push("const ");
      else if (top === K.RESTRICT) out.push("restrict ");
      else break;
      stack.pop();
    }
    this.#baseType(cur, lvl);
    this.#chain(stack, name, lvl, false);
  }

  /**
   * The declaration of `name` with type `id` when it has the common shape (most
   * members and parameters): a named base type, qualified or not, under zero or more
   * plain pointers (`const char **name`). Undefined for any other shape, which
   * {@link #typeDecl} prints in full; the text is the same as that walk's, and names
   * are resolved in the same order. A shortcut because it is most of the dump, which
   * mostly runs before V8 has optimized it.
   */
  #simpleDecl(id: TypeId, name: string): string | undefined {
    const kinds = this.#kinds;
    let stars = 0;
    let cur = id;
    let kind = kinds[cur] as number;
    while (kind === K.PTR) {
      if (++stars > 4) return undefined;
      cur = this.#st(cur);
      kind = kinds[cur] as number;
    }
    let quals = "";
    while (kind === K.CONST || kind === K.VOLATILE) {
      if (quals.length > 16) return undefined;
      // The qualifier nearest the base type is printed first.
      quals = (kind === K.CONST ? "const " : "volatile ") + quals;
      cur = this.#st(cur);
      kind = kinds[cur] as number;
    }
    let base: string;
    if (cur === 0) base = "void";
    else if (kind === K.INT || kind === K.FLOAT) base = this.#rawName(cur);
    else if (kind === K.TYPEDEF) base = this.#identName(cur);
    else if (kind === K.STRUCT || kind === K.UNION) {
      if (!this.#named(cur)) return undefined;
      base = this.#fwdName(cur);
    } else if (kind === K.ENUM || kind === K.ENUM64) {
      if (!this.#named(cur)) return undefined;
      base = `enum ${this.#typeName(cur)}`;
    } else return undefined;
    if (stars === 0) return name === "" ? `${quals}${base}` : `${quals}${base} ${name}`;
    return `${quals}${base} ${stars === 1 ? "*" : "*".repeat(stars)}${name}`;
  }

  #baseType(id: TypeId, lvl: number): void {
    if (id === 0) {
      this.out.push("void");
      return;
    }
    const kind = this.#kind(id);
    switch (kind) {
      case K.INT:
      case K.FLOAT:
        this.out.push(this.#rawName(id));
        return;
      case K.STRUCT:
      case K.UNION:
        if (!this.#named(id)) this.#structDef(id, lvl);
        else this.out.push(this.#fwdName(id));
        return;
      case K.ENUM:
      case K.ENUM64:
        if (!this.#named(id)) this.#enumDef(id, lvl);
        else this.out.push(`enum ${this.#typeName(id)}`);
        return;
      case K.FWD:
        this.out.push(`${this.#kflag(id) ? "union" : "struct"} ${this.#typeName(id)}`);
        return;
      case K.TYPEDEF:
        this.out.push(this.#identName(id));
        return;
      default:
        throw new BTFError(`C dump: type [${id}] ${KIND_NAME[kind]} cannot be a base type`);
    }
  }

  /** Drops qualifiers directly outside an array or a function prototype (compiler quirks). */
  #dropMods(stack: TypeId[]): void {
    while (stack.length > 0) {
      const k = this.#kind(stack[stack.length - 1] as TypeId);
      if (k === K.VOLATILE || k === K.CONST || k === K.RESTRICT || k === K.TYPE_TAG) stack.pop();
      else break;
    }
  }

  #name(name: string, lastWasPtr: boolean): void {
    if (name !== "") this.out.push(lastWasPtr ? name : ` ${name}`);
  }

  /** Prints the declarator chain, innermost entry (end of `stack`) first. */
  #chain(stack: TypeId[], name: string, lvl: number, lastWasPtr: boolean): void {
    this.#enter(stack.length > 0 ? (stack[stack.length - 1] as TypeId) : 0);
    try {
      const out = this.out;
      while (stack.length > 0) {
        const id = stack.pop() as TypeId;
        const kind = this.#kind(id);
        switch (kind) {
          case K.PTR:
            out.push(lastWasPtr ? "*" : " *");
            lastWasPtr = true;
            continue;
          case K.VOLATILE:
            out.push(" volatile");
            break;
          case K.CONST:
            out.push(" const");
            break;
          case K.RESTRICT:
            out.push(" restrict");
            break;
          case K.TYPE_TAG:
            out.push(` __attribute__((btf_type_tag("${this.#rawName(id)}")))`);
            break;
          case K.ARRAY: {
            const nelems = this.#w[this.#rec(id) + 5] as number;
            this.#dropMods(stack);
            if (stack.length === 0) {
              this.#name(name, lastWasPtr);
              out.push(`[${nelems}]`);
              return;
            }
            const multidim = this.#kind(stack[stack.length - 1] as TypeId) === K.ARRAY;
            if (name !== "" && !lastWasPtr) out.push(" ");
            if (!multidim) out.push("(");
            this.#chain(stack, name, lvl, true);
            if (!multidim) out.push(")");
            out.push(`[${nelems}]`);
            return;
          }
          case K.FUNC_PROTO: {
            this.#dropMods(stack);
            if (stack.length > 0) {
              out.push(" (");
              this.#chain(stack, name, lvl, true);
              out.push(")");
            } else {
              this.#name(name, lastWasPtr);
            }
            const vlen = this.#vlen(id);
            out.push("(");
            if (vlen === 0) {
              out.push("void");
            } else {
              for (let i = 0, p = this.#rec(id) + 3; i < vlen; i++, p += 2) {
                const type = this.#w[p + 1] as number;
                if (i > 0) out.push(", ");
                if (i === vlen - 1 && type === 0) {
                  out.push("...");
                  break;
                }
                this.#typeDecl(type, this.#strings.get(this.#w[p] as number), lvl);
              }
            }
            out.push(")");
            return;
          }
          default:
            throw new BTFError(`C dump: type [${id}] ${KIND_NAME[kind]} in a declarator`);
        }
        lastWasPtr = false;
      }
      this.#name(name, lastWasPtr);
    } finally {
      this.#depth--;
    }
  }
}
