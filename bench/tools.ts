/**
 * The overhead of `tsbpf trace` tools (issue 15): for each tool in
 * bench/tool-cases.ts, a load generator (bench/c/tool-load.c, compiled here with
 * `cc -O2`) makes the tool's events flat out for {@link LOAD_SECONDS}, and in the same
 * run the bench measures
 *
 * - the load's rate with nothing tracing it;
 * - the load's rate with the tsbpf tool running as users run it (a whole process,
 *   `node dist/cli/tsbpf.cjs trace NAME > file`, on the built dist/), the tool's CPU
 *   use (utime + stime from /proc/PID/stat over the load's run, as % of one CPU)
 *   and the events it reported, lost ones counted;
 * - the same with the equivalent bpftrace program (`bpftrace -e ... > file`).
 *
 * Goals: the tsbpf tool slows the load no more than bpftrace's program × 1.2 (slowdown =
 * untraced rate / traced rate), its CPU is no more than bpftrace's × 1.5 (CPU figures
 * under 1% of a CPU count as 1%: /proc counts in 10 ms ticks, 0.5% of a 2 s run), and
 * every event the load made is reported or counted as lost.
 *
 * Each tool gets {@link ROUNDS} rounds, every other one in the reverse order (untraced,
 * tsbpf, bpftrace; then bpftrace, tsbpf, untraced), and its figures are the rounds'
 * medians; each round's figures are printed on stderr with the rest of
 * the detail. The machines are shared 2-core VMs, and the tracer and the load compete
 * for both cores with whatever else runs: figures move between runs; repeat the run.
 *
 * Published figures (not measured here), BCC's man pages (iovisor/bcc man/man8,
 * OVERHEAD sections): syscount — a loop of 4 million geteuid() calls, more than
 * 3.5 M syscalls/s, slowed 1.85x counting syscalls and more than 5x with latencies;
 * opensnoop, execsnoop, statsnoop, tcpconnect — rates expected below 1000/s (killsnoop
 * 100/s), "overhead ... expected to be negligible"; biolatency — negligible below 10k
 * IOPS; runqlat — scheduler events can make it significant, no figure. Each case's
 * `published` field holds its quote, printed with the detail.
 *
 * Needs root, cc, bpftrace (scripts/setup.sh installs it) and a loop device for
 * biolatency (its rows are left out, with a note, when losetup cannot make one). Run
 * alone with `npm run bench -- tools` (about 4 minutes); TSBPF_BENCH_TOOLS=exec,open
 * (tool names, comma-separated) runs only those tools.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BIN, ensureFreshBuild } from "./fresh-build.ts";
import { type BenchResult, median } from "./result.ts";
import { EXEC_TARGET, type LoadMode, TOOL_CASES, type ToolCase } from "./tool-cases.ts";
import { CLOCK_TICKS, cpuTicks, lostEvents, TracerProcess } from "./tracer-process.ts";

/** How long each load runs: long enough for a rate, short enough for a quick bench. */
const LOAD_SECONDS = 2;
const ROUNDS = 3;
/** CPU figures below this (% of one CPU) are clock-tick noise: compared as this. */
const CPU_FLOOR = 1;
/** A pause after a tracer is attached, before the load starts (its start-up settles). */
const SETTLE_MS = 200;

/** The load's run: operations done and the seconds they took. */
interface LoadRun {
  readonly ops: number;
  readonly seconds: number;
  readonly pid: number;
}

/** One traced run. */
interface TracedRun {
  /** The load's operations per second while traced. */
  readonly rate: number;
  /** The tracer's CPU use over the load's run, % of one CPU. */
  readonly cpu: number;
  /** Events of the load the tracer reported. */
  readonly seen: number;
  /** Events the tracer said it lost. */
  readonly lost: number;
  /** Events the load made. */
  readonly made: number;
  /** How long the load ran. */
  readonly seconds: number;
  /** (seen + lost) / made: 1 or more when every event was reported or counted lost. */
  readonly accounted: number;
  /** The tracer's CPU per reported event, microseconds (NaN when it reported none). */
  readonly cpuPerEvent: number;
}

/** One round of one tool. */
interface Round {
  readonly untraced: number;
  readonly tsbpf: TracedRun;
  readonly bpftrace: TracedRun;
}

/** Where the loads' inputs are. */
interface LoadSetup {
  readonly exe: string;
  readonly dir: string;
  /** The loop device for the bio load, or why there is none. */
  readonly loop: { readonly dev: string } | { readonly skip: string };
}

function compileLoad(dir: string): string {
  const exe = join(dir, "tool-load");
  execFileSync("cc", ["-O2", "-o", exe, join(import.meta.dirname, "c", "tool-load.c")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // The exec load runs this copy, so its name picks out the load's execs.
  copyFileSync(exe, join(dir, EXEC_TARGET));
  execFileSync("chmod", ["+x", join(dir, EXEC_TARGET)]);
  return exe;
}

/** A loop device over a 4 MiB file in `dir` (O_DIRECT reads of it are block requests). */
function setUpLoop(dir: string): LoadSetup["loop"] {
  const img = join(dir, "disk.img");
  writeFileSync(img, "");
  truncateSync(img, 4 << 20);
  const r = spawnSync("losetup", ["-f", "--show", img], { encoding: "utf8" });
  const dev = r.stdout?.trim() ?? "";
  if (r.status !== 0 || !dev) return { skip: `losetup failed: ${(r.stderr ?? "").trim()}` };
  return { dev };
}

/** The load's argument for `mode`, or undefined when it needs none. */
function loadArg(mode: LoadMode, setup: LoadSetup): string | undefined {
  switch (mode) {
    case "open":
    case "stat":
      return join(setup.dir, "disk.img");
    case "exec":
      return join(setup.dir, EXEC_TARGET);
    case "bio":
      return "dev" in setup.loop ? setup.loop.dev : undefined;
    default:
      return undefined;
  }
}

/** Runs the load for {@link LOAD_SECONDS} and parses its "<ops> <seconds>". */
function runLoad(mode: LoadMode, setup: LoadSetup): LoadRun {
  const arg = loadArg(mode, setup);
  const argv = [mode, String(LOAD_SECONDS), ...(arg === undefined ? [] : [arg])];
  const r = spawnSync(setup.exe, argv, { encoding: "utf8" });
  const m = /^(\d+) ([\d.]+)$/m.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) {
    throw new Error(`tool-load ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  }
  return { ops: Number(m[1]), seconds: Number(m[2]), pid: r.pid as number };
}

/** Starts a tracer, runs the load under it, stops it and counts. */
async function traced(
  c: ToolCase,
  setup: LoadSetup,
  which: "tsbpf" | "bpftrace",
): Promise<TracedRun> {
  const argv =
    which === "tsbpf"
      ? [process.execPath, BIN, "trace", c.tool, ...c.args]
      : ["bpftrace", "-e", c.bpftrace];
  // tsbpf says "Tracing ..." on stderr once attached; bpftrace "Attaching N probes...".
  const ready = which === "tsbpf" ? /^Tracing /m : /^Attaching \d+ probes?/m;
  const base = join(setup.dir, `${c.tool}-${which}`);
  const label = which === "tsbpf" ? `tsbpf trace ${c.tool}` : `bpftrace (${c.tool})`;
  const tracer = await TracerProcess.start(argv, `${base}.out`, `${base}.err`, ready, label);
  let load: LoadRun;
  let ticks: number;
  try {
    await sleep(SETTLE_MS);
    const before = cpuTicks(tracer.pid);
    load = runLoad(c.load, setup);
    ticks = cpuTicks(tracer.pid) - before;
  } catch (e) {
    await tracer.stop().catch(() => undefined);
    throw e;
  }
  const out = await tracer.stop();
  const facts = { loadPid: load.pid };
  const seen =
    which === "tsbpf" ? c.countTsbpf(out.stdout, facts) : c.countBpftrace(out.stdout, facts);
  const lost = lostEvents(`${out.stdout}\n${out.stderr}`);
  const made = load.ops * c.eventsPerOp;
  return {
    rate: load.ops / load.seconds,
    cpu: (100 * ticks) / CLOCK_TICKS / load.seconds,
    seen,
    lost,
    made,
    seconds: load.seconds,
    accounted: (seen + lost) / made,
    cpuPerEvent: seen > 0 ? (1e6 * ticks) / CLOCK_TICKS / seen : Number.NaN,
  };
}

async function round(c: ToolCase, setup: LoadSetup, reverse: boolean): Promise<Round> {
  const steps = ["untraced", "tsbpf", "bpftrace"] as const;
  const r: { untraced?: number; tsbpf?: TracedRun; bpftrace?: TracedRun } = {};
  for (const step of reverse ? [...steps].reverse() : steps) {
    if (step === "untraced") {
      const load = runLoad(c.load, setup);
      r.untraced = load.ops / load.seconds;
    } else {
      r[step] = await traced(c, setup, step);
    }
  }
  return r as Round;
}

const fmtRate = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
const fmtPct = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)}%`;

/** One tool's figures, medians over its rounds. */
interface ToolFigures {
  readonly untraced: number;
  readonly tsbpf: TracedRun;
  readonly bpftrace: TracedRun;
}

function medianRun(runs: readonly TracedRun[]): TracedRun {
  const m = (f: (r: TracedRun) => number) => median(runs.map(f));
  return {
    rate: m((r) => r.rate),
    cpu: m((r) => r.cpu),
    seen: m((r) => r.seen),
    lost: m((r) => r.lost),
    made: m((r) => r.made),
    seconds: m((r) => r.seconds),
    accounted: m((r) => r.accounted),
    cpuPerEvent: m((r) => r.cpuPerEvent),
  };
}

/** Tracer CPU per event, where the tool's CPU is mostly per event (the event tools). */
const fmtPerEvent = (r: TracedRun) =>
  r.cpu >= CPU_FLOOR && Number.isFinite(r.cpuPerEvent)
    ? ` (${r.cpuPerEvent.toFixed(1)} us/event)`
    : "";

/** " (us/event: tsbpf X, bpftrace Y)" for tools whose CPU is per event, else "". */
function perEventNote(f: ToolFigures): string {
  const ts = fmtPerEvent(f.tsbpf);
  const bt = fmtPerEvent(f.bpftrace);
  if (!ts && !bt) return "";
  const us = (r: TracedRun) => (fmtPerEvent(r) ? r.cpuPerEvent.toFixed(1) : "-");
  return ` (us/event: tsbpf ${us(f.tsbpf)}, bpftrace ${us(f.bpftrace)})`;
}

/**
 * The stderr detail of one round (events reported, lost and made) or of the medians
 * (the median share of the events accounted for: medians of the counts would not add up).
 */
function detailLine(c: ToolCase, label: string, f: ToolFigures, round: boolean): string {
  const events = (r: TracedRun) =>
    round
      ? `reported ${r.seen}/${r.made}${r.lost > 0 ? `, lost ${r.lost}` : ""}`
      : `accounted ${r.accounted.toFixed(3)}`;
  const side = (r: TracedRun) =>
    `${fmtRate(r.rate)}/s (slowdown ${(f.untraced / r.rate).toFixed(2)}x), ` +
    `CPU ${fmtPct(r.cpu)}${fmtPerEvent(r)}, ${events(r)}`;
  return (
    `  ${c.tool} ${label}: ${c.unit} untraced ${fmtRate(f.untraced)}/s; ` +
    `tsbpf ${side(f.tsbpf)}; bpftrace ${side(f.bpftrace)}\n`
  );
}

/** The result rows of one tool. */
function rows(c: ToolCase, f: ToolFigures): BenchResult[] {
  const slowTs = f.untraced / f.tsbpf.rate;
  const slowBt = f.untraced / f.bpftrace.rate;
  const cpuTs = Math.max(f.tsbpf.cpu, CPU_FLOOR);
  const cpuBt = Math.max(f.bpftrace.cpu, CPU_FLOOR);
  return [
    {
      name: `trace ${c.tool}: slowdown of ${fmtRate(f.untraced)} ${c.unit}/s vs bpftrace's`,
      value: slowTs,
      baseline: slowBt,
      ratio: slowTs / slowBt,
      goal: "<= 1.2",
      unit: "x",
    },
    {
      name: `trace ${c.tool}: tracer CPU, % of one CPU, vs bpftrace's${perEventNote(f)}`,
      value: f.tsbpf.cpu,
      baseline: f.bpftrace.cpu,
      ratio: cpuTs / cpuBt,
      goal: "<= 1.5",
      unit: "%",
    },
    {
      name:
        `trace ${c.tool}: events/s reported vs made, (reported + lost) / made` +
        ` (tsbpf lost ${f.tsbpf.lost}; bpftrace ${f.bpftrace.accounted.toFixed(3)}, lost ${f.bpftrace.lost})`,
      value: f.tsbpf.seen / f.tsbpf.seconds,
      baseline: f.tsbpf.made / f.tsbpf.seconds,
      ratio: f.tsbpf.accounted,
      goal: ">= 1",
      unit: "/s",
    },
  ];
}

/** Runs the tool overhead bench (needs root, cc, bpftrace and the built dist/). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("tools needs root (bpf(2), losetup)");
  if (spawnSync("bpftrace", ["--version"]).status !== 0) {
    throw new Error("bpftrace is not installed (apt-get install bpftrace; scripts/setup.sh)");
  }
  ensureFreshBuild("tools");
  const only = process.env.TSBPF_BENCH_TOOLS?.split(",").filter((s) => s !== "");
  const cases = TOOL_CASES.filter((c) => !only || only.includes(c.tool));
  if (cases.length === 0) throw new Error(`TSBPF_BENCH_TOOLS names no tool: ${only?.join(",")}`);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-tools-bench-"));
  const loop = setUpLoop(dir);
  const setup: LoadSetup = { exe: compileLoad(dir), dir, loop };
  try {
    const results: BenchResult[] = [];
    for (const c of cases) {
      if (c.load === "bio" && "skip" in loop) {
        process.stderr.write(`  ${c.tool}: skipped, no loop device (${loop.skip})\n`);
        continue;
      }
      const rounds: Round[] = [];
      try {
        for (let i = 0; i < ROUNDS; i++) {
          rounds.push(await round(c, setup, i % 2 === 1));
          process.stderr.write(detailLine(c, `round ${i + 1}`, rounds[i] as Round, true));
        }
      } catch (e) {
        // One tool's failure leaves the others' figures standing; the run still fails.
        process.stderr.write(`  ${c.tool}: FAILED: ${(e as Error).message}\n`);
        process.exitCode = 1;
        continue;
      }
      const figures: ToolFigures = {
        untraced: median(rounds.map((r) => r.untraced)),
        tsbpf: medianRun(rounds.map((r) => r.tsbpf)),
        bpftrace: medianRun(rounds.map((r) => r.bpftrace)),
      };
      process.stderr.write(detailLine(c, "median", figures, false));
      process.stderr.write(`    published: ${c.published}\n`);
      results.push(...rows(c, figures));
    }
    return results;
  } finally {
    if ("dev" in loop) spawnSync("losetup", ["-d", loop.dev]);
    rmSync(dir, { recursive: true, force: true });
  }
}
