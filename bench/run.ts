/**
 * `npm run bench`: runs every bench/*.ts module that exports `run()` and prints one
 * table of ratios. `npm run bench -- map` runs only modules whose name contains "map".
 * Exits non-zero when a module throws (its error is printed; the others still run).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type BenchResult, meetsGoal } from "./result.ts";

const filters = process.argv.slice(2);
const here = import.meta.dirname;
const modules = readdirSync(here)
  // Only the benchmarks beside this file: bench/micro/ holds micro-benchmarks run by
  // hand (no run(), and they start timing on import).
  .filter((f) => f.endsWith(".ts") && !["run.ts", "result.ts"].includes(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

const rows: (BenchResult & { module: string })[] = [];
const failed: string[] = [];
for (const file of modules) {
  process.stderr.write(`running ${file} ...\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as {
      run?: () => Promise<BenchResult[]>;
    };
    if (typeof mod.run !== "function") continue;
    for (const r of await mod.run()) rows.push({ ...r, module: file });
  } catch (e) {
    process.stderr.write(`${file}: ${(e as Error).message}\n`);
    failed.push(file);
  }
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
const table = rows.map((r) => ({
  benchmark: r.name,
  tsbpf: `${fmt(r.value)}${r.unit ? ` ${r.unit}` : ""}`,
  baseline: `${fmt(r.baseline)}${r.unit ? ` ${r.unit}` : ""}`,
  ratio: fmt(r.ratio),
  goal: r.goal,
  met: meetsGoal(r.ratio, r.goal) ? "yes" : "NO",
}));
const cols = ["benchmark", "tsbpf", "baseline", "ratio", "goal", "met"] as const;
const width = cols.map((c) => Math.max(c.length, ...table.map((t) => t[c].length)));
const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(width[i] ?? 0)).join("  ");
console.log(line(cols));
for (const t of table) console.log(line(cols.map((c) => t[c])));
if (failed.length > 0) {
  process.stderr.write(`failed: ${failed.join(", ")}\n`);
  process.exitCode = 1;
}
