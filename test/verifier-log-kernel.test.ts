/**
 * tsbpf's verifier log against the kernel's (issue 11, the log): named programs and
 * generated ones loaded into the host kernel at log levels 1 and 2, their logs compared
 * line by line with tsbpf's (test/support/verifier-log.ts drops what tsbpf leaves out by
 * design: precision and stack-liveness lines). The statistics line is compared apart:
 * its counts follow each verifier's own pruning. Linux 6.18 only (the text moves between
 * versions); other kernels skip.
 */
import assert from "node:assert/strict";
import { release } from "node:os";
import { describe, test } from "node:test";
import { Rng } from "../fuzz/rng.ts";
import { type LabelledCase, mutate, randomCases } from "../fuzz/verifier-mutants.ts";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import type { CaseMap, VerifierCase } from "../src/verifier/index.ts";
import { verifyCase } from "../src/verifier/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { compareLogs } from "./support/verifier-log.ts";

const versionSkip: string | false = release().startsWith("6.18.")
  ? false
  : `the log follows Linux 6.18; this kernel is ${release()}`;

const hash: CaseMap = {
  spec: { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, name: "h" },
};
const ringbuf: CaseMap = {
  spec: { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, name: "rb" },
};

function named(name: string, progType: ProgType, text: string, maps: CaseMap[] = []): VerifierCase {
  return {
    name,
    progType,
    progFlags: 0,
    license: "GPL",
    insns: encodeProgram(assemble(text)),
    maps,
    funcs: [],
  };
}

/** Programs whose level-1 log (the statistics line aside) is the kernel's, line for line. */
const NAMED: VerifierCase[] = [
  named(
    "pkt_unchecked_offset",
    ProgType.XDP,
    "r6 = r1\nr7 = *(u32 *)(r6 +0)\nr8 = *(u32 *)(r6 +4)\nr2 = r7\nr2 += 14\nif r2 > r8 goto +6\nr0 = *(u8 *)(r7 +12)\nr0 &= 31\nr0 += 4\nr3 = r7\nr3 += r0\nr0 = *(u8 *)(r3 +0)\nr0 = 2\nexit",
  ),
  named(
    "map_value_or_null",
    ProgType.SOCKET_FILTER,
    "*(u32 *)(r10 -4) = 0\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall 1\nr0 = *(u64 *)(r0 +0)\nexit",
    [hash],
  ),
  named(
    "ringbuf_leak",
    ProgType.XDP,
    "r1 = map[id:0]\nr2 = 8\nr3 = 0\ncall 131\nif r0 == 0 goto +1\nr0 = 0\nr0 = 2\nexit",
    [ringbuf],
  ),
  named(
    "bpf_to_bpf",
    ProgType.SOCKET_FILTER,
    "r1 = 3\ncall +2\nr0 += 1\nexit\nr0 = r1\nr0 *= 2\nexit",
  ),
  named("uninit_register", ProgType.SOCKET_FILTER, "r0 = r5\nexit"),
  named(
    "bounded_loop",
    ProgType.SOCKET_FILTER,
    "r0 = 0\nr1 = 10\nr0 += r1\nr1 -= 1\nif r1 != 0 goto -3\nexit",
  ),
  named(
    "spill_and_fill",
    ProgType.SOCKET_FILTER,
    "r1 = 7\n*(u64 *)(r10 -8) = r1\n*(u32 *)(r10 -12) = 0\nr2 = *(u64 *)(r10 -8)\nr0 = r2\nexit",
  ),
  named("stack_out_of_bounds", ProgType.SOCKET_FILTER, "r0 = *(u64 *)(r10 -520)\nexit"),
];

const withoutStats = (log: string) =>
  log
    .split("\n")
    .filter((l) => !l.startsWith("processed "))
    .join("\n");

describe("the verifier log against the kernel's", { skip: needs(kernelSkip, versionSkip) }, () => {
  for (const c of NAMED)
    test(`${c.name}: the same log at level 1, and at level 2 (the statistics aside)`, () => {
      const k1 = kernelVerdict(c, { logLevel: 1 });
      const v1 = verifyCase(c, { logLevel: 1 });
      assert.equal(v1.accepted, k1.accepted);
      const a = compareLogs(withoutStats(k1.log), withoutStats(v1.log));
      assert.equal(a.firstDiff, undefined, JSON.stringify(a.firstDiff));
      assert.ok(v1.log.split("\n").at(-1)?.startsWith("processed "));
      const k2 = kernelVerdict(c, { logLevel: 2 });
      const v2 = verifyCase(c, { logLevel: 2 });
      const b = compareLogs(withoutStats(k2.log), withoutStats(v2.log));
      assert.equal(b.firstDiff, undefined, JSON.stringify(b.firstDiff));
    });

  test("generated programs and mutants: rejected programs' logs at levels 1 and 2", (t) => {
    const base = randomCases(23, 24);
    const rng = new Rng(23);
    const cases: LabelledCase[] = [];
    for (const b of base)
      for (let i = 0; i < 3; i++) {
        const m = mutate(b.case, rng);
        if (m) cases.push({ label: `${b.label}/${m.mutation}`, case: m.case });
      }
    let programs = 0;
    let lines = 0;
    let common = 0;
    let identical = 0;
    let lines2 = 0;
    let common2 = 0;
    let accepted = 0;
    const differ: string[] = [];
    for (const { label, case: c } of [...base, ...cases]) {
      const k = kernelVerdict(c, { logLevel: 1 });
      if (!k.accepted && (k.errorLine?.startsWith("verifier bug") || k.log === "")) continue;
      const v = verifyCase(c, { logLevel: 1 });
      if (v.accepted !== k.accepted) continue;
      if (k.accepted) {
        // Level 1 keeps only the statistics of an accepted program.
        assert.equal(v.log.split("\n").length, 1, label);
        accepted++;
        continue;
      }
      programs++;
      const a = compareLogs(withoutStats(k.log), withoutStats(v.log));
      lines += a.kernelLines;
      common += Math.min(a.common, a.kernelLines);
      const b = compareLogs(
        withoutStats(kernelVerdict(c, { logLevel: 2 }).log),
        withoutStats(verifyCase(c, { logLevel: 2 }).log),
      );
      lines2 += b.kernelLines;
      common2 += Math.min(b.common, b.kernelLines);
      if (!a.firstDiff) identical++;
      else if (differ.length < 5)
        differ.push(
          `${label} line ${a.firstDiff.line}: ${a.firstDiff.kernel} | ${a.firstDiff.tsbpf}`,
        );
    }
    t.diagnostic(
      `${programs} rejected programs: lines ${common}/${lines} (${((100 * common) / Math.max(lines, 1)).toFixed(1)}%), identical logs but the statistics ${identical}; ${accepted} accepted`,
    );
    for (const d of differ) t.diagnostic(`differs: ${d}`);
    t.diagnostic(`level 2: lines ${common2}/${lines2}`);
    assert.ok(programs >= 10, `only ${programs} rejected programs`);
    assert.ok(common2 >= lines2 * 0.95, `level 2: ${common2}/${lines2} lines`);
    assert.ok(common >= lines * 0.95, `${common}/${lines} lines`);
    assert.ok(identical >= programs * 0.7, `${identical}/${programs} identical`);
  });
});
