/**
 * `tsbpf perf show|list` side by side with bpftool 7.1: a child process holds a
 * tracepoint, a raw tracepoint, a uprobe and a uretprobe (test/testdata/perf-holder.ts);
 * both tools list them with the same pids, descriptors, program ids, names and
 * offsets, in plain text, -j and -p, byte for byte. Once the child is gone, neither
 * lists it. Errors and help match bpftool's exit codes; BPF_TASK_FD_QUERY itself is
 * checked on descriptors that hold no program, descriptors and processes that do not exist.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { JsonWriter } from "../src/cli/format/json-writer.ts";
import { perfJson, perfPlain } from "../src/cli/perf/format-perf.ts";
import { taskFdQuery, tryTaskFdQuery } from "../src/kernel/links/task-fd-query.ts";
import { SyscallError } from "../src/kernel/sys/index.ts";
import { Errno, TaskFdType } from "../src/uapi/index.ts";
import { bpftool, compareSkip, fdSnapshot, OUTPUT_MODES, type Run, tsbpf } from "./cli-run.ts";

const HOLDER = join(import.meta.dirname, "testdata/perf-holder.ts");
const ROOT = resolve(import.meta.dirname, "..");

let child: ChildProcess | undefined;
let holder = { pid: 0, ids: {} as Record<string, number> };

/** Starts the holder and waits for its line: a skip reason, or false once it holds. */
async function startHolder(): Promise<string | false> {
  child = spawn(process.execPath, ["--import", "tsx", HOLDER], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let line = "";
  for await (const chunk of child.stdout as NodeJS.ReadableStream) {
    line += String(chunk);
    if (line.includes("\n")) break;
  }
  if (!line.includes("\n")) {
    throw new Error(`perf-holder exited (${child.exitCode}) before attaching`);
  }
  const got = JSON.parse(line) as { skip?: string; pid: number; ids: Record<string, number> };
  if (got.skip !== undefined) return `the holder could not attach: ${got.skip}`;
  holder = got;
  return false;
}

// Started before the tests are declared, so that a kernel where it cannot attach skips them.
const skip: string | false = compareSkip || (await startHolder());

/** Ends the holder (its stdin closes) and waits for it to exit. */
async function stopHolder(): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.stdin?.end();
  await exited;
}

after(stopHolder);

/** Runs tsbpf in-process and checks it leaks no descriptor. */
async function run(...args: string[]): Promise<Run> {
  const before = fdSnapshot();
  const r = await tsbpf(...args);
  assert.deepEqual(fdSnapshot(), before, `descriptors leaked by tsbpf ${args.join(" ")}`);
  return r;
}

/**
 * Runs `args` with both tools until two runs in a row agree (other processes on the
 * machine may attach or detach between the two runs) and returns the last pair.
 */
async function bothAgreeing(args: string[]): Promise<{ t: Run; b: Run }> {
  let t = await run(...args);
  let b = bpftool(...args);
  for (let i = 0; i < 5 && (t.stdout !== b.stdout || t.code !== b.code); i++) {
    t = await run(...args);
    b = bpftool(...args);
  }
  return { t, b };
}

describe("perf show", { skip }, () => {
  test("lists the holder's tracepoint, raw tracepoint, uprobe and uretprobe as bpftool does", async () => {
    for (const mode of OUTPUT_MODES) {
      for (const cmd of ["show", "list"]) {
        const args = [...mode, "perf", cmd];
        const { t, b } = await bothAgreeing(args);
        assert.equal(t.stdout, b.stdout, `${args.join(" ")}: stdout`);
        assert.equal(t.stderr, b.stderr, `${args.join(" ")}: stderr`);
        assert.equal(t.code, 0, args.join(" "));
        assert.equal(b.code, 0, args.join(" "));
      }
    }
    const plain = (await run("perf", "show")).stdout;
    // Lines come in descriptor order, as bpftool prints them; the holder's descriptors
    // are not always in the order it attached (a number freed meanwhile, by a close or a
    // finalizer, is taken again), so each expected line is looked for, not its place.
    const mine = plain.split("\n").filter((l) => l.startsWith(`pid ${holder.pid}  `));
    const { pp_tp, pp_raw, pp_up } = holder.ids;
    assert.equal(mine.length, 4, plain);
    const wanted = [
      new RegExp(`fd \\d+: prog_id ${pp_tp}  tracepoint  sys_enter_getpid$`),
      new RegExp(`fd \\d+: prog_id ${pp_raw}  raw_tracepoint  sys_enter$`),
      new RegExp(`: prog_id ${pp_up}  uprobe  filename /\\S+libc\\S+  offset [1-9]\\d*$`),
      new RegExp(`: prog_id ${pp_up}  uretprobe  filename /\\S+libc\\S+  offset [1-9]\\d*$`),
    ];
    for (const re of wanted) {
      assert.equal(mine.filter((l) => re.test(l)).length, 1, `${re}: one line of\n${plain}`);
    }
    const json = JSON.parse((await run("-j", "perf", "show")).stdout) as { pid: number }[];
    const objs = json.filter((o) => o.pid === holder.pid);
    assert.deepEqual(objs.map((o) => Object.keys(o).join(",")).sort(), [
      "pid,fd,prog_id,fd_type,filename,offset",
      "pid,fd,prog_id,fd_type,filename,offset",
      "pid,fd,prog_id,fd_type,tracepoint",
      "pid,fd,prog_id,fd_type,tracepoint",
    ]);
  });

  test("words after show are ignored; no command is show; help and unknown commands", async () => {
    for (const args of [["perf"], ["perf", "show", "extra", "words"], ["-j", "perf", "sh"]]) {
      const { t, b } = await bothAgreeing(args);
      assert.equal(t.stdout, b.stdout, args.join(" "));
      assert.equal(t.code, b.code, args.join(" "));
    }
    // Help now goes to stdout (`null` with -j, as every other object); an unknown
    // command is named. Both still exit as bpftool does.
    for (const mode of [[], ["-j"]]) {
      for (const cmd of ["help", "bogus"]) {
        const args = [...mode, "perf", cmd];
        const t = await run(...args);
        assert.equal(t.code, bpftool(...args).code, args.join(" "));
      }
    }
    const h = await run("perf", "help");
    assert.match(h.stdout, /^Usage: tsbpf perf \{ show \| list \}\n {7}tsbpf perf help\n/);
    assert.equal((await run("-j", "perf", "help")).stdout, "null\n");
    assert.match((await run("perf", "bogus")).stderr, /^Error: unknown command 'bogus'\n/);
  });

  test("BPF_TASK_FD_QUERY: ENOTSUPP without a program, EBADF, ENOENT without the process", () => {
    const fd = openSync("/", "r");
    try {
      assert.throws(
        () => taskFdQuery(process.pid, fd),
        (e) => e instanceof SyscallError && e.code === "ENOTSUPP",
      );
      assert.equal(tryTaskFdQuery(process.pid, fd), Errno.ENOTSUPP);
    } finally {
      closeSync(fd);
    }
    // A descriptor number no process here reaches (RLIMIT_NOFILE is far below it).
    assert.throws(
      () => taskFdQuery(process.pid, 0x3fffffff),
      (e) => e instanceof SyscallError && e.code === "EBADF",
    );
    assert.throws(
      () => taskFdQuery(0x3fffffff, 0),
      (e) => e instanceof SyscallError && e.code === "ENOENT",
    );
  });

  test("the holder's entries are gone once it exits", async () => {
    await stopHolder();
    for (const mode of OUTPUT_MODES) {
      const args = [...mode, "perf", "show"];
      const { t, b } = await bothAgreeing(args);
      assert.equal(t.stdout, b.stdout, args.join(" "));
      assert.doesNotMatch(t.stdout, new RegExp(`"pid":${holder.pid},|pid ${holder.pid} `));
    }
  });
});

describe("perf show without privilege", { skip: compareSkip }, () => {
  test("bpftool's error and hint, plain and JSON, exit 255", () => {
    const nobody = { uid: 65534, gid: 65534, encoding: "utf8" as const, cwd: ROOT };
    for (const mode of [[], ["-j"]]) {
      const args = [...mode, "perf", "show"];
      const b = spawnSync("bpftool", args, nobody);
      const t = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
        ...nobody,
        env: { ...process.env, HOME: "/tmp" },
      });
      assert.equal(t.stdout, b.stdout, args.join(" "));
      assert.equal(t.stderr, b.stderr, args.join(" "));
      assert.equal(t.status, 255, args.join(" "));
      assert.equal(b.status, 255, args.join(" "));
    }
  });
});

describe("perf show formats", () => {
  const info = (fdType: number, name: string, probeOffset = 0n, probeAddr = 0n) => ({
    pid: 7,
    fd: 9,
    info: { progId: 42, fdType, name, probeOffset, probeAddr },
  });
  const json = (e: ReturnType<typeof info>) => {
    let text = "";
    new JsonWriter((s) => {
      text += s;
    }, false).value(perfJson(e));
    return text;
  };
  const head = "pid 7  fd 9: prog_id 42  ";
  const jhead = '{"pid":7,"fd":9,"prog_id":42';

  test("kprobes by function and offset, or by address (no kprobes on this kernel)", () => {
    const byFunc = info(TaskFdType.KPROBE, "do_sys_openat2", 4n, 0n);
    assert.equal(perfPlain(byFunc), `${head}kprobe  func do_sys_openat2  offset 4\n`);
    assert.equal(json(byFunc), `${jhead},"fd_type":"kprobe","func":"do_sys_openat2","offset":4}`);
    const byAddr = info(TaskFdType.KRETPROBE, "", 0n, 0xffffffff81000000n);
    assert.equal(perfPlain(byAddr), `${head}kretprobe  addr 18446744071578845184\n`);
    assert.equal(json(byAddr), `${jhead},"fd_type":"kretprobe","addr":18446744071578845184}`);
  });

  test("a type bpftool 7.1 does not know: the head only, as it prints it", () => {
    assert.equal(perfPlain(info(6, "x")), head);
    assert.equal(json(info(6, "x")), `${jhead}}`);
  });
});
