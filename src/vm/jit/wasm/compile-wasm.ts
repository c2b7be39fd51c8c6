/**
 * The JIT's WebAssembly target: a program's predecoded {@link Code} compiled to one
 * wasm module per program, with the interpreter's exact semantics.
 *
 * ## Shape of the module
 * - Registers are i64 locals; 64-bit arithmetic is native (the JS target splits every
 *   register into two int32 halves).
 * - Control flow is structured: basic blocks nest as `block`/`loop`/`if` with `br`
 *   (structure.ts); an irreducible CFG is refused (the JS target takes it).
 * - One export, `run(count)`, runs the program `count` times in a row, as the test
 *   run's `repeat` does: each run resets r1/r2 from the arena header, zeroes the stack
 *   frame (when the code can see it) and counts instructions from 0. The repeat loop
 *   lives in wasm, so a run costs no JS-to-wasm call.
 * - The instruction budget is fuel counted down per block. It is checked only at
 *   checkpoints (the entry, loop heads, blocks after a helper call) against the
 *   longest path to the next checkpoint; when that path could cross the budget, the
 *   interpreter takes the run over at the checkpoint and counts instruction by
 *   instruction (the same `VmError` at the same instruction). Instructions the module
 *   does not implement (bpf-to-bpf calls, tail calls, kfunc calls, arena casts,
 *   unknown opcodes) hand over the same way, before they run.
 * - Calls out to JS go through the realm's call table (calls.ts) with
 *   `call_indirect`: the module imports no function, so V8 compiles no wrappers for it.
 *
 * ## Memory: the arena
 * Each program's machine gets one `WebAssembly.Memory` of one page, the arena (layout
 * below), imported by its module. Its stack frames and its input regions (the XDP
 * frame, skb data, raw memory and context, through `Machine.allocator`) live there:
 * their `Uint8Array`s are views of the arena, so helpers, the interpreter and the
 * module see the same bytes without copies. A load or store looks its region up in a
 * table in the arena (one entry per region id below {@link TABLE_CAP}: base, read and
 * write bounds, copied from the machine's {@link RegionAccess}) and checks the same
 * bounds as the interpreter; anything else (map values, context fields, faults) calls
 * out to JS, which runs the interpreter's code for that access. Context fields that a
 * handler answers purely (`RegionHandler.pure`: xdp_md, __sk_buff) are cached per
 * 4-byte offset in the arena after their first load, until a helper or a store could
 * change them.
 *
 * Measured on the bench's Ethernet/IPv4/TCP parser (Node 20, a loaded 2-core machine,
 * medians of 500,000 runs): 11-25 ns per run with the arena; 290-1,020 ns with the
 * packet outside it (every access a call out to JS, the "imported load/store" design);
 * 185-660 ns with the arena but without the context cache (two calls out per run).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { type Code, STACK_SIZE } from "../../interpreter.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO } from "../../memory.ts";
import { KnownRegs } from "../known-regs.ts";
import { CALL, CALL_SLOTS } from "./calls.ts";
import { I32, I64, ModuleBuilder, Op, type ValType, Code as WasmCode } from "./encode.ts";
import { scratchBody, scratchI32, scratchReset, scratchU8 } from "./scratch.ts";
import { analyse, type Cfg } from "./structure.ts";

// ---------------- arena layout (byte offsets) ----------------
/** Slot of a hand-over (i32). */
const H_PC = 0;
/** Runs completed before a hand-over (i32). */
const H_ITER = 4;
/** Instructions executed (i64). */
const H_N = 8;
/** The instruction budget (i64). */
const H_BUDGET = 16;
/** may_goto iterations per call (i64). */
const H_LOOPS = 24;
/** may_goto iterations left at a hand-over (i64). */
const H_LOOPS_LEFT = 32;
/** r1 and r2 of every run (i64 each). */
const H_R1 = 40;
const H_R2 = 48;
/** Region id whose context fields are cached (i32, -1 for none). */
const H_CTX = 56;
/** r0..r10 as int32 pairs, the layout of `Machine.R`. */
const REGS = 64;
/** Context field cache: 64 entries (one per 4-byte offset) of value (i64) and valid (i32). */
const CTX_CACHE = 256;
const CTX_ENTRIES = 64;
/**
 * Region table: 64-byte entries of i32s: T1 for reads and writes (-(LO + lo)), lim per
 * size (1, 2, 4, 8) for reads, then for writes (hi - lo - size + 1, at least 0), and
 * the arena address of byte lo for reads and writes. See emitMemory.
 */
const TABLE = 2048;
const T_T1 = 0;
const T_LIMR = 8;
const T_LIMW = 24;
const T_AB = 40;
/** Region ids below this have a table entry; entry TABLE_CAP is always empty. */
export const TABLE_CAP = 255;
/** The 8 stack frames. */
const STACKS = 20480;
/** Input regions: {@link INPUT_SLOTS} slots of {@link INPUT_SLOT_SIZE} bytes. */
const INPUT = STACKS + 8 * STACK_SIZE;
const INPUT_SLOTS = 4;
/** Largest input region the arena holds (an XDP frame is 4096 bytes). */
export const INPUT_SLOT_SIZE = 8192;
const ARENA_PAGES = 1;

/** The arena's layout, for the JS side (runtime.ts). */
export const ARENA = {
  H_PC,
  H_ITER,
  H_N,
  H_BUDGET,
  H_LOOPS,
  H_LOOPS_LEFT,
  H_R1,
  H_R2,
  H_CTX,
  REGS,
  CTX_CACHE,
  CTX_ENTRIES,
  TABLE,
  T_T1,
  T_LIMR,
  T_LIMW,
  T_AB,
  STACKS,
  INPUT,
  INPUT_SLOTS,
  PAGES: ARENA_PAGES,
} as const;

const TAIL_CALL_ID = 12;
const MAP_LOOKUP_ELEM_ID = 1;
/** Opcodes as a table: 1 where the opcode is in `list` (a Set costs the compile a hash per instruction). */
function opcodes(list: readonly number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of list) t[c] = 1;
  return t;
}
const LD_ABS_IND = opcodes([0x20, 0x28, 0x30, 0x40, 0x48, 0x50]);

/** What {@link compileWasm} gave. */
export type WasmCompileResult =
  | {
      readonly ok: true;
      /** The compiled module (instantiate per machine with {@link instantiateWasm}). */
      readonly module: WasmModule;
      /** The module's bytes. */
      readonly bytes: Uint8Array;
      /** Milliseconds spent generating and compiling. */
      readonly ms: number;
      /** What the program does that the module hands to the interpreter or JS, for the engine choice. */
      readonly profile: WasmProfile;
    }
  | { readonly ok: false; readonly reason: string };

/** What a program does, as the wasm compiler saw it (for choosing between targets). */
/**
 * An array map whose values live in the arena (placed there by `planArena` in
 * runtime.ts): its region's loads and stores go through the region table without a
 * call out, and map_lookup_elem on it is answered in the module.
 */
export interface ArenaHome {
  /** The map's region id. */
  readonly rid: number;
  /** Arena address of the values. */
  readonly addr: number;
  /** Arena address of the machine's window cache for the map (one i32 per 8 bytes), or -1. */
  readonly win: number;
  readonly maxEntries: number;
  readonly stride: number;
  readonly valueSize: number;
  /** Whether the program may write the values (not BPF_F_RDONLY_PROG). */
  readonly writable: boolean;
  /** A hash map (its lookups call out to the map's own, or walk `chains`), else an array. */
  readonly hash: boolean;
  /**
   * A hash map's keys and chains in the arena (VmHashMap.chainLayout), which the
   * module walks itself: arena addresses of the keys, bucket heads and next slots.
   */
  readonly chains?: {
    readonly keys: number;
    readonly heads: number;
    readonly chain: number;
    readonly mask: number;
  };
  /** Bytes of a key. */
  readonly keySize: number;
}

/** The arena a module is compiled for: its size and the maps placed in it. */
export interface ArenaPlan {
  /** Pages of the arena (the module's memory import, minimum and maximum). */
  readonly pages: number;
  /** Maps placed in the arena, by region id. */
  readonly homes: ReadonlyMap<number, ArenaHome>;
  /** Whether map_lookup_elem may be answered inline (the default helper is installed). */
  readonly inlineLookups: boolean;
}

/** The arena of a module compiled without a plan: one page, no maps. */
export const BARE_ARENA: ArenaPlan = { pages: 1, homes: new Map(), inlineLookups: false };

export interface WasmProfile {
  /** Reachable instructions. */
  readonly insns: number;
  /** Helper calls (each a call out to JS). */
  readonly helperCalls: number;
  /** map_lookup_elem calls answered in the module (on maps in the arena). */
  readonly inlineLookups: number;
  /** Instructions handed to the interpreter (bpf-to-bpf and tail calls, kfuncs, unknown opcodes). */
  readonly handOvers: number;
  /** Whether the CFG has a loop. */
  readonly loops: boolean;
}

/**
 * Largest module the wasm target compiles: Chromium refuses a synchronous
 * `new WebAssembly.Module` above 8 MB on a page's main thread (since Chrome 114; 4 KB
 * before, where the compile error sends every program to the JS target).
 */
export const WASM_MAX_BYTES = 8 * 1024 * 1024;

/** Most blocks the wasm target compiles (past this the JS target takes the program). */
export const WASM_MAX_BLOCKS = 100_000;

/** A compiled module (opaque: `WebAssembly.Module`). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A `WebAssembly.Memory`, as far as the JIT uses it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** A `WebAssembly.Table` of functions, as far as the JIT uses it. */
export interface WasmTable {
  set(index: number, fn: unknown): void;
}

/**
 * The part of the `WebAssembly` global the JIT uses (typed here: the project's
 * TypeScript libraries, ES2023 without DOM, do not declare it).
 */
export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
  readonly Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
  readonly Table: new (d: { element: "anyfunc"; initial: number }) => WasmTable;
}

/** The engine's `WebAssembly`, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  const W = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  return W !== undefined && typeof W.Module === "function" ? W : undefined;
}

/** Why WebAssembly cannot be used here, or undefined when it can. */
export function wasmUnavailable(): string | undefined {
  return wasmApi() === undefined
    ? "WebAssembly is not available in this JavaScript engine"
    : undefined;
}

function isCondJump(c: number): boolean {
  const cls = c & 7;
  if (cls !== 5 && cls !== 6) return false;
  const op = c & 0xf0;
  return op !== 0x00 && op !== 0x80 && op !== 0x90 && op !== 0xe0;
}

/** Opcodes the module implements natively (anything else hands over to the interpreter). */
const NATIVE = opcodes([
  0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x97, 0x9f, 0x47, 0x4f, 0x57, 0x5f, 0xa7, 0xaf,
  0x67, 0x6f, 0x77, 0x7f, 0xc7, 0xcf, 0x87, 0xb7, 0xbf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c,
  0x34, 0x3c, 0x94, 0x9c, 0x44, 0x4c, 0x54, 0x5c, 0xa4, 0xac, 0x64, 0x6c, 0x74, 0x7c, 0xc4, 0xcc,
  0x84, 0xb4, 0xbc, 0xd4, 0xdc, 0x05, 0x06, 0x15, 0x1d, 0x55, 0x5d, 0x45, 0x4d, 0x25, 0x35, 0xa5,
  0xb5, 0x65, 0x75, 0xc5, 0xd5, 0x2d, 0x3d, 0xad, 0xbd, 0x6d, 0x7d, 0xcd, 0xdd, 0x16, 0x1e, 0x26,
  0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6, 0xae, 0xb6, 0xbe, 0xc6,
  0xce, 0xd6, 0xde, 0xe5, 0x95, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a,
  0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xd3, 0xcb, 0x18,
]);

/** Whether the instruction at `pc` is handed to the interpreter instead of compiled. */
function handsOver(code: Code, pc: number): boolean {
  const c = code.op[pc]!;
  if (c === 0x85) return code.src[pc] !== 0 || code.imm[pc] === TAIL_CALL_ID;
  if (c === 0xbf) {
    const off = code.off[pc]!;
    return off !== 0 && off !== 8 && off !== 16 && off !== 32;
  }
  return NATIVE[c] === 0 && LD_ABS_IND[c] === 0;
}

function targetOf(code: Code, pc: number): number {
  return code.op[pc] === 0x06 ? pc + code.imm[pc]! + 1 : pc + code.off[pc]! + 1;
}

// Local indexes: params first (count), then registers r0..r10, then temporaries.
const P_COUNT = 0;
const L_REG = 1; // r0..r10: 1..11
/** Fuel: the budget minus the instructions executed (counts down). */
const L_N = 12;
const L_BUDGET = 13;
const L_LOOPS = 14;
const L_X = 16; // i64 temporary (15 is unused)
const L_K = 17; // i32: runs done
const L_ID = 18; // i32 temporary: region id
const L_E = 19; // i32 temporary: table entry
const L_HPC = 20; // i32: hand-over slot
const L_T = 21; // i32 temporary: offset
/** r0..r10's region table entries (i32), valid where {@link Gen.avail} says. */
const L_EREG = 22;
/**
 * Arena address of the value an inline lookup found (0 when it found none), valid
 * while {@link Gen.ptr} says r0 still holds that lookup's answer.
 */
const L_FB = 33;
const LOCALS: ValType[] = [
  ...new Array<ValType>(11).fill(I64),
  I64,
  I64,
  I64,
  I64,
  I64,
  I32,
  I32,
  I32,
  I32,
  I32,
  ...new Array<ValType>(11).fill(I32),
  I32,
];

const reg = (r: number): number => L_REG + r;

/** Control context entries: what a `br` depth counts (`node`: a loop's or block's block, else -1). */
interface Ctx {
  readonly k: "hand" | "iter" | "exit" | "loop" | "block" | "if";
  readonly node: number;
}
const HAND: Ctx = { k: "hand", node: -1 };
const ITER: Ctx = { k: "iter", node: -1 };
const EXIT: Ctx = { k: "exit", node: -1 };
const IF: Ctx = { k: "if", node: -1 };

type Task =
  | { readonly t: "tree"; readonly node: number }
  /** Blocks for the merge children of `node` from its `k`-th on, then its body. */
  | { readonly t: "within"; readonly node: number; readonly k: number }
  | {
      readonly t: "open";
      readonly op: typeof Op.block | typeof Op.loop | typeof Op.if;
      readonly ctx: Ctx;
    }
  | { readonly t: "end" }
  | { readonly t: "else" }
  | { readonly t: "body"; readonly node: number }
  | { readonly t: "branch"; readonly from: number; readonly to: number }
  | { readonly t: "emit"; readonly f: () => void };

interface Gen {
  readonly code: Code;
  /** Per slot: 1 where {@link handsOver} (computed once). */
  readonly hands: Uint8Array;
  readonly w: WasmCode;
  readonly used: readonly number[];
  /** Per block: its first slot, the slot past its end, its last instruction's slot. */
  readonly bStart: Int32Array;
  readonly bEnd: Int32Array;
  readonly bLast: Int32Array;
  /** Per block: its number of instructions. */
  readonly bLen: Int32Array;
  /** Per slot: the block starting there, or -1. */
  readonly blockAt: Int32Array;
  readonly cfg: Cfg;
  /**
   * Per block: 0, or for a checkpoint (the entry, loop heads, blocks after a helper
   * call) the most instructions a run executes from its start to the next checkpoint.
   */
  readonly check: Int32Array;
  /** Per block: registers whose table entry local is valid on entry (bit r). */
  readonly availIn: Int32Array;
  /** Registers whose table entry local is valid at the instruction being emitted. */
  avail: number;
  /** Per block: {@link ptr} on entry. */
  readonly ptrIn: Int32Array;
  /**
   * At the instruction being emitted: which registers still hold the last inline
   * lookup's answer, with no call since ({@link L_FB} is its value's address), or 0:
   * (map region id + 1) << 11 | the registers (bit r). See {@link ptrAfter}.
   */
  ptr: number;
  readonly ctx: Ctx[];
  readonly stackReachable: boolean;
  readonly mayGoto: boolean;
  /** Type indexes of the call table's functions of one and of two arguments (see {@link callOut}). */
  readonly tOne: number;
  readonly tTwo: number;
  /** map_lookup_elem calls answered in the module, by slot. */
  readonly sites: ReadonlyMap<number, LookupSite>;
  /** The arena the module is compiled for. */
  readonly plan: ArenaPlan;
  helperCalls: number;
}

/** A map_lookup_elem call answered in the module: the map and the key's offset in the frame. */
interface LookupSite {
  readonly home: ArenaHome;
  readonly ko: number;
  /** The key's first word, when a constant store in the block left it. */
  readonly word: number | undefined;
}

/** Spills the used registers to the arena. */
function spill(g: Gen): void {
  for (const r of g.used)
    g.w
      .i32(0)
      .local(Op.local_get, reg(r))
      .mem(Op.i64_store, 3, REGS + 8 * r);
}

/** Reloads register `r` (or all used ones) from the arena. */
function reload(g: Gen, r?: number): void {
  for (const x of r === undefined ? g.used : [r])
    g.w
      .i32(0)
      .mem(Op.i64_load, 3, REGS + 8 * x)
      .local(Op.local_set, reg(x));
}

/** `br` depth of the innermost context entry of kind `k` (and block `node`, for loops and blocks). */
function depthOf(g: Gen, k: Ctx["k"], node = -1): number {
  const ctx = g.ctx;
  for (let i = ctx.length - 1; i >= 0; i--) {
    const c = ctx[i]!;
    if (c.k === k && c.node === node) return ctx.length - 1 - i;
  }
  throw new Error("wasm JIT: branch target not in context");
}

/** Hands the run over to the interpreter at slot `pc` (n already what the interpreter should see). */
function handOver(g: Gen, pc: number): void {
  g.w.i32(pc).local(Op.local_set, L_HPC).br(Op.br, depthOf(g, "hand"));
}

/** The operand of an ALU64/JMP instruction: src register or sign-extended imm. */
function operand64(g: Gen, pc: number): void {
  const c = g.code.op[pc]!;
  if ((c & 8) !== 0) g.w.local(Op.local_get, reg(g.code.src[pc]!));
  else g.w.i64(g.code.imm[pc]!);
}

/** The operand of an ALU32/JMP32 instruction as i32. */
function operand32(g: Gen, pc: number): void {
  const c = g.code.op[pc]!;
  if ((c & 8) !== 0) g.w.local(Op.local_get, reg(g.code.src[pc]!)).op(Op.i32_wrap_i64);
  else g.w.i32(g.code.imm[pc]!);
}

/** bswap32 of the i32 on the stack (through local L_ID). */
function bswap32(g: Gen): void {
  const w = g.w;
  w.local(Op.local_tee, L_ID)
    .i32(8)
    .op(Op.i32_rotl)
    .i32(0x00ff00ff)
    .op(Op.i32_and)
    .local(Op.local_get, L_ID)
    .i32(8)
    .op(Op.i32_rotr)
    .i32(0xff00ff00 | 0)
    .op(Op.i32_and)
    .op(Op.i32_or);
}

const ALU64: Record<number, number> = {
  0: Op.i64_add,
  16: Op.i64_sub,
  32: Op.i64_mul,
  64: Op.i64_or,
  80: Op.i64_and,
  160: Op.i64_xor,
  96: Op.i64_shl,
  112: Op.i64_shr_u,
  192: Op.i64_shr_s,
};
const ALU32: Record<number, number> = {
  0: Op.i32_add,
  16: Op.i32_sub,
  32: Op.i32_mul,
  64: Op.i32_or,
  80: Op.i32_and,
  160: Op.i32_xor,
  96: Op.i32_shl,
  112: Op.i32_shr_u,
  192: Op.i32_shr_s,
};
const CMP64: Record<number, number> = {
  16: Op.i64_eq,
  80: Op.i64_ne,
  32: Op.i64_gt_u,
  48: Op.i64_ge_u,
  160: Op.i64_lt_u,
  176: Op.i64_le_u,
  96: Op.i64_gt_s,
  112: Op.i64_ge_s,
  192: Op.i64_lt_s,
  208: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  16: Op.i32_eq,
  80: Op.i32_ne,
  32: Op.i32_gt_u,
  48: Op.i32_ge_u,
  160: Op.i32_lt_u,
  176: Op.i32_le_u,
  96: Op.i32_gt_s,
  112: Op.i32_ge_s,
  192: Op.i32_lt_s,
  208: Op.i32_le_s,
};

/** Pushes the i32 condition of the conditional jump at `pc`. */
function condition(g: Gen, pc: number): void {
  const code = g.code;
  const c = code.op[pc]!;
  const op = c & 0xf0;
  const d = reg(code.dst[pc]!);
  if ((c & 7) === 5) {
    g.w.local(Op.local_get, d);
    operand64(g, pc);
    if (op === 0x40) g.w.op(Op.i64_and).op(Op.i64_eqz).op(Op.i32_eqz);
    else g.w.op(CMP64[op]!);
  } else {
    g.w.local(Op.local_get, d).op(Op.i32_wrap_i64);
    operand32(g, pc);
    if (op === 0x40) g.w.op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_eqz);
    else g.w.op(CMP32[op]!);
  }
}

/** An ALU instruction (class 4 or 7). */
function emitAlu(g: Gen, pc: number): void {
  const code = g.code;
  const w = g.w;
  const c = code.op[pc]!;
  const op = c & 0xf0;
  const d = reg(code.dst[pc]!);
  const off = code.off[pc]!;
  const imm = code.imm[pc]!;
  const reg64 = (c & 8) !== 0;
  if ((c & 7) === 7) {
    const simple = ALU64[op];
    if (simple !== undefined) {
      w.local(Op.local_get, d);
      operand64(g, pc);
      w.op(simple).local(Op.local_set, d);
      return;
    }
    switch (op) {
      case 0x30:
      case 0x90: {
        // div/mod: x / 0 = 0, x % 0 = x; signed: INT64_MIN / -1 = INT64_MIN, x % -1 = 0.
        const mod = op === 0x90;
        const signed = off === 1;
        const divOp = signed
          ? mod
            ? Op.i64_rem_s
            : Op.i64_div_s
          : mod
            ? Op.i64_rem_u
            : Op.i64_div_u;
        if (!reg64 && imm !== 0 && imm !== -1) {
          w.local(Op.local_get, d).i64(imm).op(divOp).local(Op.local_set, d);
          return;
        }
        operand64(g, pc);
        w.local(Op.local_set, L_X);
        w.local(Op.local_get, L_X).op(Op.i64_eqz).open(Op.if);
        if (!mod) w.i64(0).local(Op.local_set, d);
        w.op(Op.else);
        if (signed) {
          w.local(Op.local_get, L_X).i64(-1).op(Op.i64_eq).open(Op.if);
          if (mod) w.i64(0).local(Op.local_set, d);
          else w.i64(0).local(Op.local_get, d).op(Op.i64_sub).local(Op.local_set, d);
          w.op(Op.else);
        }
        w.local(Op.local_get, d).local(Op.local_get, L_X).op(divOp).local(Op.local_set, d);
        if (signed) w.op(Op.end);
        w.op(Op.end);
        return;
      }
      case 0x80:
        w.i64(0).local(Op.local_get, d).op(Op.i64_sub).local(Op.local_set, d);
        return;
      case 0xb0:
        if (reg64) {
          const s = reg(code.src[pc]!);
          w.local(Op.local_get, s);
          if (off === 8) w.op(Op.i64_extend8_s);
          else if (off === 16) w.op(Op.i64_extend16_s);
          else if (off === 32) w.op(Op.i64_extend32_s);
          w.local(Op.local_set, d);
        } else w.i64(imm).local(Op.local_set, d);
        return;
      case 0xd0: {
        // bswap16/32/64 (cpu v4).
        emitSwap(g, d, imm);
        return;
      }
      default:
        throw new Error(`wasm JIT: ALU64 op 0x${c.toString(16)}`);
    }
  }
  // ALU32: on the low words, zero-extended.
  const simple = ALU32[op];
  if (simple !== undefined) {
    w.local(Op.local_get, d).op(Op.i32_wrap_i64);
    operand32(g, pc);
    w.op(simple).op(Op.i64_extend_i32_u).local(Op.local_set, d);
    return;
  }
  switch (op) {
    case 0x30:
    case 0x90: {
      const mod = op === 0x90;
      const signed = off === 1;
      const divOp = signed
        ? mod
          ? Op.i32_rem_s
          : Op.i32_div_s
        : mod
          ? Op.i32_rem_u
          : Op.i32_div_u;
      operand32(g, pc);
      w.local(Op.local_set, L_ID);
      w.local(Op.local_get, L_ID).op(Op.i32_eqz).open(Op.if);
      // x / 0 = 0; x % 0 = x (zero-extended).
      if (mod) w.local(Op.local_get, d).op(Op.i32_wrap_i64);
      else w.i32(0);
      w.op(Op.i64_extend_i32_u).local(Op.local_set, d).op(Op.else);
      if (signed) {
        w.local(Op.local_get, L_ID).i32(-1).op(Op.i32_eq).open(Op.if);
        if (mod) w.i64(0).local(Op.local_set, d);
        else
          w.i32(0)
            .local(Op.local_get, d)
            .op(Op.i32_wrap_i64)
            .op(Op.i32_sub)
            .op(Op.i64_extend_i32_u)
            .local(Op.local_set, d);
        w.op(Op.else);
      }
      w.local(Op.local_get, d)
        .op(Op.i32_wrap_i64)
        .local(Op.local_get, L_ID)
        .op(divOp)
        .op(Op.i64_extend_i32_u)
        .local(Op.local_set, d);
      if (signed) w.op(Op.end);
      w.op(Op.end);
      return;
    }
    case 0x80:
      w.i32(0)
        .local(Op.local_get, d)
        .op(Op.i32_wrap_i64)
        .op(Op.i32_sub)
        .op(Op.i64_extend_i32_u)
        .local(Op.local_set, d);
      return;
    case 0xb0:
      if (reg64) {
        w.local(Op.local_get, reg(code.src[pc]!)).op(Op.i32_wrap_i64);
        if (off === 8) w.op(Op.i32_extend8_s);
        else if (off === 16) w.op(Op.i32_extend16_s);
        w.op(Op.i64_extend_i32_u).local(Op.local_set, d);
      } else w.i64(imm, 0).local(Op.local_set, d);
      return;
    case 0xd0:
      if (c === 0xd4) {
        // le16/32/64: truncate (little-endian).
        if (imm === 16) w.local(Op.local_get, d).i64(0xffff).op(Op.i64_and).local(Op.local_set, d);
        else if (imm === 32)
          w.local(Op.local_get, d).i64(-1, 0).op(Op.i64_and).local(Op.local_set, d);
        return;
      }
      emitSwap(g, d, imm);
      return;
    default:
      throw new Error(`wasm JIT: ALU32 op 0x${c.toString(16)}`);
  }
}

/** be16/32/64 (and bswap): the byte swap of register local `d` at `width` bits. */
function emitSwap(g: Gen, d: number, width: number): void {
  const w = g.w;
  if (width === 16) {
    w.local(Op.local_get, d)
      .op(Op.i32_wrap_i64)
      .local(Op.local_tee, L_ID)
      .i32(0xff)
      .op(Op.i32_and)
      .i32(8)
      .op(Op.i32_shl)
      .local(Op.local_get, L_ID)
      .i32(8)
      .op(Op.i32_shr_u)
      .i32(0xff)
      .op(Op.i32_and)
      .op(Op.i32_or)
      .op(Op.i64_extend_i32_u)
      .local(Op.local_set, d);
    return;
  }
  if (width === 32) {
    w.local(Op.local_get, d).op(Op.i32_wrap_i64);
    bswap32(g);
    w.op(Op.i64_extend_i32_u).local(Op.local_set, d);
    return;
  }
  // 64: swap each half and exchange them.
  w.local(Op.local_get, d).op(Op.i32_wrap_i64);
  bswap32(g);
  w.op(Op.i64_extend_i32_u).i64(32).op(Op.i64_shl);
  w.local(Op.local_get, d).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
  bswap32(g);
  w.op(Op.i64_extend_i32_u).op(Op.i64_or).local(Op.local_set, d);
}

const LOAD_OP: Record<number, [number, number]> = {
  97: [Op.i64_load32_u, 4],
  105: [Op.i64_load16_u, 2],
  113: [Op.i64_load8_u, 1],
  121: [Op.i64_load, 8],
  129: [Op.i64_load32_s, 4],
  137: [Op.i64_load16_s, 2],
  145: [Op.i64_load8_s, 1],
};
const STORE_OP: Record<number, number> = {
  4: Op.i64_store32,
  2: Op.i64_store16,
  1: Op.i64_store8,
  8: Op.i64_store,
};

/** A load or store (class 1, 2 or 3). */
/** A store's value: its source register (STX) or immediate (ST), as an i64. */
function storedValue(g: Gen, pc: number): void {
  const code = g.code;
  if ((code.op[pc]! & 7) === 3) g.w.local(Op.local_get, reg(code.src[pc]!));
  else g.w.i64(code.imm[pc]!);
}

function emitMemory(g: Gen, pc: number): void {
  const code = g.code;
  const w = g.w;
  const c = code.op[pc]!;
  const load = (c & 7) === 1;
  const size = load
    ? LOAD_OP[c]![1]
    : (c & 0x18) === 0x18
      ? 8
      : (c & 0x18) === 0
        ? 4
        : (c & 0x18) === 8
          ? 2
          : 1;
  const base = load ? code.src[pc]! : code.dst[pc]!;
  const off = code.off[pc]!;
  const d = code.dst[pc]!;
  const at = STACK_SIZE + off;
  if (base === 10 && at >= 0 && at + size <= STACK_SIZE) {
    // The open frame at a constant offset: the interpreter's check always passes.
    w.i32(STACKS + at);
    if (load) w.mem(LOAD_OP[c]![0], 0, 0).local(Op.local_set, reg(d));
    else {
      storedValue(g, pc);
      w.mem(STORE_OP[size]!, 0, 0);
    }
    return;
  }
  const h = ptrHome(g, base);
  if (h !== undefined && off >= 0 && off + size <= h.valueSize && (load || h.writable)) {
    // The base is an inline lookup's answer: its value's window holds [0, value_size), so a
    // found value is read or written at its arena address; none (0) takes the slow
    // path, which faults as the interpreter does.
    emitAtFound(
      g,
      () => {
        w.local(Op.local_get, L_FB);
        if (load) w.mem(LOAD_OP[c]![0], 0, off).local(Op.local_set, reg(d));
        else {
          storedValue(g, pc);
          w.mem(STORE_OP[size]!, 0, off);
        }
      },
      () => {
        spill(g);
        w.i32(pc).i32(CALL.slow).callIndirect(g.tOne).op(Op.drop);
        if (load) reload(g, d);
      },
    );
    return;
  }
  const b = reg(base);
  // id = high word - HI; entry = table[id < CAP ? id : CAP]. With x = low word + off +
  // T1 = o - lo (o = low word - LO + off, the interpreter's offset, lo its bound), the
  // interpreter's check `o >= lo && o + size <= hi` is `x <u lim` with lim = hi - lo -
  // size + 1 (0 when negative): modulo 2^32 the arithmetic is exact, since |o| < 2^31
  // for every low word and lo, hi <= 2^30 (see the table's layout in runtime.ts).
  // The entry index depends only on the register's high word: computed once per value
  // of the register (the dataflow in compileWasm says where it is still valid).
  const E = L_EREG + base;
  const cached = (g.avail & (1 << base)) !== 0;
  if (!cached || c === 0x61) {
    w.local(Op.local_get, b).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(HI).op(Op.i32_sub);
    w.local(Op.local_set, L_ID);
  }
  if (!cached) {
    w.local(Op.local_get, L_ID)
      .i32(TABLE_CAP)
      .local(Op.local_get, L_ID)
      .i32(TABLE_CAP)
      .op(Op.i32_lt_u);
    w.op(Op.select).i32(6).op(Op.i32_shl).local(Op.local_set, E);
  }
  g.avail |= 1 << base;
  const col = load ? 0 : 1;
  const sizeCol = size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3;
  w.open(Op.block);
  w.open(Op.block);
  if (c === 0x61) {
    // A cached context field (region H_CTX, offset a multiple of 4 below 256, valid):
    // looked at first, as the parsers' first loads are context fields. Equivalent to
    // the table first: an entry is cached only when the table's bounds refused it,
    // and both change together (refresh and invalidate).
    w.local(Op.local_get, L_ID).i32(0).mem(Op.i32_load, 2, H_CTX).op(Op.i32_eq).open(Op.if);
    w.local(Op.local_get, b)
      .op(Op.i32_wrap_i64)
      .i32(off - LO)
      .op(Op.i32_add)
      .local(Op.local_tee, L_T);
    w.i32(CTX_ENTRIES * 4)
      .op(Op.i32_ge_u)
      .br(Op.br_if, 1);
    w.local(Op.local_get, L_T).i32(3).op(Op.i32_and).br(Op.br_if, 1);
    w.local(Op.local_get, L_T)
      .i32(2)
      .op(Op.i32_shl)
      .local(Op.local_tee, L_E)
      .mem(Op.i32_load, 2, CTX_CACHE + 8);
    w.op(Op.i32_eqz).br(Op.br_if, 1);
    w.local(Op.local_get, L_E)
      .mem(Op.i64_load, 3, CTX_CACHE)
      .local(Op.local_set, reg(d))
      .br(Op.br, 2);
    w.op(Op.end);
  }
  w.local(Op.local_get, b).op(Op.i32_wrap_i64);
  if (off !== 0) w.i32(off).op(Op.i32_add);
  w.local(Op.local_get, E)
    .mem(Op.i32_load, 2, TABLE + T_T1 + 4 * col)
    .op(Op.i32_add);
  w.local(Op.local_tee, L_T);
  w.local(Op.local_get, E)
    .mem(Op.i32_load, 2, TABLE + (load ? T_LIMR : T_LIMW) + 4 * sizeCol)
    .op(Op.i32_lt_u);
  w.open(Op.if);
  w.local(Op.local_get, E)
    .mem(Op.i32_load, 2, TABLE + T_AB + 4 * col)
    .local(Op.local_get, L_T)
    .op(Op.i32_add);
  if (load) w.mem(LOAD_OP[c]![0], 0, 0).local(Op.local_set, reg(d));
  else {
    storedValue(g, pc);
    w.mem(STORE_OP[size]!, 0, 0);
  }
  w.br(Op.br, 2).op(Op.end);
  w.op(Op.end);
  // The slow path: the interpreter's code in JS (map values, context fields, faults).
  spill(g);
  w.i32(pc).i32(CALL.slow).callIndirect(g.tOne).op(Op.drop);
  if (load) reload(g, d);
  w.op(Op.end);
}

/** A helper call (not a tail call): out to JS with the registers in the arena. */
function emitHelper(g: Gen, pc: number, after: number): void {
  const w = g.w;
  g.helperCalls++;
  // n as the helper sees it: the instructions of the block after the call not yet run.
  w.i32(0).local(Op.local_get, L_BUDGET).local(Op.local_get, L_N).op(Op.i64_sub);
  w.i64(after).op(Op.i64_sub).mem(Op.i64_store, 3, H_N);
  spill(g);
  w.i32(pc).i32(CALL.helper).callIndirect(g.tOne).op(Op.drop);
  reload(g);
  w.local(Op.local_get, L_BUDGET).i32(0).mem(Op.i64_load, 3, H_N).i64(after).op(Op.i64_add);
  w.op(Op.i64_sub).local(Op.local_set, L_N);
}

/**
 * r0 = the value at offset `L_T` of map `h` through its window (the machine's window
 * cache in the arena; a call out opens a new window), `L_FB` = its arena address: a
 * lookup that found its key.
 */
function emitFound(g: Gen, h: ArenaHome): void {
  const w = g.w;
  // The cache entry of offset `at` (a multiple of 8) is the i32 at win + at / 2.
  w.local(Op.local_get, L_T).i32(1).op(Op.i32_shr_u).mem(Op.i32_load, 2, h.win);
  w.local(Op.local_tee, L_E).op(Op.i32_eqz).open(Op.if);
  w.i32(h.rid)
    .local(Op.local_get, L_T)
    .i32(CALL.window)
    .callIndirect(g.tTwo)
    .local(Op.local_set, L_E);
  w.op(Op.end);
  w.local(Op.local_get, L_T).i32(h.addr).op(Op.i32_add).local(Op.local_set, L_FB);
  w.local(Op.local_get, L_T).i32(LO).op(Op.i32_add).op(Op.i64_extend_i32_u);
  w.local(Op.local_get, L_E)
    .i32(HI - 1)
    .op(Op.i32_add)
    .op(Op.i64_extend_i32_u);
  w.i64(32).op(Op.i64_shl).op(Op.i64_or).local(Op.local_set, reg(0));
}

/** r0 = 0 (and `L_FB`): a lookup that did not find its key. */
function emitNone(g: Gen): void {
  g.w.i64(0).local(Op.local_set, reg(0));
  g.w.i32(0).local(Op.local_set, L_FB);
}

/**
 * map_lookup_elem on a map in the arena, as the interpreter answers it inline. An
 * array's index comes from the key on the frame (or, from a constant store, at compile
 * time); a hash map's slot from a call out to the map's own lookup, which reads the key
 * in the arena. Only r0 changes.
 */
function emitLookup(g: Gen, site: LookupSite): void {
  const w = g.w;
  const h = site.home;
  if (h.hash && h.chains !== undefined) {
    // The map's own walk (VmHashMap.lookupSlotWords), here: the key's words hashed,
    // the bucket's chain followed, each slot's key compared word by word.
    const c = h.chains;
    const nw = h.keySize >>> 2;
    const word = (i: number): void => {
      w.i32(0).mem(Op.i32_load, 2, STACKS + site.ko + 4 * i);
    };
    w.i32(h.keySize);
    for (let i = 0; i < nw; i++) {
      word(i);
      w.op(Op.i32_xor)
        .i32(0x9e3779b1 | 0)
        .op(Op.i32_mul)
        .local(Op.local_tee, L_T);
      w.local(Op.local_get, L_T).i32(15).op(Op.i32_shr_u).op(Op.i32_xor);
    }
    w.i32(c.mask).op(Op.i32_and).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, c.heads);
    w.local(Op.local_set, L_E);
    w.i32(-1).local(Op.local_set, L_T);
    w.open(Op.block); // done
    w.open(Op.loop); // walk
    w.local(Op.local_get, L_E).i32(0).op(Op.i32_lt_s).br(Op.br_if, 1);
    w.open(Op.block); // next
    w.local(Op.local_get, L_E).i32(h.keySize).op(Op.i32_mul).local(Op.local_set, L_ID);
    for (let i = 0; i < nw; i++) {
      w.local(Op.local_get, L_ID).mem(Op.i32_load, 2, c.keys + 4 * i);
      word(i);
      w.op(Op.i32_ne).br(Op.br_if, 0);
    }
    w.local(Op.local_get, L_E).i32(h.stride).op(Op.i32_mul).local(Op.local_set, L_T);
    w.br(Op.br, 2);
    w.op(Op.end); // next
    w.local(Op.local_get, L_E).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, c.chain);
    w.local(Op.local_set, L_E).br(Op.br, 0);
    w.op(Op.end); // walk
    w.op(Op.end); // done
    w.local(Op.local_get, L_T).i32(0).op(Op.i32_lt_s).open(Op.if);
    emitNone(g);
    w.op(Op.else);
    emitFound(g, h);
    w.op(Op.end);
    return;
  }
  if (h.hash) {
    w.i32(h.rid).i32(site.ko).i32(CALL.hashLookup).callIndirect(g.tTwo).local(Op.local_tee, L_T);
    w.i32(0).op(Op.i32_lt_s).open(Op.if);
    emitNone(g);
    w.op(Op.else);
    emitFound(g, h);
    w.op(Op.end);
    return;
  }
  if (site.word !== undefined) {
    // A constant key (stored in this block): the index is known here.
    const i = site.word >>> 0;
    if (i >= h.maxEntries) emitNone(g);
    else {
      w.i32(i * h.stride).local(Op.local_set, L_T);
      emitFound(g, h);
    }
    return;
  }
  w.i32(0)
    .mem(Op.i32_load, 2, STACKS + site.ko)
    .local(Op.local_tee, L_T);
  w.i32(h.maxEntries).op(Op.i32_lt_u).open(Op.if);
  w.local(Op.local_get, L_T).i32(h.stride).op(Op.i32_mul).local(Op.local_set, L_T);
  emitFound(g, h);
  w.op(Op.else);
  emitNone(g);
  w.op(Op.end);
}

/**
 * `inPlace` where the last inline lookup found a value ({@link L_FB} not 0), else
 * `slow` (a NULL answer: the interpreter's code in JS, which faults as it does).
 */
function emitAtFound(g: Gen, inPlace: () => void, slow: () => void): void {
  const w = g.w;
  w.open(Op.block);
  w.open(Op.block);
  w.local(Op.local_get, L_FB).op(Op.i32_eqz).br(Op.br_if, 0);
  inPlace();
  w.br(Op.br, 1).op(Op.end);
  slow();
  w.op(Op.end);
}

/** The ops {@link emitAtomicInPlace} takes: add, or, and, xor (with or without fetch), xchg. */
const IN_PLACE_ATOMICS: Record<number, number> = {
  0: Op.i64_add,
  64: Op.i64_or,
  80: Op.i64_and,
  160: Op.i64_xor,
};

/**
 * An atomic add/or/and/xor (fetch or not) or xchg of 4 or 8 bytes on a value an inline
 * lookup found ({@link Gen.ptr}), at its arena address, as the interpreter's `atomic`
 * does it (the VM runs one thread: a load, the op, a store; a 4-byte fetch
 * zero-extends). Its slow path, a NULL answer, calls out as before. False when it does
 * not apply (the caller calls out).
 */
function emitAtomicInPlace(g: Gen, pc: number): boolean {
  const code = g.code;
  const c = code.op[pc]!;
  const op = code.imm[pc]!;
  const size = c === 0xdb ? 8 : c === 0xc3 ? 4 : 0;
  const off = code.off[pc]!;
  const h = ptrHome(g, code.dst[pc]!);
  const arith = IN_PLACE_ATOMICS[op & ~1];
  if (
    h === undefined ||
    size === 0 ||
    !h.writable ||
    off < 0 ||
    off + size > h.valueSize ||
    off % size !== 0 ||
    (arith === undefined && op !== 0xe1)
  )
    return false;
  const w = g.w;
  const src = reg(code.src[pc]!);
  const align = size === 8 ? 3 : 2;
  emitAtFound(
    g,
    () => {
      w.local(Op.local_get, L_FB);
      w.local(Op.local_get, L_FB).mem(size === 8 ? Op.i64_load : Op.i64_load32_u, align, off);
      w.local(Op.local_tee, L_X);
      if (op === 0xe1) w.op(Op.drop).local(Op.local_get, src);
      else w.local(Op.local_get, src).op(arith!);
      w.mem(STORE_OP[size]!, align, off);
      if (op & 1) w.local(Op.local_get, L_X).local(Op.local_set, src);
    },
    () => {
      spill(g);
      w.i32(pc).i32(CALL.atomic).callIndirect(g.tOne).op(Op.drop);
      reload(g);
    },
  );
  return true;
}

/** The map whose value {@link Gen.ptr}'s registers point into, if `r` is one of them. */
function ptrHome(g: Gen, r: number): ArenaHome | undefined {
  return (g.ptr >> r) & 1 ? g.plan.homes.get((g.ptr >> 11) - 1) : undefined;
}

/** Registers (bit r) an atomic instruction writes (its slow path reloads them all). */
function atomicWrites(code: Code, pc: number): number {
  const op = code.imm[pc]!;
  if (op === 0xf1) return 1; // cmpxchg: r0
  if (op === 0x100) return 1 << code.dst[pc]!; // load_acquire
  if (op & 1) return 1 << code.src[pc]!; // fetch, xchg
  return 0;
}

/**
 * {@link Gen.ptr} past the instruction at `pc`: an inline lookup sets it (r0), a move
 * copies it, any other write of a register drops that register, any call drops all.
 */
function ptrAfter(
  g: { readonly code: Code; readonly sites: ReadonlyMap<number, LookupSite> },
  pc: number,
  ptr: number,
): number {
  const site = g.sites.get(pc);
  if (site !== undefined) return ((site.home.rid + 1) << 11) | 1;
  if (ptr === 0) return 0;
  const code = g.code;
  const c = code.op[pc]!;
  if (c === 0x85) return 0;
  const d = code.dst[pc]!;
  if (c === 0xbf && code.off[pc] === 0 && (ptr >> code.src[pc]!) & 1) return ptr | (1 << d);
  const w = (c & 7) === 3 && (c & 0xe0) === 0xc0 ? atomicWrites(code, pc) : writes(code, pc);
  const left = ptr & ~w;
  return (left & 0x7ff) === 0 ? 0 : left;
}

/** Registers (bit r) the instruction at `pc` writes, for the table-entry dataflow. */
function writes(code: Code, pc: number): number {
  const c = code.op[pc]!;
  const cls = c & 7;
  if (cls === 4 || cls === 7 || cls === 1 || c === 0x18) return 1 << code.dst[pc]!;
  if (cls === 3 && (c & 0xe0) === 0xc0) return 0x7ff; // atomics: registers reloaded
  if (c === 0x85) return 0x3f; // r0..r5
  if (LD_ABS_IND[c] === 1) return 1;
  return 0;
}

/** Whether the access at `pc` goes through the region table (not the open frame at a constant offset). */
function tableAccess(code: Code, pc: number): number {
  const c = code.op[pc]!;
  const cls = c & 7;
  if (cls !== 1 && cls !== 2 && cls !== 3) return -1;
  if (cls === 3 && (c & 0xe0) === 0xc0) return -1;
  const load = cls === 1;
  const base = load ? code.src[pc]! : code.dst[pc]!;
  const size = (c & 0x18) === 0x18 ? 8 : (c & 0x18) === 0 ? 4 : (c & 0x18) === 8 ? 2 : 1;
  const at = STACK_SIZE + code.off[pc]!;
  if (base === 10 && at >= 0 && at + size <= STACK_SIZE) return -1;
  return base;
}

/** One instruction that does not end its block. */
function emitInsn(g: Gen, pc: number, after: number): void {
  const code = g.code;
  const c = code.op[pc]!;
  const cls = c & 7;
  if (cls === 4 || cls === 7) {
    emitAlu(g, pc);
    return;
  }
  if (cls === 1 || cls === 2 || cls === 3) {
    if ((c & 0xe0) === 0xc0 && cls === 3) {
      if (emitAtomicInPlace(g, pc)) return;
      // Atomics: the interpreter's code, in JS.
      spill(g);
      g.w.i32(pc).i32(CALL.atomic).callIndirect(g.tOne).op(Op.drop);
      reload(g);
      return;
    }
    emitMemory(g, pc);
    return;
  }
  if (c === 0x18) {
    g.w.i64(code.imm[pc]!, code.imm[pc + 1]!).local(Op.local_set, reg(code.dst[pc]!));
    return;
  }
  if (c === 0x85) {
    const site = g.sites.get(pc);
    if (site !== undefined) emitLookup(g, site);
    else emitHelper(g, pc, after);
    return;
  }
  if (LD_ABS_IND[c] === 1) {
    // ld_abs/ld_ind: the interpreter's ldPacket in JS, r0 in the arena; out of the
    // packet the run ends with r0 = 0, the rest of the block not counted.
    spill(g);
    g.w.i32(pc).i32(CALL.ldPacket).callIndirect(g.tOne).op(Op.i32_eqz).open(Op.if);
    g.ctx.push(IF);
    g.w.i64(0).local(Op.local_set, reg(0));
    if (after > 0) g.w.local(Op.local_get, L_N).i64(after).op(Op.i64_add).local(Op.local_set, L_N);
    g.w.br(Op.br, depthOf(g, "exit"));
    g.ctx.pop();
    g.w.op(Op.end);
    reload(g, 0);
    return;
  }
  throw new Error(`wasm JIT: 0x${c.toString(16)} in a block body`);
}

/** Runs the task list that emits the program's structured code (iterative: see structure.ts). */
function emitProgram(g: Gen, entry: number): void {
  const w = g.w;
  const tasks: Task[] = [{ t: "tree", node: entry }];
  const { rpo, loopHeader, merge, mergeChildren: mc } = g.cfg;
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    switch (task.t) {
      case "tree": {
        const x = task.node;
        const inner: Task = { t: "within", node: x, k: mc.start[x]! };
        if (loopHeader[x])
          tasks.push({ t: "end" }, inner, { t: "open", op: Op.loop, ctx: { k: "loop", node: x } });
        else tasks.push(inner);
        break;
      }
      case "within": {
        const { node, k } = task;
        if (k === mc.start[node + 1]) tasks.push({ t: "body", node });
        else {
          const y = mc.list[k]!;
          tasks.push(
            { t: "tree", node: y },
            { t: "end" },
            { t: "within", node, k: k + 1 },
            { t: "open", op: Op.block, ctx: { k: "block", node: y } },
          );
        }
        break;
      }
      case "open":
        w.open(task.op);
        g.ctx.push(task.ctx);
        break;
      case "end":
        w.op(Op.end);
        g.ctx.pop();
        break;
      case "else":
        w.op(Op.else);
        break;
      case "emit":
        task.f();
        break;
      case "branch": {
        const { from, to } = task;
        if (rpo[to]! <= rpo[from]!) w.br(Op.br, depthOf(g, "loop", to));
        else if (merge[to]) w.br(Op.br, depthOf(g, "block", to));
        else tasks.push({ t: "tree", node: to });
        break;
      }
      case "body":
        emitBody(g, task.node, tasks);
        break;
    }
  }
}

/** Whether a branch from `from` to `to` is a plain `br` (no code of its own). */
function isBr(g: Gen, from: number, to: number): boolean {
  return g.cfg.rpo[to]! <= g.cfg.rpo[from]! || g.cfg.merge[to] === 1;
}

function brDepth(g: Gen, from: number, to: number): number {
  return g.cfg.rpo[to]! <= g.cfg.rpo[from]! ? depthOf(g, "loop", to) : depthOf(g, "block", to);
}

/** A block's code: the budget charge, its instructions, then its way out (pushed as tasks). */
function emitBody(g: Gen, x: number, tasks: Task[]): void {
  const code = g.code;
  const w = g.w;
  const start = g.bStart[x]!;
  const end = g.bEnd[x]!;
  if (start >= code.length || g.hands[start] === 1) {
    // The interpreter runs this instruction (it counts it itself).
    spill(g);
    handOver(g, start);
    return;
  }
  const len = g.bLen[x]!;
  const reach = g.check[x]!;
  if (reach > 0) {
    // A checkpoint: when the longest path to the next one could cross the budget,
    // the interpreter takes over here and counts instruction by instruction.
    w.local(Op.local_get, L_N).i64(reach).op(Op.i64_lt_s).open(Op.if);
    g.ctx.push(IF);
    spill(g);
    handOver(g, start);
    g.ctx.pop();
    w.op(Op.end);
  }
  w.local(Op.local_get, L_N).i64(len).op(Op.i64_sub).local(Op.local_set, L_N);
  const last = g.bLast[x]!;
  const lc = code.op[last]!;
  const ends = lc === 0x95 || lc === 0x05 || lc === 0x06 || lc === 0xe5 || isCondJump(lc);
  g.avail = g.availIn[x]!;
  g.ptr = g.ptrIn[x]!;
  for (
    let pc = start, i = 0;
    ends ? pc < last : pc < end;
    pc += code.op[pc] === 0x18 ? 2 : 1, i++
  ) {
    emitInsn(g, pc, len - 1 - i);
    g.ptr = ptrAfter(g, pc, g.ptr);
    g.avail &= g.sites.has(pc) ? ~1 : ~writes(code, pc);
  }
  if (!ends) {
    // Falls through to the next block.
    tasks.push({ t: "branch", from: x, to: g.blockAt[end]! });
    return;
  }
  if (lc === 0x95) {
    w.br(Op.br, depthOf(g, "exit"));
    return;
  }
  const fall = g.blockAt[end]!;
  if (lc === 0x05 || lc === 0x06) {
    tasks.push({ t: "branch", from: x, to: g.blockAt[targetOf(code, last)]! });
    return;
  }
  const taken = g.blockAt[targetOf(code, last)]!;
  if (lc === 0xe5) {
    // may_goto: jump once the budget is spent, else count one down.
    w.local(Op.local_get, L_LOOPS).op(Op.i64_eqz);
    if (taken === fall) {
      w.open(Op.if);
      w.op(Op.else);
      w.local(Op.local_get, L_LOOPS).i64(1).op(Op.i64_sub).local(Op.local_set, L_LOOPS);
      w.op(Op.end);
      tasks.push({ t: "branch", from: x, to: fall });
      return;
    }
    tasks.push(
      { t: "end" },
      { t: "branch", from: x, to: fall },
      {
        t: "emit",
        f: () => w.local(Op.local_get, L_LOOPS).i64(1).op(Op.i64_sub).local(Op.local_set, L_LOOPS),
      },
      { t: "else" },
      { t: "branch", from: x, to: taken },
      { t: "open", op: Op.if, ctx: IF },
    );
    return;
  }
  if (taken === fall) {
    tasks.push({ t: "branch", from: x, to: fall });
    return;
  }
  condition(g, last);
  if (isBr(g, x, taken)) {
    w.br(Op.br_if, brDepth(g, x, taken));
    tasks.push({ t: "branch", from: x, to: fall });
    return;
  }
  if (isBr(g, x, fall)) {
    w.op(Op.i32_eqz).br(Op.br_if, brDepth(g, x, fall));
    tasks.push({ t: "branch", from: x, to: taken });
    return;
  }
  tasks.push(
    { t: "end" },
    { t: "branch", from: x, to: fall },
    { t: "else" },
    { t: "branch", from: x, to: taken },
    { t: "open", op: Op.if, ctx: IF },
  );
}

/** Compiles `code` to a wasm module (see the module header); refuses with a reason. */
export function compileWasm(code: Code, plan: ArenaPlan = BARE_ARENA): WasmCompileResult {
  const why = wasmUnavailable();
  if (why !== undefined) return { ok: false, reason: why };
  const t0 = performance.now();
  scratchReset();
  const n = code.length;
  // Leaders: slot 0, jump targets and the slots after jumps and exits; a hand-over
  // instruction is a block of its own.
  const lead = scratchU8(n + 1);
  lead[0] = 1;
  lead[n] = 1;
  let mayGoto = false;
  let stackReachable = false;
  // Registers named (bit r), r0, r1, r2 and r10 always; bits above 10 are dropped below.
  let usedBits = 0x407;
  const hands = scratchU8(n + 1);
  for (let pc = 0; pc < n; pc++) {
    if (code.insns[pc] === undefined) continue;
    const c = code.op[pc]!;
    usedBits |= 1 << code.dst[pc]!;
    if (c !== 0x18 && c !== 0x85) usedBits |= 1 << code.src[pc]!;
    if (c === 0x85) usedBits |= 0x3f;
    if (code.dst[pc] === 10 || (code.src[pc] === 10 && c !== 0x18 && c !== 0x85))
      stackReachable = true;
    if (c === 0xe5) mayGoto = true;
    if (handsOver(code, pc)) {
      hands[pc] = 1;
      lead[pc] = 1;
      lead[pc + (c === 0x18 ? 2 : 1)] = 1;
      // The interpreter may run on from here: its frames, its stack.
      stackReachable = true;
      continue;
    }
    const cls = c & 7;
    // (A helper ends its block, below.)
    if (cls === 5 || cls === 6) {
      if (c === 0x95) lead[pc + 1] = 1;
      else {
        const t = targetOf(code, pc);
        if (t >= 0 && t <= n) lead[t] = 1;
        lead[pc + 1] = 1;
      }
    }
  }
  // map_lookup_elem calls answered in the module: the map in the arena (with its
  // window cache), the key at a constant place in the frame. Every other helper call
  // ends its block (callbacks count instructions, so the next block's budget check
  // must see them); an inline lookup runs no callback and ends nothing.
  const sites = new Map<number, LookupSite>();
  const inline = plan.inlineLookups && plan.homes.size > 0;
  const known = new KnownRegs();
  for (let pc = 0; pc < n; pc += code.op[pc] === 0x18 ? 2 : 1) {
    if (lead[pc] && inline) known.reset();
    if (code.insns[pc] === undefined || hands[pc] === 1 || code.op[pc] !== 0x85) {
      if (inline && code.insns[pc] !== undefined) known.track(code, pc);
      continue;
    }
    if (inline && code.src[pc] === 0 && code.imm[pc] === MAP_LOOKUP_ELEM_ID) {
      const key = known.lookupKey();
      const home = key === undefined ? undefined : plan.homes.get(key.rid);
      if (
        key !== undefined &&
        home !== undefined &&
        home.win >= 0 &&
        key.ko + home.keySize <= STACK_SIZE
      ) {
        sites.set(pc, { home, ko: key.ko, word: key.word });
        known.track(code, pc);
        continue;
      }
    }
    lead[pc + 1] = 1;
  }
  const used: number[] = [];
  for (let r = 0; r <= 10; r++) if ((usedBits & (1 << r)) !== 0) used.push(r);
  // Blocks: one per leader, plus a pseudo-block at slot n (falling off the end: the
  // interpreter decides).
  let nb = 1;
  for (let pc = 0; pc < n; pc++) nb += lead[pc]!;
  if (nb > WASM_MAX_BLOCKS)
    return {
      ok: false,
      reason: `the program has ${nb} basic blocks, above the wasm target's ${WASM_MAX_BLOCKS}`,
    };
  const bStart = scratchI32(nb);
  const bEnd = scratchI32(nb);
  const bLast = scratchI32(nb);
  const bLen = scratchI32(nb);
  const blockAt = scratchI32(n + 1, -1);
  let x = 0;
  for (let pc = 0; pc < n; x++) {
    let last = pc;
    let len = 1;
    let end = pc + (code.op[pc] === 0x18 ? 2 : 1);
    while (end < n && !lead[end]) {
      last = end;
      len++;
      end += code.op[end] === 0x18 ? 2 : 1;
    }
    blockAt[pc] = x;
    bStart[x] = pc;
    bEnd[x] = end;
    bLast[x] = last;
    bLen[x] = len;
    pc = end;
  }
  blockAt[n] = x;
  bStart[x] = n;
  bEnd[x] = n;
  bLast[x] = n;
  // Successors: a jump's target first, then its fall-through.
  const succ0 = scratchI32(nb, -1);
  const succ1 = scratchI32(nb, -1);
  const addSucc = (i: number, t: number): void => {
    const s = blockAt[t]!;
    if (s < 0) throw new Error(`wasm JIT: no block at slot ${t}`);
    if (succ0[i] === -1) succ0[i] = s;
    else if (succ0[i] !== s) succ1[i] = s;
  };
  let handOvers = 0;
  for (let i = 0; i < nb; i++) {
    const start = bStart[i]!;
    if (start >= n) continue;
    if (hands[start] === 1) {
      handOvers++;
      continue;
    }
    const last = bLast[i]!;
    const c = code.op[last]!;
    if (c === 0x95) continue;
    if (c === 0x05 || c === 0x06 || c === 0xe5 || isCondJump(c)) addSucc(i, targetOf(code, last));
    if (c !== 0x05 && c !== 0x06) addSucc(i, bEnd[i]!);
  }
  const cfg = analyse({ n: nb, succ0, succ1 });
  if (cfg.irreducible !== undefined)
    return {
      ok: false,
      reason: `irreducible control flow (the jump ${bStart[cfg.irreducible[0]]} -> ${bStart[cfg.irreducible[1]]} enters a loop other than through its head); the JS target runs it`,
    };
  const { order, rpo, preds } = cfg;
  // Checkpoints of the budget: the entry, loop heads and blocks after a helper call
  // (a callback counts); every other block only counts down. The reach of a
  // checkpoint is the longest path from it to the next checkpoint or an exit.
  const isCheck = scratchU8(nb);
  isCheck[0] = 1;
  for (let i = 0; i < nb; i++) {
    if (cfg.loopHeader[i]) isCheck[i] = 1;
    if (bStart[i]! >= n || hands[bStart[i]!] === 1) continue;
    if (code.op[bLast[i]!] === 0x85) {
      if (succ0[i]! >= 0) isCheck[succ0[i]!] = 1;
      if (succ1[i]! >= 0) isCheck[succ1[i]!] = 1;
    }
  }
  const reach = scratchI32(nb);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    let most = 0;
    const s0 = succ0[i]!;
    const s1 = succ1[i]!;
    if (s0 >= 0 && rpo[s0]! > k && !isCheck[s0]) most = reach[s0]!;
    if (s1 >= 0 && rpo[s1]! > k && !isCheck[s1]) most = Math.max(most, reach[s1]!);
    reach[i] = (bStart[i]! >= n || hands[bStart[i]!] === 1 ? 0 : bLen[i]!) + most;
  }
  const check = scratchI32(nb);
  for (let i = 0; i < nb; i++) if (isCheck[i] && reach[i]! > 0) check[i] = reach[i]!;
  // Registers whose table entry (a local per register) is valid on entry to each
  // block: computed by an access through the table, invalid once the register is
  // written; intersection over predecessors, from "all" to a fixpoint (the entry:
  // none). Over one instruction: an access through the table makes its base's entry
  // valid, then writing a register invalidates it; an inline lookup writes r0 and
  // nothing else (accesses through it use L_FB, see emitMemory). That is gen/kill, so
  // each block's is summarised once: out = (in & ~kill) | gen.
  const gen = scratchI32(nb);
  const kill = scratchI32(nb);
  for (let i = 0; i < nb; i++) {
    const start = bStart[i]!;
    if (start >= n || hands[start] === 1) continue;
    let G = 0;
    let K = 0;
    for (let pc = start; pc < bEnd[i]!; pc += code.op[pc] === 0x18 ? 2 : 1) {
      const site = sites.has(pc);
      const base = site ? -1 : tableAccess(code, pc);
      const k = site ? 1 : writes(code, pc);
      if (base >= 0) G |= 1 << base;
      G &= ~k;
      K |= k;
    }
    gen[i] = G;
    kill[i] = K;
  }
  const availIn = scratchI32(nb, 0x7ff);
  availIn[0] = 0;
  const availOut = scratchI32(nb, 0x7ff);
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      let mask = i === 0 ? 0 : 0x7ff;
      if (i !== 0)
        for (let e = preds.start[i]!; e < preds.start[i + 1]!; e++)
          mask &= availOut[preds.list[e]!]!;
      availIn[i] = mask;
      mask = (mask & ~kill[i]!) | gen[i]!;
      if (availOut[i] !== mask) {
        availOut[i] = mask;
        changed = true;
      }
    }
    // Without loops, one pass in reverse postorder has seen every predecessor first.
    if (!cfg.loops) break;
  }
  // Which inline lookup's answer r0 holds on entry to each block (see Gen.ptr): -1
  // not reached yet, 0 none or several, else the map's region id + 1.
  const ptrIn = scratchI32(nb, sites.size > 0 ? -1 : 0);
  if (sites.size > 0) {
    const ptrOut = scratchI32(nb, -1);
    const pg = { code, sites };
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = 0; k < order.length; k++) {
        const i = order[k]!;
        let p = i === 0 ? 0 : -1;
        if (i !== 0)
          for (let e = preds.start[i]!; e < preds.start[i + 1]!; e++) {
            const o = ptrOut[preds.list[e]!]!;
            // Meet: the same map's pointer in the registers both sides have it in.
            if (o !== -1) p = p === -1 ? o : p >> 11 === o >> 11 ? p & o : 0;
            if ((p & 0x7ff) === 0 && p !== -1) p = 0;
          }
        ptrIn[i] = p;
        if (bStart[i]! >= n || hands[bStart[i]!] === 1) p = 0;
        else if (p !== -1)
          for (let pc = bStart[i]!; pc < bEnd[i]!; pc += code.op[pc] === 0x18 ? 2 : 1)
            p = ptrAfter(pg, pc, p);
        if (ptrOut[i] !== p) {
          ptrOut[i] = p;
          changed = true;
        }
      }
      if (!cfg.loops) break;
    }
    for (let i = 0; i < nb; i++) if (ptrIn[i] === -1) ptrIn[i] = 0;
  }
  const mb = new ModuleBuilder();
  // The arena and the realm's call table (calls.ts): no imported functions, whose
  // wrappers V8 would compile for every module.
  mb.importMemory("vm", "arena", plan.pages, plan.pages);
  mb.importTable("vm", "calls", CALL_SLOTS);
  // The export's signature, and the call table's one-argument functions'.
  const tOne = mb.type([I32], [I32]);
  const tTwo = sites.size > 0 ? mb.type([I32, I32], [I32]) : -1;
  // About 12 bytes per instruction (the bench's mix: 11.3-14.3): room for most programs.
  const w = new WasmCode(scratchBody(16 * n + 1024));
  const g: Gen = {
    code,
    hands,
    w,
    used,
    bStart,
    bEnd,
    bLast,
    bLen,
    blockAt,
    cfg,
    check,
    availIn,
    avail: 0,
    ptrIn,
    ptr: 0,
    plan,
    ctx: [],
    stackReachable,
    mayGoto,
    tOne,
    tTwo,
    sites,
    helperCalls: 0,
  };
  // Prologue: the budget, the registers as the arena holds them.
  w.i32(0).mem(Op.i64_load, 3, H_BUDGET).local(Op.local_set, L_BUDGET);
  reload(g);
  w.open(Op.block);
  g.ctx.push(HAND);
  w.open(Op.loop);
  g.ctx.push(ITER);
  w.open(Op.block);
  g.ctx.push(EXIT);
  // Each run: r1, r2 from the header, the count from 0, the stack zeroed.
  w.i32(0).mem(Op.i64_load, 3, H_R1).local(Op.local_set, reg(1));
  w.i32(0).mem(Op.i64_load, 3, H_R2).local(Op.local_set, reg(2));
  w.local(Op.local_get, L_BUDGET).local(Op.local_set, L_N);
  w.i32(0).mem(Op.i64_load, 3, H_LOOPS).local(Op.local_set, L_LOOPS);
  if (stackReachable) w.i32(STACKS).i32(0).i32(STACK_SIZE).memoryFill();
  emitProgram(g, 0);
  w.op(Op.unreachable);
  w.op(Op.end);
  g.ctx.pop();
  // After an exit: the next run, or done.
  w.local(Op.local_get, L_K).i32(1).op(Op.i32_add).local(Op.local_tee, L_K);
  w.local(Op.local_get, P_COUNT).op(Op.i32_lt_u).br(Op.br_if, 0);
  w.op(Op.end);
  g.ctx.pop();
  spill(g);
  w.i32(0).local(Op.local_get, L_BUDGET).local(Op.local_get, L_N).op(Op.i64_sub);
  w.mem(Op.i64_store, 3, H_N);
  w.i32(0).op(Op.return);
  w.op(Op.end);
  g.ctx.pop();
  // Hand-over: the slot, the count, the runs done, may_goto's budget left.
  w.i32(0).local(Op.local_get, L_HPC).mem(Op.i32_store, 2, H_PC);
  w.i32(0).local(Op.local_get, L_K).mem(Op.i32_store, 2, H_ITER);
  w.i32(0).local(Op.local_get, L_BUDGET).local(Op.local_get, L_N).op(Op.i64_sub);
  w.mem(Op.i64_store, 3, H_N);
  w.i32(0).local(Op.local_get, L_LOOPS).mem(Op.i64_store, 3, H_LOOPS_LEFT);
  w.i32(1);
  mb.export("run", mb.func(tOne, LOCALS, w));
  const bytes = mb.build();
  if (bytes.length > WASM_MAX_BYTES)
    return {
      ok: false,
      reason: `the module would be ${bytes.length} bytes, above the ${WASM_MAX_BYTES} a browser compiles synchronously`,
    };
  let module: WasmModule;
  try {
    module = new (wasmApi()!.Module)(bytes);
  } catch (e) {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, reason: `WebAssembly compile failed or is forbidden (${what})` };
  }
  let insns = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (bStart[i]! < n) insns += bLen[i]!;
  }
  return {
    ok: true,
    module,
    bytes,
    ms: performance.now() - t0,
    profile: {
      insns,
      helperCalls: g.helperCalls,
      inlineLookups: sites.size,
      handOvers,
      loops: cfg.loops,
    },
  };
}
