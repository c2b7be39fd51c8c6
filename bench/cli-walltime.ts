/**
 * The `tsbpf` CLI as users run it: whole processes (start-up to exit, output to a
 * file), the built bin (dist/cli/tsbpf.cjs, the bundle), against bpftool and a bare
 * `node -e 0` in the same run: wall time (medians, runs alternating between the
 * tools) and peak RSS (GNU time's maximum resident set size).
 *
 * - `version` and `prog list`: Node's start-up is most of it, so each is judged
 *   against a bare `node -e 0` (issue 13: <= 1.3x), and shown beside bpftool's.
 * - `feature probe kernel`: the probing dominates; against bpftool (<= 2x).
 * - `btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h`: against bpftool
 *   (<= 1.5x), and its peak RSS against a budget of 100 MB.
 *
 * dist/ is rebuilt first when it is missing or older than any file under src/ (a
 * stale build would time yesterday's code), and the run fails if the build fails.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ensureFreshBuild } from "./fresh-build.ts";
import { type BenchResult, median } from "./result.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
/** GNU time (Debian's `time`), for peak RSS. */
const GNU_TIME = "/usr/bin/time";

/** A command line, run with its standard output into `out` (a file, as a user's `>`). */
interface Cmd {
  readonly argv: readonly string[];
  readonly label: string;
}

const tsbpf = (...args: string[]): Cmd => ({
  argv: [process.execPath, BIN, ...args],
  label: `tsbpf ${args.join(" ")}`,
});
const bpftool = (...args: string[]): Cmd => ({
  argv: ["bpftool", ...args],
  label: `bpftool ${args.join(" ")}`,
});
const bareNode: Cmd = { argv: [process.execPath, "-e", "0"], label: "node -e 0" };

/** One whole-process run: wall ms, and the peak RSS in MB when `rss`. */
function once(cmd: Cmd, outFile: string, rss: boolean): { ms: number; mb: number } {
  const fd = openSync(outFile, "w");
  try {
    const argv = rss ? [GNU_TIME, "-f", "%M", ...cmd.argv] : cmd.argv;
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), {
      stdio: ["ignore", fd, "pipe"],
      encoding: "utf8",
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd.label} failed (${r.status}): ${r.stderr}`);
    // GNU time's last stderr line: the maximum resident set size in KB.
    const kb = rss ? Number(r.stderr.trim().split("\n").pop()) : 0;
    return { ms, mb: kb / 1024 };
  } finally {
    closeSync(fd);
  }
}

/** Median wall ms of each command over `runs` alternating rounds (after one warm-up each). */
function wallMs(cmds: readonly Cmd[], runs: number, outFile: string): number[] {
  const samples = cmds.map((): number[] => []);
  for (const c of cmds) once(c, outFile, false);
  for (let i = 0; i < runs; i++)
    for (let k = 0; k < cmds.length; k++) samples[k]!.push(once(cmds[k]!, outFile, false).ms);
  return samples.map((s) => median(s));
}

/** Median peak RSS (MB) of `cmd` over `runs` runs. */
function rssMb(cmd: Cmd, runs: number, outFile: string): number {
  const s: number[] = [];
  for (let i = 0; i < runs; i++) s.push(once(cmd, outFile, true).mb);
  return median(s);
}

/** Runs the CLI benchmarks (needs root, bpftool, GNU time and a build in dist/). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("cli-walltime needs root (bpf(2))");
  if (spawnSync("bpftool", ["version"]).status !== 0) throw new Error("bpftool is not installed");
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (Debian's time package)`);
  ensureFreshBuild("cli-walltime");
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-cli-bench-"));
  const out = join(dir, "out");
  try {
    const rows: BenchResult[] = [];
    const ms = (value: number, baseline: number, name: string, goal: string): BenchResult => ({
      name,
      value,
      baseline,
      ratio: value / baseline,
      goal,
      unit: "ms",
    });
    for (const args of [["version"], ["prog", "list"]]) {
      const [ours, node, theirs] = wallMs([tsbpf(...args), bareNode, bpftool(...args)], 15, out);
      const what = `tsbpf ${args.join(" ")} (whole process)`;
      rows.push(ms(ours!, node!, `${what} vs bare node -e 0`, "<= 1.3"));
      rows.push(ms(ours!, theirs!, `${what} vs bpftool ${args.join(" ")}`, "(shown)"));
    }
    const [probe, probeBpftool] = wallMs(
      [tsbpf("feature", "probe", "kernel"), bpftool("feature", "probe", "kernel")],
      7,
      out,
    );
    rows.push(
      ms(probe!, probeBpftool!, "tsbpf feature probe kernel (whole process) vs bpftool", "<= 2"),
    );
    if (existsSync(VMLINUX)) {
      const dump = ["btf", "dump", "file", VMLINUX, "format", "c"];
      // 11 rounds: with 5 the median moved by ~10% from run to run on these machines.
      const [ours, theirs] = wallMs([tsbpf(...dump), bpftool(...dump)], 11, out);
      rows.push(
        ms(
          ours!,
          theirs!,
          "tsbpf btf dump file vmlinux format c > file (whole process) vs bpftool",
          "<= 1.5",
        ),
      );
      const mb = rssMb(tsbpf(...dump), 3, out);
      const theirsMb = rssMb(bpftool(...dump), 3, out);
      rows.push({
        name: `tsbpf btf dump file vmlinux format c: peak RSS vs the 100 MB budget (bpftool: ${theirsMb.toFixed(0)} MB)`,
        value: mb,
        baseline: 100,
        ratio: mb / 100,
        goal: "<= 1",
        unit: "MB",
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
