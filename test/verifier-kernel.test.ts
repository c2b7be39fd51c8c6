/**
 * tsbpf's verifier against the kernel's (issue 11): the same programs judged by both —
 * the VM differential generator's random programs, mutants of them (a check dropped, an
 * offset shifted, a size changed...), and every program of the repository's objects —
 * must get the same verdict, and a rejection the same error line at the same
 * instruction. Soundness first: a program the kernel rejects that tsbpf accepts fails
 * the test outright. The verifier follows Linux 6.18 (messages and features move
 * between versions), so other kernels skip.
 *
 * TSBPF_VERIFIER_PROGRAMS sets how many random programs (each with MUTANTS mutants).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Rng } from "../fuzz/rng.ts";
import { type LabelledCase, mutate, objectCases, randomCases } from "../fuzz/verifier-mutants.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { verifyCase } from "../src/verifier/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";

const MODEL_KERNEL = "6.18";
const versionSkip: string | false = release().startsWith(`${MODEL_KERNEL}.`)
  ? false
  : `the verifier follows Linux ${MODEL_KERNEL}; this kernel is ${release()}`;

const PROGRAMS = Number(process.env.TSBPF_VERIFIER_PROGRAMS ?? 60);
const MUTANTS = 6;

interface Tally {
  cases: number;
  agree: number;
  kernelRejects: number;
  sameLine: number;
  /** The kernel failed after verifying (its "verifier bug" EFAULTs): no verdict to compare. */
  kernelFaults: number;
  unsound: string[];
  differ: string[];
}

function judge(cases: readonly LabelledCase[]): Tally {
  const t: Tally = {
    cases: 0,
    agree: 0,
    kernelRejects: 0,
    sameLine: 0,
    kernelFaults: 0,
    unsound: [],
    differ: [],
  };
  for (const { label, case: c } of cases) {
    const k = kernelVerdict(c);
    if (!k.accepted && k.errorLine?.startsWith("verifier bug")) {
      t.kernelFaults++;
      continue;
    }
    const v = verifyCase(c);
    t.cases++;
    const what = `${label}: kernel ${k.accepted ? "verified" : `insn ${k.insn}: ${k.errorLine}`}; tsbpf ${v.accepted ? "verified" : `insn ${v.error?.insn}: ${v.error?.message}`}`;
    if (k.accepted === v.accepted) t.agree++;
    else if (!k.accepted) t.unsound.push(what);
    else t.differ.push(what);
    if (!k.accepted) {
      t.kernelRejects++;
      if (!v.accepted && v.error?.message === k.errorLine && v.error?.insn === k.insn) t.sameLine++;
      else if (!v.accepted) t.differ.push(what);
    }
  }
  return t;
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(of, 1)).toFixed(1)}%`;

describe("the verifier against the kernel's", { skip: needs(kernelSkip, versionSkip) }, () => {
  test(`random programs and ${MUTANTS} mutants each (${PROGRAMS} programs)`, (t) => {
    const base = randomCases(11, PROGRAMS);
    const rng = new Rng(11);
    const cases: LabelledCase[] = [...base];
    for (const b of base)
      for (let i = 0; i < MUTANTS; i++) {
        const m = mutate(b.case, rng);
        if (m) cases.push({ label: `${b.label}/${m.mutation}`, case: m.case });
      }
    const r = judge(cases);
    t.diagnostic(
      `${r.cases} cases (${r.kernelFaults} kernel faults left out): verdict ${r.agree}/${r.cases} (${pct(r.agree, r.cases)}), error line and insn ${r.sameLine}/${r.kernelRejects} rejections (${pct(r.sameLine, r.kernelRejects)})`,
    );
    for (const d of r.differ.slice(0, 10)) t.diagnostic(`differs: ${d}`);
    assert.deepEqual(r.unsound, [], "programs the kernel rejects that tsbpf accepts");
    assert.ok(r.agree >= r.cases * 0.97, `verdicts agree on ${pct(r.agree, r.cases)} (goal 97%)`);
    assert.ok(
      r.sameLine >= r.kernelRejects * 0.85,
      `error lines match on ${pct(r.sameLine, r.kernelRejects)}`,
    );
  });

  test("every program of the examples' objects", (t) => {
    const root = join(import.meta.dirname, "../examples");
    const cases: LabelledCase[] = [];
    for (const dir of readdirSync(root))
      for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith(".bpf.o"))) {
        const path = join(root, dir, f);
        cases.push(
          ...objectCases(loadCollectionSpec(readFileSync(path)), `examples/${dir}/${f}`).cases,
        );
      }
    const r = judge(cases);
    t.diagnostic(`${r.cases} programs: verdict ${r.agree}/${r.cases}`);
    for (const d of r.differ) t.diagnostic(`differs: ${d}`);
    assert.deepEqual(r.unsound, []);
  });
});
