/**
 * The interpreter: every instruction of RFC 9669 and the kernel's extensions (cpu v4
 * sdiv/smod, movsx, sign-extending loads, bswap, gotol; 32- and 64-bit atomics incl.
 * fetch forms, xchg, cmpxchg, load-acquire/store-release; JMP32; lddw; bpf-to-bpf calls
 * over 8 frames; helper calls; tail calls; may_goto), with the kernel's answers to the
 * ISA's corner cases.
 *
 * ## How it runs
 * A program is predecoded into a {@link Code}: one typed array per field, indexed by
 * slot, plus `word` (opcode, 2*dst, 2*src and offset packed in one int32), so the loop
 * reads `W[pc]` and switches on the whole opcode byte (V8 compiles the dense switch to
 * a jump table). Memory accesses check the region table of {@link VmMemory} inline
 * (one subtraction for the region, two comparisons for the bounds) and leave
 * everything unusual — context fields, faults — to a slow path.
 *
 * ## Representation choices (measured with bench/vm-interp.ts and bench/vm-maps.ts)
 * - Registers are int32 low/high pairs in an `Int32Array` (see int64.ts: 3.3 ns per
 *   loop iteration against 22 ns with BigInt registers). Every machine shares one
 *   module-level array, `REGISTERS`: V8 embeds a module constant in the optimised
 *   interpreter, where a per-machine array costs a map, detach and bounds check on each
 *   access — 14.3-14.8 us -> 12.1-12.2 us on the 0..999 loop. A run nested in another
 *   (a helper that runs a program) saves and restores the shared array.
 * - The hottest forms have their own case: add64 with imm and with reg, each 64-bit
 *   conditional jump (imm and reg), each load and store size. A second switch on the
 *   condition or the size costs a few percent per instruction.
 * - map_lookup_elem on a plain map (one value per key, not a map of maps) runs inline
 *   while the default helper is installed: for arrays the kernel's verifier-inlined
 *   sequence (index < max_entries ? values + index * stride : NULL), for the rest
 *   `lookupSlot` without the helper-call protocol (65 -> 36-42 ns per array lookup,
 *   most of what is left being the 7 other instructions around each lookup).
 * - Tried and dropped (no gain within the noise of this 2-core machine): removing the
 *   per-instruction budget compare altogether (so it stays per instruction, exact, and
 *   checking only on backward jumps would not pay), fusing `add64 imm` with the
 *   following conditional jump into one dispatch, interleaving `word` and `imm` in one
 *   array, no try/finally around the loop, and (in a stand-alone model of the loop)
 *   plain JS arrays of small integers instead of typed arrays.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { Instruction } from "../isa/index.ts";
import { helperName } from "../uapi/index.ts";
import { VmError } from "./errors.ts";
import {
  bswap16,
  bswap32,
  cmpS64,
  cmpU64,
  mul64,
  sdivmod64,
  setBig,
  setNum,
  toS64,
  toU64,
  udivmod64,
} from "./int64.ts";
import { VmArrayMap } from "./maps/array.ts";
import type { VmMap } from "./maps/map.ts";
import { VmMapOfMaps } from "./maps/map-of-maps.ts";
import {
  ACCESS_FOLLOW,
  REGION_HI_BASE as HI,
  REGION_LO_BASE as LO,
  RegionAccess,
  type VmMemory,
} from "./memory.ts";

/** Most nested bpf-to-bpf call frames (`MAX_CALL_FRAMES`). */
export const MAX_CALL_FRAMES = 8;
/** Most tail calls in one run (`MAX_TAIL_CALL_CNT`). */
export const MAX_TAIL_CALL_CNT = 33;
/**
 * Iterations a function's `may_goto` allows by default: `BPF_MAX_LOOPS`, the count the
 * kernel's interpreter and kernels before 6.15 use. JIT-ed kernels since 6.15 bound
 * may_goto by time instead (on the project's 6.18 machine, about 658 million
 * iterations before the loop gives up); a count is deterministic, so the VM keeps one
 * and makes it an option (`VmProgramOptions.mayGotoBudget`).
 */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** Bytes of one stack frame. */
export const STACK_SIZE = 512;
/** Default instruction budget of one run. */
export const DEFAULT_BUDGET = 100_000_000;
/**
 * Windows (regions over one map value or ring-buffer record) one machine keeps open;
 * past this the oldest is reused, so a pointer kept across that many other lookups in
 * one run may see another entry of the same map (never another program's memory).
 */
export const MAX_WINDOWS = 1024;
/** Regions up to this many 8-byte words cache their windows in an array (else a Map). */
const WINDOW_ARRAY_MAX = 1 << 16;

const TAIL_CALL_ID = 12;
/**
 * The register file of every machine. A module-level constant lets V8 embed the array
 * in the interpreter's optimised code (no map, detach and bounds checks per access):
 * 10% faster on the 0..999 loop than a per-machine array.
 */
const REGISTERS = new Int32Array(22);
const MAP_LOOKUP_ELEM_ID = 1;

/**
 * A map that map_lookup_elem may answer inline, without the helper call (cached per
 * region by {@link Machine.inlineTarget}): one value per key (not per-CPU with several
 * CPUs, not a map of maps). For arrays the lookup is the kernel's inlined sequence —
 * a bounds check and an address computation.
 */
export interface InlineLookup {
  /** The map. */
  readonly map: VmMap;
  /** True for arrays: index from the 4-byte key, `index * stride`. */
  readonly array: boolean;
  /** Bytes between array values. */
  readonly stride: number;
  /** Entries of the array. */
  readonly maxEntries: number;
  /** Bytes of a key. */
  readonly keySize: number;
  /** Bytes of a value. */
  readonly valueSize: number;
  /** This machine's windows on the map's values, by offset / 8 (id + 1), when cached in an array. */
  readonly windows: Int32Array | null;
}

/**
 * A program ready to run: instruction fields in typed arrays indexed by slot. For an
 * lddw, `imm[pc]` and `imm[pc + 1]` hold the low and high words of the final 64-bit
 * value, map references already resolved to addresses.
 */
export class Code {
  /** Opcode byte of each slot. */
  readonly op: Uint8Array;
  /** dst register of each slot. */
  readonly dst: Uint8Array;
  /** src register of each slot. */
  readonly src: Uint8Array;
  /** Signed offset of each slot. */
  readonly off: Int32Array;
  /** Immediate of each slot. */
  readonly imm: Int32Array;
  /**
   * The other fields packed for the hot loop: `code | dst << 8 | src << 12 | off << 16`,
   * so one load gives the opcode, `(w >> 7) & 30` is 2*dst, `(w >> 11) & 30` 2*src and
   * `w >> 16` the signed offset.
   */
  readonly word: Int32Array;
  /** Number of slots. */
  readonly length: number;
  /** The instruction starting at each slot (undefined for lddw's second slot). */
  readonly insns: (Instruction | undefined)[];
  /** Who this code belongs to (a VmProgram), for tail calls and messages. */
  readonly owner: object;
  /** Disassembles the instruction at a slot, for error messages. */
  readonly format: (insn: Instruction) => string;
  /**
   * Regions this code names, as pairs (region id, access mode): maps as handles
   * (`ACCESS_OWN`), direct map values (`ACCESS_FOLLOW`), callback targets. A machine
   * running the code grants them ({@link Machine.grantCode}).
   */
  grants: number[] = [];
  /**
   * The JIT-compiled form of this code (src/vm/jit), when compiled: {@link execute}
   * runs it instead of the interpreter. Same arguments as {@link interpret} minus the
   * machine's code.
   */
  jit: JitFunction | undefined = undefined;
  /**
   * Runs of this code from slot 0, `repeat` in a row (the test run's loop), when the
   * JIT compiled one (the wasm target keeps the loop inside the module): see
   * {@link JitLoop}. `VmProgram.run` calls it instead of {@link execute} per run.
   */
  jitLoop: JitLoop | undefined = undefined;

  /**
   * Predecodes `insns`. `lddw` resolves an lddw's 64-bit value (map pseudo sources
   * become addresses); it may throw VmError.
   */
  constructor(
    insns: readonly Instruction[],
    owner: object,
    lddw: (insn: Instruction & { kind: "lddw" }, pc: number) => bigint,
    format: (insn: Instruction) => string,
  ) {
    let n = 0;
    for (const i of insns) n += i.bytes / 8;
    this.length = n;
    this.op = new Uint8Array(n);
    this.dst = new Uint8Array(n);
    this.src = new Uint8Array(n);
    this.off = new Int32Array(n);
    this.imm = new Int32Array(n);
    this.word = new Int32Array(n);
    this.insns = new Array(n).fill(undefined);
    this.owner = owner;
    this.format = format;
    let pc = 0;
    for (const i of insns) {
      this.op[pc] = i.code;
      this.dst[pc] = i.dst;
      this.src[pc] = i.src;
      this.off[pc] = i.off;
      this.imm[pc] = i.imm;
      this.insns[pc] = i;
      this.word[pc] = i.code | (i.dst << 8) | (i.src << 12) | (i.off << 16);
      if (i.kind === "lddw") {
        const v = BigInt.asUintN(64, lddw(i, pc));
        this.imm[pc] = Number(v & 0xffff_ffffn) | 0;
        this.imm[pc + 1] = Number(v >> 32n) | 0;
        pc += 2;
      } else {
        pc += 1;
      }
    }
  }

  /** The instruction at `pc`, disassembled, or "?" . */
  text(pc: number): string {
    const i = this.insns[pc];
    return i ? this.format(i) : "?";
  }
}

/**
 * A helper function. It reads its arguments from the machine (`m.arg(1)`,
 * `m.argPtr(2, len, "read")`...) and returns r0: a number (a safe integer, negative
 * for errnos) or a bigint, or undefined when it set r0 itself (`m.setR0Pointer`).
 */
export type HelperFunction = (m: Machine) => number | bigint | undefined;

/**
 * A compiled program function: runs from slot `start` with `base` as the outermost
 * frame; `resumeN` >= 0 resumes a run at call depth `resumeDepth` (see {@link interpret}).
 */
export type JitFunction = (
  m: Machine,
  start: number,
  base: number,
  resumeN: number,
  resumeDepth: number,
) => void;

/**
 * `repeat` runs of a compiled program from slot 0 on machine `m`, each starting with
 * r1 = (`r1lo`, `r1hi`), r2 = `r2lo` (zero-extended) and the other registers as the
 * previous run left them: what `VmProgram.run` does with {@link execute} in a loop.
 */
export type JitLoop = (
  m: Machine,
  repeat: number,
  r1lo: number,
  r1hi: number,
  r2lo: number,
) => void;

/** Finds the program a tail call jumps to: map handle and index in, Code out. */
export type TailCallResolver = (map: VmMap, index: number) => Code | undefined;

/**
 * The state of one run: registers, the address space, call frames, helpers and what
 * the helpers need to know about the program's input. One machine per program; the
 * same machine serves every run.
 */
export class Machine {
  /** The address space. */
  readonly memory: VmMemory;
  /**
   * Registers r0..r10 as low/high int32 pairs: r`n` is `R[2n]`, `R[2n + 1]`. Every
   * machine shares one module-level array (see the module header); a run that starts
   * while another is in progress saves and restores it ({@link Machine.active}).
   */
  readonly R: Int32Array = REGISTERS;
  /** Runs in progress (of any machine): a nested run saves the shared registers. */
  static active = 0;
  /** Region id of each call depth's stack frame. */
  readonly stackIds: number[] = [];
  /** Helpers by id. */
  helpers: (HelperFunction | undefined)[] = [];
  /** Instruction budget per run. */
  budget = DEFAULT_BUDGET;
  /** Iterations each function's may_goto allows per call. */
  mayGotoBudget = BPF_MAX_LOOPS;
  /** Instructions executed by the last run. */
  executed = 0;
  /**
   * What this machine's runs may touch: its stack frames (frame `d` only while call
   * depth `d` is live), its context and packet, windows on the map values and records
   * helpers handed it, and the maps its code names (as handles). See {@link RegionAccess}.
   */
  readonly access: RegionAccess;
  /** Tail calls taken in the current run. */
  tailCalls = 0;
  /** Resolves tail call targets. */
  tailCall: TailCallResolver = () => undefined;
  /** Lines trace_printk wrote in the current run. */
  printk: string[] = [];
  /** Scratch output of slow-path loads. */
  readonly S: Int32Array = new Int32Array(2);
  /** Return slot of each call frame. */
  readonly retPc: Int32Array = new Int32Array(MAX_CALL_FRAMES);
  /** Code to return to, per call frame. */
  readonly retCode: Code[] = [];
  /** Saved r6..r9 (8 words) per call frame. */
  readonly saved: Int32Array = new Int32Array(MAX_CALL_FRAMES * 8);
  /** may_goto budget per call frame. */
  readonly loops: Float64Array = new Float64Array(MAX_CALL_FRAMES);
  /** The code running now and the pc of the current helper call (for helper errors). */
  code: Code | undefined;
  /** Slot of the instruction being executed, kept current across helper calls. */
  pc = 0;
  /**
   * Call depth of the function running now (0 for the program's entry), kept current
   * across helper calls: a callback runs one frame deeper. Per run, never derived from
   * a register the program controls.
   */
  depth = 0;
  /**
   * Legacy packet access (ld_abs/ld_ind): the region and the byte range of the packet
   * as `skb->data .. skb->data + len`. Undefined when the program has no packet.
   */
  ldPacket: { id: number; start: number; end: number } | undefined;
  /** Anything the program type's context and helpers keep between calls. */
  env: Record<string, unknown> = {};
  /**
   * True when `helpers[map_lookup_elem]` is the default helper, so the interpreter may
   * answer lookups on plain maps inline (the same result, without the call).
   */
  inlineLookup = false;
  /**
   * Where the bytes of input regions (packet, context, raw memory) come from: the
   * wasm JIT target places them in its own memory so its code reaches them directly.
   * Undefined: plain `Uint8Array`s. Must return zeroed bytes.
   */
  allocator: ((id: number, size: number) => Uint8Array | undefined) | undefined;
  /**
   * Told when a window region opens or moves (`base` the region it shows; its bounds
   * in {@link access}) or closes (`base` -1): the wasm JIT target keeps its region
   * table in step.
   */
  onWindow: ((id: number, base: number) => void) | undefined;
  /** Per region id: its inline lookup, null when the region is not such a map. */
  private readonly inlineTargets: (InlineLookup | null | undefined)[] = [];
  /** Window regions, by slot (see {@link window}). */
  private readonly winIds: number[] = [];
  /** Offset each window slot shows, when cached (-1: not cached). */
  private readonly winOff: number[] = [];
  /** Per base region: cached window ids + 1 by offset / 8 (null: too large, see winCache). */
  private readonly winArr: (Int32Array | null | undefined)[] = [];
  /** Slot of each window region id. */
  private readonly winSlot = new Map<number, number>();
  /** Region a window slot shows. */
  private readonly winBase: number[] = [];
  /** Cached windows: `base * 2^30 + offset` -> region id. */
  private readonly winCache = new Map<number, number>();
  private winNext = 0;
  /** Codes whose regions are granted (the program's own and its tail-call targets). */
  private readonly granted = new WeakSet<Code>();

  /** Allocates the 8 stack frames in `memory`; frame 0 is open, the others open with their calls. */
  constructor(memory: VmMemory) {
    this.memory = memory;
    this.access = new RegionAccess(memory);
    for (let i = 0; i < MAX_CALL_FRAMES; i++) {
      const id = memory.addRegion(`stack frame ${i}`, new Uint8Array(STACK_SIZE), {
        kind: "stack",
      });
      this.stackIds.push(id);
      const open = i === 0 ? STACK_SIZE : 0;
      this.access.grantBounds(id, [0, open], [0, open]);
    }
  }

  /** Zeroed bytes for input region `id` (see {@link allocator}). */
  allocate(id: number, size: number): Uint8Array {
    return this.allocator?.(id, size) ?? new Uint8Array(size);
  }

  /** Grants the regions `code` names (its maps as handles, its direct values, its callbacks), once. */
  grantCode(code: Code): void {
    if (this.granted.has(code)) return;
    this.granted.add(code);
    const g = code.grants;
    for (let i = 0; i < g.length; i += 2) {
      if (g[i + 1] === ACCESS_FOLLOW) this.access.grant(g[i]!);
      else this.access.grantHandle(g[i]!);
    }
  }

  /**
   * A region showing bytes `[offset, offset + len)` of region `base` at the same
   * offsets (so a pointer into it is `base`'s address with another region id), open
   * to this machine only: what a map lookup, a for_each callback or a ring-buffer
   * reservation hands the program, so that the value's pointer + its size faults
   * instead of reaching the next entry or a record header. Writable when `base` is
   * writable there. `cache`: reuse the window of the same (base, offset).
   */
  window(base: number, offset: number, len: number, cache = true): number {
    // Fast path: map values sit at multiples of 8, so a small region caches its windows
    // in an Int32Array by offset / 8 (id + 1; 0 for none); a large one in a Map.
    let arr: Int32Array | null | undefined;
    if (cache) {
      arr = this.windowCache(base);
      if (arr !== null && (offset & 7) === 0) {
        const hit = arr[offset >>> 3]!;
        if (hit !== 0) return hit - 1;
      } else {
        const hit = this.winCache.get(base * 0x4000_0000 + offset);
        if (hit !== undefined) return hit;
      }
    }
    const mem = this.memory;
    const slot = this.winNext;
    this.winNext = slot + 1 === MAX_WINDOWS ? 0 : slot + 1;
    let id = this.winIds[slot];
    if (id === undefined) {
      id = mem.addRegion("window", new Uint8Array(0), { kind: mem.kinds[base], read: [0, 0] });
      this.winIds[slot] = id;
      this.winSlot.set(id, slot);
    } else {
      this.uncache(slot);
    }
    mem.alias(id, base);
    mem.kinds[id] = mem.kinds[base]!;
    mem.names[id] = `${mem.names[base]} bytes ${offset}..${offset + len}`;
    this.winBase[slot] = base;
    this.winOff[slot] = cache ? offset : -1;
    const end = offset + len;
    const writable = offset >= mem.writeLo[base]! && end <= mem.writeHi[base]!;
    this.access.grantBounds(id, [offset, end], writable ? [offset, end] : [0, 0]);
    this.onWindow?.(id, base);
    if (cache) {
      if (arr && (offset & 7) === 0) arr[offset >>> 3] = id + 1;
      else this.winCache.set(base * 0x4000_0000 + offset, id);
    }
    return id;
  }

  /** The array caching windows on region `base` (null when the region is too large for one). */
  private windowCache(base: number): Int32Array | null {
    let arr = this.winArr[base];
    if (arr === undefined) {
      const n = this.memory.bytes[base]!.length >>> 3;
      arr = n <= WINDOW_ARRAY_MAX ? new Int32Array(n + 1) : null;
      this.winArr[base] = arr;
    }
    return arr;
  }

  /** Forgets the cache entry of window slot `slot`. */
  private uncache(slot: number): void {
    const off = this.winOff[slot]!;
    if (off < 0) return;
    const base = this.winBase[slot]!;
    const arr = this.winArr[base];
    if (arr && (off & 7) === 0) arr[off >>> 3] = 0;
    else this.winCache.delete(base * 0x4000_0000 + off);
    this.winOff[slot] = -1;
  }

  /** The region a window shows, or `id` itself when it is no window of this machine. */
  windowBase(id: number): number {
    const slot = this.winSlot.get(id);
    return slot === undefined ? id : this.winBase[slot]!;
  }

  /** Closes the window `id` (a submitted ring-buffer record): its bytes fault from now on. */
  closeWindow(id: number): void {
    const slot = this.winSlot.get(id);
    if (slot === undefined) return;
    this.uncache(slot);
    this.access.grantBounds(id, [0, 0], [0, 0]);
    this.onWindow?.(id, -1);
  }

  /**
   * Keeps the windows cached for region `base` in `arr` from now on (the wasm JIT
   * target's memory, where its code reads them), with those cached so far; `arr` has
   * one entry per 8 bytes of the region, plus one. False when the region is too large
   * for an array cache.
   */
  adoptWindowCache(base: number, arr: Int32Array): boolean {
    const old = this.windowCache(base);
    if (old === null || old.length !== arr.length) return false;
    arr.set(old);
    this.winArr[base] = arr;
    // The inline lookup caches the array: made again on its next use.
    this.inlineTargets[base] = undefined;
    return true;
  }

  /** A VmError at the current instruction. */
  error(reason: string, address?: bigint): VmError {
    const code = this.code;
    return new VmError(reason, code ? this.pc : -1, code?.text(this.pc), address);
  }

  /** Argument `i` (1..5) as an unsigned bigint. */
  arg(i: number): bigint {
    return toU64(this.R[2 * i]!, this.R[2 * i + 1]!);
  }

  /** Argument `i` as a signed bigint. */
  argSigned(i: number): bigint {
    return toS64(this.R[2 * i]!, this.R[2 * i + 1]!);
  }

  /** The low 32 bits of argument `i`, unsigned. */
  argU32(i: number): number {
    return this.R[2 * i]! >>> 0;
  }

  /** The low 32 bits of argument `i`, signed. */
  argI32(i: number): number {
    return this.R[2 * i]! | 0;
  }

  /** Argument `i` as a number when it fits a safe integer (signed), else throws. */
  argNumber(i: number): number {
    const v = this.argSigned(i);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      throw this.error(`argument r${i} = ${v} is too large`);
    return Number(v);
  }

  /**
   * `len` bytes of VM memory at the pointer in argument `i`, checked for `access`.
   * The view aliases VM memory.
   */
  argPtr(i: number, len: number, access: "read" | "write" | "readwrite"): Uint8Array {
    const addr = this.arg(i);
    try {
      return this.access.bytesAt(addr, len, access);
    } catch (e) {
      if (e instanceof VmError) throw this.error(`argument r${i}: ${e.reason}`, addr);
      throw e;
    }
  }

  /** The map whose handle (from lddw) is in argument `i`. */
  argMap(i: number): VmMap {
    const id = this.R[2 * i + 1]! - HI;
    const owner = this.access.has(id) ? this.memory.owners[id] : undefined;
    if (this.R[2 * i] !== 0 || owner === undefined || !("lookupSlot" in owner))
      throw this.error(
        `argument r${i} = 0x${this.arg(i).toString(16)} is not a map of this program`,
      );
    return owner as VmMap;
  }

  /** The inline lookup of region `id` (< memory.count), or null (computed once per region). */
  inlineTarget(id: number): InlineLookup | null {
    if (!this.access.has(id)) return null;
    const cached = this.inlineTargets[id];
    if (cached !== undefined) return cached;
    const owner = this.memory.owners[id];
    let t: InlineLookup | null = null;
    if (
      owner !== undefined &&
      "lookupSlot" in owner &&
      (owner as VmMap).cpus === 1 &&
      !(owner instanceof VmMapOfMaps)
    ) {
      const map = owner as VmMap;
      const array = map instanceof VmArrayMap;
      t = {
        map,
        array,
        stride: array ? map.stride : 0,
        maxEntries: map.maxEntries,
        keySize: map.keySize,
        valueSize: map.valueSize,
        windows: this.windowCache(id),
      };
    }
    this.inlineTargets[id] = t;
    return t;
  }

  /** Sets r0 to the address of byte `offset` of region `id`. */
  setR0Pointer(id: number, offset: number): void {
    this.R[0] = LO + offset;
    this.R[1] = HI + id;
  }

  /** Sets register `r` from a bigint (mod 2^64). */
  setReg(r: number, v: bigint): void {
    setBig(this.R, 2 * r, v);
  }

  /** Register `r` as an unsigned bigint. */
  reg(r: number): bigint {
    return toU64(this.R[2 * r]!, this.R[2 * r + 1]!);
  }

  /** Slow path of a load: context fields, then a fault. Result in `S`. */
  loadSlow(pc: number, code: Code, lo: number, hi: number, off: number, size: number): void {
    const mem = this.memory;
    const id = hi - HI;
    const o = (lo >>> 0) - LO + off;
    if (id >= 0 && id < mem.count && this.access.mode[id] === ACCESS_FOLLOW) {
      const h = mem.handlers[id];
      if (h?.load(o, size / 8, this.S)) return;
    }
    this.pc = pc;
    throw this.access.fault(toU64(lo, hi) + BigInt(off), size / 8, "read", pc, code.text(pc));
  }

  /** Slow path of a store: context fields, then a fault. */
  storeSlow(
    pc: number,
    code: Code,
    lo: number,
    hi: number,
    off: number,
    size: number,
    vlo: number,
    vhi: number,
  ): void {
    const mem = this.memory;
    const id = hi - HI;
    const o = (lo >>> 0) - LO + off;
    if (id >= 0 && id < mem.count && this.access.mode[id] === ACCESS_FOLLOW) {
      const h = mem.handlers[id];
      if (h?.store(o, size / 8, vlo, vhi)) return;
    }
    this.pc = pc;
    throw this.access.fault(toU64(lo, hi) + BigInt(off), size / 8, "write", pc, code.text(pc));
  }

  /**
   * Resolves an address for an atomic operation (read and write both allowed);
   * returns the region id and the byte offset, or throws.
   */
  atomicTarget(
    pc: number,
    code: Code,
    lo: number,
    hi: number,
    off: number,
    bytes: number,
  ): [number, number] {
    const a = this.access;
    const id = hi - HI;
    const o = (lo >>> 0) - LO + off;
    this.pc = pc;
    if (
      id >= 0 &&
      id < this.memory.count &&
      o >= a.readLo[id]! &&
      o + bytes <= a.readHi[id]! &&
      o >= a.writeLo[id]! &&
      o + bytes <= a.writeHi[id]!
    ) {
      // As the kernel's verifier: atomics need naturally aligned addresses.
      if ((o & (bytes - 1)) === 0) return [id, o];
      throw this.error(
        `misaligned atomic access of ${bytes} bytes at 0x${(toU64(lo, hi) + BigInt(off)).toString(16)} (byte ${o} of ${a.describe(id)})`,
        toU64(lo, hi) + BigInt(off),
      );
    }
    throw a.fault(toU64(lo, hi) + BigInt(off), bytes, "atomic access", pc, code.text(pc));
  }
}

/** Sign-extending helpers for movsx and loads. */
const sx8 = (v: number): number => (v << 24) >> 24;
const sx16 = (v: number): number => (v << 16) >> 16;

/** An atomic instruction (operands in `m.R`); exported for the JIT. */
export function atomic(m: Machine, code: Code, pc: number, bytes: 1 | 2 | 4 | 8): void {
  const R = m.R;
  const d = code.dst[pc]! << 1;
  const s = code.src[pc]! << 1;
  const off = code.off[pc]!;
  const op = code.imm[pc]!;
  const mem = m.memory;
  if (op === 0x100) {
    // load_acquire: dst = *(src + off)
    const [id, o] = m.atomicTarget(pc, code, R[s]!, R[s + 1]!, off, bytes);
    const v = mem.views[id]!;
    let lo = 0;
    let hi = 0;
    if (bytes === 1) lo = v.getUint8(o);
    else if (bytes === 2) lo = v.getUint16(o, true);
    else if (bytes === 4) lo = v.getInt32(o, true);
    else {
      lo = v.getInt32(o, true);
      hi = v.getInt32(o + 4, true);
    }
    R[d] = lo;
    R[d + 1] = hi;
    return;
  }
  if (bytes < 4 && op !== 0x110)
    throw m.error(`atomic operation 0x${op.toString(16)} exists only for 4- and 8-byte words`);
  const [id, o] = m.atomicTarget(pc, code, R[d]!, R[d + 1]!, off, bytes);
  const v = mem.views[id]!;
  if (op === 0x110) {
    // store_release: *(dst + off) = src
    if (bytes === 1) v.setUint8(o, R[s]!);
    else if (bytes === 2) v.setUint16(o, R[s]!, true);
    else if (bytes === 4) v.setInt32(o, R[s]!, true);
    else {
      v.setInt32(o, R[s]!, true);
      v.setInt32(o + 4, R[s + 1]!, true);
    }
    return;
  }
  const oldLo = v.getInt32(o, true);
  const oldHi = bytes === 8 ? v.getInt32(o + 4, true) : 0;
  let nlo: number;
  let nhi = 0;
  const slo = R[s]!;
  const shi = bytes === 8 ? R[s + 1]! : 0;
  switch (op & ~1) {
    case 0x00: {
      if (bytes === 8) {
        const l = (oldLo >>> 0) + (slo >>> 0);
        nlo = l | 0;
        nhi = (oldHi + shi + (l > 0xffffffff ? 1 : 0)) | 0;
      } else nlo = (oldLo + slo) | 0;
      break;
    }
    case 0x40:
      nlo = oldLo | slo;
      nhi = oldHi | shi;
      break;
    case 0x50:
      nlo = oldLo & slo;
      nhi = oldHi & shi;
      break;
    case 0xa0:
      nlo = oldLo ^ slo;
      nhi = oldHi ^ shi;
      break;
    case 0xe0: // xchg
      nlo = slo;
      nhi = shi;
      break;
    case 0xf0: {
      // cmpxchg: compare with r0, write src if equal, r0 = old
      const eq = bytes === 8 ? R[0] === oldLo && R[1] === oldHi : R[0] === oldLo;
      if (eq) {
        v.setInt32(o, slo, true);
        if (bytes === 8) v.setInt32(o + 4, shi, true);
      }
      R[0] = oldLo;
      R[1] = oldHi;
      return;
    }
    default:
      throw m.error(`unknown atomic operation 0x${op.toString(16)}`);
  }
  v.setInt32(o, nlo, true);
  if (bytes === 8) v.setInt32(o + 4, nhi, true);
  if (op & 1) {
    R[s] = oldLo;
    R[s + 1] = oldHi;
  }
}

/** Legacy ld_abs/ld_ind: big-endian packet load relative to skb->data; false when out of range. */
export function ldPacket(m: Machine, offset: number, bytes: number): boolean {
  const p = m.ldPacket;
  if (!p) throw m.error("ld_abs/ld_ind need a packet (socket_filter or sched_cls with data)");
  const o = p.start + offset;
  if (offset < 0 || o + bytes > p.end) return false;
  const v = m.memory.views[p.id]!;
  m.R[0] = bytes === 1 ? v.getUint8(o) : bytes === 2 ? v.getUint16(o, false) : v.getInt32(o, false);
  m.R[1] = 0;
  return true;
}

/**
 * Runs `entry` from slot 0 with the registers as they are (r1.. set by the caller);
 * r10 is set to the top of stack frame 0 (zeroed). Returns when the outermost
 * function exits; r0 is in `m.R[0..1]`.
 *
 * A helper that calls back into the program (bpf_loop, for_each_map_elem) runs the
 * callback with `start` = its slot and `base` = the frame depth for it: the run
 * returns when that function exits, and counts against the same instruction budget.
 * @throws VmError on a fault, an unknown helper, too deep calls or an exhausted budget.
 */
export function execute(m: Machine, entry: Code, start = 0, base = 0): void {
  const jit = entry.jit;
  if (jit !== undefined) jit(m, start, base, -1, base);
  else interpret(m, entry, start, base, -1, base);
}

/**
 * The interpreter loop behind {@link execute}. With `resumeN` >= 0 it resumes a run
 * another engine (the JIT) started and handed over at `start`: the registers are in
 * `m.R`, the frames below `resumeDepth` in the machine's frame arrays, `resumeN`
 * instructions executed so far; the entry prologue (stack zeroing, may_goto and tail
 * call counters) is skipped.
 */
export function interpret(
  m: Machine,
  entry: Code,
  start: number,
  base: number,
  resumeN: number,
  resumeDepth: number,
): void {
  const R = REGISTERS;
  const mem = m.memory;
  // Bounds as this machine sees them (RegionAccess): other programs' regions, maps the
  // program does not name and dead frames are empty here, so they fault.
  const acc = m.access;
  acc.ensure();
  let views = mem.views;
  let rLo = acc.readLo;
  let rHi = acc.readHi;
  let wLo = acc.writeLo;
  let wHi = acc.writeHi;
  let nreg = mem.count;
  let code = entry;
  let W = code.word;
  let IMM = code.imm;
  const budget = m.budget;
  let n = resumeN >= 0 ? resumeN : base === 0 ? 0 : m.executed;
  let pc = start;
  let depth = resumeN >= 0 ? resumeDepth : base;
  // Per frame: return pc, code, saved r6..r9 (8 words) and may_goto budget.
  const retPc = m.retPc;
  const retCode = m.retCode;
  const saved = m.saved;
  const loops = m.loops;
  const S = m.S;
  m.depth = depth;
  m.code = code;
  if (resumeN < 0) {
    loops[base] = m.mayGotoBudget;
    if (base === 0) m.tailCalls = 0;
    const sid0 = m.stackIds[base]!;
    mem.bytes[sid0]!.fill(0);
    rHi[sid0] = STACK_SIZE;
    wHi[sid0] = STACK_SIZE;
    R[20] = LO + STACK_SIZE;
    R[21] = HI + sid0;
  }

  try {
    for (;;) {
      if (++n > budget) {
        m.pc = pc;
        throw m.error(`instruction budget of ${budget} exhausted`);
      }
      const w = W[pc]!;
      const c = w & 0xff;
      switch (c) {
        // ---------------- ALU64 ----------------
        case 0x07: {
          // add64 imm: the carry out of the low word goes into the high word.
          const d = (w >> 7) & 30;
          const b = IMM[pc]!;
          const alo = R[d]!;
          const l = (alo + b) | 0;
          R[d] = l;
          R[d + 1] = (R[d + 1]! + (b >> 31) + (l >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x0f: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          const blo = R[s]!;
          const alo = R[d]!;
          const l = (alo + blo) | 0;
          R[d] = l;
          R[d + 1] = (R[d + 1]! + R[s + 1]! + (l >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x17:
        case 0x1f: {
          const d = (w >> 7) & 30;
          let blo: number;
          let bhi: number;
          if (c & 8) {
            const s = (w >> 11) & 30;
            blo = R[s]!;
            bhi = R[s + 1]!;
          } else {
            blo = IMM[pc]!;
            bhi = blo >> 31;
          }
          const alo = R[d]!;
          R[d] = (alo - blo) | 0;
          R[d + 1] = (R[d + 1]! - bhi - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x27:
        case 0x2f: {
          const d = (w >> 7) & 30;
          if (c & 8) {
            const s = (w >> 11) & 30;
            mul64(R, d, R[s]!, R[s + 1]!);
          } else {
            const i = IMM[pc]!;
            mul64(R, d, i, i >> 31);
          }
          break;
        }
        case 0x37:
        case 0x3f:
        case 0x97:
        case 0x9f: {
          const d = (w >> 7) & 30;
          let blo: number;
          let bhi: number;
          if (c & 8) {
            const s = (w >> 11) & 30;
            blo = R[s]!;
            bhi = R[s + 1]!;
          } else {
            blo = IMM[pc]!;
            bhi = blo >> 31;
          }
          if (w >> 16 === 1) sdivmod64(R, d, blo, bhi, c >= 0x97);
          else udivmod64(R, d, blo, bhi, c >= 0x97);
          break;
        }
        case 0x47:
        case 0x4f: {
          const d = (w >> 7) & 30;
          if (c & 8) {
            const s = (w >> 11) & 30;
            R[d] = R[d]! | R[s]!;
            R[d + 1] = R[d + 1]! | R[s + 1]!;
          } else {
            const i = IMM[pc]!;
            R[d] = R[d]! | i;
            R[d + 1] = R[d + 1]! | (i >> 31);
          }
          break;
        }
        case 0x57:
        case 0x5f: {
          const d = (w >> 7) & 30;
          if (c & 8) {
            const s = (w >> 11) & 30;
            R[d] = R[d]! & R[s]!;
            R[d + 1] = R[d + 1]! & R[s + 1]!;
          } else {
            const i = IMM[pc]!;
            R[d] = R[d]! & i;
            R[d + 1] = R[d + 1]! & (i >> 31);
          }
          break;
        }
        case 0xa7:
        case 0xaf: {
          const d = (w >> 7) & 30;
          if (c & 8) {
            const s = (w >> 11) & 30;
            R[d] = R[d]! ^ R[s]!;
            R[d + 1] = R[d + 1]! ^ R[s + 1]!;
          } else {
            const i = IMM[pc]!;
            R[d] = R[d]! ^ i;
            R[d + 1] = R[d + 1]! ^ (i >> 31);
          }
          break;
        }
        case 0x67:
        case 0x6f: {
          const d = (w >> 7) & 30;
          const sh = (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 63;
          if (sh !== 0) {
            const lo = R[d]!;
            if (sh < 32) {
              R[d + 1] = (R[d + 1]! << sh) | (lo >>> (32 - sh));
              R[d] = lo << sh;
            } else {
              R[d + 1] = lo << (sh - 32);
              R[d] = 0;
            }
          }
          break;
        }
        case 0x77:
        case 0x7f: {
          const d = (w >> 7) & 30;
          const sh = (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 63;
          if (sh !== 0) {
            const hi = R[d + 1]!;
            if (sh < 32) {
              R[d] = (R[d]! >>> sh) | (hi << (32 - sh));
              R[d + 1] = hi >>> sh;
            } else {
              R[d] = hi >>> (sh - 32);
              R[d + 1] = 0;
            }
          }
          break;
        }
        case 0xc7:
        case 0xcf: {
          const d = (w >> 7) & 30;
          const sh = (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 63;
          if (sh !== 0) {
            const hi = R[d + 1]!;
            if (sh < 32) {
              R[d] = (R[d]! >>> sh) | (hi << (32 - sh));
              R[d + 1] = hi >> sh;
            } else {
              R[d] = hi >> (sh - 32);
              R[d + 1] = hi >> 31;
            }
          }
          break;
        }
        case 0x87: {
          const d = (w >> 7) & 30;
          const lo = -R[d]! | 0;
          R[d + 1] = (~R[d + 1]! + (lo === 0 ? 1 : 0)) | 0;
          R[d] = lo;
          break;
        }
        case 0xb7: {
          const d = (w >> 7) & 30;
          const i = IMM[pc]!;
          R[d] = i;
          R[d + 1] = i >> 31;
          break;
        }
        case 0xbf: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          switch (w >> 16) {
            case 0:
              R[d] = R[s]!;
              R[d + 1] = R[s + 1]!;
              break;
            case 8: {
              const v = sx8(R[s]!);
              R[d] = v;
              R[d + 1] = v >> 31;
              break;
            }
            case 16: {
              const v = sx16(R[s]!);
              R[d] = v;
              R[d + 1] = v >> 31;
              break;
            }
            case 32: {
              const v = R[s]!;
              R[d] = v;
              R[d + 1] = v >> 31;
              break;
            }
            default:
              m.pc = pc;
              throw m.error("addr_space_cast (arena pointers) is not supported by the VM");
          }
          break;
        }
        case 0xd7: {
          const d = (w >> 7) & 30;
          const width = IMM[pc]!;
          if (width === 16) {
            R[d] = bswap16(R[d]!);
            R[d + 1] = 0;
          } else if (width === 32) {
            R[d] = bswap32(R[d]!);
            R[d + 1] = 0;
          } else {
            const lo = R[d]!;
            R[d] = bswap32(R[d + 1]!);
            R[d + 1] = bswap32(lo);
          }
          break;
        }

        // ---------------- ALU32 ----------------
        case 0x04:
        case 0x0c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! + (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0x14:
        case 0x1c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! - (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0x24:
        case 0x2c: {
          const d = (w >> 7) & 30;
          R[d] = Math.imul(R[d]!, c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0x34:
        case 0x3c: {
          const d = (w >> 7) & 30;
          const b = c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!;
          const a = R[d]!;
          if (w >> 16 === 1) {
            R[d] = b === 0 ? 0 : b === -1 ? -a : Math.trunc(a / b);
          } else {
            R[d] = b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0));
          }
          R[d + 1] = 0;
          break;
        }
        case 0x94:
        case 0x9c: {
          const d = (w >> 7) & 30;
          const b = c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!;
          const a = R[d]!;
          // x % 0 leaves x (zero-extended, as the kernel's patched sequence does).
          if (b !== 0) {
            if (w >> 16 === 1) R[d] = b === -1 ? 0 : a % b;
            else R[d] = (a >>> 0) % (b >>> 0);
          }
          R[d + 1] = 0;
          break;
        }
        case 0x44:
        case 0x4c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! | (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0x54:
        case 0x5c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! & (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0xa4:
        case 0xac: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! ^ (c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!);
          R[d + 1] = 0;
          break;
        }
        case 0x64:
        case 0x6c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! << ((c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 31);
          R[d + 1] = 0;
          break;
        }
        case 0x74:
        case 0x7c: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! >>> ((c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 31);
          R[d + 1] = 0;
          break;
        }
        case 0xc4:
        case 0xcc: {
          const d = (w >> 7) & 30;
          R[d] = R[d]! >> ((c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!) & 31);
          R[d + 1] = 0;
          break;
        }
        case 0x84: {
          const d = (w >> 7) & 30;
          R[d] = -R[d]!;
          R[d + 1] = 0;
          break;
        }
        case 0xb4: {
          const d = (w >> 7) & 30;
          R[d] = IMM[pc]!;
          R[d + 1] = 0;
          break;
        }
        case 0xbc: {
          const d = (w >> 7) & 30;
          const v = R[(w >> 11) & 30]!;
          const o = w >> 16;
          R[d] = o === 8 ? sx8(v) : o === 16 ? sx16(v) : v;
          R[d + 1] = 0;
          break;
        }
        case 0xd4: {
          // le16/32/64: truncate (little-endian host)
          const d = (w >> 7) & 30;
          const width = IMM[pc]!;
          if (width === 16) {
            R[d] = R[d]! & 0xffff;
            R[d + 1] = 0;
          } else if (width === 32) {
            R[d + 1] = 0;
          }
          break;
        }
        case 0xdc: {
          // be16/32/64: swap (little-endian host)
          const d = (w >> 7) & 30;
          const width = IMM[pc]!;
          if (width === 16) {
            R[d] = bswap16(R[d]!);
            R[d + 1] = 0;
          } else if (width === 32) {
            R[d] = bswap32(R[d]!);
            R[d + 1] = 0;
          } else {
            const lo = R[d]!;
            R[d] = bswap32(R[d + 1]!);
            R[d + 1] = bswap32(lo);
          }
          break;
        }

        // ---------------- JMP ----------------
        case 0x05:
          pc += w >> 16;
          break;
        case 0x06:
          pc += IMM[pc]!;
          break;
        // Each condition its own case (no second dispatch); imm forms compare with the
        // sign-extended immediate: high word imm >> 31.
        case 0x15:
          if (R[(w >> 7) & 30] === IMM[pc] && R[((w >> 7) & 30) + 1] === IMM[pc]! >> 31)
            pc += w >> 16;
          break;
        case 0x1d: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          if (R[d] === R[s] && R[d + 1] === R[s + 1]) pc += w >> 16;
          break;
        }
        case 0x55:
          if (R[(w >> 7) & 30] !== IMM[pc] || R[((w >> 7) & 30) + 1] !== IMM[pc]! >> 31)
            pc += w >> 16;
          break;
        case 0x5d: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          if (R[d] !== R[s] || R[d + 1] !== R[s + 1]) pc += w >> 16;
          break;
        }
        case 0x45: {
          const d = (w >> 7) & 30;
          const b = IMM[pc]!;
          if ((R[d]! & b) !== 0 || (R[d + 1]! & (b >> 31)) !== 0) pc += w >> 16;
          break;
        }
        case 0x4d: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          if ((R[d]! & R[s]!) !== 0 || (R[d + 1]! & R[s + 1]!) !== 0) pc += w >> 16;
          break;
        }
        case 0x25:
        case 0x35:
        case 0xa5:
        case 0xb5: {
          // Unsigned, imm: compare the high words, then the low words.
          const d = (w >> 7) & 30;
          const b = IMM[pc]!;
          const ahi = R[d + 1]!;
          const bhi = b >> 31;
          let r: number;
          if (ahi !== bhi) r = ahi >>> 0 > bhi >>> 0 ? 1 : -1;
          else {
            const a = R[d]! >>> 0;
            r = a > b >>> 0 ? 1 : a === b >>> 0 ? 0 : -1;
          }
          if (c === 0xa5 ? r < 0 : c === 0x25 ? r > 0 : c === 0x35 ? r >= 0 : r <= 0) pc += w >> 16;
          break;
        }
        case 0x65:
        case 0x75:
        case 0xc5:
        case 0xd5: {
          // Signed, imm.
          const d = (w >> 7) & 30;
          const b = IMM[pc]!;
          const ahi = R[d + 1]!;
          const bhi = b >> 31;
          let r: number;
          if (ahi !== bhi) r = ahi > bhi ? 1 : -1;
          else {
            const a = R[d]! >>> 0;
            r = a > b >>> 0 ? 1 : a === b >>> 0 ? 0 : -1;
          }
          if (c === 0xc5 ? r < 0 : c === 0x65 ? r > 0 : c === 0x75 ? r >= 0 : r <= 0) pc += w >> 16;
          break;
        }
        case 0x2d:
        case 0x3d:
        case 0xad:
        case 0xbd:
        case 0x6d:
        case 0x7d:
        case 0xcd:
        case 0xdd: {
          const d = (w >> 7) & 30;
          const s = (w >> 11) & 30;
          const alo = R[d]!;
          const ahi = R[d + 1]!;
          const blo = R[s]!;
          const bhi = R[s + 1]!;
          const r =
            (c & 0xf0) === 0x20 || (c & 0xf0) === 0x30 || (c & 0xf0) === 0xa0 || (c & 0xf0) === 0xb0
              ? cmpU64(alo, ahi, blo, bhi)
              : cmpS64(alo, ahi, blo, bhi);
          let t: boolean;
          switch (c & 0xf0) {
            case 0x20:
            case 0x60:
              t = r > 0;
              break;
            case 0x30:
            case 0x70:
              t = r >= 0;
              break;
            case 0xa0:
            case 0xc0:
              t = r < 0;
              break;
            default:
              t = r <= 0;
              break;
          }
          if (t) pc += w >> 16;
          break;
        }
        case 0x16:
        case 0x1e:
        case 0x26:
        case 0x2e:
        case 0x36:
        case 0x3e:
        case 0x46:
        case 0x4e:
        case 0x56:
        case 0x5e:
        case 0x66:
        case 0x6e:
        case 0x76:
        case 0x7e:
        case 0xa6:
        case 0xae:
        case 0xb6:
        case 0xbe:
        case 0xc6:
        case 0xce:
        case 0xd6:
        case 0xde: {
          const a = R[(w >> 7) & 30]!;
          const b = c & 8 ? R[(w >> 11) & 30]! : IMM[pc]!;
          let t: boolean;
          switch (c & 0xf0) {
            case 0x10:
              t = a === b;
              break;
            case 0x50:
              t = a !== b;
              break;
            case 0x40:
              t = (a & b) !== 0;
              break;
            case 0x20:
              t = a >>> 0 > b >>> 0;
              break;
            case 0x30:
              t = a >>> 0 >= b >>> 0;
              break;
            case 0xa0:
              t = a >>> 0 < b >>> 0;
              break;
            case 0xb0:
              t = a >>> 0 <= b >>> 0;
              break;
            case 0x60:
              t = a > b;
              break;
            case 0x70:
              t = a >= b;
              break;
            case 0xc0:
              t = a < b;
              break;
            default:
              t = a <= b;
              break;
          }
          if (t) pc += w >> 16;
          break;
        }
        case 0xe5: {
          // may_goto: jump once this function's loop budget is spent.
          if (loops[depth] === 0) pc += w >> 16;
          else loops[depth]!--;
          break;
        }
        case 0x85: {
          const kind = (w >> 12) & 15;
          if (kind === 0) {
            const id = IMM[pc]!;
            m.pc = pc;
            if (id === MAP_LOOKUP_ELEM_ID && m.inlineLookup) {
              // map_lookup_elem inline: what the default helper answers, without the call.
              const rid = R[3]! - HI;
              const t = R[2] === 0 && rid >>> 0 < nreg ? m.inlineTarget(rid) : null;
              if (t !== null) {
                const kid = R[5]! - HI;
                const kat = (R[4]! >>> 0) - LO;
                if (kid >>> 0 < nreg && kat >= rLo[kid]! && kat + t.keySize <= rHi[kid]!) {
                  let at: number;
                  if (t.array) {
                    const i = views[kid]!.getUint32(kat, true);
                    at = i < t.maxEntries ? i * t.stride : -1;
                  } else {
                    at = t.map.lookupSlot(mem.bytes[kid]!, kat, 0);
                  }
                  if (at < 0) {
                    R[0] = 0;
                    R[1] = 0;
                  } else {
                    // The value through a window of its own (value + value_size faults).
                    R[0] = LO + at;
                    const win = t.windows;
                    const hit = win !== null ? win[at >>> 3]! : 0;
                    R[1] = HI + (hit !== 0 ? hit - 1 : m.window(rid, at, t.valueSize));
                    if (mem.count !== nreg) {
                      // The window is a new region: the tables grew.
                      acc.ensure();
                      views = mem.views;
                      rLo = acc.readLo;
                      rHi = acc.readHi;
                      wLo = acc.writeLo;
                      wHi = acc.writeHi;
                      nreg = mem.count;
                    }
                  }
                  break;
                }
              }
            }
            if (id === TAIL_CALL_ID) {
              const map = m.argMap(2);
              const idx = R[6]! >>> 0;
              // As the kernel: the count goes up before the slot is looked at.
              if (idx < map.maxEntries && m.tailCalls < MAX_TAIL_CALL_CNT) {
                m.tailCalls++;
                const target = m.tailCall(map, idx);
                if (target) {
                  code = target;
                  m.code = code;
                  W = code.word;
                  IMM = code.imm;
                  loops[depth] = m.mayGotoBudget;
                  pc = -1;
                }
              }
              break;
            }
            const h = m.helpers[id];
            if (h === undefined) {
              const name = helperName(id);
              throw m.error(
                `unknown helper ${name ? `${name}#${id}` : `#${id}`}: the VM has no implementation for it`,
              );
            }
            m.executed = n;
            m.depth = depth;
            const r = h(m);
            n = m.executed;
            if (typeof r === "number") setNum(R, 0, r);
            else if (typeof r === "bigint") setBig(R, 0, r);
            // A helper may have added regions.
            acc.ensure();
            views = mem.views;
            rLo = acc.readLo;
            rHi = acc.readHi;
            wLo = acc.writeLo;
            wHi = acc.writeHi;
            nreg = mem.count;
            break;
          }
          if (kind === 1) {
            if (depth + 1 >= MAX_CALL_FRAMES) {
              m.pc = pc;
              throw m.error(`too many nested calls (the limit is ${MAX_CALL_FRAMES} frames)`);
            }
            retPc[depth] = pc;
            retCode[depth] = code;
            const b = depth * 8;
            for (let i = 0; i < 8; i++) saved[b + i] = R[12 + i]!;
            depth++;
            loops[depth] = m.mayGotoBudget;
            const sid = m.stackIds[depth]!;
            mem.bytes[sid]!.fill(0);
            rHi[sid] = STACK_SIZE;
            wHi[sid] = STACK_SIZE;
            R[20] = LO + STACK_SIZE;
            R[21] = HI + sid;
            pc += IMM[pc]!;
            break;
          }
          m.pc = pc;
          throw m.error("kfunc calls are not supported by the VM");
        }
        case 0x95: {
          if (depth === base) return;
          // The callee's frame is dead: its bytes fault from now on.
          const dead = m.stackIds[depth]!;
          rHi[dead] = 0;
          wHi[dead] = 0;
          depth--;
          const b = depth * 8;
          for (let i = 0; i < 8; i++) R[12 + i] = saved[b + i]!;
          R[20] = LO + STACK_SIZE;
          R[21] = HI + m.stackIds[depth]!;
          const rc = retCode[depth]!;
          if (rc !== code) {
            code = rc;
            m.code = code;
            W = code.word;
            IMM = code.imm;
          }
          pc = retPc[depth]!;
          break;
        }

        // ---------------- loads ----------------
        // One case per size: the fast path is a region bounds check and a DataView read;
        // context fields and faults go to loadSlow.
        case 0x61: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 4 <= rHi[id]!) {
            const v = views[id]!;
            R[d] = v.getInt32(o, true);
            R[d + 1] = 0;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 32);
            // The handler answers with the field's full value (a context pointer
            // field is 64 bits even when read with a 4-byte load).
            R[d] = S[0]!;
            R[d + 1] = S[1]!;
          }
          break;
        }
        case 0x69: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 2 <= rHi[id]!) {
            const v = views[id]!;
            R[d] = v.getUint16(o, true);
            R[d + 1] = 0;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 16);
            // The handler answers with the field's full value (a context pointer
            // field is 64 bits even when read with a 4-byte load).
            R[d] = S[0]!;
            R[d + 1] = S[1]!;
          }
          break;
        }
        case 0x71: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 1 <= rHi[id]!) {
            const v = views[id]!;
            R[d] = v.getUint8(o);
            R[d + 1] = 0;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 8);
            // The handler answers with the field's full value (a context pointer
            // field is 64 bits even when read with a 4-byte load).
            R[d] = S[0]!;
            R[d + 1] = S[1]!;
          }
          break;
        }
        case 0x79: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 8 <= rHi[id]!) {
            const v = views[id]!;
            R[d] = v.getInt32(o, true);
            R[d + 1] = v.getInt32(o + 4, true);
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 64);
            // The handler answers with the field's full value (a context pointer
            // field is 64 bits even when read with a 4-byte load).
            R[d] = S[0]!;
            R[d + 1] = S[1]!;
          }
          break;
        }
        case 0x81: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 4 <= rHi[id]!) {
            const v = views[id]!;
            const x = v.getInt32(o, true);
            R[d] = x;
            R[d + 1] = x >> 31;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 32);
            // The handler answers with the field's full value; sign-extend its low bytes.
            const x = S[0]!;
            R[d] = x;
            R[d + 1] = x >> 31;
          }
          break;
        }
        case 0x89: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 2 <= rHi[id]!) {
            const v = views[id]!;
            const x = v.getInt16(o, true);
            R[d] = x;
            R[d + 1] = x >> 31;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 16);
            // The handler answers with the field's full value; sign-extend its low bytes.
            const x = sx16(S[0]!);
            R[d] = x;
            R[d + 1] = x >> 31;
          }
          break;
        }
        case 0x91: {
          const s = (w >> 11) & 30;
          const d = (w >> 7) & 30;
          const lo = R[s]!;
          const hi = R[s + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= rLo[id]! && o + 1 <= rHi[id]!) {
            const v = views[id]!;
            const x = v.getInt8(o);
            R[d] = x;
            R[d + 1] = x >> 31;
          } else {
            m.loadSlow(pc, code, lo, hi, w >> 16, 8);
            // The handler answers with the field's full value; sign-extend its low bytes.
            const x = sx8(S[0]!);
            R[d] = x;
            R[d + 1] = x >> 31;
          }
          break;
        }

        // ---------------- stores ----------------
        case 0x62: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const vlo = IMM[pc]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 4 <= wHi[id]!) {
            const v = views[id]!;
            v.setInt32(o, vlo, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 32, vlo, vlo >> 31);
          }
          break;
        }
        case 0x6a: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const vlo = IMM[pc]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 2 <= wHi[id]!) {
            const v = views[id]!;
            v.setUint16(o, vlo, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 16, vlo, vlo >> 31);
          }
          break;
        }
        case 0x72: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const vlo = IMM[pc]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 1 <= wHi[id]!) {
            const v = views[id]!;
            v.setUint8(o, vlo);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 8, vlo, vlo >> 31);
          }
          break;
        }
        case 0x7a: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const vlo = IMM[pc]!;
          const vhi = vlo >> 31;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 8 <= wHi[id]!) {
            const v = views[id]!;
            v.setInt32(o, vlo, true);
            v.setInt32(o + 4, vhi, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 64, vlo, vhi);
          }
          break;
        }
        case 0x63: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const sr = (w >> 11) & 30;
          const vlo = R[sr]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 4 <= wHi[id]!) {
            const v = views[id]!;
            v.setInt32(o, vlo, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 32, vlo, R[sr + 1]!);
          }
          break;
        }
        case 0x6b: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const sr = (w >> 11) & 30;
          const vlo = R[sr]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 2 <= wHi[id]!) {
            const v = views[id]!;
            v.setUint16(o, vlo, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 16, vlo, R[sr + 1]!);
          }
          break;
        }
        case 0x73: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const sr = (w >> 11) & 30;
          const vlo = R[sr]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 1 <= wHi[id]!) {
            const v = views[id]!;
            v.setUint8(o, vlo);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 8, vlo, R[sr + 1]!);
          }
          break;
        }
        case 0x7b: {
          const d = (w >> 7) & 30;
          const lo = R[d]!;
          const hi = R[d + 1]!;
          const sr = (w >> 11) & 30;
          const vlo = R[sr]!;
          const vhi = R[sr + 1]!;
          const id = hi - HI;
          const o = (lo >>> 0) - LO + (w >> 16);
          if (id >>> 0 < nreg && o >= wLo[id]! && o + 8 <= wHi[id]!) {
            const v = views[id]!;
            v.setInt32(o, vlo, true);
            v.setInt32(o + 4, vhi, true);
          } else {
            m.storeSlow(pc, code, lo, hi, w >> 16, 64, vlo, vhi);
          }
          break;
        }

        // ---------------- atomics ----------------
        case 0xc3:
          m.pc = pc;
          atomic(m, code, pc, 4);
          break;
        case 0xdb:
          m.pc = pc;
          atomic(m, code, pc, 8);
          break;
        case 0xd3:
          m.pc = pc;
          atomic(m, code, pc, 1);
          break;
        case 0xcb:
          m.pc = pc;
          atomic(m, code, pc, 2);
          break;

        // ---------------- ld ----------------
        case 0x18: {
          const d = (w >> 7) & 30;
          R[d] = IMM[pc]!;
          R[d + 1] = IMM[pc + 1]!;
          pc++;
          break;
        }
        case 0x20:
        case 0x28:
        case 0x30:
        case 0x40:
        case 0x48:
        case 0x50: {
          m.pc = pc;
          const bytes = c === 0x20 || c === 0x40 ? 4 : c === 0x28 || c === 0x48 ? 2 : 1;
          let off = IMM[pc]!;
          if (c >= 0x40) off = (off + R[(w >> 11) & 30]!) | 0;
          if (!ldPacket(m, off, bytes)) {
            // Out of the packet: the kernel ends the program with r0 = 0.
            R[0] = 0;
            R[1] = 0;
            return;
          }
          break;
        }
        default:
          m.pc = pc;
          throw m.error(`opcode 0x${c.toString(16).padStart(2, "0")} is not supported`);
      }
      pc++;
    }
  } finally {
    m.executed = n;
    // Close the frames this call of execute opened (all of them when it ends in an
    // error): a callback's frame, the bpf-to-bpf frames above `base`.
    for (let d = base === 0 ? 1 : base; d <= depth; d++) {
      const sid = m.stackIds[d]!;
      acc.readHi[sid] = 0;
      acc.writeHi[sid] = 0;
    }
  }
}
