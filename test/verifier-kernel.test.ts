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
import { judge, pct, summary } from "../fuzz/verifier-judge.ts";
import { type LabelledCase, mutate, objectCases, randomCases } from "../fuzz/verifier-mutants.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";

const MODEL_KERNEL = "6.18";
const versionSkip: string | false = release().startsWith(`${MODEL_KERNEL}.`)
  ? false
  : `the verifier follows Linux ${MODEL_KERNEL}; this kernel is ${release()}`;

const PROGRAMS = Number(process.env.TSBPF_VERIFIER_PROGRAMS ?? 60);
const MUTANTS = 6;

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
    t.diagnostic(summary(r));
    for (const d of [...r.stricter, ...r.otherLine].slice(0, 10)) t.diagnostic(`differs: ${d}`);
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
    for (const d of [...r.stricter, ...r.otherLine]) t.diagnostic(`differs: ${d}`);
    assert.deepEqual(r.unsound, []);
  });
});
