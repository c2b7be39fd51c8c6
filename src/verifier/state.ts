/**
 * The verifier's abstract state: what it knows about every register and stack byte of
 * each call frame at one instruction, on one path. Registers are immutable values
 * (replaced, never changed in place), so copying a state for a branch copies arrays
 * of references.
 * @module
 */
import {
  formatScalar,
  isConst,
  type Scalar,
  scalarConst,
  scalarEqual,
  scalarUnknown,
  scalarWithin,
} from "./domain.ts";
import { type BaseType, type TypeFlags, typeName } from "./types.ts";

/** A map a program refers to (by index into the program's map list). */
export interface MapRef {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** A map of maps' inner map template. */
  readonly inner?: MapRef;
  /** Offset of the value's bpf_spin_lock; null: none; undefined: unknown. */
  readonly spinLockOff?: number | null;
}

/** One register (`struct bpf_reg_state`). */
export interface Reg {
  readonly type: BaseType;
  readonly flags: TypeFlags;
  /** Pointers: the fixed offset from the object's start. */
  readonly off: number;
  /** Scalars: the value. Pointers: the variable part of the offset. */
  readonly s: Scalar;
  /** Shared by copies: a null check or a bounds check on one applies to all. 0 = none. */
  readonly id: number;
  /** The reference (ringbuf record, socket) this pointer holds, 0 = none. */
  readonly refObjId: number;
  /** map_ptr, map_value, map_key: the map. */
  readonly map?: MapRef;
  /** pkt: how many bytes from the pointer are known to be in the packet. */
  readonly range: number;
  /** mem: the size of the memory. */
  readonly memSize: number;
  /** stack pointers: the frame they point into. */
  readonly frameno: number;
  /** func: the subprogram's first instruction. */
  readonly subprog: number;
}

const ZERO = scalarConst(0n);

export const NOT_INIT: Reg = {
  type: "not_init",
  flags: {},
  off: 0,
  s: ZERO,
  id: 0,
  refObjId: 0,
  range: 0,
  memSize: 0,
  frameno: 0,
  subprog: 0,
};

export function scalarReg(s: Scalar, id = 0): Reg {
  return { ...NOT_INIT, type: "scalar", s, id };
}
export const UNKNOWN: Reg = scalarReg(scalarUnknown());

/** A pointer of `type` at fixed offset 0 and no variable offset. */
export function pointerReg(type: BaseType, extra: Partial<Reg> = {}): Reg {
  return { ...NOT_INIT, type, s: ZERO, ...extra };
}

export const isPointer = (r: Reg): boolean => r.type !== "scalar" && r.type !== "not_init";

/** The 8 bytes of one stack slot: `?` invalid, `m` misc, `0` zero, `r` spilled register. */
export type SlotByte = "?" | "m" | "0" | "r";

/** One 8-byte stack slot. `bytes[0]` is the highest address (fp-1 for the first slot). */
export interface Slot {
  readonly bytes: readonly SlotByte[];
  /** The register spilled here (all 8 bytes `r`, or a narrower scalar spill). */
  readonly spilled?: Reg;
}

export const EMPTY_SLOT: Slot = { bytes: ["?", "?", "?", "?", "?", "?", "?", "?"] };

/** One call frame (`struct bpf_func_state`). */
export interface Frame {
  regs: Reg[];
  /** Slot i covers fp-8*(i+1) .. fp-8*i-1. */
  stack: Slot[];
  /** The subprogram this frame runs (its first instruction). */
  readonly subprog: number;
  /** The instruction of the call that made this frame (-1 for the main program). */
  readonly callsite: number;
  readonly frameno: number;
  /** Deepest stack byte used, as a positive number of bytes. */
  stackDepth: number;
  /** A callback frame (bpf_loop...): its r0 is the helper's verdict, in [0, 1]. */
  readonly callback: boolean;
  /** How many times this frame has entered a callback at its current helper call (bpf_loop's bound). */
  callbackDepth: number;
}

/** An acquired reference: a ringbuf record or socket that must be released. */
export interface Ref {
  readonly id: number;
  readonly insn: number;
}

/** The state on one path (`struct bpf_verifier_state`). */
export interface State {
  frames: Frame[];
  refs: Ref[];
  /** Callback iterations entered on this path: states of different iterations are no loop. */
  callbackUnrollDepth: number;
  /** may_goto loop levels entered on this path. */
  mayGotoDepth: number;
  /** The bpf_spin_lock held (active_lock): the map's index and the value pointer's id. */
  lock?: { readonly map: number; readonly id: number };
}

export function copyFrame(f: Frame): Frame {
  return { ...f, regs: f.regs.slice(), stack: f.stack.slice() };
}

export function copyState(s: State): State {
  return {
    frames: s.frames.map(copyFrame),
    refs: s.refs.slice(),
    callbackUnrollDepth: s.callbackUnrollDepth,
    mayGotoDepth: s.mayGotoDepth,
    ...(s.lock && { lock: s.lock }),
  };
}

export const cur = (s: State): Frame => s.frames[s.frames.length - 1] as Frame;

// ----------------------------------------------------------------------- pruning

/** Maps ids of an old state to ids of the current one, so equal shapes match. */
type IdMap = Map<number, number>;

function idsMatch(map: IdMap, old: number, cur: number): boolean {
  if (old === 0 && cur === 0) return true;
  if (old === 0 || cur === 0) return false;
  const seen = map.get(old);
  if (seen === undefined) {
    map.set(old, cur);
    return true;
  }
  return seen === cur;
}

/** `cur` is safe wherever `old` was proven safe (the kernel's regsafe). */
function regSafe(old: Reg, now: Reg, ids: IdMap, exact: boolean, precise = true): boolean {
  if (old.type === "not_init") return !exact || now.type === "not_init";
  if (old.type !== now.type) return false;
  if (old.type === "scalar") {
    // A scalar no check depended on matches any scalar.
    if (!exact && !precise) return true;
    if (exact) return scalarEqual(old.s, now.s) && idsMatch(ids, old.id, now.id);
    return scalarWithin(old.s, now.s) && (old.id === 0 || idsMatch(ids, old.id, now.id));
  }
  if (
    old.off !== now.off ||
    !!old.flags.maybeNull !== !!now.flags.maybeNull ||
    !!old.flags.rdonly !== !!now.flags.rdonly ||
    !!old.flags.ringbuf !== !!now.flags.ringbuf ||
    old.map !== now.map ||
    old.memSize !== now.memSize ||
    old.frameno !== now.frameno ||
    old.subprog !== now.subprog
  )
    return false;
  if (!(exact ? scalarEqual(old.s, now.s) : scalarWithin(old.s, now.s))) return false;
  if (old.type === "pkt" || old.type === "pkt_meta") {
    // A range at or beyond pkt_end (negative) matches only itself.
    if (exact || old.range < 0 || now.range < 0 ? old.range !== now.range : now.range < old.range)
      return false;
  }
  return idsMatch(ids, old.id, now.id) && idsMatch(ids, old.refObjId, now.refObjId);
}

function slotSafe(
  old: Slot,
  now: Slot | undefined,
  ids: IdMap,
  exact: boolean,
  precise: boolean,
): boolean {
  const n = now ?? EMPTY_SLOT;
  if (!exact) {
    // scalar_reg_for_stack: eight bytes of unknown data read as an unknown scalar, so
    // they compare with a 64-bit scalar spill as that register would.
    const a = slotScalar(old);
    const b = slotScalar(n);
    if (a && b) return regSafe(a, b, ids, false, precise);
  }
  for (let i = 0; i < 8; i++) {
    const o = old.bytes[i] as SlotByte;
    const c = n.bytes[i] as SlotByte;
    if (o === "?") {
      if (exact && c !== "?") return false;
      continue;
    }
    // Root may read any stack byte (allow_uninit_stack): unknown data in the old state
    // covers whatever the current one holds there.
    if (o === "m" && !exact) continue;
    if (o !== c) return false;
  }
  if (old.bytes[7] === "r" && old.spilled) {
    if (!n.spilled) return false;
    return regSafe(old.spilled, n.spilled, ids, exact, precise);
  }
  return exact ? !n.spilled : true;
}

/** A slot as one scalar: a 64-bit scalar spill, or eight bytes of unknown data. */
function slotScalar(s: Slot): Reg | undefined {
  if (s.bytes.every((b) => b === "r")) return s.spilled?.type === "scalar" ? s.spilled : undefined;
  return s.bytes.every((b) => b === "m") ? UNKNOWN : undefined;
}

/**
 * Whether `now` is covered by `old`: every register and stack byte of `now` holds a
 * value `old` allowed. With `exact`, the two must be the same (loop detection).
 * `live(frame)` gives the registers that matter in each frame (others are dead).
 * `precise` names the scalars of `old` compared by value (src/verifier/precision.ts,
 * locations frame * 128 + register or frame * 128 + 11 + slot); without it, all are.
 * `topSlotLive(i)` says whether slot i of the top frame may still be read
 * (src/verifier/stack-liveness.ts); without it, every slot is compared.
 */
export function statesEqual(
  old: State,
  now: State,
  exact = false,
  live?: (frame: number) => number,
  precise?: ReadonlySet<number>,
  topSlotLive?: (spi: number) => boolean,
): boolean {
  if (old.frames.length !== now.frames.length || old.refs.length !== now.refs.length) return false;
  const ids: IdMap = new Map();
  for (let i = 0; i < old.refs.length; i++)
    if (!idsMatch(ids, (old.refs[i] as Ref).id, (now.refs[i] as Ref).id)) return false;
  if (!!old.lock !== !!now.lock) return false;
  if (old.lock && now.lock) {
    if (old.lock.map !== now.lock.map || !idsMatch(ids, old.lock.id, now.lock.id)) return false;
  }
  for (let f = 0; f < old.frames.length; f++) {
    const a = old.frames[f] as Frame;
    const b = now.frames[f] as Frame;
    if (a.callsite !== b.callsite) return false;
    const mask = exact || !live ? 0xffff : live(f);
    const base = f * 128;
    for (let r = 0; r < a.regs.length; r++)
      if (
        (mask >> r) & 1 &&
        !regSafe(a.regs[r] as Reg, b.regs[r] as Reg, ids, exact, precise?.has(base + r) ?? true)
      )
        return false;
    // A slot of the running function that nothing reads from here on is not compared.
    const slotLive = !exact && f === old.frames.length - 1 ? topSlotLive : undefined;
    for (let i = 0; i < a.stack.length; i++) {
      if (slotLive && !slotLive(i)) continue;
      const p = precise?.has(base + 11 + i) ?? true;
      if (!slotSafe(a.stack[i] as Slot, b.stack[i], ids, exact, p)) return false;
    }
    if (exact)
      for (let i = a.stack.length; i < b.stack.length; i++)
        if (!slotSafe(EMPTY_SLOT, b.stack[i], ids, exact, true)) return false;
  }
  return true;
}

// ----------------------------------------------------------------------- log text

/** A register as the kernel's log prints it after `R1=`: `ctx()`, `fp-8`, `scalar(...)`. */
export function formatReg(r: Reg): string {
  if (r.type === "scalar") return formatScalar(r.s);
  const name = typeName(r.type, r.flags);
  if (r.type === "stack") return `fp${r.off === 0 ? "0" : r.off}`;
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.off) parts.push(`off=${r.off}`);
  if (r.type === "pkt" || r.type === "pkt_meta") parts.push(`r=${r.range}`);
  if (r.map) parts.push(`map=${r.map.name}`, `ks=${r.map.keySize}`, `vs=${r.map.valueSize}`);
  if (r.type === "mem" && r.memSize) parts.push(`sz=${r.memSize}`);
  if (!isConst(r.s) || r.s.umin !== 0n) parts.push(formatScalar(r.s));
  return `${name}(${parts.join(",")})`;
}
