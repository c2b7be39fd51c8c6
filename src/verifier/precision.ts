/**
 * Precision tracking, as Linux does it (`mark_chain_precision`, `backtrack_insn`,
 * `propagate_precision`): a checkpoint compares only the scalars some safety check
 * depended on, so paths that differ in a return code or a flag nobody tested still
 * prune each other.
 *
 * Where a check uses a scalar's value (a decided branch, pointer arithmetic, a helper's
 * size argument, the program's return value...), the verifier walks the current path
 * backwards from that instruction, following the value to the instructions that made it
 * (a move moves the demand to its source, a fill to the stack slot, a call's arguments to
 * the caller's registers), and marks it "precise" in every checkpoint it passes. A
 * checkpoint later prunes a path only where its precise scalars cover the path's; others
 * must merely be scalars. When a path is pruned, the old state's precise set is
 * propagated into the current path the same way, since the pruned path relied on it.
 *
 * What the walk cannot follow (callbacks, legacy packet loads, stores through a scalar)
 * ends it as the kernel ends it: every scalar of every checkpoint of the path is marked
 * precise (mark_all_scalars_precise), which is always sound.
 * @module
 */
import type { Instruction } from "../isa/index.ts";
import { jumpTarget, type Slots } from "./program.ts";
import type { State } from "./state.ts";

/**
 * A register or stack slot of one frame, as one number: frame * 128 + register (0-10),
 * or frame * 128 + 11 + slot index (the slot at fp-8*(i+1)).
 */
export type Loc = number;
export const regLoc = (frame: number, r: number): Loc => frame * 128 + r;
export const slotLoc = (frame: number, spi: number): Loc => frame * 128 + 11 + spi;
const frameOf = (l: Loc) => l >> 7;
const indexOf = (l: Loc) => l & 127;

/** What backtracking needs to know about one executed instruction beyond its opcode. */
export interface TrailNote {
  /** A register spill or fill: the stack slot it wrote or read. */
  stack?: Loc;
  /** A conditional jump: every scalar sharing an id with its operands (their bounds moved together). */
  linked?: Loc[];
  /** Part of a callback's entry or return: the walk stops here. */
  hard?: boolean;
}

/** The instructions one path executed since its last checkpoint, in order. */
export class Trail {
  constructor(
    readonly pcs: number[] = [],
    /** Notes by index into `pcs` (made on the first note: most trails have none). */
    private notes?: Map<number, TrailNote>,
  ) {}

  push(pc: number): void {
    this.pcs.push(pc);
  }

  /** Adds to the note of the last instruction. */
  note(n: TrailNote): void {
    const i = this.pcs.length - 1;
    this.notes ??= new Map();
    const old = this.notes.get(i);
    this.notes.set(i, old ? { ...old, ...n } : n);
  }

  /** The note of the instruction at index `i`, if any. */
  noteAt(i: number): TrailNote | undefined {
    return this.notes?.get(i);
  }

  copy(): Trail {
    return new Trail(this.pcs.slice(), this.notes && new Map(this.notes));
  }
}

/** A checkpoint as precision tracking sees it. */
export interface PreciseCheckpoint {
  readonly state: State;
  /** The instructions from the previous checkpoint up to this one. */
  readonly trail: Trail;
  /** Locations whose scalar this checkpoint compares by value. */
  readonly precise: Set<Loc>;
  readonly parent: PreciseCheckpoint | null;
}

/** The walk's view of the program. */
export interface Program {
  readonly slots: Slots;
  /** Whether the function starting at `insn` is global (verified on its own). */
  isGlobal(insn: number): boolean;
}

const GIVE_UP = -1;

/**
 * Marks `locs` (scalars of the current state) precise along the current path: its own
 * trail, then each checkpoint above it. `skipLast`: the trail's last instruction is the
 * one whose check asks (its own effect is not undone).
 */
export function markPrecise(
  prog: Program,
  locs: Iterable<Loc>,
  frame: number,
  trail: Trail,
  parent: PreciseCheckpoint | null,
  skipLast: boolean,
): void {
  const bt = new Set(locs);
  if (bt.size === 0) return;
  let t = trail;
  let above = parent;
  let skip = skipLast;
  for (;;) {
    for (let i = t.pcs.length - 1; i >= 0; i--) {
      if (skip) {
        skip = false;
        continue;
      }
      frame = backtrackInsn(prog, t.pcs[i] as number, t.noteAt(i), bt, frame);
      if (frame === GIVE_UP) {
        markAllPrecise(parent);
        return;
      }
      if (bt.size === 0) return;
    }
    if (!above) return;
    for (const l of [...bt]) {
      if (!isScalarAt(above.state, l) || above.precise.has(l)) bt.delete(l);
      else above.precise.add(l);
    }
    if (bt.size === 0) return;
    t = above.trail;
    above = above.parent;
  }
}

/** mark_all_scalars_precise: every scalar of every checkpoint from `cp` up. */
export function markAllPrecise(cp: PreciseCheckpoint | null): void {
  for (let c = cp; c; c = c.parent)
    c.state.frames.forEach((f, fi) => {
      f.regs.forEach((r, i) => {
        if (r.type === "scalar") c.precise.add(regLoc(fi, i));
      });
      f.stack.forEach((s, spi) => {
        if (s.spilled?.type === "scalar") c.precise.add(slotLoc(fi, spi));
      });
    });
}

/** The scalar `state` holds at `l`, if it holds one. */
export function isScalarAt(state: State, l: Loc): boolean {
  const f = state.frames[frameOf(l)];
  if (!f) return false;
  const k = indexOf(l);
  if (k < 11) return f.regs[k]?.type === "scalar";
  return f.stack[k - 11]?.spilled?.type === "scalar";
}

/** The scalars of `state` that `precise` names: what a pruned path relied on. */
export function preciseScalars(state: State, precise: Set<Loc>): Loc[] {
  return [...precise].filter((l) => isScalarAt(state, l));
}

function syncLinked(bt: Set<Loc>, linked: Loc[] | undefined): void {
  if (linked?.some((l) => bt.has(l))) for (const l of linked) bt.add(l);
}

/**
 * Undoes one instruction for the demand `bt` (backtrack_insn): the locations needed
 * before `pc` ran. Returns the frame before it (a return goes back into the callee, a
 * callee's first instruction back to the caller), or GIVE_UP.
 */
function backtrackInsn(
  prog: Program,
  pc: number,
  note: TrailNote | undefined,
  bt: Set<Loc>,
  frame: number,
): number {
  const insn = prog.slots[pc] as Instruction;
  const at = (r: number) => regLoc(frame, r);
  const argsWanted = () => [1, 2, 3, 4, 5].some((r) => bt.has(at(r)));
  if (note?.hard) return bt.size > 0 ? GIVE_UP : frame;
  syncLinked(bt, note?.linked);
  switch (insn.kind) {
    case "alu": {
      if (!bt.has(at(insn.dst))) return frame;
      if (insn.op === "mov" || insn.op === "movsx") {
        bt.delete(at(insn.dst));
        if (insn.source === "reg" && insn.src !== 10) bt.add(at(insn.src));
      } else if (insn.source === "reg") bt.add(at(insn.src));
      return frame;
    }
    case "endian":
    case "goto":
    case "may_goto":
      return frame;
    case "load":
      if (!bt.has(at(insn.dst))) return frame;
      bt.delete(at(insn.dst));
      if (note?.stack !== undefined) bt.add(note.stack);
      return frame;
    case "store":
      // A scalar used as the address: pointer subtraction the walk cannot follow.
      if (bt.has(at(insn.dst))) return GIVE_UP;
      if (note?.stack === undefined || !bt.has(note.stack)) return frame;
      bt.delete(note.stack);
      if (insn.source === "reg") bt.add(at(insn.src));
      return frame;
    case "atomic":
      if (
        bt.has(at(insn.dst)) ||
        bt.has(at(insn.src)) ||
        bt.has(at(0)) ||
        (note?.stack !== undefined && bt.has(note.stack))
      )
        return GIVE_UP;
      return frame;
    case "lddw":
      bt.delete(at(insn.dst));
      return frame;
    case "jump":
      if (insn.source === "reg" && (bt.has(at(insn.dst)) || bt.has(at(insn.src)))) {
        bt.add(at(insn.dst));
        bt.add(at(insn.src));
      }
      syncLinked(bt, note?.linked);
      return frame;
    case "call": {
      if (insn.target === "bpf" && !prog.isGlobal(jumpTarget(insn, pc))) {
        // Back from the callee's first instruction to the call: its arguments are the
        // caller's r1-r5; nothing else of the callee's frame exists yet.
        for (const l of [...bt]) {
          if (frameOf(l) !== frame) continue;
          const k = indexOf(l);
          if (k < 1 || k > 5) return GIVE_UP;
          bt.delete(l);
          bt.add(regLoc(frame - 1, k));
        }
        return frame - 1;
      }
      if (insn.target === "kfunc") return bt.size > 0 ? GIVE_UP : frame;
      // A helper or a global function: r0 is its result; r1-r5 were clobbered.
      bt.delete(at(0));
      return argsWanted() ? GIVE_UP : frame;
    }
    case "exit": {
      // Back into a static callee from the instruction after its call: r0 is its r0.
      if (argsWanted()) return GIVE_UP;
      if (bt.delete(at(0))) bt.add(regLoc(frame + 1, 0));
      return frame + 1;
    }
    case "ld_abs":
    case "ld_ind":
      return bt.has(at(0)) || argsWanted() ? GIVE_UP : frame;
    default:
      return bt.size > 0 ? GIVE_UP : frame;
  }
}
