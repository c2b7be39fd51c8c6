/**
 * tsbpf's verifier vs the kernel's on the same programs: the VM differential
 * generator's random programs and mutants of them (fuzz/verifier-mutants.ts), each
 * verified by tsbpf (wall time in this process) and loaded into the kernel with
 * BPF_LOG_STATS, whose `verification time N usec` line is the kernel's own figure.
 * The result is the median over programs of tsbpf's time over the kernel's; goal
 * (issue 11) at most 2. A warm-up pass runs first, so V8 has compiled the verifier.
 *
 * Run alone with `node --import tsx bench/verifier.ts`, or `npm run bench -- verifier`.
 */
import { casesWithMutants, type LabelledCase } from "../fuzz/verifier-mutants.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { verifyCase } from "../src/verifier/index.ts";
import { type BenchResult, median } from "./result.ts";

const PROGRAMS = 150;
const MUTANTS = 2;
/** BPF_LOG_LEVEL1 | BPF_LOG_STATS: the stats need a log level. */
const STATS = 1 | 4;

function corpus(): LabelledCase[] {
  return casesWithMutants(7, PROGRAMS, MUTANTS);
}

export async function run(): Promise<BenchResult[]> {
  const cases = corpus();
  for (const c of cases) verifyCase(c.case); // warm up
  const ratios: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  for (const { case: c } of cases) {
    const k = kernelVerdict(c, { logLevel: STATS });
    const us = k.stats?.verificationTimeUs;
    if (us === undefined || us === 0) continue;
    const t0 = process.hrtime.bigint();
    verifyCase(c);
    const mine = Number(process.hrtime.bigint() - t0) / 1000;
    ours.push(mine);
    theirs.push(us);
    ratios.push(mine / us);
  }
  return [
    {
      name: `verification time per program vs the kernel's (median of ${ratios.length})`,
      value: median(ours),
      baseline: median(theirs),
      ratio: median(ratios),
      goal: "<= 2",
      unit: "us",
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
