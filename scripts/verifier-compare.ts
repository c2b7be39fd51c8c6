/**
 * tsbpf's verifier on the corpora scripts/verifier-corpus.ts recorded (the kernel
 * selftests' verifier programs and the legacy test_verifier arrays as CASE.json), beside
 * the host kernel's verdicts: how often the verdict agrees, how often a rejection gets
 * the kernel's error line at its instruction, and every program the kernel rejects that
 * tsbpf accepts (the soundness failures).
 *
 *   node --import tsx scripts/verifier-compare.ts [--corpus DIR] [--show N] [--only WORD]
 *
 * Programs whose object needs what a case cannot say (CO-RE, kfuncs, kernel symbols,
 * attach targets) are counted as "not a case". Run scripts/verifier-corpus.ts first.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { loadCollectionSpec } from "../src/elf/index.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { parseCase, type VerifierCase, verifyCase } from "../src/verifier/index.ts";
import { objectCases } from "../src/verifier/object-cases.ts";

const ROOT = resolve(import.meta.dirname, "..");
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const dir = resolve(opt("--corpus") ?? join(ROOT, ".cache/verifier-corpus"));
const show = Number(opt("--show") ?? 15);
const only = opt("--only");
const file = join(dir, "corpus.json");
if (!existsSync(file)) {
  console.error(`no corpus at ${file}: run node --import tsx scripts/verifier-corpus.ts first`);
  process.exit(2);
}

interface KernelSide {
  accepted: boolean;
  /** The prog_flags the corpus loaded it with (its tags' and test_loader's). */
  flags?: number;
  errorLine?: string;
  insn?: number;
}
interface Entry {
  file: string;
  object: string;
  program: string;
  kernel?: KernelSide;
}
interface Legacy {
  file: string;
  descr: string;
  case?: string;
  kernel?: KernelSide;
}
const corpus = JSON.parse(readFileSync(file, "utf8")) as { programs: Entry[]; legacy: Legacy[] };

interface Tally {
  judged: number;
  notCase: number;
  agree: number;
  rejects: number;
  sameLine: number;
  unsound: string[];
  stricter: string[];
  otherLine: string[];
  ms: number[];
  /** The slowest program so far: its label and time. */
  slowest: { label: string; ms: number };
}
const tally = (): Tally => ({
  judged: 0,
  notCase: 0,
  agree: 0,
  rejects: 0,
  sameLine: 0,
  unsound: [],
  stricter: [],
  otherLine: [],
  ms: [],
  slowest: { label: "", ms: 0 },
});

function judge(t: Tally, label: string, c: VerifierCase, k: KernelSide): void {
  const t0 = performance.now();
  const v = verifyCase(c);
  const ms = performance.now() - t0;
  t.ms.push(ms);
  if (ms > t.slowest.ms) t.slowest = { label, ms };
  t.judged++;
  const what = `${label}: kernel ${k.accepted ? "verified" : `insn ${k.insn}: ${k.errorLine}`} | tsbpf ${v.accepted ? "verified" : `insn ${v.error?.insn}: ${v.error?.message}`}`;
  if (k.accepted === v.accepted) t.agree++;
  else if (!k.accepted) t.unsound.push(what);
  else t.stricter.push(what);
  if (!k.accepted) {
    t.rejects++;
    if (!v.accepted && v.error?.message === k.errorLine && v.error?.insn === k.insn) t.sameLine++;
    else if (!v.accepted) t.otherLine.push(what);
  }
}

const selftests = tally();
const specs = new Map<string, CollectionSpec | Error>();
for (const p of corpus.programs) {
  if (!p.kernel || (only && !`${p.file}:${p.program}`.includes(only))) continue;
  const obj = join(dir, "obj", basename(p.object));
  let spec = specs.get(obj);
  if (!spec) {
    try {
      spec = loadCollectionSpec(readFileSync(obj));
    } catch (e) {
      spec = e as Error;
    }
    specs.set(obj, spec);
  }
  const c =
    spec instanceof Error
      ? undefined
      : objectCases(spec, p.file).cases.find((x) => x.case.name === p.program);
  if (!c) {
    selftests.notCase++;
    continue;
  }
  judge(
    selftests,
    `${p.file}:${p.program}`,
    { ...c.case, progFlags: p.kernel.flags ?? 0 },
    p.kernel,
  );
}

const legacy = tally();
for (const l of corpus.legacy) {
  if (!l.case || !l.kernel || (only && !`${l.file}:${l.descr}`.includes(only))) continue;
  let c: VerifierCase;
  try {
    c = parseCase(readFileSync(join(dir, "legacy/cases", l.case), "utf8"), { source: l.case });
  } catch {
    legacy.notCase++; // a case the format refuses (the kernel judged its raw form)
    continue;
  }
  judge(legacy, `${l.file}: ${l.descr}`, c, l.kernel);
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
for (const [name, t] of [
  ["selftests", selftests],
  ["legacy", legacy],
] as const) {
  const sorted = [...t.ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `${name}: ${t.judged} judged (${t.notCase} not a case): verdict ${t.agree}/${t.judged} (${pct(t.agree, t.judged)}); ` +
      `error line and insn ${t.sameLine}/${t.rejects} rejections (${pct(t.sameLine, t.rejects)}); ` +
      `kernel rejects, tsbpf accepts: ${t.unsound.length}; tsbpf rejects, kernel accepts: ${t.stricter.length}; ` +
      `median ${median.toFixed(2)} ms, slowest ${t.slowest.ms.toFixed(0)} ms (${t.slowest.label})`,
  );
  for (const [kind, list] of [
    ["UNSOUND", t.unsound],
    ["stricter", t.stricter],
    ["other line", t.otherLine],
  ] as const)
    for (const w of list.slice(0, show)) console.log(`  ${kind}: ${w}`);
}
