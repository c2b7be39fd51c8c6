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
import { BTFError } from "./errors.ts";
import type { BTFType, CompositeType, Enum64Type, EnumType, TypeId } from "./types.ts";

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
  const ids = options.rootIds ?? range(1, btf.count);
  for (const id of ids) d.dumpType(id);
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

function range(from: number, to: number): number[] {
  const r: number[] = new Array(Math.max(0, to - from));
  for (let i = from; i < to; i++) r[i - from] = i;
  return r;
}

// Order and emit states (0 is "not yet").
const ORDERING = 1;
const ORDERED = 2;
const NOT_EMITTED = 0;
const EMITTING = 1;
const EMITTED = 2;

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

/** The dump's state; one per {@link dumpC} call. */
class CDumper {
  readonly out: Sink;
  /** Nesting of the recursive walks, against {@link MAX_DUMP_DEPTH}. */
  #depth = 0;
  readonly #btf: BTF;
  readonly #order: Uint8Array;
  readonly #emit: Uint8Array;
  readonly #fwdEmitted: Uint8Array;
  readonly #referenced: Uint8Array;
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
    this.#btf = btf;
    const n = btf.count;
    this.#order = new Uint8Array(n);
    this.#emit = new Uint8Array(n);
    this.#fwdEmitted = new Uint8Array(n);
    this.#referenced = new Uint8Array(n);
    this.#cachedType = new Array(n);
    this.#cachedIdent = new Array(n);
    this.#align = new Int32Array(n);
    this.#markReferenced();
  }

  /** One level deeper into a recursive walk; throws past {@link MAX_DUMP_DEPTH}. */
  #enter(id: TypeId): void {
    if (++this.#depth > MAX_DUMP_DEPTH) {
      throw new BTFError(
        `C dump: types nest deeper than ${MAX_DUMP_DEPTH} levels at type [${id}] (a loop of pointers or anonymous types?)`,
      );
    }
  }

  #t(id: TypeId): BTFType {
    if (id >= 0 && id < this.#btf.count) return this.#btf.type(id);
    throw new BTFError(`C dump: no type [${id}]`);
  }

  /**
   * Types referred to by another type (an anonymous enum that is only a typedef's is
   * printed there). Read from the raw records where there are some: most of vmlinux's
   * types are functions and prototypes the dump never decodes.
   */
  #markReferenced(): void {
    const r = this.#referenced;
    const btf = this.#btf;
    const words = btf.rawWords;
    for (let id = 1; id < btf.count; id++) {
      const w = btf.recordStart(id);
      if (w < 0 || words === undefined) {
        this.#markFrom(btf.type(id));
        continue;
      }
      const info = words[w + 1] as number;
      const vlen = info & 0xffff;
      switch ((info >>> 24) & 0x1f) {
        case 2: // PTR
        case 8: // TYPEDEF
        case 9: // VOLATILE
        case 10: // CONST
        case 11: // RESTRICT
        case 12: // FUNC
        case 14: // VAR
        case 17: // DECL_TAG
        case 18: // TYPE_TAG
          r[words[w + 2] as number] = 1;
          break;
        case 3: // ARRAY: element, index
          r[words[w + 3] as number] = 1;
          r[words[w + 4] as number] = 1;
          break;
        case 4: // STRUCT, UNION: name, type, offset per member
        case 5:
          for (let i = 0, m = w + 4; i < vlen; i++, m += 3) r[words[m] as number] = 1;
          break;
        case 13: // FUNC_PROTO: return type, then name, type per parameter
          r[words[w + 2] as number] = 1;
          for (let i = 0, m = w + 4; i < vlen; i++, m += 2) r[words[m] as number] = 1;
          break;
        case 15: // DATASEC: type, offset, size per variable
          for (let i = 0, m = w + 3; i < vlen; i++, m += 3) r[words[m] as number] = 1;
          break;
        default:
          break;
      }
    }
  }

  /** {@link markReferenced} for a type that is an object (a base's, or built BTF). */
  #markFrom(t: BTFType): void {
    const r = this.#referenced;
    switch (t.kind) {
      case "PTR":
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
      case "FUNC":
      case "VAR":
      case "DECL_TAG":
        r[t.type] = 1;
        break;
      case "ARRAY":
        r[t.type] = 1;
        r[t.indexType] = 1;
        break;
      case "STRUCT":
      case "UNION":
        for (const m of t.members) r[m.type] = 1;
        break;
      case "FUNC_PROTO":
        r[t.returnType] = 1;
        for (const p of t.params) r[p.type] = 1;
        break;
      case "DATASEC":
        for (const v of t.vars) r[v.type] = 1;
        break;
      default:
        break;
    }
  }

  dumpType(id: TypeId): void {
    // Functions, variables, sections and tags print nothing at top level: skip them
    // without decoding them.
    const k = id > 0 && id < this.#btf.count ? this.#btf.kindNumber(id) : -1;
    if (k === 12 || k === 14 || k === 15 || k === 17) {
      this.#order[id] = ORDERED;
      return;
    }

    this.#queue.length = 0;
    this.#orderType(id, false);
    for (const q of this.#queue) this.#emitType(q, 0);
  }

  // ---- ordering -------------------------------------------------------------------

  /**
   * Queues what `id` needs, then `id` itself when it is a named definition. Returns
   * true when `id` must be complete before a user ("strong"), false when a forward
   * declaration would do.
   */
  #orderType(id: TypeId, throughPtr: boolean): boolean {
    this.#enter(id);
    try {
      // void counts as ordered, like any type already seen
      if (id === 0) return true;
      const st = this.#order[id];
      if (st === ORDERED) return true;
      const t = this.#t(id);
      if (st === ORDERING) {
        if ((t.kind === "STRUCT" || t.kind === "UNION") && throughPtr && t.name !== "")
          return false;
        throw new BTFError(`C dump: unsatisfiable type cycle through type [${id}]`);
      }
      switch (t.kind) {
        case "INT":
        case "FLOAT":
          this.#order[id] = ORDERED;
          return false;
        case "PTR":
          return this.#orderType(t.type, true);
        case "ARRAY":
          return this.#orderType(t.type, false);
        case "STRUCT":
        case "UNION": {
          if (throughPtr && t.name !== "") return false;
          this.#order[id] = ORDERING;
          for (const m of t.members) this.#orderType(m.type, false);
          if (t.name !== "") this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        }
        case "ENUM":
        case "ENUM64":
        case "FWD":
          if (t.name !== "" || !this.#referenced[id]) this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        case "TYPEDEF": {
          const strong = this.#orderType(t.type, throughPtr);
          if (throughPtr && !strong) return false;
          this.#queue.push(id);
          this.#order[id] = ORDERED;
          return true;
        }
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "TYPE_TAG":
          return this.#orderType(t.type, throughPtr);
        case "FUNC_PROTO": {
          let strong = this.#orderType(t.returnType, throughPtr);
          for (const p of t.params) if (this.#orderType(p.type, throughPtr)) strong = true;
          return strong;
        }
        case "FUNC":
        case "VAR":
        case "DATASEC":
        case "DECL_TAG":
          this.#order[id] = ORDERED;
          return false;
        default:
          return false;
      }
    } finally {
      this.#depth--;
    }
  }

  // ---- emission -------------------------------------------------------------------

  /** Prints `id` if it is a definition that is due; `contId` is the type being defined (0 at top level). */
  #emitType(id: TypeId, contId: TypeId): void {
    this.#enter(id);
    try {
      const topLevel = contId === 0;
      if (id === 0 || this.#emit[id] === EMITTED) return;
      const t = this.#t(id);
      const out = this.out;
      if (this.#emit[id] === EMITTING) {
        if (this.#fwdEmitted[id]) return;
        if (t.kind === "STRUCT" || t.kind === "UNION") {
          if (id === contId) return;
          if (t.name === "") return; // an anonymous loop: nothing C can say
          out.push(`${this.#fwdName(t)};\n\n`);
          this.#fwdEmitted[id] = 1;
        } else if (t.kind === "TYPEDEF") {
          if (!this.#skipTypedef(t.name)) {
            this.#typedefDef(id, 0);
            out.push(";\n\n");
          }
          this.#fwdEmitted[id] = 1;
        }
        return;
      }
      switch (t.kind) {
        case "INT":
        case "FLOAT":
          this.#emit[id] = EMITTED;
          break;
        case "ENUM":
        case "ENUM64":
          if (topLevel) {
            this.#enumDef(t, 0);
            out.push(";\n\n");
          }
          this.#emit[id] = EMITTED;
          break;
        case "PTR":
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "TYPE_TAG":
        case "ARRAY":
          this.#emitType(t.type, contId);
          break;
        case "FWD":
          out.push(`${t.fwdKind} ${this.#typeName(id)};\n\n`);
          this.#emit[id] = EMITTED;
          break;
        case "TYPEDEF":
          this.#emit[id] = EMITTING;
          this.#emitType(t.type, id);
          if (!this.#fwdEmitted[id] && !this.#skipTypedef(t.name)) {
            this.#typedefDef(id, 0);
            out.push(";\n\n");
          }
          this.#emit[id] = EMITTED;
          break;
        case "STRUCT":
        case "UNION": {
          this.#emit[id] = EMITTING;
          if (topLevel || t.name === "") {
            const inner = t.name === "" ? contId : id;
            for (const m of t.members) this.#emitType(m.type, inner);
          } else if (!this.#fwdEmitted[id] && id !== contId) {
            out.push(`${this.#fwdName(t)};\n\n`);
            this.#fwdEmitted[id] = 1;
          }
          if (topLevel) {
            this.#structDef(t, 0);
            out.push(";\n\n");
            this.#emit[id] = EMITTED;
          } else {
            this.#emit[id] = NOT_EMITTED;
          }
          break;
        }
        case "FUNC_PROTO":
          this.#emitType(t.returnType, contId);
          for (const p of t.params) this.#emitType(p.type, contId);
          break;
        default:
          break;
      }
    } finally {
      this.#depth--;
    }
  }

  #skipTypedef(name: string): boolean {
    return name === "__builtin_va_list";
  }

  // ---- names ----------------------------------------------------------------------

  #resolveName(id: TypeId, cache: (string | undefined)[], names: Map<string, number>): string {
    const cached = cache[id];
    if (cached !== undefined) return cached;
    const orig = this.#t(id).name;
    if (orig === "") return "";
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

  #fwdName(t: CompositeType): string {
    return `${t.kind === "STRUCT" ? "struct" : "union"} ${this.#typeName(t.id)}`;
  }

  // ---- definitions ----------------------------------------------------------------

  #typedefDef(id: TypeId, lvl: number): void {
    const t = this.#t(id) as BTFType & { type: TypeId };
    const name = this.#identName(id);
    if (t.type === 0 && name === "__gnuc_va_list") {
      this.out.push("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.out.push("typedef ");
    this.#typeDecl(t.type, name, lvl);
  }

  #enumDef(t: EnumType | Enum64Type, lvl: number): void {
    const out = this.out;
    const name = this.#typeName(t.id);
    out.push(name === "" ? "enum" : `enum ${name}`);
    const values = t.values;
    if (values.length === 0) return;
    out.push(" {");
    const ind = pfx(lvl + 1);
    const suffix = t.kind === "ENUM64" ? (t.signed ? "LL" : "ULL") : "";
    for (const v of values) {
      const n = (this.#identNames.get(v.name) ?? 0) + 1;
      this.#identNames.set(v.name, n);
      const vn = n > 1 ? `${v.name}___${n}` : v.name;
      out.push(`\n${ind}${vn} = ${v.value}${suffix},`);
    }
    out.push(`\n${pfx(lvl)}}`);
  }

  #structDef(t: CompositeType, lvl: number): void {
    this.#enter(t.id);
    try {
      const out = this.out;
      const isStruct = t.kind === "STRUCT";
      const name = this.#typeName(t.id);
      out.push(`${isStruct ? "struct" : "union"}${name === "" ? " {" : ` ${name} {`}`);
      const packed = isStruct && this.#isPacked(t);
      const members = t.members;
      const ind = pfx(lvl + 1);
      let off = 0;
      let prevBitfield = false;
      for (const m of members) {
        const align = packed ? 1 : this.#alignOf(m.type);
        const inBitfield = prevBitfield && m.bitfieldSize > 0;
        this.#padding(off, m.bitOffset, align, inBitfield, lvl + 1);
        out.push(`\n${ind}`);
        this.#typeDecl(m.type, m.name, lvl + 1);
        if (m.bitfieldSize) {
          out.push(`: ${m.bitfieldSize}`);
          off = m.bitOffset + m.bitfieldSize;
          prevBitfield = true;
        } else {
          off = m.bitOffset + Math.max(0, this.#resolveSize(m.type)) * 8;
          prevBitfield = false;
        }
        out.push(";");
      }
      if (isStruct) {
        this.#padding(off, t.size * 8, packed ? 1 : this.#alignOf(t.id), false, lvl + 1);
      }
      if (members.length > 0 || t.size > 0) out.push(`\n${pfx(lvl)}}`);
      else out.push("}");
      if (packed) out.push(" __attribute__((packed))");
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
  #isPacked(t: CompositeType): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.#alignOf(m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return t.size % maxAlign !== 0;
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
      const t = this.#t(id);
      switch (t.kind) {
        case "INT":
        case "ENUM":
        case "ENUM64":
        case "FLOAT":
          return Math.min(this.#ptrSize, t.size);
        case "PTR":
          return this.#ptrSize;
        case "TYPEDEF":
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "TYPE_TAG":
        case "ARRAY":
          return this.#alignOf(t.type);
        case "STRUCT":
        case "UNION": {
          let maxAlign = 1;
          for (const m of t.members) {
            const align = this.#alignOf(m.type);
            if (align <= 0) return 0;
            maxAlign = Math.max(maxAlign, align);
            if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return 1;
          }
          return t.size % maxAlign !== 0 ? 1 : maxAlign;
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
      const t = this.#t(cur);
      switch (t.kind) {
        case "INT":
        case "ENUM":
        case "ENUM64":
        case "FLOAT":
        case "STRUCT":
        case "UNION":
        case "DATASEC":
          return mult * t.size;
        case "PTR":
          return mult * this.#ptrSize;
        case "TYPEDEF":
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "TYPE_TAG":
        case "VAR":
          cur = t.type;
          break;
        case "ARRAY":
          mult *= t.nelems;
          cur = t.type;
          break;
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
      const t = this.#t(cur);
      if (
        t.kind === "PTR" ||
        t.kind === "CONST" ||
        t.kind === "VOLATILE" ||
        t.kind === "RESTRICT" ||
        t.kind === "TYPE_TAG"
      ) {
        stack.push(cur);
        cur = t.type;
      } else if (t.kind === "FUNC_PROTO") {
        stack.push(cur);
        cur = t.returnType;
      } else if (t.kind === "ARRAY") {
        stack.push(cur);
        cur = t.type;
      } else if (
        t.kind === "INT" ||
        t.kind === "FLOAT" ||
        t.kind === "STRUCT" ||
        t.kind === "UNION" ||
        t.kind === "ENUM" ||
        t.kind === "ENUM64" ||
        t.kind === "FWD" ||
        t.kind === "TYPEDEF"
      ) {
        break;
      } else {
        throw new BTFError(`C dump: type [${cur}] ${t.kind} cannot appear in a declaration`);
      }
    }
    // Qualifiers right on the base type are printed before it.
    const out = this.out;
    while (stack.length > 0) {
      const top = this.#t(stack[stack.length - 1] as TypeId);
      if (top.kind === "VOLATILE") out.push("volatile ");
      else if (top.kind === "CONST") out.push("const ");
      else if (top.kind === "RESTRICT") out.push("restrict ");
      else break;
      stack.pop();
    }
    this.#baseType(cur, lvl);
    this.#chain(stack, name, lvl, false);
  }

  #baseType(id: TypeId, lvl: number): void {
    if (id === 0) {
      this.out.push("void");
      return;
    }
    const t = this.#t(id);
    switch (t.kind) {
      case "INT":
      case "FLOAT":
        this.out.push(t.name);
        return;
      case "STRUCT":
      case "UNION":
        if (t.name === "") this.#structDef(t, lvl);
        else this.out.push(this.#fwdName(t));
        return;
      case "ENUM":
      case "ENUM64":
        if (t.name === "") this.#enumDef(t, lvl);
        else this.out.push(`enum ${this.#typeName(id)}`);
        return;
      case "FWD":
        this.out.push(`${t.fwdKind} ${this.#typeName(id)}`);
        return;
      case "TYPEDEF":
        this.out.push(this.#identName(id));
        return;
      default:
        throw new BTFError(`C dump: type [${id}] ${t.kind} cannot be a base type`);
    }
  }

  /** Drops qualifiers directly outside an array or a function prototype (compiler quirks). */
  #dropMods(stack: TypeId[]): void {
    while (stack.length > 0) {
      const k = this.#t(stack[stack.length - 1] as TypeId).kind;
      if (k === "VOLATILE" || k === "CONST" || k === "RESTRICT" || k === "TYPE_TAG") stack.pop();
      else break;
    }
  }

  #name(name: string, lastWasPtr: boolean): void {
    if (name !== "") this.out.push(lastWasPtr ? name : ` ${name}`);
  }

  /** Prints the declarator chain, innermost entry (end of `stack`) first. */
  #chain(stack: TypeId[], name: string, lvl: number, lastWasPtr: boolean): void {
    this.#enter(stack[stack.length - 1] ?? 0);
    try {
      const out = this.out;
      while (stack.length > 0) {
        const id = stack.pop() as TypeId;
        const t = this.#t(id);
        switch (t.kind) {
          case "PTR":
            out.push(lastWasPtr ? "*" : " *");
            lastWasPtr = true;
            continue;
          case "VOLATILE":
            out.push(" volatile");
            break;
          case "CONST":
            out.push(" const");
            break;
          case "RESTRICT":
            out.push(" restrict");
            break;
          case "TYPE_TAG":
            out.push(` __attribute__((btf_type_tag("${t.name}")))`);
            break;
          case "ARRAY": {
            this.#dropMods(stack);
            if (stack.length === 0) {
              this.#name(name, lastWasPtr);
              out.push(`[${t.nelems}]`);
              return;
            }
            const multidim = this.#t(stack[stack.length - 1] as TypeId).kind === "ARRAY";
            if (name !== "" && !lastWasPtr) out.push(" ");
            if (!multidim) out.push("(");
            this.#chain(stack, name, lvl, true);
            if (!multidim) out.push(")");
            out.push(`[${t.nelems}]`);
            return;
          }
          case "FUNC_PROTO": {
            this.#dropMods(stack);
            if (stack.length > 0) {
              out.push(" (");
              this.#chain(stack, name, lvl, true);
              out.push(")");
            } else {
              this.#name(name, lastWasPtr);
            }
            const params = t.params;
            out.push("(");
            if (params.length === 0) {
              out.push("void");
            } else {
              for (let i = 0; i < params.length; i++) {
                const p = params[i] as (typeof params)[number];
                if (i > 0) out.push(", ");
                if (i === params.length - 1 && p.type === 0) {
                  out.push("...");
                  break;
                }
                this.#typeDecl(p.type, p.name, lvl);
              }
            }
            out.push(")");
            return;
          }
          default:
            throw new BTFError(`C dump: type [${id}] ${t.kind} in a declarator`);
        }
        lastWasPtr = false;
      }
      this.#name(name, lastWasPtr);
    } finally {
      this.#depth--;
    }
  }
}
