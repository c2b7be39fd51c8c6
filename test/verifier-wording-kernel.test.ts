/**
 * The verifier's wording per kernel (issue 11): on the running kernel (6.1, 6.12 or
 * 6.18 — the kernel matrix runs this file in each), random programs and their mutants
 * that both the kernel and tsbpf reject must get the kernel's own error line when tsbpf
 * is asked for that kernel's wording (`verify(..., { kernel })`). Verdicts are not
 * compared here: tsbpf follows 6.18's rules, and older kernels refuse some of what 6.18
 * takes (test/verifier-kernel judges verdicts on 6.18). The lines that still differ are
 * printed, grouped, for the next engineer.
 */
import assert from "node:assert/strict";
import { release } from "node:os";
import { describe, test } from "node:test";
import { casesWithMutants } from "../fuzz/verifier-mutants.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { type KernelWording, verifyCase, wordingFor } from "../src/verifier/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";

const wording: KernelWording | undefined = wordingFor(release());
const versionSkip: string | false = wording
  ? false
  : `tsbpf words its messages as Linux 6.1, 6.12 or 6.18; this kernel is ${release()}`;

/** At least this share of the rejections both make must carry the kernel's line. */
const GOAL = 0.9;

/** A line with its numbers taken out: the shape two differing lines share. */
const shape = (line: string) => line.replace(/-?(0x)?[0-9a-f]+\b/gi, "N");

describe(`error lines in the running kernel's wording (${wording ?? "none"})`, {
  skip: needs(kernelSkip, versionSkip),
}, () => {
  test("random programs and mutants rejected by both", () => {
    let both = 0;
    let same = 0;
    const differ = new Map<string, { n: number; example: string }>();
    for (const { label, case: c } of casesWithMutants(7_100_000, 150, 4)) {
      let k: ReturnType<typeof kernelVerdict>;
      try {
        k = kernelVerdict(c);
      } catch {
        continue; // a map type this kernel lacks
      }
      if (k.accepted || !k.errorLine || k.errorLine.startsWith("verifier bug")) continue;
      const v = verifyCase(c, { kernel: wording as KernelWording });
      if (v.accepted || !v.error) continue;
      both++;
      if (v.error.message === k.errorLine && v.error.insn === k.insn) {
        same++;
        continue;
      }
      const key = `${shape(k.errorLine)}  <>  ${shape(v.error.message)}`;
      const d = differ.get(key) ?? {
        n: 0,
        example: `${label}: kernel insn ${k.insn}: ${k.errorLine} | tsbpf insn ${v.error.insn}: ${v.error.message}`,
      };
      d.n++;
      differ.set(key, d);
    }
    const groups = [...differ.values()].sort((a, b) => b.n - a.n);
    for (const g of groups.slice(0, 25)) console.log(`${g.n}x ${g.example}`);
    console.log(`${wording}: ${same}/${both} rejections with the kernel's line`);
    assert.ok(both > 100, `only ${both} programs rejected by both`);
    assert.ok(same >= GOAL * both, `${same}/${both} lines are the kernel's`);
  });
});
