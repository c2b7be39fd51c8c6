/**
 * `tsbpf trace biolatency|biosnoop|runqlat|cpudist|syscount` against the real kernel,
 * run in this process (no bin start-up, so each takes about its own interval): the test
 * makes the events each tool reports and checks the output counts exactly those.
 * - block I/O: 4 KiB O_DIRECT writes and reads with dd on a loop device over a
 *   temporary file (set up and removed here; the tests skip when losetup cannot);
 * - scheduling: a perl child that sleeps 5 ms 100 times (each sleep is a wakeup, a
 *   wait on the run queue and a span on the CPU), selected with --pid;
 * - syscalls: a perl child that calls getpid(2) 1000 times through syscall().
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { main } from "../src/cli/main.ts";
import { bpftool, compareSkip } from "./cli-run.ts";
import { needs, scaled } from "./support/kernel.ts";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tsbpf ARGS` in this process; once it says "Tracing", runs `during` (which
 * makes the events), then waits for the tool to end by itself (count or duration).
 */
async function traceTool(args: string[], during: () => Promise<unknown>): Promise<ToolRun> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-tools-"));
  const outPath = join(dir, "out");
  const errPath = join(dir, "err");
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  try {
    let settled = false;
    const running = main(args, { out, err }).finally(() => {
      settled = true;
    });
    while (!settled && !readFileSync(errPath, "utf8").includes("Tracing")) await sleep(10);
    if (!settled) await during();
    const code = await running;
    return { code, stdout: readFileSync(outPath, "utf8"), stderr: readFileSync(errPath, "utf8") };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The counts of a BCC histogram table, row by row. */
function tableCounts(text: string): number[] {
  return [...text.matchAll(/^\s+\d+ -> \d+\s+: (\d+)\s+\|/gm)].map((m) => Number(m[1]));
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The JSON lines of a run. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The total count of a histogramJson object. */
function jsonTotal(h: Record<string, unknown>): number {
  return sum((h.data as { count: number }[]).map((d) => d.count));
}

/** Links left in the kernel whose program has one of `names`. */
function linksOf(names: readonly string[]): number[] {
  const byId = new Map<number, string>();
  for (const p of JSON.parse(bpftool("prog", "show", "-j").stdout) as {
    id: number;
    name?: string;
  }[]) {
    if (p.name) byId.set(p.id, p.name);
  }
  const links = JSON.parse(bpftool("link", "list", "-j").stdout) as {
    id: number;
    prog_id: number;
  }[];
  return links.filter((l) => names.includes(byId.get(l.prog_id) ?? "")).map((l) => l.id);
}

/** A perl child that runs `body` once it reads a line on stdin; its pid is known first. */
function perlChild(body: string): { proc: ChildProcess; go: () => Promise<void> } {
  const proc = spawn("perl", ["-e", `<STDIN>; ${body}`], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((res) => proc.on("exit", () => res()));
  return {
    proc,
    go: async () => {
      proc.stdin?.end("go\n");
      await exited;
    },
  };
}

const WRITES = 24;
const READS = 8;
let loopDir = "";
let loopDev = "";
let loopSkip: string | false = compareSkip;

before(() => {
  if (loopSkip) return;
  loopDir = mkdtempSync(join(tmpdir(), "tsbpf-loop-"));
  const img = join(loopDir, "disk.img");
  writeFileSync(img, "");
  truncateSync(img, 4 << 20); // sparse; no truncate(1) in the matrix's guests
  // `losetup -f` then `losetup DEV FILE`: busybox's losetup (in the kernel matrix's
  // guests) has no --show.
  const free = spawnSync("losetup", ["-f"], { encoding: "utf8" });
  const dev = free.stdout?.trim() ?? "";
  const r = dev ? spawnSync("losetup", [dev, img], { encoding: "utf8" }) : free;
  if (r.status !== 0 || !dev) {
    loopSkip = `no loop device: losetup says ${(r.stderr ?? "").trim().split("\n")[0]}`;
    return;
  }
  loopDev = dev;
  const dd = spawnSync(
    "dd",
    ["if=/dev/zero", `of=${loopDev}`, "bs=4k", "count=1", "oflag=direct"],
    {
      encoding: "utf8",
    },
  );
  if (dd.status !== 0)
    loopSkip = `dd cannot write O_DIRECT here: ${dd.stderr.trim().split("\n")[0]}`;
});

/** Why the tests that need perl (a child with known scheduling and syscalls) skip. */
const perlSkip =
  spawnSync("perl", ["-e", "1"]).status === 0 ? false : "needs perl (for a child process)";

after(() => {
  if (loopDev) spawnSync("losetup", ["-d", loopDev]);
  if (loopDir) rmSync(loopDir, { recursive: true, force: true });
});

/** WRITES 4 KiB O_DIRECT writes to the loop device, then READS reads. */
async function blockIo(): Promise<void> {
  await run("dd", ["if=/dev/zero", `of=${loopDev}`, "bs=4k", `count=${WRITES}`, "oflag=direct"]);
  await run("dd", [`if=${loopDev}`, "of=/dev/null", "bs=4k", `count=${READS}`, "iflag=direct"]);
}

const diskName = () => loopDev.replace("/dev/", "");

describe("tsbpf trace biolatency", () => {
  test("-D -Q 1 1: one 'disk = loopN' table holding every request; links gone after", {
    skip: loopSkip,
  }, async (t) => {
    if (loopSkip) return t.skip(loopSkip);
    const r = await traceTool(["trace", "biolatency", "-D", "-Q", "1", "1"], blockIo);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Tracing block device I\/O\.\.\. Hit Ctrl-C to end\.$/m);
    const sections = r.stdout.split(/\n(?=\ndisk = )/);
    const mine = sections.find((s) => s.startsWith(`\ndisk = ${diskName()}\n`));
    assert.ok(mine, r.stdout);
    assert.match(mine, /^ {5}usecs {15}: count {5}distribution$/m);
    assert.equal(sum(tableCounts(mine)), WRITES + READS, mine);
    assert.deepEqual(linksOf(["rq_insert", "rq_issue", "rq_complete"]), []);
  });

  test("--disk NAME -m -j 1 1: one msecs histogram of that disk's requests only", {
    skip: loopSkip,
  }, async (t) => {
    if (loopSkip) return t.skip(loopSkip);
    const r = await traceTool(
      ["trace", "biolatency", "--disk", diskName(), "-m", "-j", "1", "1"],
      blockIo,
    );
    assert.equal(r.code, 0, r.stderr);
    const [h, ...rest] = jsonLines(r.stdout);
    assert.ok(h && rest.length === 0, r.stdout);
    assert.equal(h.val_type, "msecs");
    assert.equal(jsonTotal(h), WRITES + READS);
  });

  test("--disk NAME -F -e 1 1: a table per set of I/O flags, BCC's names; the avg/total/count line", {
    skip: loopSkip,
  }, async (t) => {
    if (loopSkip) return t.skip(loopSkip);
    const r = await traceTool(
      ["trace", "biolatency", "--disk", diskName(), "-F", "-e", "1", "1"],
      blockIo,
    );
    assert.equal(r.code, 0, r.stderr);
    const sections = r.stdout.split(/\n(?=\n(?:flags = |avg = ))/);
    const count = (re: RegExp) =>
      sum(sections.filter((s) => re.test(s.split("\n")[1] ?? "")).map((s) => sum(tableCounts(s))));
    // dd's O_DIRECT writes are sync writes on every kernel here ("WS"): BCC's "Sync-Write".
    assert.equal(count(/^flags = ([A-Za-z]+-)*Write$/), WRITES, r.stdout);
    assert.equal(count(/^flags = ([A-Za-z]+-)*Read$/), READS, r.stdout);
    const ext = /\navg = (\d+) usecs, total: (\d+) usecs, count: (\d+)\n$/.exec(r.stdout);
    assert.ok(ext, r.stdout);
    const [avg, total, n] = ext.slice(1).map(Number) as [number, number, number];
    assert.equal(n, WRITES + READS);
    assert.equal(avg, Math.floor(total / n));
    const both = await traceTool(["trace", "biolatency", "-D", "-F"], async () => {});
    assert.equal(both.code, 255);
    assert.match(both.stderr, /trace biolatency: -D and -F exclude each other/);
  });

  test("a disk that does not exist is a usage error naming it", async () => {
    const r = await traceTool(["trace", "biolatency", "--disk", "nosuchdisk9"], async () => {});
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no disk 'nosuchdisk9'/);
  });
});

describe("tsbpf trace biosnoop", () => {
  test("-Q --disk loopN --duration 1: a row per request, dd's pid, W then R, 4096 bytes, BCC's columns", {
    skip: loopSkip,
  }, async (t) => {
    if (loopSkip) return t.skip(loopSkip);
    const r = await traceTool(
      ["trace", "biosnoop", "-Q", "--disk", diskName(), "--duration", "1"],
      blockIo,
    );
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    assert.equal(
      header,
      "TIME(s)     COMM           PID    DISK    T SECTOR     BYTES  QUE(ms) LAT(ms)",
    );
    assert.equal(rows.length, WRITES + READS, r.stdout);
    const parsed = rows.map((l) => {
      const m =
        /^(\d+\.\d{6}) +(\S+) +(\d+) +(\S+) +([RW]) (\d+) +(\d+) +(\d+\.\d\d) +(\d+\.\d\d)$/.exec(
          l,
        );
      assert.ok(m, `row '${l}'`);
      return { comm: m[2], disk: m[4], t: m[5], sector: Number(m[6]), bytes: Number(m[7]) };
    });
    assert.ok(parsed.every((p) => p.comm === "dd" && p.disk === diskName() && p.bytes === 4096));
    assert.deepEqual(parsed.map((p) => p.t).join(""), "W".repeat(WRITES) + "R".repeat(READS));
    // the writes walk the disk 8 sectors (4 KiB) at a time from sector 0
    assert.deepEqual(
      parsed.slice(0, WRITES).map((p) => p.sector),
      Array.from({ length: WRITES }, (_, i) => i * 8),
    );
    assert.equal(rows[0]?.slice(0, 12), "0.000000    ");
  });
});

describe("tsbpf trace runqlat and cpudist", { skip: needs(compareSkip, perlSkip) }, () => {
  const SLEEPS = 100;
  const sleeper = () => perlChild(`select(undef, undef, undef, 0.005) for 1..${SLEEPS};`);

  test("runqlat --pid PID -P -j 1 1: one 'pid' histogram, of that process, counting its wakeups", async () => {
    const child = sleeper();
    const pid = child.proc.pid as number;
    const r = await traceTool(
      ["trace", "runqlat", "--pid", String(pid), "-P", "-j", "1", "1"],
      child.go,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Tracing run queue latency\.\.\. Hit Ctrl-C to end\.$/m);
    const hs = jsonLines(r.stdout);
    assert.deepEqual(
      hs.map((h) => h.pid),
      [pid],
      r.stdout,
    );
    assert.equal(hs[0]?.val_type, "usecs");
    const n = jsonTotal(hs[0] as Record<string, unknown>);
    assert.ok(n >= SLEEPS && n < SLEEPS * 3, `${n} run queue waits for ${SLEEPS} sleeps`);
  });

  test("cpudist --pid PID -m 1 1: an msecs table counting each span on the CPU", async () => {
    const child = sleeper();
    const pid = child.proc.pid as number;
    const r = await traceTool(["trace", "cpudist", "--pid", String(pid), "-m", "1", "1"], child.go);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Tracing on-CPU time\.\.\. Hit Ctrl-C to end\.$/m);
    assert.match(r.stdout, /^\n {5}msecs {15}: count {5}distribution\n {9}0 -> 1 {10}: \d+/);
    const n = sum(tableCounts(r.stdout));
    assert.ok(
      n >= SLEEPS && n < SLEEPS * 3,
      `${n} spans on a CPU for ${SLEEPS} sleeps\n${r.stdout}`,
    );
    // each span between sleeps is far under a millisecond
    assert.ok((tableCounts(r.stdout)[0] ?? 0) >= SLEEPS * 0.9, r.stdout);
  });
});

describe("tsbpf trace syscount", { skip: needs(compareSkip, perlSkip) }, () => {
  const CALLS = 1000;
  // getpid is 39 on x86-64; elsewhere the name check is left out
  const caller = () => perlChild(`syscall(39) for 1..${CALLS};`);
  const x64 = process.arch === "x64";

  test("--pid PID -L --duration 1: getpid counted exactly, BCC's -L columns", {
    skip: !x64 && "x86-64 syscall numbers",
  }, async () => {
    const child = caller();
    const pid = child.proc.pid as number;
    const r = await traceTool(
      ["trace", "syscount", "--pid", String(pid), "-L", "--duration", "1"],
      child.go,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Tracing syscalls, printing top 10\.\.\. Ctrl\+C to quit\.$/m);
    const lines = r.stdout.split("\n");
    assert.match(lines[0] ?? "", /^\[\d\d:\d\d:\d\d\]$/);
    assert.equal(lines[1], "SYSCALL                   COUNT        TIME (us)");
    const row = lines.find((l) => l.startsWith("getpid "));
    assert.ok(row, r.stdout);
    assert.match(
      row,
      new RegExp(`^getpid {${16 + 1 + 8 - String(CALLS).length}}${CALLS} +\\d+\\.\\d{3}$`),
    );
    assert.equal(row.length, 22 + 1 + 8 + 1 + 16);
  });

  test("-e ENOENT --pid PID --duration 1: only the calls failing with ENOENT, counted exactly", {
    skip: !x64 && "x86-64 syscall numbers",
  }, async () => {
    // Each round: an open of a missing file (ENOENT) and a kill of no process (ESRCH).
    const child = perlChild(
      `for (1..${CALLS / 5}) { open(my $f, "<", "/nonexistent/tsbpf"); kill 0, 4194303; }`,
    );
    const pid = child.proc.pid as number;
    const r = await traceTool(
      ["trace", "syscount", "-e", "enoent", "--pid", String(pid), "--duration", "1"],
      child.go,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Tracing syscalls failing with ENOENT, printing top 10\.\.\./m);
    const rows = r.stdout.split("\n").slice(2).filter(Boolean);
    assert.deepEqual(rows, [
      `openat${" ".repeat(16 + 1 + 8 - String(CALLS / 5).length)}${CALLS / 5}`,
    ]);
    const bad = await traceTool(["trace", "syscount", "-e", "ENOSUCH"], async () => {});
    assert.equal(bad.code, 255);
    assert.match(
      bad.stderr,
      /-e takes an errno name \(EPERM, ENOENT, \.\.\.\) or a number from 1 to 4095, not 'ENOSUCH'/,
    );
  });

  test("-P --pid PID -j --duration 1: the process with its comm and every call", async () => {
    const child = caller();
    const pid = child.proc.pid as number;
    const r = await traceTool(
      ["trace", "syscount", "-P", "--pid", String(pid), "-j", "--duration", "1"],
      child.go,
    );
    assert.equal(r.code, 0, r.stderr);
    const [report] = jsonLines(r.stdout);
    const procs = report?.processes as { pid: number; comm: string; count: number }[];
    assert.equal(procs.length, 1, r.stdout);
    assert.equal(procs[0]?.pid, pid);
    assert.equal(procs[0]?.comm, "perl");
    assert.ok((procs[0]?.count ?? 0) >= CALLS, r.stdout);
  });
});

describe("every tool loads, attaches and reports on this kernel", { skip: compareSkip }, () => {
  // Whatever runs meanwhile (this test's own process at least) is scheduled and makes
  // syscalls: each report has its header and a row.
  const cases: [string[], RegExp][] = [
    [
      ["runqlat", "-T", "0.3", "1"],
      /^\n\d\d:\d\d:\d\d\n {5}usecs {15}: count {5}distribution\n {9}0 -> 1 /,
    ],
    [["cpudist", "-O", "-L", "0.3", "1"], /^\n\ntid = \d+\n {5}usecs/],
    [["syscount", "-x", "--duration", "0.3"], /^\[\d\d:\d\d:\d\d\]\nSYSCALL {19}COUNT\n\S/],
  ];
  for (const [args, want] of cases) {
    test(args.join(" "), async () => {
      const r = await traceTool(["trace", ...args], () =>
        run("ls", ["/nonexistent-dir"]).catch(() => {}),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, want);
    });
  }
});

describe("stopped by a signal, a summary tool prints what it gathered and exits 0", {
  skip: compareSkip,
}, () => {
  const MAIN = join(import.meta.dirname, "../src/cli/main.ts");
  for (const [signal, args, want] of [
    ["SIGINT", ["runqlat", "-m"], /^\n {5}msecs {15}: count/],
    [
      "SIGTERM",
      ["syscount", "-P", "--pid", String(process.pid)],
      /^\[\d\d:\d\d:\d\d\]\nPID {4}COMM {15}COUNT\n/,
    ],
  ] as const) {
    test(`${signal}: ${args.join(" ")}`, async () => {
      const proc = spawn(process.execPath, ["--import", "tsx", MAIN, "trace", ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      proc.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      // syscount traces every syscall in the system: slow under qemu's TCG
      const watchdog = setTimeout(() => proc.kill("SIGKILL"), scaled(30_000));
      const code = await new Promise<number | null>((res) => {
        proc.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          if (stderr.includes("Tracing")) setTimeout(() => proc.kill(signal), 200);
        });
        proc.on("close", (c) => res(c));
      });
      clearTimeout(watchdog);
      assert.equal(code, 0, stderr);
      assert.match(stdout, want);
    });
  }
});

describe("trace tool help", () => {
  for (const tool of ["biolatency", "biosnoop", "runqlat", "cpudist", "syscount"]) {
    test(`${tool} --help: usage on stdout, exit 0`, async () => {
      const r = await traceTool(["trace", tool, "--help"], async () => {});
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: tsbpf trace ${tool} `));
    });
  }
});
