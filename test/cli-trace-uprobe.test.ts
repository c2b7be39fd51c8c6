/**
 * `tsbpf trace funccount` and `tsbpf trace bashreadline` against the real kernel, run
 * as a user runs them (a subprocess), on processes the tests start:
 * - funccount: a small C program compiled here with clang (skipped without it) that
 *   waits for a byte on stdin, then calls its own fc_alpha() 3 times, fc_beta() 5
 *   times, never fc_gamma(), and libc's getpid() 7 times: exact counts, with --pid.
 *   Each test says (and checks, from the kernel's link list) how the probes were
 *   attached: one uprobe.multi link where the kernel has them (Linux >= 6.6), or one
 *   perf-event uprobe per function (--perf-links, or older kernels).
 * - bashreadline: an interactive bash on a pseudo-terminal (util-linux `script`), two
 *   commands typed into it; skipped where there is no bash or script (busybox guests).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { haveKprobes, libraryOfProcess } from "../src/cli/trace/funccount-probes.ts";
import { haveUprobeMulti } from "../src/cli/trace/trace-funccount.ts";
import { findClang } from "../src/compile/index.ts";
import { Link } from "../src/kernel/links/link.ts";
import { linkIds } from "../src/kernel/objects/objects.ts";
import { tsbpf } from "./cli-run.ts";
import { kernelSkip, needs, scaled, toolSkip } from "./support/kernel.ts";
import { PythonWorkload, pythonSkip } from "./support/python-usdt.ts";
import { attached, jsonLines, start, type Tool } from "./support/trace-tool.ts";

const clang = await findClang().catch(() => undefined);
const clangSkip = clang ? false : "no clang >= 14 on this machine";

const PROGRAM = `#include <unistd.h>
__attribute__((noinline)) int fc_alpha(int x) { return x + 1; }
__attribute__((noinline)) int fc_beta(int x) { return x * 2; }
__attribute__((noinline)) int fc_gamma(int x) { return x - 1; }
int main(int argc, char **argv) {
  char c;
  if (read(0, &c, 1) != 1) return 1;
  volatile int s = 0;
  for (int i = 0; i < 3; i++) s += fc_alpha(i);
  for (int i = 0; i < 5; i++) s += fc_beta(i);
  for (int i = 0; i < 7; i++) s += getpid();
  if (argc > 1) s += fc_gamma(s);
  return 0;
}
`;

/** The kinds of BPF links probing `path` now: "uprobe_multi" or "perf_event:uprobe". */
function probeLinks(path: string): string[] {
  const kinds: string[] = [];
  for (const id of linkIds()) {
    let link: Link;
    try {
      link = Link.fromId(id);
    } catch {
      continue; // gone since the walk saw it
    }
    try {
      const d = link.info().detail;
      if (d.kind === "uprobe_multi" && d.path === path) kinds.push("uprobe_multi");
      if (d.kind === "perf_event" && d.event.type === "uprobe" && d.event.fileName === path) {
        kinds.push("perf_event:uprobe");
      }
    } finally {
      link.close();
    }
  }
  return kinds;
}

/** The C program, waiting for its cue (a byte on stdin). */
function cuedProgram(bin: string): { proc: ChildProcess; go: () => Promise<void> } {
  const proc = spawn(bin, [], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((res) => proc.on("exit", () => res()));
  return {
    proc,
    go: async () => {
      proc.stdin?.end("x");
      await exited;
    },
  };
}

/**
 * Runs funccount on a fresh cued program: attached, checks the links, gives the cue,
 * waits for the program to exit, then stops the tool with SIGINT.
 */
async function countRun(
  bin: string,
  args: (pid: number) => string[],
  expectLinks?: (pid: number) => void,
): Promise<Awaited<Tool["done"]>> {
  const child = cuedProgram(bin);
  const pid = child.proc.pid as number;
  const tool = start(["trace", "funccount", ...args(pid)]);
  try {
    await attached(tool);
    expectLinks?.(pid);
    await child.go();
  } finally {
    child.proc.kill();
    tool.proc.kill("SIGINT");
  }
  return tool.done;
}

/** The FUNC COUNT rows of a plain report. */
function rows(stdout: string): [string, number][] {
  return [...stdout.matchAll(/^(\S+) +(\d+)$/gm)].map((m) => [m[1] as string, Number(m[2])]);
}

describe("tsbpf trace funccount", { skip: needs(kernelSkip, clangSkip) }, () => {
  let dir = "";
  let bin = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-funccount-"));
    writeFileSync(join(dir, "fc.c"), PROGRAM);
    bin = join(dir, "fc");
    const cc = spawnSync(clang?.path ?? "clang", ["-O1", "-o", bin, join(dir, "fc.c")], {
      encoding: "utf8",
    });
    assert.equal(cc.status, 0, cc.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("'BIN:fc_*' --pid: fc_alpha 3, fc_beta 5, fc_gamma not shown; BCC's lines; one uprobe.multi link where the kernel has them", async () => {
    const multi = haveUprobeMulti();
    const d = await countRun(
      bin,
      (pid) => ["--pid", String(pid), `${bin}:fc_*`],
      () =>
        // uprobe.multi (Linux >= 6.6): one link for the three functions; else three perf events.
        assert.deepEqual(
          probeLinks(bin),
          multi ? ["uprobe_multi"] : Array(3).fill("perf_event:uprobe"),
        ),
    );
    assert.equal(d.code, 0, d.stderr);
    assert.match(
      d.stderr,
      new RegExp(`Tracing 3 functions for "${bin}:fc_\\*"\\.\\.\\. Hit Ctrl-C to end\\.`),
    );
    assert.match(d.stdout, /^\nFUNC {32} {4}COUNT\n/);
    assert.deepEqual(rows(d.stdout), [
      ["fc_alpha", 3],
      ["fc_beta", 5],
    ]);
    assert.match(d.stdout, /^fc_alpha {28} {8}3$/m, "%-36s %8d");
    assert.match(d.stdout, /Detaching\.\.\.\n$/);
  });

  test("c:getpid --pid --perf-links -j: 7 calls, through one perf-event uprobe on the process's libc", async () => {
    const d = await countRun(
      bin,
      (pid) => ["--pid", String(pid), "--perf-links", "-j", "c:getpid"],
      (pid) => {
        const libc = libraryOfProcess(pid, "c");
        assert.ok(libc, "the program maps a libc");
        assert.deepEqual(probeLinks(libc), ["perf_event:uprobe"]);
      },
    );
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /Tracing 1 functions for "c:getpid"/);
    const [report, ...more] = jsonLines(d.stdout);
    assert.equal(more.length, 0);
    assert.deepEqual(report?.functions, [{ func: "getpid", count: 7 }]);
  });

  test("-r 'BIN:fc_(alpha|gamma)' -T: a regular expression; the timestamp line", async () => {
    const d = await countRun(bin, (pid) => [
      "--pid",
      String(pid),
      "-r",
      "-T",
      `${bin}:fc_(alpha|gamma)`,
    ]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /Tracing 2 functions/);
    assert.match(d.stdout, /^\n\d\d:\d\d:\d\d\nFUNC /);
    assert.deepEqual(rows(d.stdout), [["fc_alpha", 3]]);
  });

  test("t:syscalls:sys_enter_getpid --pid: a tracepoint counted (7 calls)", async () => {
    const d = await countRun(bin, (pid) => ["--pid", String(pid), "t:syscalls:sys_enter_getpid"]);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(rows(d.stdout), [["syscalls:sys_enter_getpid", 7]]);
  });

  test("-i 0.5 --duration 1: two reports, every half second, then it stops by itself", async () => {
    const d = await tsbpf("trace", "funccount", "-i", "0.5", "--duration", "1", "c:getpid");
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.match(/^FUNC /gm)?.length, 2);
    assert.equal(d.stdout.match(/Detaching/g)?.length, 1);
  });

  test("bad patterns: usage errors (exit 255) naming what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [[`${bin}:nothing_*`], /no functions matched by pattern '.*:nothing_\*'/],
      [["nolibzz:foo"], /unable to find library nolibzz/],
      [["x:c:foo"], /the type must be 'p', 't' or 'u', not 'x'/],
      [["a:b:c:d"], /too many ':'-separated parts/],
      [["c:"], /nothing to match after the last ':'/],
      [["-r", "c:(open"], /not a regular expression/],
      [["--pid", "999999999", "c:getpid"], /--pid 999999999: no such process/],
      [["u:c:nothing_*"], /no functions matched by pattern 'u:c:nothing_\*'/],
      [[], /give one PATTERN/],
    ];
    for (const [args, why] of cases) {
      const d = await tsbpf("trace", "funccount", ...args);
      assert.equal(d.code, 255, args.join(" "));
      assert.match(d.stderr, why, args.join(" "));
    }
  });
});

const bashSkip = needs(
  kernelSkip,
  toolSkip("bash"),
  toolSkip("script", "-V"),
  toolSkip("pgrep", "-V"),
);

describe("tsbpf trace bashreadline", { skip: bashSkip }, () => {
  /**
   * An interactive bash on a pty (script), its input written by the test. script runs
   * its command with `$SHELL -c` (/bin/sh when SHELL is unset); dash forks for a lone
   * command where bash execs it, so bash was a grandchild under CI. `exec` keeps bash
   * script's child whatever SHELL is, and SHELL=/bin/sh makes every machine run CI's case.
   */
  function interactiveBash(): ChildProcess {
    return spawn("script", ["-qfc", "exec bash --norc --noprofile -i", "/dev/null"], {
      stdio: ["pipe", "ignore", "ignore"],
      env: { ...process.env, SHELL: "/bin/sh", TERM: "dumb", PS1: "$ " },
    });
  }

  /** The pid of the bash `script` started (its only child). */
  async function bashPid(shell: ChildProcess): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const r = spawnSync("pgrep", ["-P", String(shell.pid), "-x", "bash"], { encoding: "utf8" });
      const pid = Number(r.stdout.trim());
      if (pid > 0) return pid;
      await new Promise((res) => setTimeout(res, scaled(20)));
    }
    const children = spawnSync("pgrep", ["-a", "-P", String(shell.pid)], { encoding: "utf8" });
    assert.fail(
      `script (pid ${shell.pid}, exit code ${shell.exitCode}) started no bash; its children: ${children.stdout.trim() || "none"}`,
    );
  }

  for (const json of [false, true]) {
    test(`two commands typed into bash: both lines with bash's pid${json ? " (-j)" : ", TIME PID COMMAND"}`, async () => {
      const tool = start(["trace", "bashreadline", ...(json ? ["-j"] : [])]);
      let shell: ChildProcess | undefined;
      let pid = 0;
      try {
        // A readline() call already waiting when the uretprobe comes is not seen: the
        // shell starts once the tool is attached.
        await attached(tool);
        shell = interactiveBash();
        pid = await bashPid(shell);
        const exited = new Promise((res) => shell?.on("exit", res));
        shell.stdin?.write("echo tsbpf-one\n");
        shell.stdin?.write("true tsbpf-two\n");
        shell.stdin?.write("exit\n");
        await exited;
        await new Promise((res) => setTimeout(res, scaled(200)));
      } finally {
        shell?.kill();
        tool.proc.kill("SIGINT");
      }
      const d = await tool.done;
      assert.equal(d.code, 0, d.stderr);
      if (json) {
        const lines = jsonLines(d.stdout).filter((l) => String(l.command).includes("tsbpf-"));
        assert.deepEqual(
          lines.map((l) => l.command),
          ["echo tsbpf-one", "true tsbpf-two"],
        );
        assert.ok(
          lines.every((l) => l.comm === "bash" && l.pid === pid),
          d.stdout,
        );
      } else {
        assert.match(d.stdout, /^TIME {6}PID {4}COMMAND\n/);
        const mine = d.stdout.split("\n").filter((l) => l.includes("tsbpf-"));
        assert.equal(mine.length, 2, d.stdout);
        assert.match(
          mine[0] as string,
          new RegExp(`^\\d\\d:\\d\\d:\\d\\d {2}${pid} +echo tsbpf-one$`),
        );
        assert.match(
          mine[1] as string,
          new RegExp(`^\\d\\d:\\d\\d:\\d\\d {2}${pid} +true tsbpf-two$`),
        );
      }
    });
  }
});

describe("tsbpf trace funccount on kernel functions", { skip: kernelSkip }, () => {
  test("kernel functions: counted with kprobes where the kernel has them (this process's reads), else a clear 'kprobes are missing'", async () => {
    // The tool runs in this process, so the reads made meanwhile are --pid's.
    const reading = setInterval(() => readFileSync("/proc/self/stat"), 5);
    let d: Awaited<ReturnType<typeof tsbpf>>;
    try {
      d = await tsbpf(
        "trace",
        "funccount",
        "--pid",
        String(process.pid),
        "--duration",
        "0.5",
        "vfs_read",
      );
    } finally {
      clearInterval(reading);
    }
    if (haveKprobes()) {
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stderr, /Tracing 1 functions for "vfs_read"/);
      const [[name, count] = ["", 0]] = rows(d.stdout);
      assert.equal(name, "vfs_read", d.stdout);
      assert.ok(count > 0, d.stdout);
    } else {
      assert.equal(d.code, 1);
      assert.match(
        d.stderr,
        /counting kernel functions 'vfs_read' is not supported: kprobes are not available on this kernel/,
      );
    }
  });
});

describe("tsbpf trace funccount on an IFUNC", { skip: kernelSkip }, () => {
  test("libc's strlen: attached, with a note that the probe sees the resolver, not the calls", async () => {
    const d = await tsbpf("trace", "funccount", "--duration", "0.1", "c:strlen");
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /note: strlen is an IFUNC: the probe sees the resolver run once/);
    assert.match(d.stderr, /Tracing 1 functions for "c:strlen"/);
  });
});

describe("tsbpf trace funccount on USDT probes", { skip: needs(kernelSkip, pythonSkip()) }, () => {
  for (const extra of [[], ["--perf-links"]]) {
    test(`'u:python3:*' --pid${extra.map((e) => ` ${e}`).join("")}: python's probes, semaphores set by the kernel; two rounds, two collections`, async () => {
      const python = new PythonWorkload();
      try {
        await python.said("ready");
        // "python3": found in the process's maps as its python3.11.
        const tool = start([
          "trace",
          "funccount",
          ...extra,
          "--pid",
          String(python.pid),
          "u:python3:*",
        ]);
        try {
          await attached(tool);
          await python.round(50);
          await python.round(20);
        } finally {
          tool.proc.kill("SIGINT");
        }
        const d = await tool.done;
        assert.equal(d.code, 0, d.stderr);
        const counts = new Map(rows(d.stdout));
        assert.equal(counts.get("gc__start"), 2, d.stdout);
        assert.equal(counts.get("gc__done"), 2, d.stdout);
        // Every call of tsbpf_probe_fn (70) and of the no-op profiler enters and returns.
        const entries = counts.get("function__entry") ?? 0;
        assert.ok(entries >= 70, d.stdout);
        assert.equal(counts.get("function__return"), entries, d.stdout);
      } finally {
        python.stop();
      }
    });
  }
});

describe("funccount and bashreadline options", () => {
  test("--help: the tool's usage on stdout, exit 0; BCC's -p and -d are global here", async () => {
    const fc = await tsbpf("trace", "funccount", "--help");
    assert.equal(fc.code, 0, fc.stderr);
    assert.match(fc.stdout, /^Usage: tsbpf trace funccount .*PATTERN\n/s);
    assert.match(fc.stdout, /--perf-links/);
    const br = await tsbpf("trace", "bashreadline", "-h");
    assert.equal(br.code, 0, br.stderr);
    assert.match(br.stdout, /^Usage: tsbpf trace bashreadline \[-s PATH\]/);
    assert.match(br.stdout, /-s, --shared PATH/);
    const short = await tsbpf("trace", "funccount", "-p", "1", "c:malloc");
    assert.equal(short.code, 255);
    assert.match(short.stderr, /trace funccount: Unknown option '-p'/);
  });

  test("bashreadline -s: a binary that is not there, or has no readline(), is named", {
    skip: kernelSkip,
  }, async () => {
    const missing = await tsbpf("trace", "bashreadline", "-s", "/nonexistent/libreadline.so");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/nonexistent\/libreadline\.so does not exist/);
    const none = await tsbpf("trace", "bashreadline", "-s", process.execPath, "--duration", "0.1");
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no function named readline/);
  });
});
