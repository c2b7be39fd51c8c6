/**
 * `tsbpf trace ucalls|uflow|ugc --pid PID` run as the bin runs (subprocesses, all three
 * at once on one python3 the test starts): once every tool says it is tracing, the
 * script calls `tsbpf_probe_fn` 7 times and runs gc.collect(1), twice; then each tool
 * gets SIGINT and must have printed exactly those calls and collections in BCC's
 * columns, exited 0, and left the probes' semaphores as it found them (0), which
 * shows its uprobes are gone.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { CliError } from "../src/cli/format/output.ts";
import { describeUsdtArg, formatProbeList } from "../src/cli/trace/trace-tplist.ts";
import { parseUpythonOptions, pythonProbeBinary } from "../src/cli/trace/trace-upython.ts";
import { parseUsdtArgs, type UsdtArgSpec, usdtProbes } from "../src/elf/index.ts";
import { readBinaryElf } from "../src/kernel/links/uprobe-symbols.ts";
import { kernelSkip, needs, scaled } from "./support/kernel.ts";
import { PYTHON, PythonWorkload, pythonSemaphore, pythonSkip } from "./support/python-usdt.ts";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "src/cli/main.ts");

interface Run {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `tsbpf trace ...`; `ready` resolves once it says "Tracing" (or exits). */
function tool(args: string[]): Run {
  const proc = spawn(process.execPath, ["--import", "tsx", MAIN, "trace", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let onReady = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  proc.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    if (stderr.includes("Tracing ")) onReady();
  });
  const watchdog = setTimeout(() => proc.kill("SIGKILL"), scaled(30_000));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    proc.on("close", (code) => {
      clearTimeout(watchdog);
      onReady();
      r({ code, stdout, stderr });
    }),
  );
  return { proc, ready, done };
}

describe("trace ucalls, uflow, ugc on a python3", { skip: needs(kernelSkip, pythonSkip()) }, () => {
  let py: PythonWorkload;
  before(async () => {
    py = new PythonWorkload();
    await py.said("ready");
  });
  after(() => py.stop());

  test("each prints the calls and collections the script made", async () => {
    const pid = String(py.pid);
    const ucalls = tool(["ucalls", "--pid", pid, "--latency"]);
    const uflow = tool(["uflow", "--pid", pid, "--method", "tsbpf_"]);
    const ugc = tool(["ugc", "--pid", pid, "--filter", "gen 1"]);
    const all = [ucalls, uflow, ugc];
    await Promise.all(all.map((t) => t.ready));
    for (const t of all) assert.equal(t.proc.exitCode, null, "every tool is tracing");
    // One count per probe site, however many tools share its uprobe.
    assert.equal(pythonSemaphore(py.pid, "function__entry"), 1, "the kernel set the semaphore");
    // CPython 3.11 misses the returns of calls in the first round after attaching (its
    // frames decided before): two rounds, the second complete.
    await py.round(7);
    await py.round(7);
    for (const t of all) t.proc.kill("SIGINT");
    const [c, f, g] = await Promise.all(all.map((t) => t.done));

    assert.equal(c?.code, 0, c?.stderr);
    assert.match(c?.stderr ?? "", /Tracing calls in process \d+ \(language: python\)/);
    const lines = (c?.stdout ?? "").split("\n");
    assert.equal(lines[1], `${"METHOD".padEnd(50)}  # CALLS TIME (us)`);
    const mine = lines.find((l) => l.startsWith("<string>.tsbpf_probe_fn "));
    const prefix = `${"<string>.tsbpf_probe_fn".padEnd(50)} ${"14".padStart(8)} `;
    assert.ok(mine?.startsWith(prefix), c?.stdout);
    assert.match(mine?.slice(prefix.length) ?? "", /^ *\d+\.\d\d$/, "TIME (us)");

    assert.equal(f?.code, 0, f?.stderr);
    const flow = (f?.stdout ?? "").split("\n").filter((l) => l !== "");
    assert.equal(flow[0], "CPU PID    TID    TIME(s)  METHOD");
    const row = new RegExp(
      `^\\d +${pid} +${pid} +\\d+\\.\\d{3} +(->|<-) <string>\\.tsbpf_probe_fn$`,
    );
    for (const l of flow.slice(1)) assert.match(l, row);
    assert.equal(flow.filter((l) => l.includes("-> ")).length, 14);
    assert.ok(flow.filter((l) => l.includes("<- ")).length >= 7, f?.stdout);

    assert.equal(g?.code, 0, g?.stderr);
    const gc = (g?.stdout ?? "").split("\n").filter((l) => l !== "");
    assert.equal(gc[0], "START    TIME (us) DESCRIPTION                             ");
    assert.equal(gc.length, 3, g?.stdout);
    for (const l of gc.slice(1))
      assert.match(l, /^\d+\.\d{3} +\d+\.\d\d +gen 1 GC collected \d+ objects$/);

    // Every uprobe is gone: the kernel took its count off the semaphores.
    assert.equal(pythonSemaphore(py.pid, "function__entry"), 0);
    assert.equal(pythonSemaphore(py.pid, "gc__start"), 0);
  });

  test("a process without Python's probes is a clear error, exit status 1", (t) => {
    const sleeper = spawn("sleep", ["10"]);
    t.after(() => sleeper.kill());
    assert.throws(
      () => pythonProbeBinary(sleeper.pid as number),
      (e: unknown) =>
        e instanceof CliError &&
        e.exitCode === 1 &&
        /has no python:function__entry USDT probe in its executable or a libpython/.test(e.message),
    );
  });

  test("--pid is required; options are long only", () => {
    assert.throws(() => parseUpythonOptions("ucalls", []), /trace ucalls needs --pid PID/);
    assert.throws(() => parseUpythonOptions("ucalls", ["-p", "1"]), /Unknown option '-p'/);
    assert.throws(() => parseUpythonOptions("ugc", ["--pid", "1", "--top", "3"]), /'--top'/);
    assert.throws(() => parseUpythonOptions("ugc", ["--pid", "x"]), /--pid takes a whole number/);
    assert.deepEqual(
      parseUpythonOptions("ucalls", ["--pid", "7", "--latency", "--top", "3", "--duration", "0.5"]),
      {
        pid: 7,
        durationSeconds: 0.5,
        json: false,
        perfBuffer: false,
        help: false,
        latency: true,
        milliseconds: false,
        top: 3,
      },
    );
  });
});

describe("trace tplist", { skip: pythonSkip() }, () => {
  test("python3's probes, as BCC's tplist -l and -vv list them", () => {
    const probes = usdtProbes(readBinaryElf(PYTHON as string));
    const plain = formatProbeList("/usr/bin/python3", probes, false).split("\n");
    assert.ok(plain.includes("/usr/bin/python3 python:gc__start"), plain.join("\n"));
    const gc = probes.filter((p) => p.name === "gc__start");
    assert.match(
      formatProbeList("/usr/bin/python3", gc, true),
      /^python:gc__start \[sema 0x[0-9a-f]+\]\n {2}location #0 \/usr\/bin\/python3 0x[0-9a-f]+\n {4}argument #0 4 signed bytes @ \S+\n$/,
    );
    const [reg, deref, constant] = parseUsdtArgs("8@%rbp -4@-20(%rbp) 2@$-3", "p:n");
    assert.equal(describeUsdtArg(reg as UsdtArgSpec), "8 unsigned bytes @ rbp");
    assert.equal(describeUsdtArg(deref as UsdtArgSpec), "4 signed bytes @ -20(rbp)");
    assert.equal(describeUsdtArg(constant as UsdtArgSpec), "2 unsigned bytes = -3");
  });
});
