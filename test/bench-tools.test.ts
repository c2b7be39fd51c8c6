/**
 * The trace tools' overhead bench (bench/tools.ts) counts what it cannot see the
 * kernel do from the tracers' outputs and /proc: these tests check those counts on
 * outputs in the tracers' formats, the CPU reading on this process, and the load
 * generator (bench/c/tool-load.c) in each mode that needs no loop device (a tenth of a
 * second each). The bench itself is run by `npm run bench -- tools`.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  bccHistogramTotal,
  bpftraceHistogramTotal,
  EXEC_TARGET,
  linesWithWord,
  TOOL_CASES,
} from "../bench/tool-cases.ts";
import { cpuTicks, lostEvents } from "../bench/tracer-process.ts";
import { scaled } from "./support/time.ts";

describe("bench tools: counting in the tracers' outputs", () => {
  test("a BCC-style histogram's total is the sum of its rows", () => {
    const text =
      "Tracing run queue latency... Hit Ctrl-C to end.\n\n" +
      "     usecs               : count     distribution\n" +
      "         0 -> 1          : 7        |****                                    |\n" +
      "         2 -> 3          : 70       |****************************************|\n" +
      "      1024 -> 2047       : 3        |*                                       |\n";
    assert.equal(bccHistogramTotal(text), 80);
    assert.equal(bccHistogramTotal("no histogram\n"), 0);
  });

  test("bpftrace's hist() total counts single-value, range and K/M rows", () => {
    const text =
      "Attaching 3 probes...\n\n@usecs: \n" +
      "[0]                    2 |@                                                   |\n" +
      "[1]                  249 |@@@@@                                               |\n" +
      "[2, 4)              9967 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n" +
      "[1K, 2K)             367 |@                                                   |\n" +
      "\n@sc[110]: 5000\n";
    assert.equal(bpftraceHistogramTotal(text), 2 + 249 + 9967 + 367);
  });

  test("syscount's getppid row and bpftrace's @sc[110] are the syscall load's counts", () => {
    const c = TOOL_CASES.find((t) => t.tool === "syscount");
    assert.ok(c);
    const facts = { loadPid: 1 };
    const ours =
      "[10:29:04]\nSYSCALL                   COUNT\ngetppid                 914048\nread 3\n";
    assert.equal(c.countTsbpf(ours, facts), 914048);
    assert.equal(c.countBpftrace("@sc[11]: 4\n@sc[110]: 758912\n@sc[1100]: 9\n", facts), 758912);
  });

  test("event lines are picked out by the load's PID as a whole word", () => {
    const text = "1234 tool-load 0 /tmp/x\n12345 other 0 /tmp/1234\n99 tool-load 1234 0\n";
    assert.equal(linesWithWord(text, "1234"), 2);
  });

  test("lost events are summed from tsbpf's and bpftrace's messages", () => {
    assert.equal(lostEvents("Possibly lost 9032 samples\n"), 9032);
    assert.equal(lostEvents("Lost 10 events\nx\nLost 5 events\n"), 15);
    assert.equal(lostEvents("Attaching 2 probes...\n"), 0);
  });

  test("cpuTicks of this process grows while it burns CPU", () => {
    const before = cpuTicks(process.pid);
    // Burn until 3 ticks (30 ms at USER_HZ 100) have been counted; a busy shared
    // machine may take a while to give us that much CPU, a broken reading never does.
    const deadline = performance.now() + scaled(5000);
    let grown = 0;
    while (grown < 3 && performance.now() < deadline) {
      for (let i = 0; i < 1e5; i++) Math.sqrt(i);
      grown = cpuTicks(process.pid) - before;
    }
    assert.ok(grown >= 3, `CPU time grew by ${grown} ticks in 5 s of a busy loop`);
  });
});

const ccSkip = spawnSync("cc", ["--version"]).status === 0 ? false : "needs cc";

describe("bench tools: the load generator", { skip: ccSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-tool-load-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, "tool-load");
  const file = join(dir, "file");
  const target = join(dir, EXEC_TARGET);

  test("compiles", () => {
    execFileSync("cc", ["-O2", "-Wall", "-Werror", "-o", exe, "bench/c/tool-load.c"]);
    copyFileSync(exe, target);
    writeFileSync(file, "x");
  });

  const modes: [string, string[]][] = [
    ["open", [file]],
    ["stat", [file]],
    ["syscall", []],
    ["kill", []],
    ["exec", [target]],
    ["tcp", []],
    ["sched", []],
  ];
  for (const [mode, rest] of modes) {
    test(`${mode}: operations and the time they took`, () => {
      const r = spawnSync(exe, [mode, "0.1", ...rest], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const m = /^(\d+) ([\d.]+)\n$/.exec(r.stdout);
      assert.ok(m, `output: ${r.stdout}`);
      assert.ok(Number(m[1]) > 0, "no operation done");
      assert.ok(Number(m[2]) >= 0.1, `ran ${m[2]} s, not 0.1`);
    });
  }

  test("bad input is named", () => {
    const bad = (args: string[], text: RegExp) => {
      const r = spawnSync(exe, args, { encoding: "utf8" });
      assert.equal(r.status, 2);
      assert.match(r.stderr, text);
    };
    bad(["walk", "1"], /unknown mode 'walk'/);
    bad(["open", "soon"], /SECONDS must be > 0, not 'soon'/);
    bad(["stat", "1"], /stat needs a path/);
  });

  test("bio names its missing block device", () => {
    const r = spawnSync(exe, ["bio", "0.1", join(dir, "missing")], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /open O_DIRECT .*: No such file or directory/);
  });
});
