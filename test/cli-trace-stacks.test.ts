/**
 * `tsbpf trace profile` and `tsbpf trace offcputime` against the real kernel:
 * - profile samples a dd copying /dev/zero to /dev/null (its CPU time is in the
 *   kernel's read_zero) with --pid: every stack is dd's, most end in read_zero, and the
 *   samples fit the frequency and the duration;
 * - offcputime watches a shell that, on its cue, becomes `sleep 0.3`: its
 *   clock_nanosleep stack (schedule under do_nanosleep) holds about 300 ms.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { tsbpf } from "./cli-run.ts";
import { kernelSkip, scaled } from "./support/kernel.ts";
import { attached, jsonLines, start } from "./support/trace-tool.ts";

/** One line of folded output: its frames and its count. */
function foldedLine(line: string): { frames: string[]; count: number } {
  const m = /^(.*) (\d+)$/.exec(line);
  assert.ok(m, `folded line '${line}'`);
  return { frames: (m[1] as string).split(";"), count: Number(m[2]) };
}

describe("tsbpf trace profile", { skip: kernelSkip }, () => {
  // dd reads 1 MiB of zeros at a time: nearly all of its time is in read_zero
  let dd: ChildProcess | undefined;
  let pid = 0;
  before(() => {
    dd = spawn("dd", ["if=/dev/zero", "of=/dev/null", "bs=1M", "count=100000000"], {
      stdio: "ignore",
    });
    pid = dd.pid as number;
  });
  after(() => {
    dd?.kill("SIGKILL");
  });
  const HZ = 199;

  test("--pid PID --folded --delimited -F 199 1: dd's stacks, in read_zero, samples within what 1 s gives", async () => {
    const r = await tsbpf(
      "trace",
      "profile",
      "--pid",
      String(pid),
      "--folded",
      "--delimited",
      "-F",
      String(HZ),
      "1",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Sampling at ${HZ} Hertz of PID ${pid} by user \\+ kernel stack for 1 secs\\.$`,
        "m",
      ),
    );
    const lines = r.stdout.trimEnd().split("\n").map(foldedLine);
    assert.ok(
      lines.every((l) => l.frames[0] === "dd"),
      r.stdout,
    );
    const total = lines.reduce((a, l) => a + l.count, 0);
    // one thread: at most HZ a second (and the detach takes a moment); at least a few,
    // however busy the machine's CPUs are with others
    assert.ok(total >= 5 && total <= HZ * 1.5, `${total} samples\n${r.stdout}`);
    const inReadZero = lines.filter((l) => l.frames.includes("read_zero"));
    const zeroSamples = inReadZero.reduce((a, l) => a + l.count, 0);
    assert.ok(zeroSamples >= total / 2, `${zeroSamples} of ${total} in read_zero\n${r.stdout}`);
    for (const l of inReadZero) {
      // user frames, then '-', then the kernel's from the syscall entry to read_zero
      const dash = l.frames.indexOf("-");
      assert.ok(dash > 1, `a user frame and the delimiter: ${l.frames.join(";")}`);
      // root first: vfs_read calls read_zero (which may have been preempted, its
      // frames then go on into the scheduler)
      const kernel = l.frames.slice(dash + 1);
      assert.ok(kernel.indexOf("vfs_read") < kernel.indexOf("read_zero"), l.frames.join(";"));
    }
    // dd is linked with glibc here (not busybox): its user frame is libc's read
    const maps = readFileSync(`/proc/${pid}/maps`, "utf8");
    if (/\/libc\.so/.test(maps)) {
      assert.ok(
        inReadZero.some((l) =>
          /^(__libc_|__)?read$/.test(l.frames[l.frames.indexOf("-") - 1] ?? ""),
        ),
        r.stdout,
      );
    }
  });

  test("-K -a -F 299 --duration 0.5: BCC's blocks of kernel frames with _[k], '-  dd (PID)' and a count", async () => {
    const r = await tsbpf(
      "trace",
      "profile",
      "--pid",
      String(pid),
      "-K",
      "-a",
      "--duration",
      "0.5",
    );
    assert.equal(r.code, 0, r.stderr);
    // A block may have no frames: a sample taken while dd ran in user space has no
    // kernel stack, and -K shows none of its user one (BCC prints it so too)
    assert.match(r.stdout, /^\n {4}\S/);
    const blocks = r.stdout.replace(/^\n+|\n+$/g, "").split("\n\n");
    for (const b of blocks) {
      assert.match(b, new RegExp(`(\\n|^) {4}- {16}dd \\(${pid}\\)\\n {8}\\d+$`), b);
      assert.ok(
        b
          .split("\n")
          .slice(0, -2)
          .every((f) => f.endsWith("_[k]")),
        b,
      );
    }
    assert.ok(
      blocks.some((b) => /(^|\n) *read_zero_\[k\]\n/.test(b)),
      r.stdout,
    );
  });
});

describe("tsbpf trace offcputime", { skip: kernelSkip }, () => {
  const SLEEP_MS = 300;

  test("--pid PID -j: the sleep's stack, schedule under do_nanosleep, holds the time it slept", async () => {
    const sh = spawn("sh", ["-c", `read x; exec sleep ${SLEEP_MS / 1000}`], {
      stdio: ["pipe", "ignore", "inherit"],
    });
    const pid = sh.pid as number;
    const exited = new Promise((res) => sh.on("exit", res));
    const tool = start([
      "trace",
      "offcputime",
      "--pid",
      String(pid),
      "-j",
      "--duration",
      String(scaled(1000) / 1000),
    ]);
    await attached(tool);
    sh.stdin?.end("go\n");
    await exited;
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    assert.match(
      d.stderr,
      new RegExp(
        `^Tracing off-CPU time \\(us\\) of PID ${pid} by user \\+ kernel stack for [\\d.]+ secs\\.$`,
        "m",
      ),
    );
    const stacks = jsonLines(d.stdout) as {
      pid: number;
      comm: string;
      total_us: number;
      kernel_stack: string[];
    }[];
    assert.ok(
      stacks.every((s) => s.pid === pid),
      d.stdout,
    );
    const slept = stacks.filter(
      (s) => s.comm === "sleep" && s.kernel_stack.includes("do_nanosleep"),
    );
    assert.equal(slept.length, 1, d.stdout);
    const s = slept[0] as (typeof slept)[number];
    // the tracepoint's own frames (the program, bpf_trace_run4) are not shown
    assert.match(s.kernel_stack[0] ?? "", /^_*schedule$/, d.stdout);
    assert.ok(s.kernel_stack.indexOf("schedule") < s.kernel_stack.indexOf("do_nanosleep"));
    const us = s.total_us;
    // the timer is armed a moment before the switch out: a few microseconds may be missing
    assert.ok(us >= SLEEP_MS * 990 && us < scaled(SLEEP_MS + 200) * 1000, `${us} us asleep`);
  });
});

describe("trace profile and offcputime: usage", () => {
  for (const [args, want] of [
    [["profile", "-U", "-K"], /--user-stacks-only and --kernel-stacks-only exclude each other/],
    [["profile", "-F", "99", "-c", "1000"], /--frequency and --count exclude each other/],
    [["profile", "-F", "0"], /-F takes a whole number from 1/],
    [["profile", "1", "2"], /unexpected argument '2'/],
    [
      ["offcputime", "-u", "-k"],
      /--user-threads-only and --kernel-threads-only exclude each other/,
    ],
    [["offcputime", "-m", "500", "-M", "100"], /-M 100 is below -m 500/],
    [["offcputime", "--stack-storage-size", "x"], /--stack-storage-size takes a whole number/],
  ] as const) {
    test(`${args.join(" ")}: a usage error`, async () => {
      const r = await tsbpf("trace", ...args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, want);
    });
  }
  for (const tool of ["profile", "offcputime"]) {
    test(`${tool} --help: usage on stdout, exit 0`, async () => {
      const r = await tsbpf("trace", tool, "--help");
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: tsbpf trace ${tool} `));
    });
  }
});
