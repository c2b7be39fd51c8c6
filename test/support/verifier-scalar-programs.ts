/**
 * Random straight-line programs over scalars for comparing src/verifier/scalar.ts with
 * the kernel's verifier: each program makes two unknown scalars (r6, r7) and a 64-bit
 * constant (r8), applies random ALU operations and conditional jumps to them, and
 * records for every instruction what the model says the kernel will print for each
 * register there. The kernel's level-2 log is then parsed and compared text for text.
 *
 * Layout: `r6 = *(uN *)(r1 + 0)` (skb->len) or `call bpf_get_prandom_u32; r6 = r0`, then
 * `call ...; r7 = r0` or `r7 = K`, then `r8 = C ll`,
 * then the steps, then `exit_label: r0 = 0; exit`. A jump either leaves the path
 * (`if ... goto exit_label`, the path goes on falling through) or stays on it through
 * its taken side (`if ... goto +1; goto exit_label`).
 */

import { asm, type Instruction, R0, R1, R6, R7, R8, R10, type Reg } from "../../src/isa/index.ts";
import type { JumpOp } from "../../src/isa/instruction.ts";
import {
  checkScalarInvariants,
  coerceToSize,
  coerceToSizeSx,
  formatScalar,
  isBranchTaken,
  maybeForkScalars,
  refineBranch,
  type Scalar,
  type ScalarAluOp,
  scalarAlu,
  scalarConst,
  scalarEndian,
  scalarFromLoad,
  scalarMovsx,
  scalarUnknown,
} from "../../src/verifier/scalar.ts";

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the model expects the log to print for registers at one point. */
export interface Expectation {
  /**
   * Where: `insn` for the (first) line of instruction `at`, `last` for its last line,
   * `from` for "from at to target".
   */
  readonly where: "insn" | "last" | "from";
  readonly at: number;
  /** Register number → the model's text. */
  readonly regs: ReadonlyMap<number, string>;
  /** The step that produced it, for messages. */
  readonly what: string;
}

/** One generated program and what the model expects of it. */
export interface ScalarProgram {
  readonly insns: Instruction[];
  readonly text: string[];
  readonly expect: Expectation[];
}

const ALU_OPS: ScalarAluOp[] = [
  "add",
  "sub",
  "mul",
  "div",
  "sdiv",
  "mod",
  "smod",
  "and",
  "or",
  "xor",
  "lsh",
  "rsh",
  "arsh",
  "neg",
  "mov",
];
const JUMP_OPS: JumpOp[] = [
  "jeq",
  "jne",
  "jgt",
  "jge",
  "jlt",
  "jle",
  "jsgt",
  "jsge",
  "jslt",
  "jsle",
  "jset",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** A constant that exercises edges: small numbers, powers of two, sign boundaries. */
function interestingImm(r: () => number): number {
  const k = r();
  if (k < 0.35) return Math.floor(r() * 300) - 40;
  if (k < 0.6) {
    const p = 2 ** Math.floor(r() * 31);
    return (p + pick(r, [-1, 0, 1])) | 0;
  }
  if (k < 0.75) return pick(r, [0x7fffffff, -0x80000000, -1, 0xffff, 0x8000, 0x7fff, 0xff, 0x80]);
  return (Math.floor(r() * 2 ** 32) | 0) >> Math.floor(r() * 24);
}

function interestingU64(r: () => number): bigint {
  const k = r();
  if (k < 0.3) return BigInt.asUintN(64, BigInt(interestingImm(r)));
  if (k < 0.6) return (1n << BigInt(Math.floor(r() * 64))) + BigInt(pick(r, [-1, 0, 1]));
  const hi = BigInt(Math.floor(r() * 2 ** 32));
  const lo = BigInt(Math.floor(r() * 2 ** 32));
  return BigInt.asUintN(64, (hi << 32n) | lo);
}

const REGS: Record<number, Reg> = { 6: R6, 7: R7, 8: R8 };

/** Generates one program of up to `steps` operations from `seed`. */
export function generate(seed: number, steps: number): ScalarProgram {
  const r = rng(seed);
  const insns: Instruction[] = [];
  const text: string[] = [];
  const expect: Expectation[] = [];
  let slot = 0;
  const emit = (i: Instruction, t: string): number => {
    const at = slot;
    insns.push(i);
    text.push(`${at}: ${t}`);
    slot += i.bytes / 8;
    return at;
  };
  const state = new Map<number, Scalar>();
  const fmt = (n: number): string => formatScalar(state.get(n)!);
  const exitFixups: { index: number; at: number; make: (off: number) => Instruction }[] = [];

  if (r() < 0.25) {
    // a narrow or full load of skb->len: [0, 2^(8·size) - 1]
    const size = pick(r, [1, 2, 4] as const);
    const at = emit(
      asm.ldx((size * 8) as 8 | 16 | 32, R6, R1, 0),
      `r6 = *(u${size * 8} *)(r1 + 0)`,
    );
    state.set(6, scalarFromLoad(size));
    expect.push({ where: "insn", at, regs: new Map([[6, fmt(6)]]), what: text.at(-1)! });
  } else {
    emit(asm.call(7), "call bpf_get_prandom_u32");
    emit(asm.mov64(R6, R0), "r6 = r0");
    state.set(6, scalarUnknown());
  }
  if (r() < 0.6) {
    emit(asm.call(7), "call bpf_get_prandom_u32");
    emit(asm.mov64(R7, R0), "r7 = r0");
    state.set(7, scalarUnknown());
  } else {
    const k = interestingImm(r);
    emit(asm.mov64(R7, k), `r7 = ${k}`);
    state.set(7, scalarConst(BigInt(k)));
  }
  const c = interestingU64(r);
  emit(asm.lddw(R8, c), `r8 = ${c} ll`);
  state.set(8, scalarConst(c));

  let alive = true;
  for (let n = 0; n < steps && alive; n++) {
    const k = r();
    const dst = r() < 0.8 ? 6 : 7;
    const is64 = r() < 0.55;
    const w = is64 ? "r" : "w";
    if (k < 0.55) {
      // ALU with an immediate or a register
      const op = pick(r, ALU_OPS);
      if (op === "neg") {
        const at = emit(
          is64 ? asm.neg64(REGS[dst]!) : asm.neg32(REGS[dst]!),
          `${w}${dst} = -${w}${dst}`,
        );
        state.set(dst, scalarAlu("neg", state.get(dst)!, state.get(dst)!, is64));
        expect.push({ where: "insn", at, regs: new Map([[dst, fmt(dst)]]), what: text.at(-1)! });
        continue;
      }
      const useReg = op !== "mov" && r() < 0.35;
      let src: Scalar;
      let srcText: string;
      let insn: Instruction;
      const srcRegNo = r() < 0.1 ? dst : dst === 6 ? pick(r, [7, 8]) : 8;
      if (useReg) {
        src = state.get(srcRegNo)!;
        srcText = `${w}${srcRegNo}`;
        insn = (is64 ? asm.alu64 : asm.alu32)(op, REGS[dst]!, REGS[srcRegNo]!);
      } else {
        let imm = interestingImm(r);
        if (op === "lsh" || op === "rsh" || op === "arsh") imm = Math.floor(r() * (is64 ? 64 : 32));
        if ((op === "div" || op === "sdiv" || op === "mod" || op === "smod") && imm === 0) imm = 3;
        src = scalarConst(BigInt(imm));
        srcText = String(imm);
        insn = (is64 ? asm.alu64 : asm.alu32)(op, REGS[dst]!, imm);
      }
      const at = emit(insn, `${w}${dst} ${op}= ${srcText}`);
      const fork = maybeForkScalars(op, state.get(dst)!, src);
      if (fork) {
        // The kernel walks this instruction twice: first with dst -1 (this line),
        // then, from a pushed state, with dst 0 (the last line for it). The two paths
        // then run on together, so the comparison stops here.
        const [zero, ones] = fork;
        const first = formatScalar(scalarAlu(op, ones, src, is64));
        const last = formatScalar(scalarAlu(op, zero, src, is64));
        expect.push({
          where: "insn",
          at,
          regs: new Map([[dst, first]]),
          what: `${text.at(-1)!} (fork -1)`,
        });
        expect.push({
          where: "last",
          at,
          regs: new Map([[dst, last]]),
          what: `${text.at(-1)!} (fork 0)`,
        });
        alive = false;
        continue;
      }
      state.set(dst, scalarAlu(op, state.get(dst)!, src, is64));
      const regs = new Map([[dst, fmt(dst)]]);
      if (useReg) regs.set(srcRegNo, fmt(srcRegNo));
      expect.push({ where: "insn", at, regs, what: text.at(-1)! });
    } else if (k < 0.62) {
      const from = pick(r, is64 ? ([8, 16, 32] as const) : ([8, 16] as const));
      const at = emit(
        is64
          ? asm.movsx64(REGS[dst]!, REGS[dst]!, from)
          : asm.movsx32(REGS[dst]!, REGS[dst]!, from as 8 | 16),
        `${w}${dst} = (s${from})${w}${dst}`,
      );
      const before = fmt(dst);
      state.set(dst, scalarMovsx(state.get(dst)!, from, is64));
      expect.push({
        where: "insn",
        at,
        regs: new Map([[dst, fmt(dst)]]),
        what: `${text.at(-1)!} from ${before}`,
      });
    } else if (k < 0.57) {
      // a register move: it links the two registers (ids) in the kernel, which the
      // model leaves to the verifier's driver, so the comparison ends with it
      const src = dst === 6 ? 7 : 6;
      const at = emit(
        (is64 ? asm.mov64 : asm.mov32)(REGS[dst]!, REGS[src]!),
        `${w}${dst} = ${w}${src}`,
      );
      state.set(dst, scalarAlu("mov", state.get(dst)!, state.get(src)!, is64));
      expect.push({ where: "insn", at, regs: new Map([[dst, fmt(dst)]]), what: text.at(-1)! });
      alive = false;
    } else if (k < 0.65) {
      // spill to the stack and fill back, narrower and maybe sign-extending (ldsx)
      const size = pick(r, [1, 2, 4] as const);
      const sx = r() < 0.5;
      const bits = (size * 8) as 8 | 16 | 32;
      emit(asm.stx(64, R10, -8, REGS[dst]!), `*(u64 *)(r10 -8) = r${dst}`);
      const at = emit(
        sx ? asm.ldxs(bits, REGS[dst]!, R10, -8) : asm.ldx(bits, REGS[dst]!, R10, -8),
        `r${dst} = *(${sx ? "s" : "u"}${bits} *)(r10 -8)`,
      );
      const before = fmt(dst);
      state.set(
        dst,
        sx ? coerceToSizeSx(state.get(dst)!, size) : coerceToSize(state.get(dst)!, size),
      );
      expect.push({
        where: "insn",
        at,
        regs: new Map([[dst, fmt(dst)]]),
        what: `${text.at(-1)!} from ${before}`,
      });
    } else if (k < 0.7) {
      const order = pick(r, ["le", "be", "swap"] as const);
      const bits = pick(r, [16, 32, 64] as const);
      const insn =
        order === "le"
          ? asm.le(REGS[dst]!, bits)
          : order === "be"
            ? asm.be(REGS[dst]!, bits)
            : asm.bswap(REGS[dst]!, bits);
      const at = emit(insn, `r${dst} = ${order}${bits} r${dst}`);
      state.set(dst, scalarEndian(state.get(dst)!, order, bits));
      expect.push({ where: "insn", at, regs: new Map([[dst, fmt(dst)]]), what: text.at(-1)! });
    } else {
      // conditional jump on r6 (or r7) against an immediate or the other register
      const op = pick(r, JUMP_OPS);
      const is32 = r() < 0.4;
      const a = dst;
      const useReg = r() < 0.35;
      const bReg = r() < 0.08 ? a : a === 6 ? pick(r, [7, 8]) : 8;
      const imm = interestingImm(r);
      const aS = state.get(a)!;
      const bS = useReg ? state.get(bReg)! : scalarConst(BigInt(imm));
      const follow = r() < 0.5 ? "taken" : "fall";
      const jw = is32 ? "w" : "r";
      const desc = `if ${jw}${a} ${op} ${useReg ? `${jw}${bReg}` : imm} (${follow})`;
      const mk = (off: number): Instruction =>
        useReg
          ? (is32 ? asm.jmp32 : asm.jmp)(op, REGS[a]!, REGS[bReg]!, off)
          : (is32 ? asm.jmp32 : asm.jmp)(op, REGS[a]!, imm, off);
      const same = useReg && bReg === a;
      const pred = isBranchTaken(op, aS, same ? aS : bS, is32);
      let at: number;
      let exitAt: number;
      if (follow === "fall") {
        at = emit(mk(0), desc);
        exitFixups.push({ index: insns.length - 1, at, make: mk });
        exitAt = -1;
      } else {
        at = emit(mk(1), desc);
        exitAt = emit(asm.ja(0), "goto exit");
        exitFixups.push({ index: insns.length - 1, at: exitAt, make: (off) => asm.ja(off) });
      }
      // One side as the kernel leaves it: refined, then each register checked (a
      // contradiction on a dead side resets its bounds, as reg_bounds_sanity_check).
      const side = (taken: boolean): [Scalar, Scalar] => {
        let [na, nb] = refineBranch(op, aS, bS, is32, taken, same);
        na = checkScalarInvariants(na, "reg1").scalar;
        nb = same
          ? checkScalarInvariants(na, "reg2").scalar
          : checkScalarInvariants(nb, "reg2").scalar;
        if (same) na = nb;
        return [na, nb];
      };
      const texts = ([na, nb]: [Scalar, Scalar]): Map<number, string> => {
        const regs = new Map([[a, formatScalar(na)]]);
        if (useReg && !same) regs.set(bReg, formatScalar(nb));
        return regs;
      };
      if (pred === -1) {
        expect.push({ where: "insn", at, regs: texts(side(false)), what: `${desc} fall-through` });
        expect.push({ where: "from", at, regs: texts(side(true)), what: `${desc} taken` });
        const [na, nb] = side(follow === "taken");
        if (useReg && !same) state.set(bReg, nb);
        state.set(a, na);
      } else if ((pred === 1) !== (follow === "taken")) {
        alive = false; // the path we follow is dead: the kernel does not walk it
      }
      void exitAt;
    }
  }
  const exitLabel = emit(asm.mov64(R0, 0), "exit_label: r0 = 0");
  emit(asm.exit(), "exit");
  for (const f of exitFixups) insns[f.index] = f.make(exitLabel - f.at - 1);
  return { insns, text, expect };
}

const SCALAR_TEXT = /R(\d+)=(P?(?:scalar\((?:[^()]|\([^()]*\))*\)|-?\w+))/g;

/** The registers a log line prints, by number, with ids and precision marks taken out. */
export function registersOf(line: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of line.matchAll(SCALAR_TEXT)) {
    let v = m[2]!;
    if (v.startsWith("P")) v = v.slice(1);
    v = v.replace(/id=\d+(?:[+-]\d+)?,?/, "").replace(",)", ")");
    out.set(Number(m[1]), v);
  }
  return out;
}

/** One disagreement between the model and the kernel's log. */
export interface Mismatch {
  readonly what: string;
  readonly reg: number;
  readonly model: string;
  readonly kernel: string;
}

/**
 * Compares the expectations with a level-2 log. Returns the mismatches and how many
 * register texts were compared (an expectation the log does not print is skipped).
 */
export function compare(
  prog: ScalarProgram,
  log: string,
): { compared: number; mismatches: Mismatch[] } {
  const lines = log.split("\n");
  const insnLine = new Map<number, string>();
  const lastLine = new Map<number, string>();
  const fromLine = new Map<number, string>();
  for (const l of lines) {
    let m = /^(\d+): \(/.exec(l);
    if (m) {
      const semi = l.indexOf(";");
      const at = Number(m[1]);
      const regs = semi >= 0 ? l.slice(semi) : "";
      if (!insnLine.has(at)) insnLine.set(at, regs);
      lastLine.set(at, regs);
      continue;
    }
    m = /^from (\d+) to \d+: (.*)$/.exec(l);
    if (m) fromLine.set(Number(m[1]), m[2]!);
  }
  let compared = 0;
  const mismatches: Mismatch[] = [];
  for (const e of prog.expect) {
    const line = (e.where === "insn" ? insnLine : e.where === "last" ? lastLine : fromLine).get(
      e.at,
    );
    if (line === undefined) continue;
    const got = registersOf(line);
    for (const [reg, model] of e.regs) {
      const kernel = got.get(reg);
      if (kernel === undefined) continue;
      compared++;
      if (kernel !== model) mismatches.push({ what: e.what, reg, model, kernel });
    }
  }
  return { compared, mismatches };
}
