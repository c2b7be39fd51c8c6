/**
 * Logging from BPF in the kernel: examples/log's program, loaded and attached to
 * syscalls:sys_enter_openat for this process, logs through its TSBPF_LOG ring buffer;
 * BpfLogger formats the records with the object's format strings. The lines match
 * what the test did (pid, comm, file, flags), match the VM's lines for the same event,
 * and tsbpf_log_level removes the disabled calls from the program the kernel runs.
 * The example runs as its header says.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { BpfLogger, Collection, LogError, logLevelConstants } from "../src/kernel/index.ts";
import { VirtualMachine, VmLogger } from "../src/vm/index.ts";
import { noLeak, sleep } from "./kernel-ringbuf-programs.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";
import {
  LOG_KINDS_LINES,
  logExampleSpec,
  logKindsPacket,
  logKindsSpec,
  openatRun,
} from "./support/log-example.ts";

const ROOT = resolve(import.meta.dirname, "..");
const spec = logExampleSpec();
const comm = readFileSync("/proc/self/comm", "utf8").trim();

/** Loads examples/log for this process only, at `level`. */
function load(level: string): Collection {
  return Collection.load(spec, {
    objectName: "log_test",
    constants: { ...logLevelConstants(level), target_pid: process.pid },
  });
}

/** A new directory under the system's temporary one, removed on dispose. */
function tempDir(): { readonly path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), "tsbpf-log-"));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Creates (O_CREAT) and closes a new file; its path. */
function createFile(dir: string, name: string): string {
  const path = join(dir, name);
  closeSync(openSync(path, "w", 0o640));
  return path;
}

/** The lines of the openat of `path`: from the INFO line before the DEBUG line that names it to the next INFO. */
function linesOf(lines: readonly string[], path: string): string[] {
  const i = lines.findIndex((l) => l.startsWith("[DEBUG") && l.includes(`"${path}"`));
  assert.ok(i > 0, `no DEBUG line for ${path} in:\n${lines.join("\n")}`);
  const next = lines.findIndex((l, k) => k > i && l.startsWith("[INFO"));
  return lines.slice(i - 1, next < 0 ? undefined : next);
}

test(
  "kernel: log_openat's records, formatted by BpfLogger, say what this process opened, as the VM does",
  { skip: kernelSkip },
  () =>
    noLeak(() => {
      using tmp = tempDir();
      const dir = tmp.path;
      const lines: string[] = [];
      using coll = load("trace");
      using logger = BpfLogger.open(coll, { write: (l) => lines.push(l) });
      let path: string;
      {
        using _link = coll.programs.log_openat!.attach();
        path = createFile(dir, "created");
      }
      assert.ok(logger.drain() >= 4);
      const got = linesOf(lines, path);
      const flags = Number.parseInt(/flags=0x([0-9a-f]+)$/.exec(got.at(-1)!)?.[1] ?? "", 16);
      assert.deepEqual(got, [
        `[INFO  log_openat] pid=${process.pid} comm=${comm}`,
        `[DEBUG log_openat] openat(-100, "${path}")`,
        "[WARN  log_flags] creating, mode 0640",
        `[TRACE log_flags] flags=0x${flags.toString(16)}`,
      ]);
      assert.equal(flags & 0o1101, 0o1101, "O_CREAT | O_TRUNC | O_WRONLY");
      assert.equal(logger.dropped, 0n);
      assert.equal(logger.decoder.errors, 0);

      // The same event in the VM logs the same lines.
      const vm = VirtualMachine.load(spec);
      const vmLines: string[] = [];
      const vmLogger = new VmLogger(vm, { write: (l) => vmLines.push(l) });
      vm.program("log_openat").run(
        openatRun({ pid: process.pid, comm, dfd: -100, file: path, flags, mode: 0o640 }),
      );
      vmLogger.drain();
      assert.deepEqual(vmLines, got);
    }),
);

test(
  "kernel: tsbpf_log_level drops the calls above it from the program the kernel runs",
  { skip: kernelSkip },
  (t) =>
    noLeak(() => {
      using tmp = tempDir();
      const dir = tmp.path;
      const lines: string[] = [];
      using coll = load("warn");
      using logger = BpfLogger.open(coll, { write: (l) => lines.push(l) });
      {
        using _link = coll.programs.log_openat!.attach();
        createFile(dir, "warned");
        readFileSync(join(dir, "warned")); // no O_CREAT: nothing at warn
      }
      logger.drain();
      assert.deepEqual(lines, ["[WARN  log_flags] creating, mode 0640"]);

      // Disabled calls cost nothing: the verifier removed them as dead code.
      using all = load("trace");
      using none = load("error");
      const full = all.programs.log_openat!.info().xlatedProgLen;
      const warn = coll.programs.log_openat!.info().xlatedProgLen;
      const error = none.programs.log_openat!.info().xlatedProgLen;
      t.diagnostic(
        `translated program: ${full} bytes at trace, ${warn} at warn, ${error} at error`,
      );
      assert.ok(error < warn && warn < full, `${error} < ${warn} < ${full}`);
    }),
);

test(
  "kernel: start() delivers records on the event loop; the reader's level filters",
  { skip: kernelSkip },
  () =>
    noLeak(async () => {
      using tmp = tempDir();
      const dir = tmp.path;
      const lines: string[] = [];
      using coll = load("trace");
      using logger = BpfLogger.open(coll, { level: "info", write: (l) => lines.push(l) }).start();
      using _link = coll.programs.log_openat!.attach();
      const path = createFile(dir, "async");
      for (let i = 0; i < 100 && !lines.some((l) => l.startsWith("[WARN")); i++) await sleep(20);
      assert.deepEqual(lines.slice(-2), [
        `[INFO  log_openat] pid=${process.pid} comm=${comm}`,
        "[WARN  log_flags] creating, mode 0640",
      ]);
      assert.ok(
        logger.decoder.filtered >= 2,
        `${logger.decoder.filtered} filtered (DEBUG, TRACE for ${path})`,
      );
    }),
);

test(
  "kernel: every kind of argument logs as in the VM (BPF_PROG_TEST_RUN on the same packets)",
  { skip: kernelSkip },
  () =>
    noLeak(() => {
      const lines: string[] = [];
      using coll = Collection.load(logKindsSpec());
      using logger = BpfLogger.open(coll, { write: (l) => lines.push(l) });
      const pkt = logKindsPacket();
      coll.programs.log_kinds!.run({ data: pkt });
      coll.programs.log_kinds!.run({ data: pkt.subarray(0, 20) });
      logger.drain();
      assert.deepEqual(lines, LOG_KINDS_LINES);
    }),
);

test("BpfLogger.open: a VM collection or one without TSBPF_LOG is refused by name", () => {
  const vm = VirtualMachine.load(spec);
  assert.throws(
    () => BpfLogger.open(vm),
    /BpfLogger\.open: TSBPF_LOG is not a kernel map \(for a VM collection, use VmLogger/,
  );
  const { TSBPF_LOG: _, ...maps } = vm.maps;
  assert.throws(
    () =>
      BpfLogger.open({
        ...vm,
        maps,
        map: vm.map,
        program: vm.program,
        variable: vm.variable,
        close() {},
        [Symbol.dispose]() {},
      }),
    (e: unknown) => e instanceof LogError && /no TSBPF_LOG map in the collection/.test(e.message),
  );
});

test("examples/log runs as its header says", { skip: kernelSkip }, async () => {
  using tmp = tempDir();
  const dir = tmp.path;
  const child = spawn(
    process.execPath,
    [...FROM_SOURCE, "examples/log/log.ts", "-d", "3", "-p", String(process.pid), "-l", "debug"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  for (let i = 0; i < 1500 && !out.includes("logging openat(2)"); i++) {
    if (child.exitCode !== null) break;
    await sleep(20);
  }
  assert.match(out, /^logging openat\(2\) at level debug$/m, err);
  const path = createFile(dir, "example");
  assert.equal(await exited, 0, err);
  const lines = out.trim().split("\n");
  assert.deepEqual(linesOf(lines.slice(0, -1), path), [
    `[INFO  log_openat] pid=${process.pid} comm=${comm}`,
    `[DEBUG log_openat] openat(-100, "${path}")`,
    "[WARN  log_flags] creating, mode 0640",
  ]);
  assert.ok(!out.includes("[TRACE"), out);
  assert.match(lines.at(-1)!, /^\d+ records, 0 dropped$/);
});
