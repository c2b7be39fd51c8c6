/**
 * tsbpf's verifier log beside the host kernel's, line by line: random programs of the
 * VM differential generator and mutants of them (fuzz/verifier-mutants.ts), each loaded
 * into the kernel at the same log level and verified by tsbpf. Prints the share of the
 * kernel's lines tsbpf writes identically (in order), how many logs are identical as a
 * whole, and the first difference of the first few that are not. What tsbpf leaves out by
 * design is dropped from both sides first (test/support/verifier-log.ts).
 *
 *   node --import tsx scripts/verifier-log-compare.ts [--seed S] [--random N]
 *        [--mutants K] [--level 1|2] [--show N]
 *
 * Defaults: seed 1, 100 random programs, 2 mutants each, level 1, show 10. Needs root.
 */
import { Rng } from "../fuzz/rng.ts";
import { type LabelledCase, mutate, randomCases } from "../fuzz/verifier-mutants.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { verifyCase } from "../src/verifier/index.ts";
import { compareLogs } from "../test/support/verifier-log.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const seed = opt("--seed", 1);
const random = opt("--random", 100);
const mutants = opt("--mutants", 2);
const level = opt("--level", 1) as 1 | 2;
const show = opt("--show", 10);

const base = randomCases(seed, random);
const rng = new Rng(seed);
const cases: LabelledCase[] = [];
for (const b of base) {
  cases.push(b);
  for (let i = 0; i < mutants; i++) {
    const m = mutate(b.case, rng);
    if (m) cases.push({ label: `${b.label}/${m.mutation}`, case: m.case });
  }
}

interface Side {
  programs: number;
  identical: number;
  kernelLines: number;
  common: number;
  /** Same without the statistics line (its counts follow the kernel's pruning). */
  identicalButStats: number;
}
const side = (): Side => ({
  programs: 0,
  identical: 0,
  kernelLines: 0,
  common: 0,
  identicalButStats: 0,
});
const acc = side();
const rej = side();
const shown: string[] = [];
let skipped = 0;
for (const { label, case: c } of cases) {
  const k = kernelVerdict(c, { logLevel: level });
  if (!k.accepted && (k.errorLine?.startsWith("verifier bug") || k.log === "")) {
    skipped++;
    continue;
  }
  const v = verifyCase(c, { logLevel: level });
  if (v.accepted !== k.accepted) {
    skipped++;
    continue;
  }
  const s = k.accepted ? acc : rej;
  const a = compareLogs(k.log, v.log);
  s.programs++;
  s.kernelLines += a.kernelLines;
  s.common += Math.min(a.common, a.kernelLines);
  if (!a.firstDiff) s.identical++;
  const noStats = (t: string) =>
    t
      .split("\n")
      .filter((l) => !l.startsWith("processed "))
      .join("\n");
  if (!compareLogs(noStats(k.log), noStats(v.log)).firstDiff) s.identicalButStats++;
  if (a.firstDiff && shown.length < show && (!k.accepted || process.env.SHOW_ALL))
    shown.push(
      `${label} (${k.accepted ? "accepted" : "rejected"}) line ${a.firstDiff.line}:\n  kernel: ${a.firstDiff.kernel}\n  tsbpf:  ${a.firstDiff.tsbpf}`,
    );
}
const pct = (n: number, of: number) => `${((100 * n) / Math.max(of, 1)).toFixed(1)}%`;
const line = (name: string, s: Side) =>
  `${name}: ${s.programs} programs, lines ${s.common}/${s.kernelLines} (${pct(s.common, s.kernelLines)}), identical logs ${s.identical} (${pct(s.identical, s.programs)}), identical but the statistics line ${s.identicalButStats} (${pct(s.identicalButStats, s.programs)})`;
for (const d of shown) console.log(d);
console.log(
  `log level ${level}, seed ${seed}, ${cases.length} cases (${skipped} left out: verdicts differ or kernel fault)`,
);
console.log(line("accepted", acc));
console.log(line("rejected", rej));
const all: Side = {
  programs: acc.programs + rej.programs,
  identical: acc.identical + rej.identical,
  kernelLines: acc.kernelLines + rej.kernelLines,
  common: acc.common + rej.common,
  identicalButStats: acc.identicalButStats + rej.identicalButStats,
};
console.log(line("all", all));
