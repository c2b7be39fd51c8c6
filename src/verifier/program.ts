/**
 * The program as the verifier sees it before walking it: instructions by slot (an
 * `lddw` takes two), subprograms, and the structural checks the kernel makes first
 * (`check_subprogs`, `check_cfg`): jumps that leave the program or land inside an
 * `lddw`, a last instruction that falls off the end, unreachable instructions.
 * @module
 */
import type { Instruction } from "../isa/index.ts";
import { BPF_PSEUDO_FUNC } from "../uapi/index.ts";
import { VerifyFailure } from "./failure.ts";

/** Instructions by slot: the second slot of an lddw is `undefined`. */
export type Slots = readonly (Instruction | undefined)[];

export function toSlots(insns: readonly Instruction[]): (Instruction | undefined)[] {
  const out: (Instruction | undefined)[] = [];
  for (const i of insns) {
    out.push(i);
    if (i.bytes === 16) out.push(undefined);
  }
  return out;
}

/** Where a jump or call at `pc` goes. */
export function jumpTarget(insn: Instruction, pc: number): number {
  if (insn.kind === "goto" && insn.long) return pc + insn.imm + 1;
  if (insn.kind === "call") return pc + insn.imm + 1;
  return pc + insn.off + 1;
}

export const isBpfCall = (i: Instruction | undefined): boolean =>
  i?.kind === "call" && i.target === "bpf";

/**
 * The subprograms' first instructions, sorted, starting with 0: targets of bpf-to-bpf
 * calls and of `ld_imm64` function pointers (the kernel's add_subprog).
 */
export function findSubprogs(slots: Slots): number[] {
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < slots.length; pc++) {
    const i = slots[pc];
    if (!i) continue;
    let target: number | undefined;
    if (isBpfCall(i)) target = jumpTarget(i, pc);
    else if (i.kind === "lddw" && i.pseudo === BPF_PSEUDO_FUNC) target = pc + i.imm + 1;
    if (target === undefined) continue;
    if (target < 0 || target >= slots.length)
      throw new VerifyFailure(pc, ["call to invalid destination"]);
    starts.add(target);
  }
  return [...starts].sort((a, b) => a - b);
}

/** The kernel's check_subprogs: jumps stay in their subprogram; each ends with exit or a jump. */
export function checkSubprogs(slots: Slots, subprogs: readonly number[]): void {
  for (let s = 0; s < subprogs.length; s++) {
    const start = subprogs[s] as number;
    const end = (subprogs[s + 1] ?? slots.length) as number;
    for (let pc = start; pc < end; pc++) {
      const i = slots[pc];
      if (!i) continue;
      if (i.kind === "jump" || i.kind === "goto" || i.kind === "may_goto") {
        const t = jumpTarget(i, pc);
        if (t < start || t >= end)
          throw new VerifyFailure(pc, [`jump out of range from insn ${pc} to ${t}`]);
      }
    }
    const last = end - 1;
    const li = slots[last];
    if (li?.kind !== "exit" && li?.kind !== "goto")
      throw new VerifyFailure(last, ["last insn is not an exit or jmp"]);
  }
}

/**
 * The kernel's check_cfg: a depth-first walk from the first instruction; a jump into
 * the second half of an lddw, or an instruction no path reaches, is an error.
 */
export function checkCfg(slots: Slots, subprogs: readonly number[]): void {
  const seen = new Uint8Array(slots.length);
  const work = [...subprogs];
  for (const s of subprogs) seen[s] = 1;
  const visit = (from: number, to: number) => {
    if (to < 0 || to >= slots.length)
      throw new VerifyFailure(from, [`jump out of range from insn ${from} to ${to}`]);
    if (slots[to] === undefined)
      throw new VerifyFailure(from, [`jump into the middle of ldimm64 insn ${to - 1}`]);
    if (!seen[to]) {
      seen[to] = 1;
      work.push(to);
    }
  };
  while (work.length > 0) {
    const pc = work.pop() as number;
    const i = slots[pc] as Instruction;
    const next = pc + (i.bytes === 16 ? 2 : 1);
    switch (i.kind) {
      case "exit":
        break;
      case "goto":
        visit(pc, jumpTarget(i, pc));
        break;
      case "jump":
      case "may_goto":
        visit(pc, next);
        visit(pc, jumpTarget(i, pc));
        break;
      default:
        if (next >= slots.length) break; // checkSubprogs reports falling off the end
        visit(pc, next);
    }
  }
  for (let pc = 0; pc < slots.length; pc++)
    if (slots[pc] !== undefined && !seen[pc])
      throw new VerifyFailure(pc, [`unreachable insn ${pc}`]);
}
