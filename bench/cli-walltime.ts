/**
 * Wall time of the `tsbpf` CLI (the built dist/, as users run it) against bpftool on
 * the same machine in the same run: `version` (start-up cost), `prog list` and
 * `feature probe kernel`. Runs alternate between the two tools; medians are compared.
 *
 * tsbpf pays for starting Node (tens of milliseconds) where bpftool starts in one, so
 * the short commands are judged against a start-up budget, and `feature probe` — where
 * the work dominates — against bpftool itself.
 *
 * dist/ is rebuilt first when it is missing or older than any file under src/ (a
 * stale build would time yesterday's code), and the run fails if the build fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type BenchResult, median } from "./result.ts";

const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "dist/cli/tsbpf.js");

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/cli/tsbpf.js is missing or older than src/. */
function ensureFreshBuild(): void {
  const built = existsSync(BIN) ? statSync(BIN).mtimeMs : 0;
  const source = newestMtime(join(ROOT, "src"));
  if (built >= source) return;
  process.stderr.write(
    `cli-walltime: ${built === 0 ? "no build" : "dist/ is older than src/"}: npm run build\n`,
  );
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  // tsc emits even when other parts of the tree do not typecheck yet; what matters is
  // that the entry point was written now.
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < source) {
    throw new Error(`npm run build did not refresh ${BIN}:\n${r.stdout}${r.stderr}`);
  }
}

function wall(cmd: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function measure(name: string, args: readonly string[], runs: number, goal: string): BenchResult {
  const ts: number[] = [];
  const bt: number[] = [];
  wall(process.execPath, [BIN, ...args]); // warm the page cache
  wall("bpftool", args);
  for (let i = 0; i < runs; i++) {
    ts.push(wall(process.execPath, [BIN, ...args]));
    bt.push(wall("bpftool", args));
  }
  const value = median(ts);
  const baseline = median(bt);
  return { name, value, baseline, ratio: value / baseline, goal, unit: "ms" };
}

/** Runs the CLI benchmarks (needs root, bpftool and a build in dist/). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("cli-walltime needs root (bpf(2))");
  if (spawnSync("bpftool", ["version"]).status !== 0) throw new Error("bpftool is not installed");
  ensureFreshBuild();
  const bare: number[] = [];
  for (let i = 0; i < 15; i++) bare.push(wall(process.execPath, ["-e", "0"]));
  const nodeMs = median(bare);
  const rows = [
    measure("tsbpf version vs bpftool version", ["version"], 15, "<= 60"),
    measure("tsbpf prog list vs bpftool prog list", ["prog", "list"], 15, "<= 80"),
    measure("tsbpf feature probe kernel vs bpftool", ["feature", "probe", "kernel"], 7, "<= 2"),
  ];
  // Start-up beyond Node's own: what tsbpf itself adds to every command.
  const version = rows[0] as BenchResult;
  rows.push({
    name: "tsbpf version vs bare node start-up",
    value: version.value,
    baseline: nodeMs,
    ratio: version.value / nodeMs,
    goal: "<= 1.5",
    unit: "ms",
  });
  return rows;
}
