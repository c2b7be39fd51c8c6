/**
 * The verifier's differential campaign (issue 11): random programs of the VM
 * generator and mutants of each, plus every program of the repository's BPF objects,
 * judged by the running kernel and by tsbpf. Prints the agreement per chunk and in
 * total; lists the programs the kernel rejects that tsbpf accepts (soundness failures,
 * exit status 1) and a sample of the other disagreements. Seeds make it resumable:
 * run disjoint `--from`/`--count` ranges in parallel processes and add the totals.
 *
 *   node --import tsx scripts/verifier-campaign.ts [--from SEED] [--count N]
 *     [--chunk N] [--mutants N] [--objects] [--show N] [--json FILE]
 *
 * Defaults: --from 1000 --count 1000 --chunk 500 --mutants 6; `--objects` adds every
 * *.bpf.o under examples/, src/ and test/testdata/. Needs root and the kernel tsbpf's
 * verifier follows (Linux 6.18).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

import { emptyTally, judge, pct, summary, type Tally } from "../fuzz/verifier-judge.ts";
import { casesWithMutants, type LabelledCase, objectCases } from "../fuzz/verifier-mutants.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";

const ROOT = resolve(import.meta.dirname, "..");
const argv = process.argv.slice(2);
const num = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`${name} needs a whole number, not ${argv[i + 1]}`);
    process.exit(2);
  }
  return v;
};
const from = num("--from", 1000);
const count = num("--count", 1000);
const chunk = Math.max(1, num("--chunk", 500));
const mutants = num("--mutants", 6);
const show = num("--show", 20);
const jsonAt = argv.indexOf("--json");
const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;

function* objectFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* objectFiles(p);
    else if (name.endsWith(".bpf.o")) yield p;
  }
}

const total: Tally = emptyTally();
const started = Date.now();
if (argv.includes("--objects")) {
  const cases: LabelledCase[] = [];
  let skipped = 0;
  for (const top of ["examples", "src", "test/testdata"])
    for (const path of objectFiles(join(ROOT, top))) {
      try {
        const r = objectCases(loadCollectionSpec(readFileSync(path)), relative(ROOT, path));
        cases.push(...r.cases);
        skipped += r.skipped.length;
      } catch {
        skipped++; // objects the tests keep broken on purpose
      }
    }
  const t = judge(cases);
  console.log(`objects: ${summary(t)}; ${skipped} programs or objects not expressible as cases`);
  mergeInto(total, t);
}
for (let seed = from; seed < from + count; seed += chunk) {
  const n = Math.min(chunk, from + count - seed);
  const t = judge(casesWithMutants(seed, n, mutants));
  mergeInto(total, t);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`seeds ${seed}..${seed + n - 1}: ${summary(t)} [${secs} s]`);
}
console.log(`\ntotal: ${summary(total)}`);
for (const u of total.unsound) console.log(`  UNSOUND ${u}`);
for (const d of total.stricter.slice(0, show)) console.log(`  stricter ${d}`);
for (const d of total.otherLine.slice(0, show)) console.log(`  other line ${d}`);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ from, count, mutants, ...total }, null, 1));
console.log(
  `agreement ${pct(total.agree, total.cases)}, error lines ${pct(total.sameLine, total.kernelRejects)}`,
);
process.exit(total.unsound.length > 0 ? 1 : 0);

function mergeInto(into: Tally, t: Tally): void {
  into.cases += t.cases;
  into.agree += t.agree;
  into.kernelRejects += t.kernelRejects;
  into.sameLine += t.sameLine;
  into.kernelFaults += t.kernelFaults;
  into.unjudged += t.unjudged;
  into.unsound.push(...t.unsound);
  into.stricter.push(...t.stricter);
  into.otherLine.push(...t.otherLine);
}
