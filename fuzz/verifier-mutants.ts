/**
 * The differential corpus for tsbpf's verifier (issue 11, Tests): programs as
 * {@link VerifierCase} values — the VM differential generator's random programs
 * (test/vm-random-programs.ts), the programs of every committed test and example
 * object — and mutants of them that a verifier must judge as the kernel does: a null
 * check after a call dropped, a register-register bounds check dropped, any check
 * dropped, inverted or always taken, a memory offset shifted, an access size changed, a
 * base register swapped, an initialisation removed, an immediate pushed to a boundary.
 *
 * Every mutation edits one instruction in place (lddw pairs are left whole), so jump
 * targets and map references stay valid and the kernel judges the program, not its
 * layout. Deterministic: the same seed gives the same cases.
 *
 * scripts/verifier-mutants.ts runs the kernel on them; test/verifier-mutants.test.ts
 * checks the generator.
 * @module
 */

import { encodeProgram } from "../src/isa/index.ts";
import { INSN_SIZE } from "../src/uapi/index.ts";
import type { CaseFunc, VerifierCase } from "../src/verifier/case.ts";
import { seededRandom } from "../src/vm/random.ts";
import { funcInfoFor, randomProgram } from "../test/vm-random-programs.ts";
import { Rng } from "./rng.ts";

export { type LabelledCase, objectCases } from "../src/verifier/object-cases.ts";

import type { LabelledCase } from "../src/verifier/object-cases.ts";

/** The kinds of mutation {@link mutate} makes. */
export const MUTATIONS = [
  "drop-null-check",
  "drop-bounds-check",
  "drop-check",
  "invert-check",
  "take-check",
  "check-imm",
  "shift-offset",
  "change-size",
  "swap-base",
  "drop-insn",
  "alu-imm",
  "swap-reg",
] as const;
/** One kind of {@link MUTATIONS}. */
export type Mutation = (typeof MUTATIONS)[number];

const LDDW = 0x18;

/**
 * `count` random programs of the VM differential generator with seed `seed`, as cases:
 * the maps' fds stand as their indexes (lddw src_reg 1, imm i = maps[i]), subprograms
 * and callbacks get func_info records.
 */
export function randomCases(seed: number, count: number): LabelledCase[] {
  const rand = seededRandom(seed);
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const p = randomProgram(rand);
    const insns = p.build(p.maps.map((_, idx) => idx));
    const info = funcInfoFor(insns);
    const funcs: CaseFunc[] = [];
    if (info?.funcInfo) {
      const v = new DataView(info.funcInfo.buffer, info.funcInfo.byteOffset);
      for (let o = 0; o < info.funcInfo.length; o += 8) {
        funcs.push({ insnOff: v.getUint32(o, true), linkage: "static" });
      }
    }
    out.push({
      label: `random:${seed}:${i}`,
      case: {
        name: `random_${i}`,
        progType: p.type,
        progFlags: 0,
        license: "GPL",
        insns: encodeProgram(insns),
        maps: p.maps.map((m) => ({ spec: { ...m.spec, flags: m.spec.flags ?? 0 } })),
        funcs,
      },
    });
  }
  return out;
}

/** Instruction classes and fields, for the mutations. */
const cls = (op: number) => op & 7;
const isMem = (op: number) =>
  (cls(op) === 1 && ((op & 0xe0) === 0x60 || (op & 0xe0) === 0x80)) ||
  ((cls(op) === 2 || cls(op) === 3) && (op & 0xe0) === 0x60);
const isCondJump = (op: number) =>
  (cls(op) === 5 || cls(op) === 6) && ![0x00, 0x80, 0x90, 0xe0].includes(op & 0xf0);
const isAluImm = (op: number) =>
  (cls(op) === 4 || cls(op) === 7) && (op & 0x08) === 0 && (op & 0xf0) !== 0xd0;
/** jeq<->jne, jgt<->jle, jge<->jlt, jsgt<->jsle, jsge<->jslt (jset has no inverse here). */
const INVERSE: Record<number, number> = {
  16: 0x50,
  80: 0x10,
  32: 0xb0,
  176: 0x20,
  48: 0xa0,
  160: 0x30,
  96: 0xd0,
  208: 0x60,
  112: 0xc0,
  192: 0x70,
};
const BOUNDARY = [0, 1, -1, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 4096, 0x7fffffff, -0x80000000];
const OFFSETS = [-512, -64, -16, -8, -4, -1, 1, 2, 4, 8, 16, 64, 4096];

/**
 * `count` random programs from `seed` and `mutants` mutants of each (labelled
 * `BASE/MUTATION`), the mutations drawn from one Rng seeded with `seed`: the corpus
 * the campaign, the verifier bench and the wording test judge.
 */
export function casesWithMutants(seed: number, count: number, mutants: number): LabelledCase[] {
  const base = randomCases(seed, count);
  const rng = new Rng(seed);
  const out: LabelledCase[] = [...base];
  for (const b of base)
    for (let i = 0; i < mutants; i++) {
      const m = mutate(b.case, rng);
      if (m) out.push({ label: `${b.label}/${m.mutation}`, case: m.case });
    }
  return out;
}

/**
 * One mutant of `c`: a mutation of `kind` (or a random kind that applies) at a random
 * instruction it applies to, or undefined when none applies. The label says what was
 * done and where (`shift-offset@12`).
 */
export function mutate(
  c: VerifierCase,
  rng: Rng,
  kind?: Mutation,
): { case: VerifierCase; mutation: string } | undefined {
  const count = c.insns.length / INSN_SIZE;
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    slots.push(i);
    if (c.insns[i * INSN_SIZE] === LDDW) i++;
  }
  const kinds = kind ? [kind] : shuffled([...MUTATIONS], rng);
  for (const k of kinds) {
    const candidates = slots.filter((i) => applies(k, c.insns, i));
    if (candidates.length === 0) continue;
    const at = rng.pick(candidates);
    const insns = c.insns.slice();
    apply(k, insns, at, rng);
    if (sameBytes(insns, c.insns)) continue;
    return { case: { ...c, insns }, mutation: `${k}@${at}` };
  }
  return undefined;
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A helper or function call in the `window` slots before slot `i`. */
function callBefore(insns: Uint8Array, i: number, window: number): boolean {
  for (let j = Math.max(0, i - window); j < i; j++) if (insns[j * INSN_SIZE] === 0x85) return true;
  return false;
}

function applies(k: Mutation, insns: Uint8Array, i: number): boolean {
  const op = insns[i * INSN_SIZE] as number;
  if (op === LDDW) return false;
  const imm = new DataView(insns.buffer, insns.byteOffset + i * INSN_SIZE + 4, 4).getInt32(0, true);
  switch (k) {
    case "drop-null-check":
      // if rX == 0 / != 0 soon after a call: the check of a lookup's or reserve's result
      return (
        isCondJump(op) &&
        (op & 0x08) === 0 &&
        ((op & 0xf0) === 0x10 || (op & 0xf0) === 0x50) &&
        imm === 0 &&
        callBefore(insns, i, 4)
      );
    case "drop-bounds-check":
      // a register compared with a register by size (packet end, a loaded bound)
      return isCondJump(op) && (op & 0x08) !== 0 && [0x20, 0x30, 0xa0, 0xb0].includes(op & 0xf0);
    case "drop-check":
    case "take-check":
      return isCondJump(op);
    case "invert-check":
      return isCondJump(op) && INVERSE[op & 0xf0] !== undefined;
    case "check-imm":
      return isCondJump(op) && (op & 0x08) === 0;
    case "shift-offset":
    case "change-size":
    case "swap-base":
      return isMem(op);
    case "drop-insn":
      return op !== 0 && op !== 0x05;
    case "alu-imm":
      return isAluImm(op);
    case "swap-reg":
      return cls(op) === 4 || cls(op) === 7 || cls(op) === 1 || cls(op) === 3;
  }
}

function apply(k: Mutation, insns: Uint8Array, i: number, rng: Rng): void {
  const at = i * INSN_SIZE;
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const op = v.getUint8(at);
  const regs = v.getUint8(at + 1);
  const nop = () => {
    for (let j = 0; j < INSN_SIZE; j++) insns[at + j] = 0;
    insns[at] = 0x05; // ja +0
  };
  switch (k) {
    case "drop-null-check":
    case "drop-bounds-check":
    case "drop-check":
    case "drop-insn":
      nop();
      return;
    case "take-check": {
      const off = v.getInt16(at + 2, true);
      nop();
      v.setInt16(at + 2, off, true);
      return;
    }
    case "invert-check":
      v.setUint8(at, (op & 0x0f) | (INVERSE[op & 0xf0] as number));
      return;
    case "check-imm":
    case "alu-imm": {
      const imm = v.getInt32(at + 4, true);
      v.setInt32(at + 4, rng.chance(0.5) ? imm + rng.pick([-1, 1]) : rng.pick(BOUNDARY), true);
      return;
    }
    case "shift-offset": {
      const off = v.getInt16(at + 2, true) + rng.pick(OFFSETS);
      v.setInt16(at + 2, Math.max(-32768, Math.min(32767, off)), true);
      return;
    }
    case "change-size": {
      const sizes = [0x00, 0x08, 0x10, 0x18].filter((s) => s !== (op & 0x18));
      v.setUint8(at, (op & ~0x18) | rng.pick(sizes));
      return;
    }
    case "swap-base": {
      // the base is src for loads, dst for stores
      const r = rng.below(11);
      v.setUint8(at + 1, cls(op) === 1 ? (regs & 0x0f) | (r << 4) : (regs & 0xf0) | r);
      return;
    }
    case "swap-reg": {
      const r = rng.below(11);
      v.setUint8(at + 1, rng.chance(0.5) ? (regs & 0x0f) | (r << 4) : (regs & 0xf0) | r);
      return;
    }
  }
}
