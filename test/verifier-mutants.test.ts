/**
 * fuzz/verifier-mutants.ts: random programs and object programs as CASE.json values,
 * and their mutants — deterministic, one instruction changed in place, lddw pairs and
 * map references intact — judged by the kernel without an fd left open.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { objectCorpus } from "../fuzz/mutate.ts";
import { Rng } from "../fuzz/rng.ts";
import { MUTATIONS, mutate, objectCases, randomCases } from "../fuzz/verifier-mutants.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { INSN_SIZE } from "../src/uapi/index.ts";
import { formatCase, parseCase } from "../src/verifier/case.ts";
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip, needs, vmModelSkip } from "./support/kernel.ts";

/** The random programs use what the VM models (ISA v4, Linux 6.4 and later). */
const kernelRandomSkip = needs(kernelSkip, !kernelSkip && vmModelSkip());

/** Indexes of the 8-byte slots where two byte arrays differ. */
function changedSlots(a: Uint8Array, b: Uint8Array): number[] {
  const out = new Set<number>();
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.add(Math.floor(i / INSN_SIZE));
  return [...out];
}

describe("verifier mutants", () => {
  test("random cases: deterministic, valid CASE.json, map references by index", () => {
    const a = randomCases(7, 5);
    const b = randomCases(7, 5);
    assert.deepEqual(
      a.map((c) => formatCase(c.case)),
      b.map((c) => formatCase(c.case)),
    );
    for (const c of a) {
      // parseCase checks every lddw map reference against the maps
      assert.deepEqual(parseCase(formatCase(c.case)), c.case);
      assert.equal(c.case.maps.length, 4);
    }
    assert.notEqual(formatCase(randomCases(8, 1)[0]?.case ?? a[0]!.case), formatCase(a[0]!.case));
  });

  test("each mutation changes one instruction, never half of an lddw", () => {
    const bases = randomCases(3, 4);
    const rng = new Rng(3);
    const seen = new Set<string>();
    for (const base of bases) {
      for (const kind of MUTATIONS) {
        const m = mutate(base.case, rng, kind);
        if (!m) continue;
        seen.add(kind);
        const [slot, ...more] = changedSlots(base.case.insns, m.case.insns);
        assert.equal(more.length, 0, m.mutation);
        assert.equal(m.mutation, `${kind}@${slot}`);
        assert.notEqual(base.case.insns[(slot as number) * INSN_SIZE], 0x18, m.mutation);
        if (slot !== undefined && slot > 0) {
          // not the second slot of an lddw either
          assert.notEqual(base.case.insns[(slot - 1) * INSN_SIZE], 0x18, m.mutation);
        }
        assert.deepEqual(parseCase(formatCase(m.case)).insns, m.case.insns);
      }
    }
    assert.deepEqual([...seen].sort(), [...MUTATIONS].sort());
  });

  test("object programs become cases; what cannot be one says why", () => {
    let cases = 0;
    const reasons = new Set<string>();
    for (const o of objectCorpus()) {
      let r: ReturnType<typeof objectCases>;
      try {
        r = objectCases(loadCollectionSpec(o.bytes), o.path);
      } catch {
        continue;
      }
      cases += r.cases.length;
      for (const s of r.skipped) reasons.add(s.reason.split(" ")[0] as string);
      for (const c of r.cases) assert.deepEqual(parseCase(formatCase(c.case)), c.case, c.label);
    }
    assert.ok(cases >= 20, `${cases} cases from the repository's objects`);
    assert.ok(reasons.size > 0);
  });

  test(
    "the kernel judges bases and mutants; mutants are rejected with error lines",
    { skip: kernelRandomSkip },
    () =>
      assertNoLeak(() => {
        const rng = new Rng(11);
        let accepted = 0;
        let rejected = 0;
        for (const base of randomCases(11, 8)) {
          const v = kernelVerdict(base.case);
          if (v.accepted) accepted++;
          for (const kind of ["take-check", "swap-base", "drop-insn"] as const) {
            const m = mutate(base.case, rng, kind);
            if (!m) continue;
            const mv = kernelVerdict(m.case);
            if (!mv.accepted) {
              rejected++;
              assert.ok(mv.errorLine, `${m.mutation}: ${mv.log.slice(-300)}`);
            }
          }
        }
        assert.ok(accepted >= 6, `${accepted} of 8 random programs accepted`);
        assert.ok(rejected >= 8, `${rejected} mutants rejected`);
      }),
  );
});
