/**
 * The JIT: a program's predecoded {@link Code} compiled to JavaScript source, made a
 * function once per code with `new Function`, with exactly the interpreter's semantics.
 *
 * ## Shape of the generated function
 * - Registers are int32 local variables, a low and a high word each (`L0`/`H0` ..
 *   `L10`/`H10`): the representation the issue measured fastest for generated code
 *   (0.49 ns per instruction against 1.4 ns for BigInt), and the interpreter's own
 *   (int64.ts), so every operation is the interpreter's arithmetic on locals instead
 *   of on the shared register array. They are loaded from `m.R` on entry and written
 *   back before anything that reads `m.R` (helpers, atomics, a hand-over) and at exit.
 * - Control flow: a dispatch loop, `for (;;) switch (pc)`, whose cases are the entries
 *   (slot 0, loop heads, bpf-to-bpf functions and callbacks, return points after
 *   calls, and targets of forward jumps that cross an entry). Between two entries the
 *   code is a region of forward control flow: blocks fall through, and a forward jump
 *   is a `break` out of a labelled block that ends at its target (at most
 *   {@link MAX_LABELS} per region). Backward jumps re-dispatch; a block that jumps back
 *   to its own start (the counted loop) is an inner `for (;;)`. Few back edges matter:
 *   V8's optimising compile of the generated function grew quadratically with them
 *   (40 map lookups: 1,080 ms with a dispatch per jump, 230 ms with regions).
 * - Loads and stores at a constant offset from r10 inside the frame use the frame's
 *   typed arrays directly (the open frame's bounds always pass).
 * - A program is split at region boundaries (regions of at most 256 slots) into
 *   functions (chunks) of up to {@link JIT_CHUNK_CHARS} chars of code, which V8
 *   optimises (it never optimises a function above 60 KB of bytecode); a jump into
 *   another chunk returns its target to a driver that runs that chunk, made by
 *   `new Function` when a run first enters it (only chunk 0 at compile time).
 * - The instruction budget is counted per block on entry (`n += length`) and checked
 *   where a run enters forward control flow (an entry, after a call or a self-loop)
 *   against the most it can spend before the next check (every slot to the region's
 *   end); a run that might cross it is handed to the interpreter there, which counts
 *   instruction by instruction and fails at the same one. (One check per block cost a
 *   third of the source.)
 * - The function is parenthesised, so V8 compiles it to bytecode when `new Function`'s
 *   wrapper runs (in {@link compileCode}, counted in its `ms`) rather than preparsing it
 *   there and parsing it again on the first run.
 * - Memory accesses are the interpreter's: the region table of the machine's
 *   {@link RegionAccess}, one subtraction and two comparisons, the slow path
 *   (`loadSlow`/`storeSlow`: context fields, then the fault with the same `VmError`).
 * - Helper calls, tail calls, bpf-to-bpf calls (the machine's frame arrays, so the
 *   interpreter can take over at any block), may_goto counters and the inline
 *   map_lookup_elem are the interpreter's, statement for statement. A tail call to
 *   another program and a return into another program's code hand over to that code's
 *   engine (its JIT function or the interpreter) with the run's state.
 * - map_lookup_elem with its map (an lddw) and its key's place (r10 + a constant)
 *   known in the block, on a map the compiling machine can answer inline (one value
 *   per key, the default helper): the lookup itself is generated code — an array's
 *   bounds check and `index * stride`, a hash map's slot from the key's 32-bit words
 *   ({@link VmHashMap.lookupSlotU32}, {@link VmHashMap.lookupSlotWords}: the same
 *   hash, chains and LRU touch) — and the value's window comes from the machine's
 *   cache, as the interpreter's inline lookup gives it. The site resolves its map
 *   once per machine (`K<pc>`); another machine that sees another kind of map there
 *   hands the run to the interpreter at the call.
 *
 * Pure: no `node:` imports; runs wherever `new Function` is allowed.
 * @module
 */

import type { Instruction } from "../../isa/index.ts";
import { BPF_PSEUDO_FUNC, helperName } from "../../uapi/index.ts";
import { bswap32, mul64, sdivmod64, setBig, setNum, udivmod64 } from "../int64.ts";
import {
  atomic,
  type Code,
  interpret,
  type JitFunction,
  ldPacket,
  MAX_CALL_FRAMES,
  MAX_TAIL_CALL_CNT,
  type Machine,
  STACK_SIZE,
} from "../interpreter.ts";
import { VmArrayMap } from "../maps/array.ts";
import { VmHashMap } from "../maps/hash.ts";
import { REGION_HI_BASE, REGION_LO_BASE } from "../memory.ts";
import { KnownRegs } from "./known-regs.ts";

/** What {@link compileCode} gave: the function and its source, or why it refused. */
export type JitCompileResult =
  | {
      readonly ok: true;
      /** The compiled function (also what `code.jit` should be set to). */
      readonly fn: JitFunction;
      /**
       * The generated JavaScript (the body of the function `new Function` made; for a
       * program in several chunks, theirs one after another, each after a comment line).
       */
      readonly source: string;
      /**
       * Milliseconds spent generating the source and compiling it to V8's bytecode (for
       * a program in several chunks, the first chunk's; the others compile when a run
       * first enters them).
       */
      readonly ms: number;
    }
  | {
      readonly ok: false;
      /** Why the code stays in the interpreter. */
      readonly reason: string;
    };

/** Most slots the JIT compiles into one function (past this the program stays interpreted). */
export const JIT_MAX_SLOTS = 1_000_000;
/**
 * Most chars of generated code per function (chunk). V8 never optimises a function
 * above 60 KB of bytecode (`--max-optimized-bytecode-size`), and unoptimised
 * generated code runs slower than the (optimised) interpreter (measured on Node 20: a
 * program of 60 map lookups in one function, 89,000 chars, never was; ~1,000 ns per
 * lookup against the interpreter's 75); smaller functions also ran faster once
 * optimised (10 lookups: 10-13 ns each, 40 in one function: 15-35 ns). So a program
 * is split at region boundaries into functions of up to this much code, each
 * compiled when a run first enters it.
 */
export const JIT_CHUNK_CHARS = 30_000;
/** Most slots of one region (between two entries): a longer one gets an entry added. */
const MAX_REGION_SLOTS = 256;

/**
 * The JIT's sizes, for tests that want many chunks from small programs (every region
 * its own function, regions of a few slots) so that random programs cross chunks all
 * the time; {@link resetJitSizes} restores the defaults.
 */
export const jitSizes = { chunkChars: JIT_CHUNK_CHARS, regionSlots: MAX_REGION_SLOTS };

/** Restores {@link jitSizes} to the defaults. */
export function resetJitSizes(): void {
  jitSizes.chunkChars = JIT_CHUNK_CHARS;
  jitSizes.regionSlots = MAX_REGION_SLOTS;
}

const TAIL_CALL_ID = 12;
/** Most labelled blocks (forward-jump targets) in one region of the generated code. */
const MAX_LABELS = 64;
/** Typed arrays use the host's byte order; the direct stack path needs it to be the DataViews' (little-endian). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Typed-array views of one stack frame, for the direct stack path. */
interface FrameViews {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
}
const frameViewCache = new WeakMap<Uint8Array, FrameViews>();

/** The typed-array views of the stack frame at call depth `depth` of `m` (cached per frame). */
function frameViews(m: Machine, depth: number): FrameViews {
  const u8 = m.memory.bytes[m.stackIds[depth]!]!;
  let v = frameViewCache.get(u8);
  if (v === undefined) {
    v = {
      u8,
      u16: new Uint16Array(u8.buffer, u8.byteOffset, u8.length >>> 1),
      i32: new Int32Array(u8.buffer, u8.byteOffset, u8.length >>> 2),
    };
    frameViewCache.set(u8, v);
  }
  return v;
}
const MAP_LOOKUP_ELEM_ID = 1;

/** Continues a run in `code`'s engine at `pc` (the hand-over between codes). */
function enter(m: Machine, code: Code, pc: number, base: number, n: number, depth: number): void {
  const jit = code.jit;
  if (jit !== undefined) jit(m, pc, base, n, depth);
  else interpret(m, code, pc, base, n, depth);
}

/** What the generated code calls, passed to it as `rt`. */
const RUNTIME = {
  LO: REGION_LO_BASE,
  HI: REGION_HI_BASE,
  T: new Int32Array(2),
  interpret,
  enter,
  mul64,
  udivmod64,
  sdivmod64,
  setNum,
  setBig,
  bswap32,
  atomic,
  ldPacket,
  inlineLookup: (m: Machine, a: number, b: number, c: number, d: number): boolean =>
    inlineLookup(m, a, b, c, d),
  callHelper: (m: Machine, id: number, n: number): number => callHelper(m, id, n),
  lookupSite: (m: Machine, rid: number, ko: number): LookupSite => lookupSite(m, rid, ko),
  frameViews,
};

/** Slots that start a basic block. */
function leaders(code: Code): Uint8Array {
  const n = code.length;
  const lead = new Uint8Array(n + 1);
  lead[0] = 1;
  for (let pc = 0; pc < n; pc++) {
    const insn = code.insns[pc];
    if (insn === undefined) continue;
    const c = code.op[pc]!;
    const cls = c & 7;
    if (insn.kind === "lddw") {
      // A function address (a callback's entry): code.imm holds the resolved
      // address, so the target comes from the instruction.
      if ((insn as Instruction & { pseudo: number }).pseudo === BPF_PSEUDO_FUNC)
        markLeader(lead, n, pc + insn.imm + 1);
      continue;
    }
    if (cls === 5 || cls === 6) {
      const op = c & 0xf0;
      if (c === 0x85) {
        if (code.src[pc] === 1) markLeader(lead, n, pc + code.imm[pc]! + 1);
        markLeader(lead, n, pc + 1);
        continue;
      }
      if (c === 0x95) {
        markLeader(lead, n, pc + 1);
        continue;
      }
      markLeader(lead, n, c === 0x06 ? pc + code.imm[pc]! + 1 : pc + code.off[pc]! + 1);
      if (op !== 0x80) markLeader(lead, n, pc + 1);
    }
  }
  return lead;
}

function markLeader(lead: Uint8Array, n: number, t: number): void {
  if (t >= 0 && t <= n) lead[t] = 1;
}

/** Whether the interpreter runs opcode `c` (anything else fails with "not supported"). */
function known(c: number): boolean {
  return KNOWN.has(c);
}
const KNOWN = new Set([
  0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x97, 0x9f, 0x47, 0x4f, 0x57, 0x5f, 0xa7, 0xaf,
  0x67, 0x6f, 0x77, 0x7f, 0xc7, 0xcf, 0x87, 0xb7, 0xbf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c,
  0x34, 0x3c, 0x94, 0x9c, 0x44, 0x4c, 0x54, 0x5c, 0xa4, 0xac, 0x64, 0x6c, 0x74, 0x7c, 0xc4, 0xcc,
  0x84, 0xb4, 0xbc, 0xd4, 0xdc, 0x05, 0x06, 0x15, 0x1d, 0x55, 0x5d, 0x45, 0x4d, 0x25, 0x35, 0xa5,
  0xb5, 0x65, 0x75, 0xc5, 0xd5, 0x2d, 0x3d, 0xad, 0xbd, 0x6d, 0x7d, 0xcd, 0xdd, 0x16, 0x1e, 0x26,
  0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6, 0xae, 0xb6, 0xbe, 0xc6,
  0xce, 0xd6, 0xde, 0xe5, 0x85, 0x95, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72,
  0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xd3, 0xcb, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50,
]);

const str = (s: string): string => JSON.stringify(s);
/** A literal for an int32, parenthesised when negative. */
const lit = (v: number): string => (v < 0 ? `(${v})` : `${v}`);

/**
 * The condition of a 64-bit jump `op` between (al, ah) and register (bl, bh), or the
 * immediate `imm` when it is a number (then bl and bh are unused). Written with as few
 * tokens as JavaScript's precedence allows (V8's parse of the generated code is most of
 * the compile time): `>>>` binds tighter than the comparisons, `===` tighter than `&&`.
 */
function cond64(
  op: number,
  al: string,
  ah: string,
  bl: string,
  bh: string,
  imm: number | null,
): string {
  let bu: string;
  let bhu: string;
  if (imm !== null) {
    bl = lit(imm);
    bh = lit(imm >> 31);
    bu = `${imm >>> 0}`;
    bhu = `${(imm >> 31) >>> 0}`;
    if (imm >= 0) {
      // A non-negative immediate: the high word must be 0 for "below", anything else is "above".
      switch (op) {
        case 0x10:
          return `${al} === ${imm} && ${ah} === 0`;
        case 0x50:
          return `${al} !== ${imm} || ${ah} !== 0`;
        case 0x40:
          return `(${al} & ${imm}) !== 0`;
        case 0x20:
          return `${ah} !== 0 || ${al} >>> 0 > ${bu}`;
        case 0x30:
          return `${ah} !== 0 || ${al} >>> 0 >= ${bu}`;
        case 0xa0:
          return `${ah} === 0 && ${al} >>> 0 < ${bu}`;
        case 0xb0:
          return `${ah} === 0 && ${al} >>> 0 <= ${bu}`;
      }
    }
  } else {
    bu = `${bl} >>> 0`;
    bhu = `${bh} >>> 0`;
  }
  switch (op) {
    case 0x10:
      return `${al} === ${bl} && ${ah} === ${bh}`;
    case 0x50:
      return `${al} !== ${bl} || ${ah} !== ${bh}`;
    case 0x40:
      return `(${al} & ${bl}) !== 0 || (${ah} & ${bh}) !== 0`;
    case 0x20:
      return `${ah} >>> 0 > ${bhu} || ${ah} === ${bh} && ${al} >>> 0 > ${bu}`;
    case 0x30:
      return `${ah} >>> 0 > ${bhu} || ${ah} === ${bh} && ${al} >>> 0 >= ${bu}`;
    case 0xa0:
      return `${ah} >>> 0 < ${bhu} || ${ah} === ${bh} && ${al} >>> 0 < ${bu}`;
    case 0xb0:
      return `${ah} >>> 0 < ${bhu} || ${ah} === ${bh} && ${al} >>> 0 <= ${bu}`;
    case 0x60:
      return `${ah} > ${bh} || ${ah} === ${bh} && ${al} >>> 0 > ${bu}`;
    case 0x70:
      return `${ah} > ${bh} || ${ah} === ${bh} && ${al} >>> 0 >= ${bu}`;
    case 0xc0:
      return `${ah} < ${bh} || ${ah} === ${bh} && ${al} >>> 0 < ${bu}`;
    default:
      return `${ah} < ${bh} || ${ah} === ${bh} && ${al} >>> 0 <= ${bu}`;
  }
}

/** The condition of a 32-bit jump `op` between int32 `a` and `b`, as JS (see {@link cond64}). */
function cond32(op: number, a: string, b: string): string {
  switch (op) {
    case 0x10:
      return `${a} === ${b}`;
    case 0x50:
      return `${a} !== ${b}`;
    case 0x40:
      return `(${a} & ${b}) !== 0`;
    case 0x20:
      return `${a} >>> 0 > ${b} >>> 0`;
    case 0x30:
      return `${a} >>> 0 >= ${b} >>> 0`;
    case 0xa0:
      return `${a} >>> 0 < ${b} >>> 0`;
    case 0xb0:
      return `${a} >>> 0 <= ${b} >>> 0`;
    case 0x60:
      return `${a} > ${b}`;
    case 0x70:
      return `${a} >= ${b}`;
    case 0xc0:
      return `${a} < ${b}`;
    default:
      return `${a} <= ${b}`;
  }
}

interface Gen {
  readonly code: Code;
  /** The machine compiling it, when known (what its lookups see decides their inline form). */
  readonly machine: Machine | undefined;
  /** Registers the code names (loaded on entry, written back on the way out). */
  readonly used: readonly number[];
  /** Whether the code makes bpf-to-bpf calls (else it has no return case, see {@link returnCase}). */
  readonly calls: boolean;
  /** Whether a run may see its stack frames' bytes (else they need no zeroing). */
  readonly stackReachable: boolean;
  /** Whether r10-relative accesses go straight to the frame's typed arrays (`s8`, `s16`, `s32`). */
  readonly directStack: boolean;
  /** Slots that are cases of the dispatch loop. */
  readonly entry: ReadonlySet<number>;
  /** The first entry after each slot (the end of its region). */
  readonly endOf: Int32Array;
  /** The used registers written to `m.R`. */
  readonly spill: string;
  /** The used registers read back from `m.R`. */
  readonly reload: string;
  /** r0..r5 back from `m.R` after a helper (callbacks change them; r6..r10 come back as they were). */
  readonly reloadArgs: string;
  /** What the current block has left in registers (a lookup's map and key). */
  readonly known: KnownRegs;
  /** Slots of lookup sites with a cache variable (`K<pc>`). */
  sites: number[];
  /** Set when the last helper call emitted was a lookup inlined for a known map (no call). */
  inlined: boolean;
  /** Set when the code reads the region table (`views`, `rLo`.. `nreg`): loaded on entry only then. */
  table: boolean;
}

/** The statements that write registers `regs` to `m.R`. */
function spillOf(regs: readonly number[]): string {
  let out = "";
  for (const r of regs) out += `R[${2 * r}] = L${r}; R[${2 * r + 1}] = H${r}; `;
  return out;
}
/** The statements that read registers `regs` back from `m.R`. */
function reloadOf(regs: readonly number[]): string {
  let out = "";
  for (const r of regs) out += `L${r} = R[${2 * r}]; H${r} = R[${2 * r + 1}]; `;
  return out;
}
/** A fault at `pc` with `reason`, as generated code. */
function failAt(pc: number, reason: string): string {
  return `m.pc = ${pc}; throw m.error(${str(reason)});`;
}
const isArgReg = (r: number): boolean => r <= 5;
const refresh =
  "acc.ensure(); views = mem.views; rLo = acc.readLo; rHi = acc.readHi; wLo = acc.writeLo; wHi = acc.writeHi; nreg = mem.count;";

/**
 * A 64-bit shift (`c` is lsh, rsh or arsh) of (Ld, Hd) by `sh`: a constant 1..63, or
 * `t0` holding 1..31 (-1) or 32..63 (-2).
 */
function shift64(c: number, Ld: string, Hd: string, sh: number): string {
  const low = sh === -1 || (sh > 0 && sh < 32);
  const by = sh < 0 ? "t0" : `${sh}`;
  const rest = sh < 0 ? (low ? "32 - t0" : "t0 - 32") : low ? `${32 - sh}` : `${sh - 32}`;
  // Additive operators bind tighter than shifts: `x >>> 32 - t0` is `x >>> (32 - t0)`.
  if (c === 0x67 || c === 0x6f)
    return low
      ? `${Hd} = ${Hd} << ${by} | ${Ld} >>> ${rest}; ${Ld} <<= ${by};`
      : `${Hd} = ${Ld} << ${rest}; ${Ld} = 0;`;
  if (c === 0x77 || c === 0x7f)
    return low
      ? `${Ld} = ${Ld} >>> ${by} | ${Hd} << ${rest}; ${Hd} = ${Hd} >>> ${by} | 0;`
      : `${Ld} = ${Hd} >>> ${rest} | 0; ${Hd} = 0;`;
  return low
    ? `${Ld} = ${Ld} >>> ${by} | ${Hd} << ${rest}; ${Hd} >>= ${by};`
    : `${Ld} = ${Hd} >> ${rest}; ${Hd} >>= 31;`;
}

/**
 * The statements of the instruction at `pc`; `after` is how many instructions of its
 * block follow it (for the instruction count a helper sees). Jumps are emitted by the
 * caller, which knows the block layout.
 */
function emitInsn(g: Gen, pc: number, after: number): string {
  const code = g.code;
  const c = code.op[pc]!;
  const d = code.dst[pc]!;
  const s = code.src[pc]!;
  const off = code.off[pc]!;
  const imm = code.imm[pc]!;
  const Ld = `L${d}`;
  const Hd = `H${d}`;
  const Ls = `L${s}`;
  const Hs = `H${s}`;
  const reg = (c & 8) !== 0;
  const BL = reg ? Ls : lit(imm);
  const BH = reg ? Hs : lit(imm >> 31);
  const B32 = reg ? Ls : lit(imm);
  if (!known(c)) return failAt(pc, `opcode 0x${c.toString(16).padStart(2, "0")} is not supported`);
  switch (c) {
    // ---------------- ALU64 ----------------
    case 0x07:
      // A positive immediate carries exactly when the new low word is below it.
      // (Generated code is written with as few tokens as precedence allows: V8's parse
      // of it is most of the compile time. `a + b | 0` is `(a + b) | 0`.)
      if (imm > 0)
        return `${Ld} = ${Ld} + ${imm} | 0; if (${Ld} >>> 0 < ${imm}) ${Hd} = ${Hd} + 1 | 0;`;
      if (imm === 0) return "";
      return `t0 = ${Ld} + ${BL} | 0; ${Hd} = ${Hd} - 1 + (t0 >>> 0 < ${Ld} >>> 0 ? 1 : 0) | 0; ${Ld} = t0;`;
    case 0x0f:
      return `t0 = ${Ld} + ${BL} | 0; ${Hd} = ${Hd} + ${BH} + (t0 >>> 0 < ${Ld} >>> 0 ? 1 : 0) | 0; ${Ld} = t0;`;
    case 0x17:
      // Borrow exactly when the low word is below the immediate's (unsigned).
      if (imm === 0) return "";
      return `t0 = ${Ld}; ${Ld} = t0 - ${BL} | 0; ${Hd} = ${Hd} - ${BH} - (t0 >>> 0 < ${imm >>> 0} ? 1 : 0) | 0;`;
    case 0x1f:
      if (d === s) return `${Ld} = 0; ${Hd} = 0;`;
      return `t0 = ${Ld}; ${Ld} = t0 - ${Ls} | 0; ${Hd} = ${Hd} - ${Hs} - (t0 >>> 0 < ${Ls} >>> 0 ? 1 : 0) | 0;`;
    case 0x27:
    case 0x2f:
      return `T[0] = ${Ld}; T[1] = ${Hd}; mul64(T, 0, ${BL}, ${BH}); ${Ld} = T[0]; ${Hd} = T[1];`;
    case 0x37:
    case 0x3f:
    case 0x97:
    case 0x9f:
      return `T[0] = ${Ld}; T[1] = ${Hd}; ${off === 1 ? "sdivmod64" : "udivmod64"}(T, 0, ${BL}, ${BH}, ${c >= 0x97}); ${Ld} = T[0]; ${Hd} = T[1];`;
    // An immediate's high word is 0 or -1: or/xor with 0 and and with -1 keep it.
    case 0x47:
      return imm < 0 ? `${Ld} |= ${BL}; ${Hd} = -1;` : `${Ld} |= ${BL};`;
    case 0x4f:
      return `${Ld} |= ${Ls}; ${Hd} |= ${Hs};`;
    case 0x57:
      return imm < 0 ? `${Ld} &= ${BL};` : `${Ld} &= ${BL}; ${Hd} = 0;`;
    case 0x5f:
      return `${Ld} &= ${Ls}; ${Hd} &= ${Hs};`;
    case 0xa7:
      return imm < 0 ? `${Ld} ^= ${BL}; ${Hd} = ~${Hd};` : `${Ld} ^= ${BL};`;
    case 0xaf:
      return `${Ld} ^= ${Ls}; ${Hd} ^= ${Hs};`;
    case 0x67:
    case 0x6f:
    case 0x77:
    case 0x7f:
    case 0xc7:
    case 0xcf: {
      if (!reg) {
        const sh = imm & 63;
        if (sh === 0) return "";
        return shift64(c, Ld, Hd, sh);
      }
      return `t0 = ${Ls} & 63; if (t0 !== 0) if (t0 < 32) { ${shift64(c, Ld, Hd, -1)} } else { ${shift64(c, Ld, Hd, -2)} }`;
    }
    case 0x87:
      return `t0 = -${Ld} | 0; ${Hd} = (~${Hd} + (t0 === 0 ? 1 : 0)) | 0; ${Ld} = t0;`;
    case 0xb7:
      return `${Ld} = ${lit(imm)}; ${Hd} = ${lit(imm >> 31)};`;
    case 0xbf:
      switch (off) {
        case 0:
          return `${Ld} = ${Ls}; ${Hd} = ${Hs};`;
        case 8:
          return `${Ld} = (${Ls} << 24) >> 24; ${Hd} = ${Ld} >> 31;`;
        case 16:
          return `${Ld} = (${Ls} << 16) >> 16; ${Hd} = ${Ld} >> 31;`;
        case 32:
          return `${Ld} = ${Ls}; ${Hd} = ${Ld} >> 31;`;
        default:
          return failAt(pc, "addr_space_cast (arena pointers) is not supported by the VM");
      }
    case 0xd7:
    case 0xdc:
      if (imm === 16) return `${Ld} = ${bswap16expr(Ld)}; ${Hd} = 0;`;
      if (imm === 32) return `${Ld} = bswap32(${Ld}); ${Hd} = 0;`;
      return `t0 = ${Ld}; ${Ld} = bswap32(${Hd}); ${Hd} = bswap32(t0);`;

    // ---------------- ALU32 ----------------
    case 0x04:
    case 0x0c:
      return `${Ld} = ${Ld} + ${B32} | 0; ${Hd} = 0;`;
    case 0x14:
    case 0x1c:
      return `${Ld} = ${Ld} - ${B32} | 0; ${Hd} = 0;`;
    case 0x24:
    case 0x2c:
      return `${Ld} = Math.imul(${Ld}, ${B32}); ${Hd} = 0;`;
    case 0x34:
    case 0x3c:
      return off === 1
        ? `t0 = ${B32}; ${Ld} = t0 === 0 ? 0 : t0 === -1 ? -${Ld} | 0 : Math.trunc(${Ld} / t0) | 0; ${Hd} = 0;`
        : `t0 = ${B32}; ${Ld} = t0 === 0 ? 0 : Math.floor((${Ld} >>> 0) / (t0 >>> 0)) | 0; ${Hd} = 0;`;
    case 0x94:
    case 0x9c:
      return off === 1
        ? `t0 = ${B32}; if (t0 !== 0) ${Ld} = t0 === -1 ? 0 : (${Ld} % t0) | 0; ${Hd} = 0;`
        : `t0 = ${B32}; if (t0 !== 0) ${Ld} = ((${Ld} >>> 0) % (t0 >>> 0)) | 0; ${Hd} = 0;`;
    case 0x44:
    case 0x4c:
      return `${Ld} |= ${B32}; ${Hd} = 0;`;
    case 0x54:
    case 0x5c:
      return `${Ld} &= ${B32}; ${Hd} = 0;`;
    case 0xa4:
    case 0xac:
      return `${Ld} ^= ${B32}; ${Hd} = 0;`;
    // JavaScript's shifts take the count modulo 32, as these do.
    case 0x64:
    case 0x6c:
      return `${Ld} <<= ${reg ? Ls : imm & 31}; ${Hd} = 0;`;
    case 0x74:
    case 0x7c:
      return `${Ld} = ${Ld} >>> ${reg ? Ls : imm & 31} | 0; ${Hd} = 0;`;
    case 0xc4:
    case 0xcc:
      return `${Ld} >>= ${reg ? Ls : imm & 31}; ${Hd} = 0;`;
    case 0x84:
      return `${Ld} = -${Ld} | 0; ${Hd} = 0;`;
    case 0xb4:
      return `${Ld} = ${lit(imm)}; ${Hd} = 0;`;
    case 0xbc:
      if (off === 8) return `${Ld} = (${Ls} << 24) >> 24; ${Hd} = 0;`;
      if (off === 16) return `${Ld} = (${Ls} << 16) >> 16; ${Hd} = 0;`;
      return `${Ld} = ${Ls}; ${Hd} = 0;`;
    case 0xd4:
      if (imm === 16) return `${Ld} = ${Ld} & 0xffff; ${Hd} = 0;`;
      if (imm === 32) return `${Hd} = 0;`;
      return "";

    // ---------------- loads ----------------
    case 0x61:
    case 0x69:
    case 0x71:
    case 0x79:
    case 0x81:
    case 0x89:
    case 0x91:
    case 0x62:
    case 0x6a:
    case 0x72:
    case 0x7a:
    case 0x63:
    case 0x6b:
    case 0x73:
    case 0x7b: {
      const direct = stackAccess(g, pc);
      if (direct !== undefined) return direct;
      return memoryAccess(g, pc);
    }
    default:
      return emitRest(g, pc, after);
  }
}

/**
 * A load or store at a constant offset from r10 inside the frame, naturally aligned:
 * the current frame is always open (bytes 0..512 readable and writable while its call
 * is live, and r10 is read-only), so the interpreter's bounds check always passes and
 * the access is one typed-array element of the frame (little-endian hosts only, where
 * the element order is the DataView's).
 */
function stackAccess(g: Gen, pc: number): string | undefined {
  if (!g.directStack) return undefined;
  const code = g.code;
  const c = code.op[pc]!;
  const load = (c & 7) === 1;
  const base = load ? code.src[pc]! : code.dst[pc]!;
  if (base !== 10) return undefined;
  const size = (c & 0x18) === 0x18 ? 8 : (c & 0x18) === 0 ? 4 : (c & 0x18) === 8 ? 2 : 1;
  const at = STACK_SIZE + code.off[pc]!;
  if (at < 0 || at + size > STACK_SIZE || at % Math.min(size, 4) !== 0) return undefined;
  const d = code.dst[pc]!;
  const s = code.src[pc]!;
  if (load) {
    const signed = c >= 0x81;
    if (size === 8) return `L${d} = s32[${at >> 2}]; H${d} = s32[${(at >> 2) + 1}];`;
    if (size === 4) return `L${d} = s32[${at >> 2}]; H${d} = ${signed ? `L${d} >> 31` : "0"};`;
    if (size === 2)
      return signed
        ? `L${d} = (s16[${at >> 1}] << 16) >> 16; H${d} = L${d} >> 31;`
        : `L${d} = s16[${at >> 1}]; H${d} = 0;`;
    return signed
      ? `L${d} = (s8[${at}] << 24) >> 24; H${d} = L${d} >> 31;`
      : `L${d} = s8[${at}]; H${d} = 0;`;
  }
  const imm = code.imm[pc]!;
  const reg = (c & 7) === 3;
  const vlo = reg ? `L${s}` : lit(imm);
  const vhi = reg ? `H${s}` : lit(imm >> 31);
  if (size === 8) return `s32[${at >> 2}] = ${vlo}; s32[${(at >> 2) + 1}] = ${vhi};`;
  if (size === 4) return `s32[${at >> 2}] = ${vlo};`;
  if (size === 2) return `s16[${at >> 1}] = ${vlo};`;
  return `s8[${at}] = ${vlo};`;
}

/** A load or store through the region table, as the interpreter does it. */
function memoryAccess(g: Gen, pc: number): string {
  g.table = true;
  const code = g.code;
  const c = code.op[pc]!;
  const d = code.dst[pc]!;
  const s = code.src[pc]!;
  const off = code.off[pc]!;
  const imm = code.imm[pc]!;
  const Ld = `L${d}`;
  const Hd = `H${d}`;
  const Ls = `L${s}`;
  const Hs = `H${s}`;
  switch (c) {
    case 0x61:
    case 0x69:
    case 0x71:
    case 0x79:
    case 0x81:
    case 0x89:
    case 0x91: {
      const size = c === 0x79 ? 8 : c === 0x61 || c === 0x81 ? 4 : c === 0x69 || c === 0x89 ? 2 : 1;
      const signed = c >= 0x81;
      const head = `{ const t0 = ${Hs} - HI, t1 = (${Ls} >>> 0) - LO + ${lit(off)};`;
      const test = `t0 >>> 0 < nreg && t1 >= rLo[t0] && t1 + ${size} <= rHi[t0]`;
      const slow = `m.loadSlow(${pc}, code, ${Ls}, ${Hs}, ${lit(off)}, ${size * 8});`;
      let fast: string;
      let after: string;
      if (size === 8) {
        fast = `const v = views[t0]; ${Ld} = v.getInt32(t1, true); ${Hd} = v.getInt32(t1 + 4, true);`;
        after = `${Ld} = S[0]; ${Hd} = S[1];`;
      } else if (!signed) {
        const get =
          size === 4 ? "getInt32(t1, true)" : size === 2 ? "getUint16(t1, true)" : "getUint8(t1)";
        fast = `${Ld} = views[t0].${get}; ${Hd} = 0;`;
        after = `${Ld} = S[0]; ${Hd} = S[1];`;
      } else {
        const get =
          size === 4 ? "getInt32(t1, true)" : size === 2 ? "getInt16(t1, true)" : "getInt8(t1)";
        fast = `${Ld} = views[t0].${get}; ${Hd} = ${Ld} >> 31;`;
        const ext = size === 4 ? "S[0]" : size === 2 ? "(S[0] << 16) >> 16" : "(S[0] << 24) >> 24";
        after = `${Ld} = ${ext}; ${Hd} = ${Ld} >> 31;`;
      }
      return `${head} if (${test}) { ${fast} } else { ${slow} ${after} } }`;
    }

    // ---------------- stores ----------------
    case 0x62:
    case 0x6a:
    case 0x72:
    case 0x7a:
    case 0x63:
    case 0x6b:
    case 0x73:
    case 0x7b: {
      const size = (c & 0x18) === 0x18 ? 8 : (c & 0x18) === 0 ? 4 : (c & 0x18) === 8 ? 2 : 1;
      const isReg = (c & 7) === 3;
      const vlo = isReg ? Ls : lit(imm);
      const vhi = isReg ? Hs : lit(imm >> 31);
      const head = `{ const t0 = ${Hd} - HI, t1 = (${Ld} >>> 0) - LO + ${lit(off)};`;
      const test = `t0 >>> 0 < nreg && t1 >= wLo[t0] && t1 + ${size} <= wHi[t0]`;
      let fast: string;
      if (size === 8)
        fast = `const v = views[t0]; v.setInt32(t1, ${vlo}, true); v.setInt32(t1 + 4, ${vhi}, true);`;
      else if (size === 4) fast = `views[t0].setInt32(t1, ${vlo}, true);`;
      else if (size === 2) fast = `views[t0].setUint16(t1, ${vlo}, true);`;
      else fast = `views[t0].setUint8(t1, ${vlo});`;
      const slowHi = isReg && size !== 8 ? Hs : vhi;
      const slow = `m.storeSlow(${pc}, code, ${Ld}, ${Hd}, ${lit(off)}, ${size * 8}, ${vlo}, ${slowHi});`;
      return `${head} if (${test}) { ${fast} } else { ${slow} } }`;
    }
    default:
      throw new Error(`memoryAccess: 0x${c.toString(16)} is no load or store`);
  }
}

/** Atomics, lddw, ld_abs/ld_ind and helper calls. */
function emitRest(g: Gen, pc: number, after: number): string {
  const code = g.code;
  const c = code.op[pc]!;
  const d = code.dst[pc]!;
  const s = code.src[pc]!;
  const imm = code.imm[pc]!;
  const Ld = `L${d}`;
  const Hd = `H${d}`;
  const Ls = `L${s}`;
  switch (c) {
    // ---------------- atomics ----------------
    case 0xc3:
    case 0xdb:
    case 0xd3:
    case 0xcb: {
      const bytes = c === 0xc3 ? 4 : c === 0xdb ? 8 : c === 0xd3 ? 1 : 2;
      return `m.pc = ${pc}; ${g.spill} atomic(m, code, ${pc}, ${bytes}); ${g.reload}`;
    }

    // ---------------- ld ----------------
    case 0x18:
      return `${Ld} = ${lit(imm)}; ${Hd} = ${lit(code.imm[pc + 1]!)};`;
    case 0x20:
    case 0x28:
    case 0x30:
    case 0x40:
    case 0x48:
    case 0x50: {
      const bytes = c === 0x20 || c === 0x40 ? 4 : c === 0x28 || c === 0x48 ? 2 : 1;
      const at = c >= 0x40 ? `(${lit(imm)} + ${Ls}) | 0` : lit(imm);
      const fix = after > 0 ? ` n -= ${after};` : "";
      return `m.pc = ${pc}; if (!ldPacket(m, ${at}, ${bytes})) { L0 = 0; H0 = 0; ${g.spill}${fix} return; } L0 = R[0]; H0 = R[1];`;
    }

    // ---------------- calls (jumps and exit are the block's business) ----------------
    case 0x85: {
      if (s !== 0) throw new Error("emitInsn: calls other than helpers end a block");
      return emitHelperCall(g, pc, imm, after);
    }
    default:
      throw new Error(`emitInsn: 0x${c.toString(16)} is a jump`);
  }
}

function bswap16expr(v: string): string {
  return `(((${v} & 0xff) << 8) | ((${v} >>> 8) & 0xff))`;
}

/**
 * A helper call, as the interpreter makes it: map_lookup_elem inline when it can
 * ({@link inlineLookup}), a tail call, or the helper through {@link callHelper}. The
 * registers are written to `m.R` for the helper and read back after it (a callback
 * may have run); the call itself is out of line, which keeps the generated function
 * small for V8's optimising compiler.
 */
function emitHelperCall(g: Gen, pc: number, id: number, after: number): string {
  g.table = true;
  const fix = after > 0 ? ` - ${after}` : "";
  if (id === TAIL_CALL_ID) {
    return [
      `m.pc = ${pc}; ${g.spill} t3 = m.argMap(2); t1 = L3 >>> 0;`,
      `if (t1 < t3.maxEntries && m.tailCalls < ${MAX_TAIL_CALL_CNT}) { m.tailCalls++; t3 = m.tailCall(t3, t1);`,
      ` if (t3) { loops[depth] = m.mayGotoBudget; n = n${fix}; pc = 0; if (t3 === code) continue main; hcode = t3; hand = 2; break main; } }`,
    ].join(" ");
  }
  const fix2 = after > 0 ? ` + ${after}` : "";
  const call = `${g.spill} m.depth = depth; sp = 1; n = callHelper(m, ${id}, n${fix})${fix2}; sp = 0; ${refresh} ${g.reloadArgs}`;
  if (id !== MAP_LOOKUP_ELEM_ID) return `m.pc = ${pc}; ${call}`;
  const generic = `if (inlineLookup(m, L1, H1, L2, H2)) { L0 = T[0]; H0 = T[1]; if (mem.count !== nreg) { ${refresh} } } else { ${call} }`;
  // r1 a constant (the map's handle from an lddw) and r2 = r10 + a constant in the frame
  // (the key on the stack), as compilers emit a lookup: the map's kind resolved once per
  // machine at this site (K<pc>), and the lookup inline — an array's address
  // arithmetic, a hash map's slot from the key's words — with the value's window.
  const key = g.directStack ? g.known.lookupKey() : undefined;
  if (key === undefined) return `m.pc = ${pc}; ${generic}`;
  const { rid, ko } = key;
  // The kind the compiling machine sees; another machine running this code (a tail
  // call's) that sees another hands the run to the interpreter at the call.
  const kind = g.machine === undefined ? 0 : lookupSite(g.machine, rid, ko).kind;
  if (kind === 0) return `m.pc = ${pc}; ${generic}`;
  g.sites.push(pc);
  // Nothing but this lookup runs here (no callback spends the budget): the block after
  // needs no check of its own.
  g.inlined = true;
  const w = ko >> 2;
  const at =
    kind === 1
      ? `t1 = s32[${w}] >>> 0; t1 = t1 < ls.max ? t1 * ls.stride : -1;`
      : kind === 2
        ? `t1 = ls.hash.lookupSlotU32(s32[${w}] >>> 0);`
        : `t1 = ls.hash.lookupSlotWords(s32, ${w});`;
  return [
    `m.pc = ${pc}; ls = K${pc}; if (ls === null || ls.m !== m) ls = K${pc} = lookupSite(m, ${rid}, ${ko});`,
    `if (ls.kind !== ${kind}) { n -= ${after + 1}; pc = ${pc}; hand = 1; break main; }`,
    at,
    `if (t1 >= 0) { L0 = LO + t1; t4 = ls.win[t1 >>> 3]; if (t4 === 0) { t4 = m.window(${rid}, t1, ls.valueSize) + 1; ${refresh} } H0 = HI + t4 - 1; }`,
    "else { L0 = 0; H0 = 0; }",
  ].join(" ");
}

/**
 * How a map_lookup_elem site whose map and key place are known at compile time looks
 * up (cached per site and machine): 1 an array, 2 a hash map of 4-byte keys, 3 a hash
 * map of longer keys in 32-bit words, 0 the generic path ({@link inlineLookup} or the
 * helper). Only the exact classes: a subclass may answer otherwise.
 */
class LookupSite {
  constructor(
    readonly m: Machine,
    readonly kind: number,
    readonly max: number,
    readonly stride: number,
    readonly valueSize: number,
    readonly win: Int32Array,
    readonly hash: VmHashMap | null,
  ) {}
}
const NO_WINDOWS = new Int32Array(0);

/** The {@link LookupSite} of map region `rid` for a key at byte `ko` of the current frame. */
function lookupSite(m: Machine, rid: number, ko: number): LookupSite {
  const t = m.inlineLookup && rid >>> 0 < m.memory.count ? m.inlineTarget(rid) : null;
  if (t === null || t.windows === null) return new LookupSite(m, 0, 0, 0, 0, NO_WINDOWS, null);
  const map = t.map;
  let kind = 0;
  if (t.array && map.constructor === VmArrayMap && t.keySize === 4) kind = 1;
  else if (map.constructor === VmHashMap) {
    const hash = map as VmHashMap;
    if (t.keySize === 4) kind = 2;
    else if (t.keySize % 4 === 0 && hash.keyWords.length > 0 && ko + t.keySize <= STACK_SIZE)
      kind = 3;
  }
  return new LookupSite(
    m,
    kind,
    t.maxEntries,
    t.stride,
    t.valueSize,
    t.windows,
    kind >= 2 ? (map as VmHashMap) : null,
  );
}

/**
 * map_lookup_elem inline, as the interpreter answers it while the default helper is
 * installed (a plain map named by r1, the key in bounds at r2): r0 in `T`, true; false
 * when the helper must answer.
 */
function inlineLookup(m: Machine, r1lo: number, r1hi: number, r2lo: number, r2hi: number): boolean {
  if (!m.inlineLookup) return false;
  const mem = m.memory;
  const nreg = mem.count;
  const rid = r1hi - REGION_HI_BASE;
  const t = r1lo === 0 && rid >>> 0 < nreg ? m.inlineTarget(rid) : null;
  if (t === null) return false;
  const acc = m.access;
  const kid = r2hi - REGION_HI_BASE;
  const kat = (r2lo >>> 0) - REGION_LO_BASE;
  if (!(kid >>> 0 < nreg && kat >= acc.readLo[kid]! && kat + t.keySize <= acc.readHi[kid]!))
    return false;
  let at: number;
  if (t.array) {
    const i = mem.views[kid]!.getUint32(kat, true);
    at = i < t.maxEntries ? i * t.stride : -1;
  } else {
    at = t.map.lookupSlot(mem.bytes[kid]!, kat, 0);
  }
  const T = RUNTIME.T;
  if (at < 0) {
    T[0] = 0;
    T[1] = 0;
  } else {
    // The value through a window of its own (value + value_size faults).
    T[0] = REGION_LO_BASE + at;
    const win = t.windows;
    const hit = win !== null ? win[at >>> 3]! : 0;
    T[1] = REGION_HI_BASE + (hit !== 0 ? hit - 1 : m.window(rid, at, t.valueSize));
  }
  return true;
}

/**
 * Calls helper `id` with the registers in `m.R` and `n` instructions executed so far;
 * sets r0 in `m.R` from its answer and returns the count after it (callbacks count).
 */
function callHelper(m: Machine, id: number, n: number): number {
  const h = m.helpers[id];
  if (h === undefined) {
    const name = helperName(id);
    throw m.error(
      `unknown helper ${name ? `${name}#${id}` : `#${id}`}: the VM has no implementation for it`,
    );
  }
  m.executed = n;
  const r = h(m);
  if (typeof r === "number") setNum(m.R, 0, r);
  else if (typeof r === "bigint") setBig(m.R, 0, r);
  return m.executed;
}

/** The chunks of `code`'s generated functions, in slot order (see the module header). */
export function generateChunks(code: Code, machine?: Machine): JitChunk[] {
  const n = code.length;
  const lead = leaders(code);
  // Registers named (bit r): r0 and r10 always, r0..r5 where helpers (or ld_abs) run.
  let usedBits = 0x401;
  for (let pc = 0; pc < n; pc++) {
    if (code.insns[pc] === undefined) continue;
    usedBits |= (1 << code.dst[pc]!) | (1 << code.src[pc]!);
    const c = code.op[pc]!;
    if (c === 0x85 || (c & 0xe7) === 0x20 || (c & 0xe7) === 0x40) usedBits |= 0x3f;
  }
  const used: number[] = [];
  for (let r = 0; r <= 10; r++) if ((usedBits & (1 << r)) !== 0) used.push(r);
  // Whether a run can see its stack frame's bytes (so they must be zeroed on entry, as
  // the interpreter does): only through r10, or in a tail-call target.
  let stackReachable = false;
  let calls = false;
  for (let pc = 0; pc < n; pc++) {
    if (code.insns[pc] === undefined) continue;
    const c = code.op[pc]!;
    if (c === 0x85 && code.src[pc] === 1) calls = true;
    if (code.dst[pc] === 10 || (code.src[pc] === 10 && c !== 0x18 && c !== 0x85))
      stackReachable = true;
    if (c === 0x85 && code.src[pc] === 0 && code.imm[pc] === TAIL_CALL_ID) stackReachable = true;
  }

  // Blocks, in slot order.
  interface Block {
    start: number;
    end: number;
    slots: number[];
  }
  const blocks: Block[] = [];
  for (let pc = 0; pc < n; ) {
    const start = pc;
    const slots: number[] = [];
    let end = pc;
    do {
      slots.push(end);
      end += code.op[end] === 0x18 ? 2 : 1;
    } while (
      end < n &&
      !lead[end] &&
      !endsBlock(code, slots[slots.length - 1]!) &&
      // A long straight run is cut into blocks a region (and a chunk) can hold.
      end - start < jitSizes.regionSlots
    );
    blocks.push({ start, end, slots });
    pc = end;
  }
  // Entries: the cases of the dispatch loop — slot 0, targets of backward jumps (loop
  // heads), functions (bpf-to-bpf and callback targets), return points after calls.
  // Between two entries the code is one region of forward control flow: a forward
  // jump inside it is a `break` out of a labelled block ending at its target, so V8
  // sees few loop back edges (its optimising compile grows fast with them).
  const entry = new Set<number>([0]);
  for (let pc = 0; pc < n; pc++) {
    const insn = code.insns[pc];
    if (insn === undefined) continue;
    const c = code.op[pc]!;
    if (insn.kind === "lddw" && (insn as { pseudo?: number }).pseudo === BPF_PSEUDO_FUNC)
      entry.add(pc + insn.imm + 1);
    if (c === 0x85 && code.src[pc] === 1) {
      entry.add(pc + code.imm[pc]! + 1);
      entry.add(pc + 1);
    }
    if (isJump(c) || c === 0xe5) {
      const t = targetOf(code, pc);
      if (t <= pc) entry.add(t);
    }
  }
  // A forward jump that crosses an entry goes through the dispatch: its target becomes
  // an entry too (until nothing changes). A region keeps at most MAX_LABELS labelled
  // blocks (they nest, and a parser recurses on nesting): the next target starts a
  // new region.
  const entryOf = (): number[] => [...entry].filter((e) => e < n).sort((a, b) => a - b);
  const blockStart = new Uint8Array(n + 1);
  for (const b of blocks) blockStart[b.start] = 1;
  // Slots some forward jump from an earlier slot passes over (a cut there would make the
  // jump's target an entry): the farthest forward target seen so far is beyond them.
  const crossed = new Uint8Array(n + 1);
  for (let pc = 0, far = 0; pc < n; pc++) {
    if (far > pc) crossed[pc] = 1;
    if (code.insns[pc] === undefined) continue;
    const c = code.op[pc]!;
    if (isJump(c) || c === 0xe5) far = Math.max(far, targetOf(code, pc));
  }
  for (let changed = true; changed; ) {
    changed = false;
    const es = entryOf();
    // A region longer than MAX_REGION_SLOTS is cut into regions of at most that many
    // slots where it can (chunks are made of whole regions), all in this pass (one cut
    // per pass was quadratic: 390 passes over a straight program of 100,000
    // instructions): each cut at the last block start in the second half of the length
    // that no forward jump crosses (a crossed cut makes the jump's target an entry too),
    // else at the first block start past the length.
    let cut = false;
    for (let k = 0; k < es.length; k++) {
      let from = es[k]!;
      const to = es[k + 1] ?? n;
      while (to - from > jitSizes.regionSlots) {
        let at = from + jitSizes.regionSlots;
        const least = from + (jitSizes.regionSlots >> 1);
        let back = at;
        while (back > least && (!blockStart[back] || crossed[back])) back--;
        if (back > least) at = back;
        else while (at < to && !blockStart[at]) at++;
        if (at >= to) break;
        entry.add(at);
        cut = true;
        from = at;
      }
    }
    if (cut) {
      // The cuts first: the labels are counted per region of the new cuts.
      changed = true;
      continue;
    }
    let ei = 0;
    const perRegion = new Map<number, Set<number>>();
    for (let pc = 0; pc < n; pc++) {
      while (ei + 1 < es.length && es[ei + 1]! <= pc) ei++;
      if (code.insns[pc] === undefined) continue;
      const c = code.op[pc]!;
      if (!(isJump(c) || c === 0xe5)) continue;
      const t = targetOf(code, pc);
      if (t <= pc || entry.has(t) || t >= n) continue;
      const next = es[ei + 1] ?? n;
      if (next < t) {
        entry.add(t);
        changed = true;
        continue;
      }
      let set = perRegion.get(ei);
      if (set === undefined) {
        set = new Set();
        perRegion.set(ei, set);
      }
      set.add(t);
    }
    for (const set of perRegion.values()) {
      if (set.size <= MAX_LABELS) continue;
      const sorted = [...set].sort((a, b) => a - b);
      for (let k = MAX_LABELS; k < sorted.length; k += MAX_LABELS) entry.add(sorted[k]!);
      changed = true;
    }
  }
  const entries = entryOf();
  // The first entry after each slot, precomputed (a search per jump was quadratic).
  const endOf = new Int32Array(n + 1);
  for (let at = n, next = n, ei = entries.length - 1; at >= 0; at--) {
    while (ei >= 0 && entries[ei]! > at) next = entries[ei--]!;
    endOf[at] = next;
  }
  const shared: Omit<Gen, "sites" | "table" | "inlined"> = {
    code,
    machine,
    used,
    calls,
    stackReachable,
    directStack: stackReachable && LITTLE_ENDIAN,
    entry,
    endOf,
    spill: spillOf(used),
    reload: reloadOf(used),
    reloadArgs: reloadOf(used.filter(isArgReg)),
    known: new KnownRegs(),
  };

  // The regions' code, one text per region (from its entry to the next).
  const regions: { start: number; end: number; text: string; table: boolean; sites: number[] }[] =
    [];
  let body: string[] = [];
  // One Gen for every region, its per-region fields reset at each (a spread of the
  // shared fields per region was a tenth of the generation time).
  const g: Gen = { ...shared, sites: [], inlined: false, table: false };
  let open: number[] = [];
  let check = true;
  const closeRegion = (end: number): void => {
    for (const _ of open) body.push("}");
    const last = regions[regions.length - 1];
    if (last !== undefined) {
      last.end = end;
      last.text = body.join("\n");
      last.table = g.table;
      last.sites = g.sites;
    }
    body = [];
    g.sites = [];
    g.inlined = false;
    g.table = false;
  };
  for (const b of blocks) {
    const { start, end, slots } = b;
    if (entry.has(start)) {
      check = true;
      // Close the previous region's labels (its targets are all at its end), open this one's.
      closeRegion(start);
      regions.push({ start, end: n, text: "", table: false, sites: [] });
      const stop = endOf[start]!;
      const targets = new Set<number>();
      for (let pc = start; pc < stop; pc++) {
        if (code.insns[pc] === undefined) continue;
        const c = code.op[pc]!;
        if (!(isJump(c) || c === 0xe5)) continue;
        const t = targetOf(code, pc);
        if (t > pc && t <= stop) targets.add(t);
      }
      open = [...targets].sort((x, y) => y - x);
      body.push(`case ${start}:`);
      for (const t of open) body.push(`J${t}: {`);
    }
    // Labels whose target is this block close here (innermost first).
    while (open.length > 0 && open[open.length - 1] === start) {
      body.push("}");
      open.pop();
    }
    const len = slots.length;
    g.known.reset();
    g.inlined = false;
    const last = slots[len - 1]!;
    const lc = code.op[last]!;
    const jumpTarget = isJump(lc) ? targetOf(code, last) : -1;
    const selfLoop = jumpTarget === start;
    // The budget: a block that loops on itself checks it on every pass; otherwise it is
    // checked where a run enters forward control flow (an entry, after a call or a
    // self-loop, which may have spent any amount) against the most the run can spend
    // before it leaves it (every slot to the region's end: each block runs at most once
    // on the way). A run that might cross the budget is handed to the interpreter
    // there, which counts instruction by instruction and fails at the same one; the
    // other blocks only count.
    if (selfLoop)
      body.push(`for (;;) { if (n > budget - ${len}) { pc = ${start}; hand = 1; break main; }`);
    else if (check) {
      const most = endOf[start]! - start;
      body.push(`if (n > budget - ${most}) { pc = ${start}; hand = 1; break main; }`);
    }
    body.push(`n += ${len};`);
    for (let i = 0; i < len; i++) {
      const at = slots[i]!;
      const c = code.op[at]!;
      if (
        i === len - 1 &&
        (isJump(c) || c === 0x95 || c === 0xe5 || (c === 0x85 && code.src[at] !== 0))
      ) {
        body.push(emitEnd(g, at, end, selfLoop));
      } else {
        body.push(emitInsn(g, at, len - 1 - i));
        g.known.track(code, at);
      }
    }
    if (selfLoop) body.push("}");
    check = selfLoop || (lc === 0x85 && !g.inlined);
  }
  // Labels targeting the end of the program.
  closeRegion(n);

  // Chunks: consecutive regions, up to JIT_CHUNK_CHARS of code each (one region may be more).
  const chunks: JitChunk[] = [];
  for (let i = 0; i < regions.length; ) {
    let size = 0;
    let j = i;
    while (j < regions.length && (j === i || size + regions[j]!.text.length <= jitSizes.chunkChars))
      size += regions[j++]!.text.length;
    const part = regions.slice(i, j);
    const lo = part[0]!.start;
    const hi = part[part.length - 1]!.end;
    const single = i === 0 && j === regions.length;
    chunks.push({
      lo,
      hi,
      source: wrap(
        {
          ...shared,
          sites: part.flatMap((r) => r.sites),
          inlined: false,
          table: part.some((r) => r.table),
        },
        part.map((r) => r.text).join("\n"),
        lo,
        hi,
        single,
      ),
    });
    i = j;
  }
  if (chunks.length === 0)
    chunks.push({
      lo: 0,
      hi: n,
      source: wrap({ ...shared, sites: [], inlined: false, table: false }, "", 0, n, true),
    });
  return chunks;
}

/** A part of a program compiled to one function: the entries in slots [lo, hi). */
export interface JitChunk {
  readonly lo: number;
  readonly hi: number;
  /** The body of the function `new Function("rt", "code", source)` makes. */
  readonly source: string;
}

/**
 * Generates the body of the function for `code` (see the module header); a program
 * in several chunks gives theirs one after another, each headed by a comment line.
 */
export function generate(code: Code, machine?: Machine): string {
  const chunks = generateChunks(code, machine);
  if (chunks.length === 1) return chunks[0]!.source;
  return chunks.map((c, k) => `// chunk ${k}: slots ${c.lo}..${c.hi - 1}\n${c.source}`).join("\n");
}

/**
 * The function of one chunk around its regions' code `body`. A jump out of [lo, hi)
 * returns the target (the driver, {@link compileCode}, runs the chunk that has it);
 * the only chunk of a program hands anything else to the interpreter as before.
 */
function wrap(g: Gen, body: string, lo: number, hi: number, single: boolean): string {
  const n = g.code.length;
  const regs = g.used.map((r) => `L${r} = R[${2 * r}] | 0, H${r} = R[${2 * r + 1}] | 0`).join(", ");
  const close = `for (let d = base === 0 ? 1 : base; d <= depth; d++) { const sid = m.stackIds[d]; acc.readHi[sid] = 0; acc.writeHi[sid] = 0; }`;
  const tail =
    hi === n ? `case ${n}: pc = ${n}; hand = 1; break main;` : `pc = ${hi}; hand = 3; break main;`;
  const other = single ? "hand = 1;" : `hand = pc >= ${lo} && pc < ${hi} ? 1 : 3;`;
  return `"use strict";
const { LO, HI, T, interpret, enter, mul64, udivmod64, sdivmod64, bswap32, atomic, ldPacket, inlineLookup, lookupSite, callHelper, frameViews } = rt;
${g.sites.length > 0 ? `let ${g.sites.map((p) => `K${p} = null`).join(", ")};` : ""}
return (function jit(m, start, base, resumeN, resumeDepth) {
  const R = m.R, mem = m.memory, acc = m.access;
  ${g.table ? "acc.ensure();\n  let views = mem.views, rLo = acc.readLo, rHi = acc.readHi, wLo = acc.writeLo, wHi = acc.writeHi, nreg = mem.count;" : ""}
  const budget = m.budget, retPc = m.retPc, retCode = m.retCode, saved = m.saved, loops = m.loops, S = m.S;
  let n = 0, depth = base;
  if (resumeN >= 0) { n = resumeN; depth = resumeDepth; }
  else {
    n = base === 0 ? 0 : m.executed;
    loops[base] = m.mayGotoBudget;
    if (base === 0) m.tailCalls = 0;
    const sid0 = m.stackIds[base];
    ${g.stackReachable ? "mem.bytes[sid0].fill(0);" : "// No instruction names r10 and no tail call leaves: the stack's bytes are unreachable."}
    acc.readHi[sid0] = ${STACK_SIZE}; acc.writeHi[sid0] = ${STACK_SIZE};
    R[20] = LO + ${STACK_SIZE}; R[21] = HI + sid0;
  }
  m.depth = depth; m.code = code;
  let ${regs};
  ${g.directStack ? "let fv = frameViews(m, depth), s8 = fv.u8, s16 = fv.u16, s32 = fv.i32;" : ""}
  let pc = start, hand = 0, sp = 0, hcode = null, ls = null, t0 = 0, t1 = 0, t3 = null, t4 = 0;
  try {
    main: for (;;) switch (pc) {
${body}
      ${tail}
      ${g.calls ? returnCase(g) : ""}
      default: ${other} break main;
    }
  } catch (e) {
    // A fault in this function's code: the registers as the interpreter would leave
    // them. (A helper's fault leaves them as the helper did: spilled before the call.)
    if (sp === 0) { ${g.spill} }
    throw e;
  } finally {
    if (hand === 0) { m.executed = n; ${close} }
  }
  ${g.spill}
  if (hand === 0) return -1;
  m.executed = n;
  if (hand === 3) { m.depth = depth; return pc; }
  if (hand === 1) interpret(m, code, pc, base, n, depth);
  else enter(m, hcode, pc, base, n, depth);
  return -1;
});`;
}

function isJump(c: number): boolean {
  const cls = c & 7;
  if (cls !== 5 && cls !== 6) return false;
  const op = c & 0xf0;
  return op !== 0x80 && op !== 0x90 && c !== 0xe5;
}

function endsBlock(code: Code, pc: number): boolean {
  const c = code.op[pc]!;
  return isJump(c) || c === 0x95 || c === 0xe5 || c === 0x85;
}

function targetOf(code: Code, pc: number): number {
  return code.op[pc] === 0x06 ? pc + code.imm[pc]! + 1 : pc + code.off[pc]! + 1;
}

/** r6..r9 into the frame save area at `t1` (from the locals, or from `m.R` for registers the code never names). */
function keepSaved(g: Gen): string {
  const out: string[] = [];
  for (let r = 6; r <= 9; r++) {
    const k = 2 * (r - 6);
    if (g.used.includes(r)) out.push(`saved[t1 + ${k}] = L${r}; saved[t1 + ${k + 1}] = H${r};`);
    else out.push(`saved[t1 + ${k}] = R[${2 * r}]; saved[t1 + ${k + 1}] = R[${2 * r + 1}];`);
  }
  return out.join(" ");
}

/** r6..r9 back from the frame save area at `t1`. */
function restoreSaved(g: Gen): string {
  const out: string[] = [];
  for (let r = 6; r <= 9; r++) {
    const k = 2 * (r - 6);
    if (g.used.includes(r)) out.push(`L${r} = saved[t1 + ${k}]; H${r} = saved[t1 + ${k + 1}];`);
    else out.push(`R[${2 * r}] = saved[t1 + ${k}]; R[${2 * r + 1}] = saved[t1 + ${k + 1}];`);
  }
  return out.join(" ");
}

/**
 * The return from a bpf-to-bpf call (an exit at a depth above the run's base): the
 * dispatch loop's case -1, shared by every exit.
 */
function returnCase(g: Gen): string {
  return [
    "case -1: t0 = m.stackIds[depth]; acc.readHi[t0] = 0; acc.writeHi[t0] = 0; depth--; t1 = depth * 8;",
    restoreSaved(g),
    `L10 = LO + ${STACK_SIZE}; H10 = HI + m.stackIds[depth]; pc = retPc[depth] + 1;`,
    g.directStack ? "fv = frameViews(m, depth); s8 = fv.u8; s16 = fv.u16; s32 = fv.i32;" : "",
    "if (retCode[depth] !== code) { hcode = retCode[depth]; hand = 2; break main; }",
    "continue main;",
  ].join(" ");
}

/** Where a jump from `pc` (the last slot of a block ending before `next`) to `t` goes, as JS. */
function go(g: Gen, pc: number, t: number, next: number, selfLoop: boolean): string {
  if (selfLoop && t === targetOf(g.code, pc)) return "continue;";
  if (t === next && !selfLoop) return "";
  // Forward inside the region (or to its end): out of the labelled block.
  const end = g.endOf[pc]!;
  if (t > pc && t <= end && !(g.entry.has(t) && t !== end)) return `break J${t};`;
  return `pc = ${t}; continue main;`;
}

/** The last instruction of a block: a jump, exit, may_goto or a bpf-to-bpf call. */
function emitEnd(g: Gen, pc: number, next: number, selfLoop: boolean): string {
  const code = g.code;
  const c = code.op[pc]!;
  const d = code.dst[pc]!;
  const s = code.src[pc]!;
  const imm = code.imm[pc]!;
  const fall = selfLoop ? "break;" : "";
  // The return into a caller's frame is shared (case -1, see returnCase). Code without
  // bpf-to-bpf calls only returns into another code's frame (a tail call's target run
  // from a function): the interpreter takes the run over at the exit, with the count
  // before it, and returns.
  if (c === 0x95)
    return g.calls
      ? "if (depth === base) break main; pc = -1; continue main;"
      : `if (depth === base) break main; n--; pc = ${pc}; hand = 1; break main;`;
  if (c === 0x85) {
    if (s !== 1)
      return `m.pc = ${pc}; throw m.error(${str("kfunc calls are not supported by the VM")});`;
    const target = pc + imm + 1;
    return [
      `if (depth + 1 >= ${MAX_CALL_FRAMES}) { m.pc = ${pc}; throw m.error(${str(`too many nested calls (the limit is ${MAX_CALL_FRAMES} frames)`)}); }`,
      `retPc[depth] = ${pc}; retCode[depth] = code; t1 = depth * 8;`,
      keepSaved(g),
      `depth++; loops[depth] = m.mayGotoBudget; t0 = m.stackIds[depth];${g.stackReachable ? " mem.bytes[t0].fill(0);" : ""}`,
      `acc.readHi[t0] = ${STACK_SIZE}; acc.writeHi[t0] = ${STACK_SIZE}; L10 = LO + ${STACK_SIZE}; H10 = HI + t0;`,
      g.directStack ? "fv = frameViews(m, depth); s8 = fv.u8; s16 = fv.u16; s32 = fv.i32;" : "",
      `pc = ${target}; continue main;`,
    ].join(" ");
  }
  if (c === 0xe5) {
    const t = targetOf(code, pc);
    return `if (loops[depth] === 0) { ${go(g, pc, t, next, selfLoop)} } else loops[depth]--; ${fall}`;
  }
  const t = targetOf(code, pc);
  if (c === 0x05 || c === 0x06) return selfLoop ? "continue;" : go(g, pc, t, next, selfLoop);
  const op = c & 0xf0;
  const reg = (c & 8) !== 0;
  let cond: string;
  if ((c & 7) === 5) {
    cond = cond64(op, `L${d}`, `H${d}`, `L${s}`, `H${s}`, reg ? null : imm);
  } else {
    cond = cond32(op, `L${d}`, reg ? `L${s}` : lit(imm));
  }
  if (selfLoop) return `if (${cond}) continue; ${fall}`;
  const jump = go(g, pc, t, next, selfLoop);
  if (jump === "") return "";
  return jump.startsWith("break ") ? `if (${cond}) ${jump}` : `if (${cond}) { ${jump} }`;
}

/**
 * Compiles `code` to a JavaScript function with the interpreter's semantics. Does not
 * install it (set `code.jit = result.fn` for that). Refuses, with the reason, when the
 * code is too large or `new Function` is unavailable (a Content-Security-Policy
 * without 'unsafe-eval').
 */
export function compileCode(code: Code, machine?: Machine): JitCompileResult {
  if (code.length > JIT_MAX_SLOTS)
    return {
      ok: false,
      reason: `the program has ${code.length} slots, above the JIT's limit of ${JIT_MAX_SLOTS}`,
    };
  const t0 = performance.now();
  const chunks = generateChunks(code, machine);
  const make = (k: number): ChunkFunction =>
    (
      new Function("rt", "code", chunks[k]!.source) as (
        rt: typeof RUNTIME,
        code: Code,
      ) => ChunkFunction
    )(RUNTIME, code);
  let first: ChunkFunction;
  try {
    first = make(0);
  } catch (e) {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, reason: `new Function is unavailable or failed (${what})` };
  }
  const source =
    chunks.length === 1
      ? chunks[0]!.source
      : chunks.map((c, k) => `// chunk ${k}: slots ${c.lo}..${c.hi - 1}\n${c.source}`).join("\n");
  const fn = chunks.length === 1 ? first : driver(chunks, first, make);
  return { ok: true, fn, source, ms: performance.now() - t0 };
}

/** A chunk's function: a {@link JitFunction} that returns the slot to go on at in another chunk, or -1. */
type ChunkFunction = (
  m: Machine,
  start: number,
  base: number,
  resumeN: number,
  resumeDepth: number,
) => number;

/**
 * The function of a program in several chunks: runs the chunk holding the slot to go
 * on at until one finishes the run (each chunk's function made when first entered,
 * chunk 0's already).
 */
function driver(
  chunks: JitChunk[],
  first: ChunkFunction,
  make: (k: number) => ChunkFunction,
): JitFunction {
  const fns: (ChunkFunction | undefined)[] = [first];
  const los = Int32Array.from(chunks, (c) => c.lo);
  return (m, start, base, resumeN, resumeDepth) => {
    let pc = start;
    let n = resumeN;
    let depth = resumeDepth;
    for (;;) {
      // The last chunk whose first slot is at or before pc.
      let a = 0;
      let b = los.length - 1;
      while (a < b) {
        const mid = (a + b + 1) >>> 1;
        if (los[mid]! <= pc) a = mid;
        else b = mid - 1;
      }
      let f = fns[a];
      if (f === undefined) {
        f = make(a);
        fns[a] = f;
      }
      pc = f(m, pc, base, n, depth);
      if (pc < 0) return;
      n = m.executed;
      depth = m.depth;
    }
  };
}
