/**
 * Judging verifier cases two ways — by the running kernel and by tsbpf — and tallying
 * how they agree (issue 11): the verdict, and for a rejection the error line at the
 * same instruction. A program the kernel rejects that tsbpf accepts is a soundness
 * failure; one tsbpf rejects that the kernel accepts is stricter (a precision gap).
 * The kernel's own "verifier bug" failures give no verdict and are counted apart.
 * Used by test/verifier-kernel.test.ts and scripts/verifier-campaign.ts.
 * @module
 */
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { verifyCase } from "../src/verifier/index.ts";
import type { LabelledCase } from "../src/verifier/object-cases.ts";

/** Running counts over judged cases. */
export interface Tally {
  cases: number;
  agree: number;
  kernelRejects: number;
  /** Rejections where tsbpf gives the kernel's error line at the kernel's instruction. */
  sameLine: number;
  /** The kernel failed after verifying (its "verifier bug" EFAULTs): no verdict to compare. */
  kernelFaults: number;
  /** Cases the kernel could not be asked about (a map or BTF it refused to create). */
  unjudged: number;
  /** Kernel rejects, tsbpf accepts: each a soundness failure, described. */
  unsound: string[];
  /** Kernel accepts, tsbpf rejects. */
  stricter: string[];
  /** Both reject, with another line or instruction. */
  otherLine: string[];
}

export function emptyTally(): Tally {
  return {
    cases: 0,
    agree: 0,
    kernelRejects: 0,
    sameLine: 0,
    kernelFaults: 0,
    unjudged: 0,
    unsound: [],
    stricter: [],
    otherLine: [],
  };
}

/** Judges `cases` both ways into `t` (a new tally when absent) and returns it. */
export function judge(cases: Iterable<LabelledCase>, t: Tally = emptyTally()): Tally {
  for (const { label, case: c } of cases) {
    let k: ReturnType<typeof kernelVerdict>;
    try {
      k = kernelVerdict(c);
    } catch {
      t.unjudged++;
      continue;
    }
    if (!k.accepted && k.errorLine?.startsWith("verifier bug")) {
      t.kernelFaults++;
      continue;
    }
    const v = verifyCase(c);
    t.cases++;
    const what = `${label}: kernel ${k.accepted ? "verified" : `insn ${k.insn}: ${k.errorLine}`}; tsbpf ${v.accepted ? "verified" : `insn ${v.error?.insn}: ${v.error?.message}`}`;
    if (k.accepted === v.accepted) t.agree++;
    else if (!k.accepted) t.unsound.push(what);
    else t.stricter.push(what);
    if (!k.accepted) {
      t.kernelRejects++;
      if (!v.accepted && v.error?.message === k.errorLine && v.error?.insn === k.insn) t.sameLine++;
      else if (!v.accepted) t.otherLine.push(what);
    }
  }
  return t;
}

/** A percentage with one decimal, of a total that may be 0. */
export const pct = (n: number, of: number): string =>
  `${((100 * n) / Math.max(of, 1)).toFixed(1)}%`;

/** The one-line summary a run prints. */
export function summary(t: Tally): string {
  const out = t.unjudged ? `, ${t.unjudged} the kernel could not take` : "";
  return `${t.cases} cases (${t.kernelFaults} kernel faults left out${out}): verdict ${t.agree}/${t.cases} (${pct(t.agree, t.cases)}), kernel rejects and tsbpf accepts ${t.unsound.length}, tsbpf stricter ${t.stricter.length}; error line and insn ${t.sameLine}/${t.kernelRejects} rejections (${pct(t.sameLine, t.kernelRejects)})`;
}
