/**
 * `tsbpf trace killsnoop|exitsnoop|statsnoop|mountsnoop|oomkill` against the real
 * kernel, run as the bin runs: once the tool says it is tracing, the test makes the
 * events it reports (signals, exits with a code and by a signal, stats of a file that
 * exists and one that does not, a tmpfs mount and umount and a failed mount, an OOM
 * kill in a small memory cgroup) and checks the tool printed exactly those, with the
 * right pids, names, results and BCC's columns. The TCP tools are in
 * trace-tcp-tools.test.ts (they need a network namespace).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { compareSkip, tsbpf } from "./cli-run.ts";
import { cgroup2Root, needs, toolSkip } from "./support/kernel.ts";
import { attached, childOnCue, jsonLines, start } from "./support/trace-tool.ts";

const skip = compareSkip;

let dir = "";
let existing = "";
let missing = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-tools2-"));
  existing = join(dir, "exists-stat-file");
  missing = join(dir, "missing-stat-file");
  writeFileSync(existing, "x");
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("tsbpf trace killsnoop", { skip }, () => {
  test("-j -T TPID: a probe, a SIGTERM and a probe of the reaped pid (-3 ESRCH); plain columns with -x -s", async () => {
    // It must outlive the tool's start, which takes ~40 s in a TCG guest.
    const target = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"]);
    const tpid = target.pid!;
    const gone = new Promise((r) => target.on("exit", r));
    const tool = start(["trace", "killsnoop", "-j", "-T", String(tpid)]);
    await attached(tool);
    process.kill(tpid, 0);
    target.kill("SIGTERM");
    await gone;
    assert.throws(() => process.kill(tpid, 0), /ESRCH/);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    assert.deepEqual(
      events.map((e) => [e.pid, e.comm, e.sig, e.tpid, e.ret]),
      [
        [process.pid, "node", 0, tpid, 0],
        [process.pid, "node", 15, tpid, 0],
        [process.pid, "node", 0, tpid, -3],
      ],
      d.stdout,
    );

    const plain = start(["trace", "killsnoop", "-x", "-s", "10", "-T", String(tpid)]);
    await attached(plain);
    assert.throws(() => process.kill(tpid, "SIGUSR1"), /ESRCH/);
    assert.throws(() => process.kill(tpid, 0), /ESRCH/); // -s 10: not this one
    plain.proc.kill("SIGTERM");
    const p = await plain.done;
    assert.equal(p.code, 0, p.stderr);
    const lines = p.stdout.split("\n");
    assert.equal(lines[0], "TIME      PID    COMM             SIG  TPID   RESULT");
    const row = `${String(process.pid).padEnd(6)} node             10   ${String(tpid).padEnd(6)} -3`;
    assert.match(lines[1] ?? "", new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${row}$`), p.stdout);
    assert.equal(lines.length, 3, p.stdout);
  });
});

const noShell = spawnSync("sh", ["-c", "true"]).status !== 0 && "no sh on this machine";

describe("tsbpf trace exitsnoop", { skip: needs(skip, noShell) }, () => {
  test("-j: exit 3, death by SIGINT and a 0.3 s sleep, with ppid, tid, age; -x leaves exit(0) out", async () => {
    const tool = start(["trace", "exitsnoop", "-j"]);
    await attached(tool);
    const code3 = spawnSync("sh", ["-c", "exit 3"]).pid;
    const byInt = spawnSync("sh", ["-c", "kill -INT $$"]).pid;
    const sleeper = spawnSync(process.execPath, ["-e", "setTimeout(() => {}, 300)"]).pid;
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    const of = (pid: number) => events.find((e) => e.pid === pid);
    const a = of(code3);
    const b = of(byInt);
    const c = of(sleeper);
    assert.ok(a && b && c, d.stdout);
    for (const e of [a, b, c]) {
      assert.equal(e.ppid, process.pid);
      assert.equal(e.tid, e.pid);
    }
    assert.equal(a.comm, "sh");
    assert.equal(a.exit_code, 3 << 8);
    assert.equal(a.status, 3);
    assert.equal(b.signal, 2);
    assert.equal(b.core, false);
    assert.equal(c.comm, "node");
    assert.equal(c.status, 0);
    assert.ok((c.age as number) >= 0.29 && (c.age as number) < 10, String(c.age));

    const failed = start(["trace", "exitsnoop", "-x"]);
    await attached(failed);
    const ok = spawnSync("/bin/true").pid;
    const bad = spawnSync("sh", ["-c", "exit 65"]).pid;
    failed.proc.kill("SIGINT");
    const f = await failed.done;
    assert.equal(f.code, 0, f.stderr);
    const lines = f.stdout.split("\n");
    assert.equal(lines[0], "PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE");
    const pid = String(bad).padEnd(6);
    const want = `^sh {15}${pid} ${String(process.pid).padEnd(6)} ${pid} \\d+\\.\\d\\d\\s+code 65$`;
    assert.ok(
      lines.some((l) => new RegExp(want).test(l)),
      `${want}\n${f.stdout}`,
    );
    assert.ok(!lines.some((l) => l.includes(` ${ok} `)), "exit(0) is left out with -x");
  });
});

describe("tsbpf trace statsnoop", { skip }, () => {
  test("-j --pid: the child's stat of a file that exists (0) and one that does not (-1, ENOENT)", async () => {
    const child = childOnCue(
      `fs.statSync(${JSON.stringify(existing)});try{fs.statSync(${JSON.stringify(missing)})}catch{}`,
    );
    const tool = start(["trace", "statsnoop", "-j", "--pid", String(child.proc.pid)]);
    await attached(tool);
    await child.go();
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    for (const e of events) assert.equal(e.pid, child.proc.pid);
    const ok = events.find((e) => e.path === existing);
    const bad = events.find((e) => e.path === missing);
    assert.ok(ok && bad, d.stdout);
    assert.deepEqual([ok.comm, ok.ret, ok.err], ["node", 0, 0]);
    assert.deepEqual([bad.ret, bad.err], [-1, 2]);
    assert.match(String(ok.syscall), /^(statx|newfstatat|stat|lstat)$/);
  });

  test("plain, -x -s: only the failure, with BCC's columns and the syscall's name", async () => {
    const child = childOnCue(
      `fs.statSync(${JSON.stringify(existing)});try{fs.statSync(${JSON.stringify(missing)})}catch{}`,
    );
    const tool = start(["trace", "statsnoop", "-x", "-s", "--pid", String(child.proc.pid)]);
    await attached(tool);
    await child.go();
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines[0], "SYSCALL      PID    COMM              RET ERR PATH");
    const row = `${String(child.proc.pid).padEnd(6)} node               -1   2 ${missing}`;
    assert.ok(
      lines.slice(1).some((l) => new RegExp(`^(statx|newfstatat|stat|lstat) +${row}$`).test(l)),
      d.stdout,
    );
    assert.ok(!d.stdout.includes(existing), "-x leaves the successful stat out");
  });
});

describe("tsbpf trace mountsnoop", {
  skip: needs(skip, toolSkip("mount"), toolSkip("umount")),
}, () => {
  test("-j: a tmpfs mount, its umount and a mount of an unknown type (-ENODEV), with the mount namespace", async () => {
    const where = join(dir, "mnt");
    mkdirSync(where, { recursive: true });
    const tool = start(["trace", "mountsnoop", "-j"]);
    await attached(tool);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tsbpf-src", where]);
    assert.equal(m.status, 0, String(m.stderr));
    const u = spawnSync("umount", [where]);
    assert.equal(u.status, 0, String(u.stderr));
    spawnSync("mount", ["-t", "tsbpfnofs", "tsbpf-none", where]);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout).filter((e) => e.target === where);
    const ns = statSync("/proc/self/ns/mnt").ino;
    const mount = events.find((e) => e.call === "mount" && e.fstype === "tmpfs");
    const umount = events.find((e) => e.call === "umount");
    const failed = events.find((e) => e.call === "mount" && e.fstype === "tsbpfnofs");
    assert.ok(mount && umount && failed, d.stdout);
    assert.deepEqual(
      [mount.comm, mount.source, mount.ret, mount.mnt_ns],
      ["mount", "tsbpf-src", 0, ns],
    );
    assert.match(String(mount.data), /size=1m/);
    assert.equal(mount.pid, m.pid);
    assert.equal(mount.tid, m.pid);
    assert.deepEqual([umount.comm, umount.pid, umount.ret], ["umount", u.pid, 0]);
    assert.equal(failed.ret, -19); // ENODEV
  });

  test("plain: BCC's columns and the call written out", async () => {
    const where = join(dir, "mnt2");
    mkdirSync(where, { recursive: true });
    const tool = start(["trace", "mountsnoop"]);
    await attached(tool);
    const m = spawnSync("mount", ["-t", "tsbpfnofs", "-o", "ro", "tsbpf-none", where]);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.split("\n");
    assert.equal(lines[0], "COMM             PID     TID     MNT_NS      CALL");
    const ns = statSync("/proc/self/ns/mnt").ino;
    const id = String(m.pid).padEnd(7);
    const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const call = `${esc(`mount("tsbpf-none", "${where}", "tsbpfnofs", `)}MS_RDONLY(\\|MS_\\w+)*, ""\\) = -ENODEV`;
    const want = new RegExp(`^mount {12}${id} ${id} ${String(ns).padEnd(11)} ${call}$`);
    assert.ok(
      lines.some((l) => want.test(l)),
      `${want}\n${d.stdout}`,
    );
  });
});

/** A memory cgroup of `bytes` without swap (v2, else v1), or why there is none. */
function memoryCgroup(bytes: number): { path: string; remove: () => void } | string {
  const v2 = cgroup2Root();
  const name = `tsbpf-oom-${process.pid}`;
  if (v2 && existsSync(join(v2, "cgroup.controllers"))) {
    const subtree = join(v2, "cgroup.subtree_control");
    let enabled = false;
    // A bare cgroup2 mount (the kernel matrix's guests) has the controller but no one
    // turned it on for the children: turn it on, and off again afterwards.
    if (
      !/\bmemory\b/.test(readFileSync(subtree, "utf8")) &&
      /\bmemory\b/.test(readFileSync(join(v2, "cgroup.controllers"), "utf8"))
    ) {
      try {
        writeFileSync(subtree, "+memory");
        enabled = true;
      } catch {}
    }
    if (/\bmemory\b/.test(readFileSync(subtree, "utf8"))) {
      const path = join(v2, name);
      mkdirSync(path);
      writeFileSync(join(path, "memory.max"), String(bytes));
      if (existsSync(join(path, "memory.swap.max")))
        writeFileSync(join(path, "memory.swap.max"), "0");
      return {
        path,
        remove: () => {
          rmdirSync(path);
          if (enabled) writeFileSync(subtree, "-memory");
        },
      };
    }
  }
  const v1 = "/sys/fs/cgroup/memory";
  if (!existsSync(join(v1, "memory.limit_in_bytes"))) {
    return "no memory cgroup: cgroup v2 without the memory controller and no v1 memory hierarchy";
  }
  const path = join(v1, name);
  mkdirSync(path);
  writeFileSync(join(path, "memory.limit_in_bytes"), String(bytes));
  const memsw = join(path, "memory.memsw.limit_in_bytes");
  if (existsSync(memsw)) writeFileSync(memsw, String(bytes));
  return { path, remove: () => rmdirSync(path) };
}

describe("tsbpf trace oomkill", { skip: needs(skip, noShell) }, () => {
  // perl, not python3: the kernel matrix's guests carry perl (builtins only)
  test("a perl filling a 32 MiB memory cgroup: triggered by and killing it, with its pages", {
    skip: needs(spawnSync("perl", ["-e", "1"]).status !== 0 && "perl is not installed"),
  }, async (t) => {
    const cg = memoryCgroup(32 << 20);
    if (typeof cg === "string") {
      t.skip(cg);
      return;
    }
    try {
      const tool = start(["trace", "oomkill"]);
      await attached(tool);
      const hog = spawnSync("sh", [
        "-c",
        `echo $$ > ${cg.path}/cgroup.procs && exec perl -e '$b = "x" x (256 << 20)'`,
      ]);
      assert.equal(
        hog.signal,
        "SIGKILL",
        `the hog was not OOM killed: ${hog.status} ${hog.stderr}`,
      );
      tool.proc.kill("SIGINT");
      const d = await tool.done;
      assert.equal(d.code, 0, d.stderr);
      const pid = hog.pid;
      const want = new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d Triggered by PID ${pid} \\("perl"\\), OOM kill of PID ${pid} \\("perl"\\), (\\d+) pages, loadavg: [\\d.]+ [\\d.]+ [\\d.]+ \\d+/\\d+ \\d+$`,
      );
      const line = d.stdout.split("\n").find((l) => want.test(l));
      assert.ok(line, `${want}\n${d.stdout}`);
      assert.ok(Number(want.exec(line)?.[1]) > 0, line);
    } finally {
      cg.remove();
    }
  });
});

describe("the event tools' options", () => {
  test("--help prints the tool's help on stdout (exit 0); a bad value names the option, with that help", async () => {
    for (const name of ["killsnoop", "exitsnoop", "statsnoop", "mountsnoop", "oomkill"]) {
      const r = await tsbpf("trace", name, "--help");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: tsbpf trace ${name} \\[`));
      assert.match(r.stdout, /--duration SECONDS/);
    }
    const bad = await tsbpf("trace", "killsnoop", "--pid", "abc");
    assert.equal(bad.code, 255);
    assert.match(bad.stderr, /--pid takes a whole number from 1 to 2147483647, not 'abc'/);
    assert.match(bad.stderr, /Usage: tsbpf trace killsnoop/);
    const short = await tsbpf("trace", "exitsnoop", "-p", "1");
    assert.equal(short.code, 255);
    assert.match(short.stderr, /trace exitsnoop: Unknown option '-p'/);
  });

  test("--duration and --perf-buffer: exitsnoop stops by itself, exit status 0, through a perf buffer", {
    skip: needs(skip, noShell),
  }, async () => {
    const tool = start(["trace", "exitsnoop", "-j", "--perf-buffer", "--duration", "1"]);
    await attached(tool);
    const pid = spawnSync("sh", ["-c", "exit 7"]).pid;
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    assert.ok(
      jsonLines(d.stdout).some((e) => e.pid === pid && e.status === 7),
      d.stdout,
    );
  });
});
