/**
 * The JS side of the wasm target: the arena of one machine, the functions its module
 * calls out to (slow memory accesses, helpers, atomics: the interpreter's own code),
 * and the {@link JitFunction}/{@link JitLoop} pair installed on the program's
 * {@link Code}. See compile-wasm.ts for the module and the arena's layout.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { helperName } from "../../../uapi/index.ts";
import { setBig, setNum } from "../../int64.ts";
import {
  atomic,
  type Code,
  interpret,
  type JitFunction,
  type JitLoop,
  ldPacket,
  type Machine,
  STACK_SIZE,
} from "../../interpreter.ts";
import { VmArrayMap } from "../../maps/array.ts";
import { VmHashMap } from "../../maps/hash.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO } from "../../memory.ts";
import { type Callouts, callTable, enterCallouts, leaveCallouts } from "./calls.ts";
import {
  ARENA,
  type ArenaHome,
  type ArenaPlan,
  INPUT_SLOT_SIZE,
  TABLE_CAP,
  type WasmMemory,
  type WasmModule,
  wasmApi,
} from "./compile-wasm.ts";

const {
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
  PAGES,
} = ARENA;
const TWO32 = 4294967296;
const MAP_LOOKUP_ELEM_ID = 1;

/** Counts since the module loaded: modules instantiated (programs that run in wasm). */
export const wasmStats = { instantiated: 0 };

/** An {@link ArenaPlan} with the arena made for it ({@link prepareArena}). */
export interface PreparedArena extends ArenaPlan {
  readonly arena: WasmMemory;
}

/** Most pages an arena takes with the maps placed in it (16 MiB). */
const ARENA_MAX_PAGES = 256;
const PAGE = 65536;

/**
 * Makes machine `m`'s arena for `code`: the header page, then the array and hash maps
 * `code` names that fit (not per-CPU, not yet placed in another arena), each
 * moved there ({@link VmArrayMap.relocate}) with the machine's cache of windows on it,
 * so that the module reaches their values without calling out to JS. A map already
 * in another program's arena stays there (this module calls out for it).
 */
export function prepareArena(code: Code, m: Machine): PreparedArena {
  const W = wasmApi();
  if (W === undefined) throw new Error("wasm JIT: WebAssembly is not available");
  const mem = m.memory;
  const picks: { map: VmArrayMap | VmHashMap; home: ArenaHome; winLen: number }[] = [];
  let next = PAGES * PAGE;
  const g = code.grants;
  for (let i = 0; i < g.length; i += 2) {
    const rid = g[i]!;
    const map = rid < TABLE_CAP ? mem.owners[rid] : undefined;
    // Exact classes: a subclass may answer lookups otherwise.
    const hash = map instanceof VmHashMap && map.constructor === VmHashMap;
    if (
      !((map instanceof VmArrayMap && map.constructor === VmArrayMap) || hash) ||
      map.perCpu ||
      !map.canRelocate(mem) ||
      mem.bytes[rid] !== map.values ||
      picks.some((p) => p.home.rid === rid)
    )
      continue;
    const len = map.values.length;
    // The window cache: one i32 per 8 bytes, plus one (Machine.adoptWindowCache).
    const winLen = (len >>> 3) + 1;
    const layout = hash ? (map as VmHashMap).chainLayout() : undefined;
    const chainBytes = layout ? layout.keys + layout.heads + layout.chain + 8 : 0;
    const need = (len + ((winLen * 4 + 7) & ~7) + chainBytes + 7) & ~7;
    if (next + need > ARENA_MAX_PAGES * PAGE) continue;
    const keys = next + len + ((winLen * 4 + 7) & ~7);
    const heads = (keys + (layout?.keys ?? 0) + 3) & ~3;
    const chains = layout && { keys, heads, chain: heads + layout.heads, mask: layout.mask };
    const home: ArenaHome = {
      rid,
      addr: next,
      win: next + len,
      maxEntries: map.maxEntries,
      stride: map.stride,
      valueSize: map.valueSize,
      writable: mem.writeLo[rid] === 0 && mem.writeHi[rid]! >= len,
      hash,
      keySize: map.keySize,
      ...(chains && { chains }),
    };
    picks.push({ map, home, winLen });
    next += need;
  }
  const pages = Math.ceil(next / PAGE);
  const arena = new W.Memory({ initial: pages, maximum: pages });
  const homes = new Map<number, ArenaHome>();
  for (const { map, home, winLen } of picks) {
    map.relocate(new Uint8Array(arena.buffer, home.addr, map.values.length), arena, mem);
    const c = home.chains;
    if (c !== undefined) {
      const h = map as VmHashMap;
      const lay = h.chainLayout()!;
      h.moveChains(
        {
          keys: new Uint8Array(arena.buffer, c.keys, lay.keys),
          heads: new Int32Array(arena.buffer, c.heads, lay.heads >>> 2),
          chain: new Int32Array(arena.buffer, c.chain, lay.chain >>> 2),
        },
        mem,
      );
    }
    const cached = m.adoptWindowCache(home.rid, new Int32Array(arena.buffer, home.win, winLen));
    homes.set(home.rid, cached ? home : { ...home, win: -1 });
  }
  return { pages, homes, inlineLookups: m.inlineLookup, arena };
}

/** A compiled program bound to its machine: what {@link instantiateWasm} gives. */
export interface WasmEngine {
  /** Runs from slot 0 on the machine (other entries go to the interpreter). */
  readonly fn: JitFunction;
  /** Runs `repeat` times in a row (the repeat loop inside wasm). */
  readonly loop: JitLoop;
  /** The arena (one page): stack frames and input regions of the machine. */
  readonly arena: WasmMemory;
}

/**
 * Instantiates `module` (compiled from `code` for `plan`, made by {@link prepareArena}
 * for `m`; without one, a bare arena) for machine `m`: moves the machine's stack frames
 * into the arena and makes it the allocator of the machine's input regions. Later runs
 * of `code` on `m` from slot 0 run in wasm.
 */
export function instantiateWasm(
  module: WasmModule,
  code: Code,
  m: Machine,
  plan?: PreparedArena,
): WasmEngine {
  const W = wasmApi();
  if (W === undefined) throw new Error("wasm JIT: WebAssembly is not available");
  const arena = plan?.arena ?? new W.Memory({ initial: PAGES, maximum: PAGES });
  const homes = plan?.homes ?? new Map<number, ArenaHome>();
  // The arena never grows, so its buffer and the views below stay attached.
  const buf = arena.buffer;
  const u8 = new Uint8Array(buf);
  const i32 = new Int32Array(buf);
  const regs = new Int32Array(buf, REGS, 22);
  const mem = m.memory;
  const acc = m.access;
  const R = m.R;

  /**
   * Sets region `id`'s table entry: bytes `[rLo, rHi)` readable and `[wLo, wHi)`
   * writable, byte 0 at arena address `base` (see emitMemory in compile-wasm.ts).
   */
  const setEntry = (
    id: number,
    base: number,
    rLo: number,
    rHi: number,
    wLo: number,
    wHi: number,
  ): void => {
    const e = (TABLE + id * 64) >> 2;
    i32[e + (T_T1 >> 2)] = -(LO + rLo);
    i32[e + (T_T1 >> 2) + 1] = -(LO + wLo);
    for (let k = 0; k < 4; k++) {
      const size = 1 << k;
      i32[e + (T_LIMR >> 2) + k] = Math.max(0, rHi - rLo - size + 1);
      i32[e + (T_LIMW >> 2) + k] = Math.max(0, wHi - wLo - size + 1);
    }
    i32[e + (T_AB >> 2)] = base + rLo;
    i32[e + (T_AB >> 2) + 1] = base + wLo;
  };

  // The stack frames, moved into the arena (only the address space refers to them).
  for (let d = 0; d < m.stackIds.length; d++) {
    const sid = m.stackIds[d]!;
    const view = u8.subarray(STACKS + d * STACK_SIZE, STACKS + (d + 1) * STACK_SIZE);
    view.set(mem.bytes[sid]!);
    mem.setBytes(sid, view);
    if (sid < TABLE_CAP) {
      // Frame 0 is open during the module's runs (it makes no calls); the others are closed.
      const open = d === 0 ? STACK_SIZE : 0;
      setEntry(sid, STACKS + d * STACK_SIZE, 0, open, 0, open);
    }
  }
  // Input regions: one slot each, while they fit.
  const slotId: number[] = [];
  const slotView: (Uint8Array | undefined)[] = [];
  i32[H_CTX >> 2] = -1;
  m.allocator = (id, size) => {
    if (size > INPUT_SLOT_SIZE || id >= TABLE_CAP) return undefined;
    let s = slotId.indexOf(id);
    if (s < 0) {
      if (slotId.length >= INPUT_SLOTS) return undefined;
      s = slotId.length;
      slotId.push(id);
    }
    const base = INPUT + s * INPUT_SLOT_SIZE;
    const view = u8.subarray(base, base + size);
    view.fill(0);
    slotView[s] = view;
    return view;
  };
  // An XDP frame made before the arena existed is made again, in it, on the next run.
  delete m.env.xdpSetup;

  /**
   * Region `id`'s entry from this machine's bounds, byte 0 of its `len` bytes at arena
   * address `base` (bounds past the bytes stay with the JS path, which fails as the
   * interpreter does).
   */
  const boundsEntry = (id: number, base: number, len: number): void => {
    const rLo = acc.readLo[id]!;
    const rHi = acc.readHi[id]!;
    const wLo = acc.writeLo[id]!;
    const wHi = acc.writeHi[id]!;
    const rOk = rLo >= 0 && rHi <= len;
    const wOk = wLo >= 0 && wHi <= len;
    setEntry(id, base, rOk ? rLo : 0, rOk ? rHi : 0, wOk ? wLo : 0, wOk ? wHi : 0);
  };
  /** Region `id`'s entry: a map in the arena (or a window on one) at `h.addr`. */
  const homeEntry = (id: number, h: ArenaHome): void =>
    boundsEntry(id, h.addr, mem.bytes[id]!.length);
  // Windows on the maps in the arena (what a lookup hands out): entries as they open,
  // move to another value or close; those open already, from the cache.
  if (homes.size > 0) {
    acc.ensure();
    m.onWindow = (id, base) => {
      if (id >= TABLE_CAP) return;
      acc.ensure();
      const h = base >= 0 ? homes.get(base) : undefined;
      if (h !== undefined && mem.bytes[id] === mem.bytes[base]) homeEntry(id, h);
      else setEntry(id, 0, 0, 0, 0, 0);
    };
    for (const h of homes.values()) {
      if (h.win < 0) continue;
      const cache = new Int32Array(arena.buffer, h.win, (mem.bytes[h.rid]!.length >>> 3) + 1);
      for (const e of cache) if (e !== 0 && e - 1 < TABLE_CAP) homeEntry(e - 1, h);
    }
  }

  /** Copies this machine's bounds of the input regions and the maps in the arena into the table. */
  const refresh = (): void => {
    acc.ensure();
    for (const [id, h] of homes) homeEntry(id, h);
    for (let s = 0; s < slotId.length; s++) {
      const id = slotId[s]!;
      const view = slotView[s];
      if (view !== undefined && mem.bytes[id] === view)
        boundsEntry(id, INPUT + s * INPUT_SLOT_SIZE, view.length);
      else setEntry(id, 0, 0, 0, 0, 0);
    }
  };
  /** Forgets the cached context fields. */
  const invalidate = (): void => {
    if (i32[H_CTX >> 2] === -1) return;
    i32[H_CTX >> 2] = -1;
    u8.fill(0, CTX_CACHE, CTX_CACHE + CTX_ENTRIES * 16);
  };
  const readN = (): number => (i32[H_N >> 2]! >>> 0) + i32[(H_N >> 2) + 1]! * TWO32;
  const writeN = (n: number): void => {
    i32[H_N >> 2] = n | 0;
    i32[(H_N >> 2) + 1] = Math.floor(n / TWO32) | 0;
  };
  const write64 = (at: number, v: number): void => {
    const b = BigInt.asIntN(64, BigInt(Math.max(-(2 ** 62), Math.min(2 ** 62, Math.floor(v)))));
    i32[at >> 2] = Number(b & 0xffff_ffffn) | 0;
    i32[(at >> 2) + 1] = Number(b >> 32n) | 0;
  };

  // Registers between the arena and m.R: an element loop (TypedArray.set costs more
  // for 22 elements: ~25 ns against ~17 ns on the project's machine).
  const toR = (): void => {
    for (let i = 0; i < 22; i++) R[i] = regs[i]!;
  };
  const fromR = (): void => {
    for (let i = 0; i < 22; i++) regs[i] = R[i]!;
  };

  /** True while a helper or an atomic runs with the registers in `m.R`. */
  let inCall = false;

  /** A load or store the table did not answer: the interpreter's code for it. */
  const slow = (pc: number): void => {
    const c = code.op[pc]!;
    const off = code.off[pc]!;
    acc.ensure();
    const nreg = mem.count;
    if ((c & 7) === 1) {
      const s = code.src[pc]! << 1;
      const d = code.dst[pc]! << 1;
      const lo = regs[s]!;
      const hi = regs[s + 1]!;
      const size = c === 0x79 ? 8 : c === 0x61 || c === 0x81 ? 4 : c === 0x69 || c === 0x89 ? 2 : 1;
      const id = hi - HI;
      const o = (lo >>> 0) - LO + off;
      let vlo: number;
      let vhi: number;
      if (id >>> 0 < nreg && o >= acc.readLo[id]! && o + size <= acc.readHi[id]!) {
        const v = mem.views[id]!;
        switch (c) {
          case 0x61:
            vlo = v.getInt32(o, true);
            vhi = 0;
            break;
          case 0x69:
            vlo = v.getUint16(o, true);
            vhi = 0;
            break;
          case 0x71:
            vlo = v.getUint8(o);
            vhi = 0;
            break;
          case 0x79:
            vlo = v.getInt32(o, true);
            vhi = v.getInt32(o + 4, true);
            break;
          case 0x81:
            vlo = v.getInt32(o, true);
            vhi = vlo >> 31;
            break;
          case 0x89:
            vlo = v.getInt16(o, true);
            vhi = vlo >> 31;
            break;
          default:
            vlo = v.getInt8(o);
            vhi = vlo >> 31;
        }
      } else {
        m.loadSlow(pc, code, lo, hi, off, size * 8);
        const S = m.S;
        switch (c) {
          case 0x81:
            vlo = S[0]!;
            vhi = vlo >> 31;
            break;
          case 0x89:
            vlo = (S[0]! << 16) >> 16;
            vhi = vlo >> 31;
            break;
          case 0x91:
            vlo = (S[0]! << 24) >> 24;
            vhi = vlo >> 31;
            break;
          default:
            vlo = S[0]!;
            vhi = S[1]!;
        }
        // A pure handler answered a 4-byte field: cache it for the module.
        if (
          c === 0x61 &&
          mem.handlers[id]?.pure === true &&
          o >= 0 &&
          o < CTX_ENTRIES * 4 &&
          (o & 3) === 0
        ) {
          if (i32[H_CTX >> 2] !== id) {
            invalidate();
            i32[H_CTX >> 2] = id;
          }
          const e = (CTX_CACHE + o * 4) >> 2;
          i32[e] = vlo;
          i32[e + 1] = vhi;
          i32[e + 2] = 1;
        }
      }
      regs[d] = vlo;
      regs[d + 1] = vhi;
      return;
    }
    const d = code.dst[pc]! << 1;
    const lo = regs[d]!;
    const hi = regs[d + 1]!;
    const size = (c & 0x18) === 0x18 ? 8 : (c & 0x18) === 0 ? 4 : (c & 0x18) === 8 ? 2 : 1;
    let vlo: number;
    let vhi: number;
    if ((c & 7) === 3) {
      const s = code.src[pc]! << 1;
      vlo = regs[s]!;
      vhi = regs[s + 1]!;
    } else {
      vlo = code.imm[pc]!;
      vhi = vlo >> 31;
    }
    const id = hi - HI;
    const o = (lo >>> 0) - LO + off;
    if (id >>> 0 < nreg && o >= acc.writeLo[id]! && o + size <= acc.writeHi[id]!) {
      const v = mem.views[id]!;
      if (size === 8) {
        v.setInt32(o, vlo, true);
        v.setInt32(o + 4, vhi, true);
      } else if (size === 4) v.setInt32(o, vlo, true);
      else if (size === 2) v.setUint16(o, vlo, true);
      else v.setUint8(o, vlo);
      return;
    }
    m.storeSlow(pc, code, lo, hi, off, size * 8, vlo, vhi);
    // A handler took the store: its loads may answer differently now.
    invalidate();
  };

  /**
   * map_lookup_elem answered inline, as the interpreter does while the default helper
   * is installed (a plain map in r1, the key in bounds at r2): r0 in the arena, true;
   * false when the helper must answer. No register copies: only r1, r2 and r0 matter.
   */
  const lookupInline = (): boolean => {
    acc.ensure();
    const nreg = mem.count;
    const rid = regs[3]! - HI;
    const t = regs[2] === 0 && rid >>> 0 < nreg ? m.inlineTarget(rid) : null;
    if (t === null) return false;
    const kid = regs[5]! - HI;
    const kat = (regs[4]! >>> 0) - LO;
    if (!(kid >>> 0 < nreg && kat >= acc.readLo[kid]! && kat + t.keySize <= acc.readHi[kid]!))
      return false;
    let at: number;
    if (t.array) {
      const i = mem.views[kid]!.getUint32(kat, true);
      at = i < t.maxEntries ? i * t.stride : -1;
    } else at = t.map.lookupSlot(mem.bytes[kid]!, kat, 0);
    if (at < 0) {
      regs[0] = 0;
      regs[1] = 0;
    } else {
      // The value through a window of its own (value + value_size faults).
      const win = t.windows;
      const hit = win !== null ? win[at >>> 3]! : 0;
      regs[0] = LO + at;
      regs[1] = HI + (hit !== 0 ? hit - 1 : m.window(rid, at, t.valueSize));
    }
    return true;
  };

  const helper = (pc: number): void => {
    const id = code.imm[pc]!;
    if (id === MAP_LOOKUP_ELEM_ID && m.inlineLookup) {
      m.pc = pc;
      if (lookupInline()) return;
    }
    toR();
    inCall = true;
    m.pc = pc;
    m.depth = 0;
    const h = m.helpers[id];
    if (h === undefined) {
      const name = helperName(id);
      throw m.error(
        `unknown helper ${name ? `${name}#${id}` : `#${id}`}: the VM has no implementation for it`,
      );
    }
    m.executed = readN();
    const r = h(m);
    if (typeof r === "number") setNum(R, 0, r);
    else if (typeof r === "bigint") setBig(R, 0, r);
    writeN(m.executed);
    // A callback may have run (in the interpreter, frames above 0); the run goes on at depth 0.
    m.depth = 0;
    m.code = code;
    fromR();
    inCall = false;
    refresh();
    invalidate();
  };

  const atomicOut = (pc: number): void => {
    toR();
    inCall = true;
    m.pc = pc;
    const c = code.op[pc]!;
    atomic(m, code, pc, c === 0xc3 ? 4 : c === 0xdb ? 8 : c === 0xd3 ? 1 : 2);
    fromR();
    inCall = false;
  };

  /** ld_abs/ld_ind: 1 with r0 in the arena, 0 when out of the packet (the run ends, r0 = 0). */
  const ldPacketOut = (pc: number): number => {
    const c = code.op[pc]!;
    m.pc = pc;
    const bytes = c === 0x20 || c === 0x40 ? 4 : c === 0x28 || c === 0x48 ? 2 : 1;
    let off = code.imm[pc]!;
    if (c >= 0x40) off = (off + regs[code.src[pc]! << 1]!) | 0;
    if (!ldPacket(m, off, bytes)) return 0;
    regs[0] = R[0]!;
    regs[1] = R[1]!;
    return 1;
  };

  /**
   * A hash map's lookup of the key at byte `ko` of frame 0 (in the arena): the value's
   * offset or -1, as the interpreter's inline lookup answers it (an LRU map's touch
   * included).
   */
  const hashLookup = (rid: number, ko: number): number => {
    const map = mem.owners[rid] as VmHashMap;
    const at = STACKS + ko;
    if (map.keySize === 4) return map.lookupSlotU32(i32[at >> 2]! >>> 0);
    if (map.keyWords.length > 0 && map.keySize > 4) return map.lookupSlotWords(i32, at >> 2);
    return map.lookupSlot(u8, at, 0);
  };

  /** A window on value `at` of map `rid` in the arena (an inline lookup's miss): id + 1. */
  const window = (rid: number, at: number): number =>
    m.window(rid, at, homes.get(rid)!.valueSize) + 1;

  const callouts: Callouts = {
    slow,
    helper,
    atomic: atomicOut,
    ldPacket: ldPacketOut,
    window,
    hashLookup,
  };
  const instance = new W.Instance(module, { vm: { arena, calls: callTable(W) } });
  const run = instance.exports.run as (count: number) => number;
  wasmStats.instantiated++;

  /** The interpreter's prologue of a run at depth 0, then the registers into the arena. */
  const begin = (r1lo: number, r1hi: number, r2lo: number, r2hi: number): void => {
    m.depth = 0;
    m.code = code;
    m.tailCalls = 0;
    m.loops[0] = m.mayGotoBudget;
    const sid0 = m.stackIds[0]!;
    acc.readHi[sid0] = STACK_SIZE;
    acc.writeHi[sid0] = STACK_SIZE;
    R[20] = LO + STACK_SIZE;
    R[21] = HI + sid0;
    i32[H_R1 >> 2] = r1lo;
    i32[(H_R1 >> 2) + 1] = r1hi;
    i32[H_R2 >> 2] = r2lo;
    i32[(H_R2 >> 2) + 1] = r2hi;
    write64(H_BUDGET, m.budget);
    write64(H_LOOPS, m.mayGotoBudget);
    refresh();
    invalidate();
    fromR();
  };

  /** `count` runs from slot 0, r1 and r2 reset for each; hand-overs finish in the interpreter. */
  const drive = (count: number, r1lo: number, r1hi: number, r2lo: number, r2hi: number): void => {
    begin(r1lo, r1hi, r2lo, r2hi);
    let left = count;
    for (;;) {
      let st: number;
      const outer = enterCallouts(callouts);
      try {
        st = run(left);
      } catch (e) {
        // A fault in the module's code leaves the registers in the arena; a helper's,
        // in m.R as the helper left them.
        if (!inCall) toR();
        inCall = false;
        m.executed = readN();
        throw e;
      } finally {
        leaveCallouts(outer);
      }
      toR();
      m.executed = readN();
      if (st === 0) return;
      const done = i32[H_ITER >> 2]!;
      const pc = i32[H_PC >> 2]!;
      m.loops[0] = (i32[H_LOOPS_LEFT >> 2]! >>> 0) + i32[(H_LOOPS_LEFT >> 2) + 1]! * TWO32;
      interpret(m, code, pc, 0, m.executed, 0);
      left -= done + 1;
      if (left <= 0) return;
      R[2] = r1lo;
      R[3] = r1hi;
      R[4] = r2lo;
      R[5] = r2hi;
      begin(r1lo, r1hi, r2lo, r2hi);
    }
  };

  const fn: JitFunction = (mm, start, base, resumeN, resumeDepth) => {
    if (mm !== m || start !== 0 || base !== 0 || resumeN >= 0) {
      interpret(mm, code, start, base, resumeN, resumeDepth);
      return;
    }
    drive(1, R[2]!, R[3]!, R[4]!, R[5]!);
  };
  const loop: JitLoop = (mm, repeat, r1lo, r1hi, r2lo) => {
    if (mm !== m) {
      for (let i = 0; i < repeat; i++) {
        mm.R[2] = r1lo;
        mm.R[3] = r1hi;
        mm.R[4] = r2lo;
        mm.R[5] = 0;
        interpret(mm, code, 0, 0, -1, 0);
      }
      return;
    }
    R[2] = r1lo;
    R[3] = r1hi;
    R[4] = r2lo;
    R[5] = 0;
    drive(repeat, r1lo, r1hi, r2lo, 0);
  };
  return { fn, loop, arena };
}
