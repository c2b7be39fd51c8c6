/**
 * The JIT campaign: `npm run fuzz -- jit [--from S] [--count N] [--seconds T]
 * [--every K] [--stop-after F] [--tiny] [--target js|wasm|both] [--hash-key BYTES]`.
 *
 * Program `S` is generated from seed `S` alone (the kernel differential test's
 * generator, test/vm-random-programs.ts) and runs in the interpreter and in the JIT
 * (`--target`: the JS target, the wasm target, or both, the default) three times, as
 * test/vm-jit-differential.test.ts does: as generated; with an instruction budget cut
 * somewhere inside the run; and with one instruction's offset or immediate mutated
 * (budget 200,000). The wasm target refuses irreducible control flow; the JS target
 * then runs the program (counted apart). Every pair must give the same registers,
 * memory out, map contents, ring records and printk lines, or the same VmError at the
 * same instruction. Seeds run from `--from` (0) for `--count` programs or `--seconds`
 * (whichever ends first; neither: 1,000 programs), so a campaign resumes with the
 * `--from` its last progress line printed, and splits across cores as disjoint seed
 * ranges (one process each, e.g. `nice -n 19`).
 *
 * `--hash-key 16` gives the programs' hash map keys of 16 bytes (4 by default): the
 * program writes their first word, the stack the rest.
 *
 * `--tiny` compiles every region of at most 3 slots to a function of its own (the
 * JIT's chunks, src/vm/jit/compile.ts), so that jumps, calls and returns cross
 * chunks all the time.
 *
 * Prints a progress line every `--every` programs (10,000) and a summary: programs,
 * comparisons, budget cuts, mutants, runs that failed alike, JIT refusals, failures
 * and throughput. A failure prints its seed (`--from S --count 1` replays it) and
 * the two outcomes; the exit code is 1 when any pair differed.
 * @module
 */
import { decodeProgram } from "../src/isa/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { jitSizes } from "../src/vm/jit/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { FDS, hex, mutate, outcome } from "../test/vm-jit-compare.ts";
import { type RandomProgram, randomProgram } from "../test/vm-random-programs.ts";

interface Counts {
  programs: number;
  comparisons: number;
  budgetCuts: number;
  mutants: number;
  errorsAlike: number;
  refused: number;
  /** Programs the wasm target refused (irreducible control flow): the JS target ran them. */
  wasmToJs: number;
  failures: number;
}

/** The first lines where `a` and `b` differ, for a failure report. */
function firstDifference(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if (x[i] !== y[i])
      return `  interpreter: ${x[i] ?? "(none)"}\n  jit:         ${y[i] ?? "(none)"}`;
  return "  (same text)";
}

/**
 * `p` with its hash map's keys `bytes` long (`--hash-key`; the generator's are 4): the
 * program still writes a key's first 4 bytes, and the rest come from its stack, so
 * lookups take the paths of longer keys (the wasm target walks their chains itself).
 */
function withHashKey(p: RandomProgram, bytes: number): RandomProgram {
  if (bytes === 4) return p;
  const pad = (k: Uint8Array): Uint8Array => {
    const out = new Uint8Array(bytes);
    out.set(k);
    return out;
  };
  const maps = p.maps.map((m) =>
    m.spec.type === MapType.HASH
      ? {
          spec: { ...m.spec, keySize: bytes },
          contents: m.contents.map(([k, v]) => [pad(k), v] as [Uint8Array, Uint8Array]),
        }
      : m,
  );
  return { ...p, maps };
}

/** Runs program `seed` in the interpreter and the JIT's `targets` (three runs each); returns the failures it found. */
function one(
  seed: number,
  c: Counts,
  targets: readonly ("js" | "wasm")[],
  hashKey: number,
): string[] {
  const rand = seededRandom(seed);
  const p = withHashKey(randomProgram(rand), hashKey);
  const insns = p.build(FDS);
  const failures: string[] = [];
  const compare = (what: string, x: { text: string }, y: { text: string }): void => {
    c.comparisons++;
    if (x.text !== y.text)
      failures.push(`seed ${seed} (${what}):\n${firstDifference(x.text, y.text)}`);
    else if (x.text.startsWith("error pc")) c.errorsAlike++;
  };
  const a = outcome(p, insns, "never", undefined);
  for (const t of targets) {
    const b = outcome(p, insns, "always", undefined, t);
    if (!b.engine.startsWith("jit")) c.refused++;
    else if (t === "wasm" && b.engine === "jit js") c.wasmToJs++;
    compare(`as generated (${t})`, a, b);
  }
  if (a.executed > 1) {
    const budget = 1 + (rand() % (a.executed - 1));
    const x = outcome(p, insns, "never", budget);
    for (const t of targets)
      compare(`budget ${budget} (${t})`, x, outcome(p, insns, "always", budget, t));
    c.budgetCuts++;
  }
  const bytes = mutate(insns, rand);
  let decodes = true;
  try {
    decodeProgram(bytes);
  } catch {
    decodes = false;
  }
  if (decodes) {
    const x = outcome(p, bytes, "never", 200_000);
    for (const t of targets)
      compare(`mutated ${hex(bytes)} (${t})`, x, outcome(p, bytes, "always", 200_000, t));
    c.mutants++;
  }
  return failures;
}

function opt(args: string[], name: string): number | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0)
    throw new RangeError(`--${name} needs a whole number, not ${args[i + 1]}`);
  return v;
}

/** The campaign (see the module header); returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const from = opt(args, "from") ?? 0;
  const seconds = opt(args, "seconds");
  const count = opt(args, "count") ?? (seconds === undefined ? 1000 : Number.POSITIVE_INFINITY);
  const every = opt(args, "every") ?? 10_000;
  const stopAfter = opt(args, "stop-after") ?? 20;
  if (args.includes("--tiny")) {
    jitSizes.chunkChars = 1;
    jitSizes.regionSlots = 3;
  }
  const ti = args.indexOf("--target");
  const target = ti < 0 ? "both" : args[ti + 1];
  if (target !== "js" && target !== "wasm" && target !== "both")
    throw new RangeError(`--target must be js, wasm or both, not ${target}`);
  const targets: ("js" | "wasm")[] = target === "both" ? ["js", "wasm"] : [target];
  const hashKey = opt(args, "hash-key") ?? 4;
  if (hashKey < 4 || hashKey > 24 || hashKey % 4 !== 0)
    throw new RangeError(`--hash-key must be 4, 8, ... 24 bytes, not ${hashKey}`);
  const until = seconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + seconds * 1000;
  const c: Counts = {
    programs: 0,
    comparisons: 0,
    budgetCuts: 0,
    mutants: 0,
    errorsAlike: 0,
    refused: 0,
    wasmToJs: 0,
    failures: 0,
  };
  const t0 = performance.now();
  let seed = from;
  for (; c.programs < count && Date.now() < until && seed <= 0xffff_ffff; seed++) {
    let failures: string[];
    try {
      failures = one(seed, c, targets, hashKey);
    } catch (e) {
      failures = [
        `seed ${seed}: untyped ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      ];
    }
    c.programs++;
    for (const f of failures) console.log(`FAIL ${f}`);
    c.failures += failures.length;
    if (c.failures >= stopAfter) {
      seed++;
      break;
    }
    if (c.programs % every === 0) {
      const s = (performance.now() - t0) / 1000;
      console.log(
        `# ${c.programs} programs (seeds ${from}..${seed}), ${c.failures} failures, ${(c.programs / s).toFixed(0)} programs/s; resume with --from ${seed + 1}`,
      );
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `jit campaign${args.includes("--tiny") ? " (--tiny)" : ""}: seeds ${from}..${seed - 1}: ${c.programs} programs, ${c.comparisons} comparisons (${c.budgetCuts} budget cuts, ${c.mutants} mutants, ${c.errorsAlike} failing alike), targets ${targets.join("+")}${hashKey !== 4 ? `, ${hashKey}-byte hash keys` : ""}, ${c.refused} JIT refusals, ${c.wasmToJs} wasm refusals run by js, ${c.failures} failures; ${s.toFixed(1)} s, ${(c.programs / s).toFixed(0)} programs/s (${((c.comparisons * (1 + 1 / targets.length)) / s).toFixed(0)} runs/s); next: --from ${seed}`,
  );
  return c.failures > 0 || c.refused > 0 ? 1 : 0;
}
