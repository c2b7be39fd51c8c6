/**
 * The verifier's differential corpus with the host kernel's verdicts: random programs
 * of the VM differential generator, every committed test and example object's programs,
 * and mutants of each (fuzz/verifier-mutants.ts), each judged by the kernel through
 * kernelVerdict. Writes one JSON line per case — `{ label, base, mutation, case,
 * kernel }`, `case` in the CASE.json form — and prints a summary.
 *
 *   node --import tsx scripts/verifier-mutants.ts [--seed S] [--random N] [--mutants K]
 *        [--no-objects] [--out FILE]
 *
 * Defaults: seed 1, 200 random programs, 5 mutants per base, objects included,
 * .cache/verifier-mutants/seed-S.jsonl. Needs root (the kernel is the oracle).
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { objectCorpus } from "../fuzz/mutate.ts";
import { Rng } from "../fuzz/rng.ts";
import { type LabelledCase, mutate, objectCases, randomCases } from "../fuzz/verifier-mutants.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { type KernelVerdict, kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { openFdCount } from "../src/kernel/sys/index.ts";
import { formatCase } from "../src/verifier/case.ts";

const ROOT = resolve(import.meta.dirname, "..");

interface Args {
  seed: number;
  random: number;
  mutants: number;
  objects: boolean;
  out: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seed: 1, random: 200, mutants: 5, objects: true, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) {
        console.error(`verifier-mutants: ${w} needs a non-negative integer`);
        process.exit(2);
      }
      return n;
    };
    if (w === "--seed") a.seed = num();
    else if (w === "--random") a.random = num();
    else if (w === "--mutants") a.mutants = num();
    else if (w === "--no-objects") a.objects = false;
    else if (w === "--out") a.out = resolve(argv[++i] ?? "");
    else {
      console.error(
        "usage: node --import tsx scripts/verifier-mutants.ts [--seed S] [--random N] [--mutants K] [--no-objects] [--out FILE]",
      );
      process.exit(2);
    }
  }
  return a;
}

interface Tally {
  cases: number;
  accepted: number;
  rejected: number;
  unjudged: number;
}

const tally = (): Tally => ({ cases: 0, accepted: 0, rejected: 0, unjudged: 0 });

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error("verifier-mutants: needs root (the kernel judges every case)");
    process.exit(2);
  }
  const out = args.out ?? join(ROOT, `.cache/verifier-mutants/seed-${args.seed}.jsonl`);
  mkdirSync(dirname(out), { recursive: true });
  const file = createWriteStream(out);
  const t0 = performance.now();
  const fds0 = openFdCount();

  const bases: LabelledCase[] = randomCases(args.seed, args.random);
  const skippedPrograms: string[] = [];
  if (args.objects) {
    for (const o of objectCorpus()) {
      let r: ReturnType<typeof objectCases>;
      try {
        r = objectCases(loadCollectionSpec(o.bytes), relative(ROOT, o.path));
      } catch {
        continue; // objects the ELF reader refuses on purpose (hostile test inputs)
      }
      bases.push(...r.cases);
      for (const s of r.skipped)
        skippedPrograms.push(`${relative(ROOT, o.path)} ${s.program}: ${s.reason}`);
    }
  }

  const byKind = new Map<string, Tally>();
  const baseT = tally();
  const mutT = tally();
  const lines = new Map<string, number>();
  const unjudged = new Map<string, number>();
  let verifyUs = 0;
  let timed = 0;
  const judge = (c: LabelledCase, base: string, mutation: string | undefined, t: Tally) => {
    t.cases++;
    const kind = mutation?.split("@")[0] ?? "base";
    let k = byKind.get(kind);
    if (!k) {
      k = tally();
      byKind.set(kind, k);
    }
    k.cases++;
    let v: KernelVerdict | undefined;
    let error: string | undefined;
    try {
      v = kernelVerdict(c.case, { logLevel: 1 | 4 });
    } catch (e) {
      error = (e as Error).message.split("\n")[0] ?? String(e);
    }
    if (!v) {
      t.unjudged++;
      k.unjudged++;
      const key = (error ?? "").replace(/"[^"]*"/g, '"X"').slice(0, 100);
      unjudged.set(key, (unjudged.get(key) ?? 0) + 1);
    } else if (v.accepted) {
      t.accepted++;
      k.accepted++;
    } else {
      t.rejected++;
      k.rejected++;
      const key = (v.errorLine ?? "(no message)").replace(/\d+/g, "N");
      lines.set(key, (lines.get(key) ?? 0) + 1);
    }
    if (v?.stats?.verificationTimeUs !== undefined) {
      verifyUs += v.stats.verificationTimeUs;
      timed++;
    }
    file.write(
      `${JSON.stringify({
        label: c.label,
        base,
        ...(mutation ? { mutation } : {}),
        case: JSON.parse(formatCase(c.case)),
        kernel: v
          ? {
              accepted: v.accepted,
              ...(v.errno !== undefined ? { errno: v.errno } : {}),
              ...(v.errorLine !== undefined
                ? { errorLine: v.errorLine, errorLines: v.errorLines }
                : {}),
              ...(v.insn !== undefined ? { insn: v.insn } : {}),
              ...(v.stats ? { stats: v.stats } : {}),
            }
          : { error },
      })}\n`,
    );
  };

  const rng = new Rng(args.seed, 7);
  for (const b of bases) {
    judge(b, b.label, undefined, baseT);
    for (let m = 0; m < args.mutants; m++) {
      const r = mutate(b.case, rng);
      if (!r) break;
      judge({ label: `${b.label}/${r.mutation}`, case: r.case }, b.label, r.mutation, mutT);
    }
  }
  await new Promise<void>((done) => file.end(done));
  const secs = (performance.now() - t0) / 1000;
  const row = (name: string, t: Tally) =>
    `${name.padEnd(14)} ${String(t.cases).padStart(6)} cases  ${String(t.accepted).padStart(6)} accepted  ${String(t.rejected).padStart(6)} rejected${t.unjudged ? `  ${t.unjudged} not judged` : ""}`;
  const report = [
    `seed ${args.seed}: ${bases.length} bases (${args.random} random, ${bases.length - args.random} from objects; ${skippedPrograms.length} object programs cannot be cases), ${mutT.cases} mutants, ${secs.toFixed(1)} s`,
    row("bases", baseT),
    row("mutants", mutT),
    ...[...byKind].sort().map(([k, t]) => row(`  ${k}`, t)),
    `kernel verification time: mean ${timed ? (verifyUs / timed).toFixed(0) : "-"} us over ${timed} cases`,
    "most frequent error lines (numbers as N):",
    ...[...lines]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([l, n]) => `  ${String(n).padStart(5)}  ${l}`),
    `distinct error lines: ${lines.size}`,
    ...[...unjudged].map(([l, n]) => `not judged ${n}: ${l}`),
    `written: ${out}`,
  ];
  console.log(report.join("\n"));
  if (openFdCount() !== fds0) {
    console.error(`verifier-mutants: ${openFdCount() - fds0} descriptors left open`);
    process.exitCode = 1;
  }
}

await main();
