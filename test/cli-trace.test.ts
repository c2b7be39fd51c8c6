/**
 * `tsbpf trace open` and `tsbpf trace exec` run as the bin runs (a subprocess), against
 * the real kernel: a child process opens a file that exists and one that does not (or
 * execs /bin/true and a path that does not exist) once the tool says it is tracing, and
 * the tool's output must show exactly those calls with the right pid, comm, fd, errno,
 * arguments, parent and return value. Filters (--pid, -x, -n), both transports (ring
 * buffer, perf buffer), BCC's plain columns, ends by SIGINT, SIGTERM and --duration with exit
 * status 0 and none of the tool's links or programs left in the kernel, the in-process
 * run leaking no descriptor, and the exit status 1 messages for an unprivileged user
 * and a missing tracepoint.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  TRACE_EXIT_FAILURE,
  TraceSession,
  traceLoadError,
} from "../src/cli/trace/trace-session.ts";
import { VerifierError } from "../src/kernel/programs/verifier-error.ts";
import { SyscallError } from "../src/kernel/sys/index.ts";
import { bpftool, compareSkip, fdSnapshot, tsbpf } from "./cli-run.ts";
import { needs } from "./support/kernel.ts";
import { attached, type CuedChild, childOnCue, jsonLines, start } from "./support/trace-tool.ts";

const skip = compareSkip;

/** The tools' program names (what their links attach). */
const OUR_PROGS = new Set([
  "enter_openat",
  "exit_openat",
  "enter_open",
  "exit_open",
  "enter_execve",
  "exit_execve",
]);

/** A node child that opens `paths` when told to on stdin, then exits; its pid is known first. */
function opener(paths: string[]): CuedChild {
  return childOnCue(
    `for(const p of ${JSON.stringify(paths)}){try{fs.closeSync(fs.openSync(p,'r'))}catch{}}`,
  );
}

/** Links in the kernel whose program is one of the tools', by link id. */
function ourLinks(): Map<number, number> {
  const names = new Map<number, string>();
  const progs = bpftool("prog", "show", "-j");
  for (const p of JSON.parse(progs.stdout) as { id: number; name?: string }[]) {
    if (p.name) names.set(p.id, p.name);
  }
  const out = new Map<number, number>();
  const links = bpftool("link", "list", "-j");
  for (const l of JSON.parse(links.stdout) as { id: number; prog_id: number }[]) {
    if (OUR_PROGS.has(names.get(l.prog_id) ?? "")) out.set(l.id, l.prog_id);
  }
  return out;
}

/** Waits (briefly) until none of `ids` is listed any more: link release is asynchronous. */
async function assertGone(ids: Map<number, number>): Promise<void> {
  let left: number[] = [];
  for (let i = 0; i < 40; i++) {
    const now = ourLinks();
    left = [...ids.keys()].filter((id) => now.has(id));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`links ${left.join(", ")} of the tool are still in the kernel after it exited`);
}

let dir = "";
let existing = "";
let missing = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-trace-"));
  existing = join(dir, "exists-unique-file");
  missing = join(dir, "missing-unique-file");
  writeFileSync(existing, "x");
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("tsbpf trace open", { skip }, () => {
  test("-j --pid PID: the child's two opens, pid/comm/fd/err right, nobody else's; SIGINT exits 0, links gone", async () => {
    const child = opener([existing, missing]);
    const before = ourLinks();
    const tool = start(["trace", "open", "-j", "--pid", String(child.proc.pid)]);
    await attached(tool);
    const during = ourLinks();
    const mine = new Map([...during].filter(([id]) => !before.has(id)));
    assert.ok(mine.size >= 2, `the tool's links are listed while it runs (${mine.size})`);
    await child.go();
    spawnSync("cat", [existing]); // another process: --pid must leave it out
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    assert.ok(events.length >= 2, d.stdout);
    for (const e of events) assert.equal(e.pid, child.proc.pid, JSON.stringify(e));
    const ok = events.find((e) => e.path === existing);
    const bad = events.find((e) => e.path === missing);
    assert.ok(ok && bad, d.stdout);
    assert.equal(ok.comm, "node");
    assert.equal(typeof ok.fd, "number");
    assert.ok((ok.fd as number) >= 0);
    assert.equal(ok.err, 0);
    assert.equal(bad.fd, -1);
    assert.equal(bad.err, 2); // ENOENT
    assert.equal(typeof bad.ts, "number");
    assert.deepEqual(Object.keys(ok), [
      "pid",
      "tid",
      "uid",
      "comm",
      "fd",
      "err",
      "flags",
      "path",
      "ts",
    ]);
    await assertGone(mine);
  });

  test("-x shows only the failure; --duration ends it with exit status 0", async () => {
    const child = opener([existing, missing]);
    const tool = start([
      "trace",
      "open",
      "-x",
      "-j",
      "--duration",
      "1.5",
      "--pid",
      String(child.proc.pid),
    ]);
    await attached(tool);
    await child.go();
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    assert.ok(
      events.some((e) => e.path === missing && e.err === 2),
      d.stdout,
    );
    assert.ok(
      events.every((e) => e.fd === -1 && (e.err as number) > 0),
      d.stdout,
    );
  });

  test("plain output: opensnoop's header and columns; -n filters on the command name; SIGTERM exits 0", async () => {
    const child = opener([existing, missing]);
    const tool = start(["trace", "open", "--pid", String(child.proc.pid), "-n", "nod"]);
    await attached(tool);
    await child.go();
    tool.proc.kill("SIGTERM");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.split("\n");
    assert.equal(lines[0], "PID    COMM               FD ERR PATH");
    const pid = String(child.proc.pid).padEnd(6);
    assert.ok(
      lines.some((l) => new RegExp(`^${pid} node {13}\\s*\\d+   0 ${existing}$`).test(l)),
      d.stdout,
    );
    assert.ok(lines.includes(`${pid} node               -1   2 ${missing}`), d.stdout);

    // A name no command has: only the header.
    const child2 = opener([existing]);
    const none = start(["trace", "open", "--pid", String(child2.proc.pid), "-n", "no-such-comm"]);
    await attached(none);
    await child2.go();
    none.proc.kill("SIGINT");
    const d2 = await none.done;
    assert.equal(d2.code, 0, `${d2.signal} ${d2.stderr} ${d2.stdout}`);
    assert.equal(d2.stdout, "PID    COMM               FD ERR PATH\n");
  });

  test("--perf-buffer: the same events through a perf event array", async () => {
    const child = opener([existing, missing]);
    const tool = start(["trace", "open", "-j", "--perf-buffer", "--pid", String(child.proc.pid)]);
    await attached(tool);
    await child.go();
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    assert.ok(
      events.some((e) => e.path === existing && (e.fd as number) >= 0),
      d.stdout,
    );
    assert.ok(
      events.some((e) => e.path === missing && e.err === 2),
      d.stdout,
    );
  });

  test("stdout's reader gone (| head): the next events end it with exit status 0", async () => {
    const tool = start(["trace", "open"]);
    await attached(tool);
    tool.proc.stdout!.destroy();
    for (let i = 0; i < 40 && tool.proc.exitCode === null; i++) {
      spawnSync("cat", [existing]);
      await new Promise((r) => setTimeout(r, 50));
    }
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stderr, /Error/);
  });

  test("in process: --duration returns with no descriptor left open", async () => {
    const fds = fdSnapshot();
    const r = await tsbpf("trace", "open", "--duration", "0.3", "--pid", "1", "-x");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "PID    COMM               FD ERR PATH\n");
    assert.deepEqual(fdSnapshot(), fds);
  });

  test("a missing tracepoint: exit status 1 and the event named", () => {
    assert.throws(
      () =>
        TraceSession.open({
          tool: "trace test",
          object: "opensnoop.bpf.o",
          constants: {},
          attachments: [{ program: "enter_openat", group: "syscalls", event: "sys_enter_nope" }],
        }),
      (e: Error & { exitCode?: number }) =>
        e.exitCode === TRACE_EXIT_FAILURE && /syscalls:sys_enter_nope is missing/.test(e.message),
    );
  });
});

describe("tsbpf trace exec", { skip }, () => {
  const tag = `uniquearg-${process.pid}`;
  const nowhere = join(tmpdir(), `tsbpf-no-such-program-${process.pid}`);

  test("-j: /bin/true with its args, ppid and ret 0; a failed exec only with -x", async () => {
    const tool = start(["trace", "exec", "-j"]);
    await attached(tool);
    spawnSync("/bin/true", [tag, "second arg"]);
    spawnSync(nowhere, [tag]);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout).filter((e) => (e.args as string[]).includes(tag));
    const ok = events.find((e) => (e.args as string[])[0] === "/bin/true");
    assert.ok(ok, d.stdout);
    assert.deepEqual(ok.args, ["/bin/true", tag, "second arg"]);
    assert.equal(ok.ret, 0);
    assert.equal(ok.comm, "true");
    assert.equal(ok.ppid, process.pid);
    assert.equal(ok.truncated, false);
    assert.equal(
      events.find((e) => (e.args as string[])[0] === nowhere),
      undefined,
      "failed execs are left out without -x",
    );

    const all = start(["trace", "exec", "-x", "-j", "--max-args", "2"]);
    await attached(all);
    spawnSync(nowhere, [tag, "more"]);
    spawnSync("/bin/true", [tag]);
    all.proc.kill("SIGINT");
    const d2 = await all.done;
    assert.equal(d2.code, 0, `${d2.signal} ${d2.stderr} ${d2.stdout}`);
    const ev2 = jsonLines(d2.stdout).filter((e) => (e.args as string[]).includes(tag));
    const failed = ev2.find((e) => (e.args as string[])[0] === nowhere);
    assert.ok(failed, d2.stdout);
    assert.equal(failed.ret, -2);
    assert.equal(failed.ppid, process.pid);
    assert.deepEqual(failed.args, [nowhere, tag]);
    assert.equal(failed.truncated, true, "--max-args 2 cuts the third argument");
    assert.ok(ev2.some((e) => (e.args as string[])[0] === "/bin/true" && e.ret === 0));
  });

  test("plain output: execsnoop's header and columns", async () => {
    const tool = start(["trace", "exec", "-n", "true"]);
    await attached(tool);
    const child = spawn("/bin/true", [tag]);
    await new Promise((r) => child.on("exit", r));
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.split("\n");
    assert.equal(lines[0], "PCOMM            PID     PPID    RET ARGS");
    const want = `true             ${String(child.pid).padEnd(7)} ${String(process.pid).padEnd(7)}   0 /bin/true ${tag}`;
    assert.ok(lines.includes(want), `${want}\n---\n${d.stdout}`);
    assert.ok(
      lines.slice(1).every((l) => l === "" || l.startsWith("true ")),
      d.stdout,
    );
  });
});

describe("tsbpf trace without privileges", () => {
  const setpriv = spawnSync("setpriv", ["--version"]).status === 0;
  test("as nobody: exit status 1 and a message saying root is needed", {
    skip: needs(compareSkip, !setpriv && "setpriv is not installed"),
  }, async () => {
    for (const obj of ["open", "exec"]) {
      const tool = start(
        ["trace", obj, "--duration", "1"],
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
      );
      const d = await tool.done;
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stderr, new RegExp(`Error: trace ${obj} needs root`));
      assert.equal(d.stdout, "");
    }
  });
});

describe("a tool's load failure, as the CLI words it", () => {
  const verifier = new VerifierError({
    errno: 13,
    log: "0: (95) exit\nR0 !read_ok\nprocessed 1 insns",
    program: 'tracepoint program "handle_open"',
  });
  test("a verifier rejection quotes the verifier, as root or not", () => {
    for (const root of [true, false]) {
      const e = traceLoadError("trace open", verifier, root);
      assert.equal(e.exitCode, TRACE_EXIT_FAILURE);
      assert.match(
        e.message,
        /^trace open: the kernel's verifier rejected the tool's program: R0 !read_ok/,
      );
      assert.doesNotMatch(e.message, /needs root/);
    }
  });
  test("EPERM says root is needed only when the process is not root", () => {
    const eperm = new SyscallError(1, "attach tracepoint syscalls:sys_enter_openat");
    assert.match(traceLoadError("trace open", eperm, false).message, /trace open needs root/);
    const asRoot = traceLoadError("trace open", eperm, true).message;
    assert.doesNotMatch(asRoot, /needs root/);
    assert.match(
      asRoot,
      /attach tracepoint syscalls:sys_enter_openat: Operation not permitted.*lockdown or an LSM/,
    );
  });
});
