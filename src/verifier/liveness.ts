/**
 * Which registers are live before each instruction: read on some path before being
 * written. A static backward analysis, as Linux 6.15+ computes it
 * (`compute_live_registers`, the "Live regs before insn" table of its log); state
 * pruning ignores dead registers, since nothing after can read them.
 * @module
 */
import type { Instruction } from "../isa/index.ts";
import { helperArgCount } from "./helper-protos.ts";
import { jumpTarget, type Slots } from "./program.ts";

const bit = (r: number) => 1 << r;
/** r0..r5: what a call writes or clobbers. */
const CALLER_SAVED = 0x3f;
const ARGS = 0x3e;

/** Registers `insn` reads (use) and writes (def), as bit masks. */
function useDef(insn: Instruction): [number, number] {
  switch (insn.kind) {
    case "alu":
      if (insn.op === "mov" || insn.op === "movsx")
        return [insn.source === "reg" ? bit(insn.src) : 0, bit(insn.dst)];
      return [bit(insn.dst) | (insn.source === "reg" ? bit(insn.src) : 0), bit(insn.dst)];
    case "endian":
      return [bit(insn.dst), bit(insn.dst)];
    case "load":
      return [bit(insn.src), bit(insn.dst)];
    case "store":
      return [bit(insn.dst) | (insn.source === "reg" ? bit(insn.src) : 0), 0];
    case "atomic": {
      if (insn.op === "load_acquire") return [bit(insn.src), bit(insn.dst)];
      if (insn.op === "store_release") return [bit(insn.dst) | bit(insn.src), 0];
      const use = bit(insn.dst) | bit(insn.src) | (insn.op === "cmpxchg" ? bit(0) : 0);
      const def = insn.fetch ? (insn.op === "cmpxchg" ? bit(0) : bit(insn.src)) : 0;
      return [use, def];
    }
    case "lddw":
      return [0, bit(insn.dst)];
    case "jump":
      return [bit(insn.dst) | (insn.source === "reg" ? bit(insn.src) : 0), 0];
    case "call": {
      const n = insn.target === "helper" ? helperArgCount(insn.imm) : 5;
      return [((1 << (n + 1)) - 1) & ARGS, CALLER_SAVED];
    }
    case "exit":
      return [bit(0), 0];
    case "ld_abs":
      return [bit(6), CALLER_SAVED];
    case "ld_ind":
      return [bit(6) | bit(insn.src), CALLER_SAVED];
    default:
      return [0, 0];
  }
}

/**
 * Each slot's successors within its function: a call goes on at the next instruction,
 * an exit has none.
 */
export function successors(slots: Slots): number[][] {
  const succ: number[][] = [];
  for (let pc = 0; pc < slots.length; pc++) {
    const i = slots[pc];
    const s: number[] = [];
    succ.push(s);
    if (!i) continue;
    const next = pc + (i.bytes === 16 ? 2 : 1);
    if (i.kind === "goto") s.push(jumpTarget(i, pc));
    else if (i.kind === "jump" || i.kind === "may_goto") s.push(next, jumpTarget(i, pc));
    else if (i.kind !== "exit") s.push(next);
  }
  return succ;
}

/** Live registers before each slot (a bit mask per slot; 0 for the second slot of lddw). */
export function liveRegisters(slots: Slots, succ: number[][] = successors(slots)): Uint16Array {
  const n = slots.length;
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  for (let pc = 0; pc < n; pc++) {
    const i = slots[pc];
    if (i) [use[pc], def[pc]] = useDef(i);
  }
  const live = new Uint16Array(n + 2);
  for (let changed = true; changed; ) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      if (!slots[pc]) continue;
      let out = 0;
      for (const t of succ[pc] as number[]) if (t < n) out |= live[t] as number;
      const inn = (use[pc] as number) | (out & ~(def[pc] as number));
      if (inn !== live[pc]) {
        live[pc] = inn;
        changed = true;
      }
    }
  }
  return live;
}
