/**
 * The verifier's state at each instruction, recorded for tools (`verify(..., { states:
 * true })`) and for `explain`: every time a path reaches an instruction, the registers
 * and stack of every frame as typed objects, the instruction that last set each register
 * on that path (its def-site: an ALU, a load, a call, or a branch that narrowed it), and
 * the path itself (the instructions walked before, branches included).
 *
 * The walker tells the recorder when it reaches an instruction ({@link StateRecorder.visit}),
 * pushes a path for later ({@link StateRecorder.pushed}) and takes one up again
 * ({@link StateRecorder.popped}); def-sites come from comparing a register with what it
 * held at the previous instruction of the same path (registers are immutable values, so
 * a changed register is a different object).
 * @module
 */
import type { Scalar } from "./domain.ts";
import { formatRegister, formatSlot } from "./log.ts";
import { copyState, type Frame, type Reg, type Slot, type State } from "./state.ts";
import type { BaseType } from "./types.ts";
import { typeName } from "./types.ts";

/** Bounds and known bits of a value (a scalar, or a pointer's variable offset). */
export interface ValueBounds {
  readonly smin: bigint;
  readonly smax: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly s32min: number;
  readonly s32max: number;
  readonly u32min: number;
  readonly u32max: number;
  /** The tnum: bits set in `mask` are unknown, the others are those of `value`. */
  readonly tnum: { readonly value: bigint; readonly mask: bigint };
}

/** One register at one instruction on one path. */
export interface RegisterState {
  readonly regno: number;
  /** The base type (`scalar`, `ctx`, `map_value`, `pkt`, `stack`...). */
  readonly base: BaseType;
  /** The type as the kernel names it, with its flags (`map_value_or_null`, `rdonly_mem`). */
  readonly type: string;
  /** The kernel log's text of it (`scalar(smin=...)`, `fp-8`, `pkt(off=14,r=14)`). */
  readonly text: string;
  /** Scalars: the value's bounds. Pointers: the bounds of the variable part of the offset. */
  readonly bounds: ValueBounds;
  /** The value when a scalar is known exactly (unsigned 64-bit). */
  readonly constant?: bigint;
  /** Pointers: the fixed offset. */
  readonly off: number;
  /** Shared by copies (a null or bounds check on one applies to all); 0 = none. */
  readonly id: number;
  /** The reference this pointer holds (ringbuf record, socket); 0 = none. */
  readonly refObjId: number;
  /** Packet pointers: bytes known to be in the packet (-1 at pkt_end, -2 beyond it). */
  readonly range?: number;
  /** Map pointers and map values: the map (its index in the program's maps). */
  readonly map?: {
    readonly index: number;
    readonly name: string;
    readonly keySize: number;
    readonly valueSize: number;
  };
  /** mem pointers: the size of the memory. */
  readonly memSize?: number;
  /** Stack pointers: the frame they point into. */
  readonly frameno?: number;
  /** The instruction that last set this register on this path; -1 = on entry. */
  readonly definedAt: number;
}

/** One 8-byte stack slot that holds something. */
export interface StackSlotState {
  /** The slot's lowest offset from the frame pointer (-8, -16, ...). */
  readonly offset: number;
  /**
   * Each byte from the highest address down, as the log prints them: `?` never
   * written, `m` written with an unknown value, `0` zero, `r` part of a spilled register.
   */
  readonly bytes: string;
  /** The register spilled there. */
  readonly spilled?: RegisterState;
  /** The kernel log's text of it (`mmmmmmmm`, `0`, `scalar(...)`). */
  readonly text: string;
}

/** One call frame. */
export interface FrameState {
  readonly frameno: number;
  /** The instruction of the call that made it (-1 for the main program). */
  readonly callsite: number;
  /** The registers that hold a value (others are not initialised). */
  readonly registers: readonly RegisterState[];
  readonly stack: readonly StackSlotState[];
}

/** The state before one instruction, on one path. */
export interface InsnState {
  readonly insn: number;
  /** Innermost frame last. */
  readonly frames: readonly FrameState[];
  /** Acquired references not yet released (ids). */
  readonly refs: readonly number[];
}

/** Every recorded state, by instruction. */
export interface VerifierStates {
  /** `byInsn[i]`: the states instruction i was reached with, in walk order. */
  readonly byInsn: readonly (readonly InsnState[])[];
  /** How many times an instruction was reached (recorded or not). */
  readonly visits: number;
  /** True when the limits left some visits out. */
  readonly truncated: boolean;
}

/** Options of the recording: `{ states: true }` or limits. */
export interface StatesOptions {
  /** The most states kept per instruction (default 16). */
  readonly maxPerInsn?: number;
  /** The most visits kept in all, path history included (default 200,000). */
  readonly maxVisits?: number;
}

/** One instruction reached on one path. */
export interface Visit {
  readonly pc: number;
  /** The state before the instruction (a copy). */
  readonly state: State;
  /** Def-sites per frame, per register. */
  readonly defs: readonly (readonly number[])[];
  /** The previous instruction on the same path. */
  readonly prev: Visit | undefined;
}

/** Records the walk (see the module comment). */
export class StateRecorder {
  /** The visit of the instruction being run on the current path. */
  current: Visit | undefined;
  private readonly saved = new Map<State, Visit | undefined>();
  readonly byInsn: Visit[][];
  visits = 0;
  truncated = false;
  private readonly maxPerInsn: number;
  private readonly maxVisits: number;

  constructor(insnCount: number, opts: StatesOptions = {}) {
    this.byInsn = Array.from({ length: insnCount }, () => []);
    this.maxPerInsn = opts.maxPerInsn ?? 16;
    this.maxVisits = opts.maxVisits ?? 200_000;
  }

  /** Instruction `pc` is about to run on `state`. */
  visit(pc: number, state: State): void {
    this.visits++;
    if (this.visits > this.maxVisits) {
      this.truncated = true;
      this.current = undefined;
      return;
    }
    const prev = this.current;
    const v: Visit = { pc, state: copyState(state), defs: defsAfter(prev, state), prev };
    this.current = v;
    const list = this.byInsn[pc];
    if (list && list.length < this.maxPerInsn) list.push(v);
    else this.truncated = true;
  }

  /** `state` was pushed to be explored later, from the current instruction. */
  pushed(state: State): void {
    this.saved.set(state, this.current);
  }

  /** `state`, pushed before, is taken up again. */
  popped(state: State): void {
    this.current = this.saved.get(state);
    this.saved.delete(state);
  }

  /** The recorded states as typed objects. */
  result(): VerifierStates {
    return {
      byInsn: this.byInsn.map((l) => l.map(snapshot)),
      visits: this.visits,
      truncated: this.truncated,
    };
  }
}

/** Def-sites at `now`, from those of the previous instruction on the path. */
function defsAfter(prev: Visit | undefined, now: State): number[][] {
  if (!prev) return now.frames.map((f) => f.regs.map(() => -1));
  const before = prev.state.frames;
  const out: number[][] = [];
  for (let fi = 0; fi < now.frames.length; fi++) {
    const f = now.frames[fi] as Frame;
    const old = before[fi];
    const oldDefs = prev.defs[fi];
    if (!old || !oldDefs || old.callsite !== f.callsite) {
      // A new frame: arguments keep their caller's def-sites, the rest start at the call.
      const caller = prev.defs[fi - 1];
      out.push(
        f.regs.map((_, r) => (r >= 1 && r <= 5 && caller ? (caller[r] as number) : prev.pc)),
      );
      continue;
    }
    const d = oldDefs.slice();
    for (let r = 0; r < f.regs.length; r++) if (f.regs[r] !== old.regs[r]) d[r] = prev.pc;
    // Back from a call: r0 was set where the callee set it.
    if (before.length > now.frames.length && fi === now.frames.length - 1) {
      const callee = prev.defs[fi + 1];
      if (callee && f.regs[0] === before[fi + 1]?.regs[0]) d[0] = callee[0] as number;
    }
    out.push(d);
  }
  return out;
}

function bounds(s: Scalar): ValueBounds {
  return {
    smin: s.smin,
    smax: s.smax,
    umin: s.umin,
    umax: s.umax,
    s32min: s.s32min,
    s32max: s.s32max,
    u32min: s.u32min,
    u32max: s.u32max,
    tnum: { value: s.varOff.value, mask: s.varOff.mask },
  };
}

/** One register as a typed object. */
export function registerState(
  r: Reg,
  regno: number,
  definedAt: number,
  frameno = 0,
): RegisterState {
  const isPkt = r.type === "pkt" || r.type === "pkt_meta";
  return {
    regno,
    base: r.type,
    type: r.type === "scalar" ? "scalar" : typeName(r.type, r.flags),
    text: formatRegister(r, frameno),
    bounds: bounds(r.s),
    ...(r.type === "scalar" && r.s.varOff.mask === 0n ? { constant: r.s.varOff.value } : {}),
    off: r.off,
    id: r.id,
    refObjId: r.refObjId,
    ...(isPkt ? { range: r.range } : {}),
    ...(r.map
      ? {
          map: {
            index: r.map.index,
            name: r.map.name,
            keySize: r.map.keySize,
            valueSize: r.map.valueSize,
          },
        }
      : {}),
    ...(r.type === "mem" ? { memSize: r.memSize } : {}),
    ...(r.type === "stack" ? { frameno: r.frameno } : {}),
    definedAt,
  };
}

function slotState(s: Slot, i: number, frameno: number): StackSlotState | undefined {
  const text = formatSlot(s, frameno);
  if (text === undefined) return undefined;
  return {
    offset: -8 * (i + 1),
    bytes: s.bytes.join(""),
    ...(s.spilled ? { spilled: registerState(s.spilled, -1, -1, frameno) } : {}),
    text,
  };
}

/** A visit as typed objects. */
export function snapshot(v: Visit): InsnState {
  return {
    insn: v.pc,
    frames: v.state.frames.map((f, fi) => ({
      frameno: f.frameno,
      callsite: f.callsite,
      registers: f.regs.flatMap((r, regno) =>
        r.type === "not_init"
          ? []
          : [registerState(r, regno, v.defs[fi]?.[regno] ?? -1, f.frameno)],
      ),
      stack: f.stack.flatMap((s, i) => {
        const st = slotState(s, i, f.frameno);
        return st ? [st] : [];
      }),
    })),
    refs: v.state.refs.map((r) => r.id),
  };
}
