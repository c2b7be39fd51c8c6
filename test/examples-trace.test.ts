/**
 * The tracing examples (hello, trace-open, trace-open-ringbuf, core-task,
 * open-load-attach), each run the way its header says, its output checked against what
 * the test made happen: files it opened, processes it started (pid, parent, cgroup from
 * /proc), and the kernel's list of programs and links once the example has exited.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { findClang } from "../src/compile/index.ts";
import { linkIds, progIds } from "../src/kernel/objects/objects.ts";
import { openFdCount } from "../src/kernel/sys/index.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { cgroup2Root, kernelSkip } from "./support/kernel.ts";
import { scaled } from "./support/time.ts";

const ROOT = resolve(import.meta.dirname, "..");
const skip = kernelSkip;
/** The inline-C variants compile at run time: they need clang (the guests have none). */
const noClang = (await findClang().catch(() => undefined))
  ? false
  : "no clang >= 14 on this machine";
const skipFor = (script: string) => skip || (script.endsWith("-inline") ? noClang : false);
/** compile()'s cache for the inline-C examples: vmlinux.h made once, kept out of $HOME. */
const COMPILE_CACHE = join(tmpdir(), `tsbpf-examples-cache-${process.pid}`);
process.on("exit", () => rmSync(COMPILE_CACHE, { recursive: true, force: true }));

/** A running example: its output so far, line by line, and a way to wait for a line. */
class Example {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  #partial = "";
  #waiters: (() => void)[] = [];

  /** Runs examples/NAME/SCRIPT.ts (SCRIPT: NAME, or its inline-C variant). */
  constructor(name: string, args: string[], script = name) {
    this.child = spawn(
      process.execPath,
      [...FROM_SOURCE, join("examples", name, `${script}.ts`), ...args],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, XDG_CACHE_HOME: COMPILE_CACHE },
      },
    );
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((res) =>
      this.child.on("exit", (code) => {
        for (const w of this.#waiters.splice(0)) w();
        res(code);
      }),
    );
  }

  /**
   * The first line matching `re`, waiting up to `ms` for it (60 s: under qemu's TCG an
   * example that reads vmlinux BTF for CO-RE needs more than 15 s to start).
   */
  async waitFor(re: RegExp, ms = 60_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no line matching ${re} (exit code ${this.child.exitCode}); stdout:\n${this.lines.slice(0, 40).join("\n")}\nstderr:\n${this.stderr}`,
        );
      }
      await Promise.race([
        new Promise<void>((r) => this.#waiters.push(r)),
        sleep(Math.max(1, Math.min(200, deadline - Date.now()))),
      ]);
    }
  }

  /** Sends `signal` (if still running) and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Runs an example to its end (with a time limit) and returns its stdout and code. */
async function runToEnd(
  name: string,
  args: string[],
  ms = 30_000,
  script = name,
): Promise<Example> {
  const ex = new Example(name, args, script);
  // A safety net, not a goal: under TCG (and a busy host) the examples take many times longer.
  const timer = setTimeout(() => ex.child.kill("SIGKILL"), scaled(ms));
  try {
    await ex.exited;
  } finally {
    clearTimeout(timer);
  }
  return ex;
}

/** True when this kernel can attach kprobes (a kprobe PMU or tracefs kprobe_events). */
function hasKprobes(): boolean {
  return (
    existsSync("/sys/bus/event_source/devices/kprobe") ||
    existsSync("/sys/kernel/tracing/kprobe_events") ||
    existsSync("/sys/kernel/debug/tracing/kprobe_events")
  );
}

for (const script of ["hello", "hello-inline"])
  test(`examples/hello/${script}: bpf_printk lines from trace_pipe; the kprobe variant says kprobes are missing`, {
    skip: skipFor(script),
  }, async () => {
    // The inline variant compiles first (clang, and vmlinux.h the first time): more time.
    const ex = await runToEnd("hello", ["--self", "-n", "3", "-t", "20"], 60_000, script);
    assert.equal(ex.child.exitCode, 0, ex.stderr);
    const pid = ex.child.pid;
    const lines = ex.lines;
    assert.equal(
      lines[0],
      'attached hello (SEC("tracepoint/syscalls/sys_enter_openat")) to tracepoint syscalls:sys_enter_openat',
    );
    if (hasKprobes()) {
      assert.match(
        lines[1] ?? "",
        /^attached hello_kprobe \(SEC\("kprobe\/do_sys_openat2"\)\) to kprobe/,
      );
    } else {
      assert.equal(
        lines[1],
        'not attached hello_kprobe (SEC("kprobe/do_sys_openat2")): attaching kprobe do_sys_openat2 is not supported: kprobes are not available on this kernel (no kprobe PMU, no kprobe_events in tracefs)',
      );
    }
    // --self: only the example's own opens, from the tracepoint program (and from the
    // kprobe one where kprobes exist).
    const printed = lines.slice(2, 5);
    assert.equal(printed.length, 3);
    for (const l of printed) {
      assert.match(l, new RegExp(`^hello from node \\(pid ${pid}\\) via (tracepoint|kprobe)$`));
    }
    assert.ok(printed.some((l) => l.endsWith("via tracepoint")));
    assert.equal(lines[5], "3 lines");
    assert.equal(ex.stderr, "");
  });

for (const [name, script] of [
  ["trace-open", "trace-open"],
  ["trace-open", "trace-open-inline"],
  ["trace-open-ringbuf", "trace-open-ringbuf"],
] as const) {
  test(`examples/${name}/${script}: a file the test opens shows up with its opener's pid and comm`, {
    skip: skipFor(script),
  }, async () => {
    const dir = join(tmpdir(), `tsbpf-${script}-${process.pid}-${Date.now()}`);
    mkdirSync(dir);
    const file = join(dir, "unique-file-to-open");
    writeFileSync(file, "x");
    const ex = new Example(name, [], script);
    try {
      await ex.waitFor(/^TIME\(s\) COMM PID FILE$/);
      assert.equal(ex.lines[0], "TIME(s) COMM PID FILE");
      const cat = spawnSync("cat", [file]);
      assert.equal(cat.status, 0);
      const line = await ex.waitFor(new RegExp(` ${file}$`));
      assert.match(line, new RegExp(`^\\d+\\.\\d{6} cat ${cat.pid} ${file}$`));
      assert.equal(await ex.stop("SIGINT"), 0, ex.stderr);
      assert.match(
        ex.lines.at(-1) ?? "",
        name === "trace-open" ? /^\d+ events, \d+ lost$/ : /^\d+ events$/,
      );
      // Every event line has the four columns, times never go backwards within a CPU's
      // ring (perf) or at all (ring buffer: one ring, reservation order).
      const events = ex.lines.slice(1, -1);
      assert.ok(events.length > 0);
      for (const l of events) assert.match(l, /^\d+\.\d{6} \S.* \d+ /);
      if (name === "trace-open-ringbuf") {
        const times = events.map((l) => Number(l.split(" ")[0]));
        for (let i = 1; i < times.length; i++)
          assert.ok(times[i]! >= times[i - 1]!, `line ${i + 1}`);
      }
    } finally {
      await ex.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("examples/core-task: parent pid and cgroup id read through CO-RE match /proc", {
  skip,
}, async () => {
  const root = cgroup2Root();
  // A cgroup of our own, so the id is not just the root's 1.
  const cg = root ? join(root, `tsbpf-core-task-${process.pid}`) : undefined;
  if (cg) mkdirSync(cg);
  const ex = new Example("core-task", []);
  let child: ChildProcess | undefined;
  try {
    await ex.waitFor(/^PID PPID CGROUP UID COMM FILE$/);
    // Every relocation resolved (none poisoned), task_struct fields moved from clang's
    // guesses to this kernel's offsets.
    const core = ex.lines.filter((l) => l.startsWith("core: "));
    assert.equal(core.length, 7);
    for (const l of core) assert.doesNotMatch(l, /unsatisfied/);
    assert.ok(
      core.some((l) =>
        l.startsWith("core: field_byte_offset struct task_struct.real_parent (0:2): "),
      ),
    );

    // The process that execs: a shell that moves itself into our cgroup, then execs sleep.
    const script = cg ? `echo $$ > ${cg}/cgroup.procs && exec sleep 2` : "exec sleep 2";
    child = spawn("sh", ["-c", script], { stdio: "ignore" });
    const pid = child.pid!;
    const line = await ex.waitFor(
      new RegExp(
        `^${pid} \\d+ \\S+ \\d+ sleep /usr/bin/sleep$|^${pid} \\d+ \\S+ \\d+ sleep /bin/sleep$`,
      ),
    );
    const [, ppid, cgroup, uid] = line.split(" ");
    // Compare with /proc while the process still runs.
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.equal(ppid, /^PPid:\s+(\d+)$/m.exec(status)![1]);
    assert.equal(ppid, String(process.pid));
    assert.equal(uid, /^Uid:\s+(\d+)/m.exec(status)![1]);
    // cgroup v2 id = inode number of the cgroup's directory.
    const v2 = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
    if (root && v2 !== undefined) {
      assert.equal(cgroup, String(statSync(join(root, v2)).ino));
      if (cg) assert.equal(join(root, v2), cg);
    }
    assert.equal(await ex.stop("SIGTERM"), 0, ex.stderr);
    assert.match(ex.lines.at(-1) ?? "", /^\d+ events$/);
  } finally {
    await ex.stop("SIGKILL");
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.on("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    if (cg) {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(cg);
          break;
        } catch {
          await sleep(100); // the killed process leaves the cgroup asynchronously
        }
      }
    }
  }
});

test("examples/open-load-attach: listing, counters that moved, nothing left attached", {
  skip,
}, async () => {
  const fds = openFdCount();
  const ex = await runToEnd("open-load-attach", ["--self"]);
  assert.equal(ex.child.exitCode, 0, ex.stderr);
  const lines = ex.lines;
  assert.deepEqual(lines.slice(0, 9), [
    "open: open-load-attach.bpf.o: license GPL, 3 programs, 3 maps",
    "  program count_openat: section tracepoint/syscalls/sys_enter_openat, type tracepoint, attach syscalls/sys_enter_openat, 24 insns",
    "  program count_close: section tp/syscalls/sys_enter_close, type tracepoint, attach syscalls/sys_enter_close, 24 insns",
    "  program count_syscalls: section raw_tp/sys_enter, type raw_tracepoint, attach sys_enter, 24 insns",
    "  map counts: type array, key 4, value 8, entries 3",
    "  map .rodata: type array, key 4, value 4, entries 1",
    "  map .bss: type array, key 4, value 8, entries 1",
    "  variable target_tgid: .rodata +0, 4 bytes",
    "  variable total_events: .bss +0, 8 bytes",
  ]);
  const progs = new Map<string, number>();
  for (const l of lines.filter((x) => x.startsWith("load: "))) {
    const m = /^load: (\w+): (tracepoint|raw_tracepoint) program id (\d+)$/.exec(l);
    assert.ok(m, l);
    progs.set(m[1]!, Number(m[3]));
  }
  assert.deepEqual([...progs.keys()], ["count_openat", "count_close", "count_syscalls"]);
  const links: number[] = [];
  const attach = lines.filter((x) => x.startsWith("attach: "));
  assert.equal(attach.length, 3);
  assert.match(attach[0]!, /^attach: count_openat: tracepoint syscalls:sys_enter_openat/);
  assert.match(attach[1]!, /^attach: count_close: tracepoint syscalls:sys_enter_close/);
  assert.match(attach[2]!, /^attach: count_syscalls: raw tracepoint sys_enter \(link id \d+\)$/);
  for (const l of attach) {
    const id = /\(link id (\d+)\)$/.exec(l)?.[1];
    if (id) links.push(Number(id));
  }
  // The example opened and closed a file 10 times after attaching; with --self only its
  // own events count.
  const run = lines.find((x) => x.startsWith("run: "));
  const m = /^run: counts: openat (\d+), close (\d+), syscalls (\d+); total_events (\d+)$/.exec(
    run ?? "",
  );
  assert.ok(m, run);
  const [openat, close, syscalls, total] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  assert.ok(openat >= 10 && close >= 10 && syscalls >= 20, run);
  assert.ok(total >= openat + close + syscalls, run);
  assert.equal(
    lines.at(-1),
    "close: 3 links detached; programs still loaded: none; links still there: none",
  );
  // And from outside, now that the process is gone.
  const liveProgs = new Set(progIds());
  const liveLinks = new Set(linkIds());
  for (const [name, id] of progs)
    assert.ok(!liveProgs.has(id), `program ${name} (id ${id}) is still loaded`);
  for (const id of links) assert.ok(!liveLinks.has(id), `link ${id} is still there`);
  assert.equal(openFdCount(), fds);
});
