/**
 * The trace tools without a kernel: records built byte by byte as the BPF programs lay
 * them out, decoded and printed in BCC's columns (compared with what printf's
 * `%-6d %-16s %4d %3d` and `%-16s %-7d %-7d %3d` give) and as JSON lines; the
 * options as BCC's tools take them, and the errors for bad ones; main's hand-over of
 * the words after `trace` unparsed.
 */
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CommandDescription } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { GLOBAL_OPTIONS, main } from "../main.ts";
import { DESCRIPTION } from "./trace.ts";
import {
  decodeExecEvent,
  decodeOpenEvent,
  EXEC_HEADER_SIZE,
  OPEN_EVENT_SIZE,
} from "./trace-events.ts";
import {
  EXEC_HEADER,
  execJson,
  formatExecRow,
  formatOpenRow,
  OPEN_HEADER,
  openJson,
} from "./trace-format.ts";
import { parseExecOptions, parseOpenOptions } from "./trace-options.ts";

const enc = new TextEncoder();

function openRecord(f: {
  pid: number;
  ret: number;
  comm: string;
  path: string;
  ts?: bigint;
}): Uint8Array {
  const b = new Uint8Array(OPEN_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, f.ts ?? 123n, true);
  v.setUint32(8, f.pid, true);
  v.setUint32(12, f.pid + 1, true);
  v.setUint32(16, 1000, true);
  v.setInt32(20, f.ret, true);
  v.setInt32(24, 0o2000000, true);
  b.set(enc.encode(f.comm), 28);
  b.set(enc.encode(f.path), 44);
  return b;
}

function execRecord(f: {
  pid: number;
  ppid: number;
  ret: number;
  comm: string;
  args: string[];
  truncated?: boolean;
}): Uint8Array {
  const strings = enc.encode(f.args.map((a) => `${a}\0`).join(""));
  // The ring buffer may hand over up to 7 bytes of padding after the record.
  const b = new Uint8Array(EXEC_HEADER_SIZE + strings.length + 5);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 99n, true);
  v.setUint32(8, f.pid, true);
  v.setUint32(12, f.ppid, true);
  v.setUint32(16, 0, true);
  v.setInt32(20, f.ret, true);
  v.setUint32(24, f.args.length, true);
  v.setUint32(28, strings.length, true);
  v.setUint32(32, f.truncated ? 1 : 0, true);
  b.set(enc.encode(f.comm), 36);
  b.set(strings, EXEC_HEADER_SIZE);
  return b;
}

test("open events: fd and errno split as opensnoop splits the return value", () => {
  const ok = decodeOpenEvent(openRecord({ pid: 42, ret: 3, comm: "cat", path: "/etc/hosts" }));
  assert.deepEqual(
    { pid: ok.pid, tid: ok.tid, fd: ok.fd, err: ok.err, comm: ok.comm, path: ok.path },
    { pid: 42, tid: 43, fd: 3, err: 0, comm: "cat", path: "/etc/hosts" },
  );
  const bad = decodeOpenEvent(openRecord({ pid: 42, ret: -13, comm: "cat", path: "/root/x" }));
  assert.equal(bad.fd, -1);
  assert.equal(bad.err, 13);
  assert.equal(bad.flags, 0o2000000);
  assert.equal(bad.ts, 123n);
  // A full 15-character comm and a 255-byte path, no NUL in the buffer's last byte.
  const long = decodeOpenEvent(
    openRecord({ pid: 1, ret: 0, comm: "a".repeat(15), path: "p".repeat(255) }),
  );
  assert.equal(long.comm.length, 15);
  assert.equal(long.path.length, 255);
  assert.throws(() => decodeOpenEvent(new Uint8Array(10)), /open event: record of 10 bytes/);
});

test("opensnoop's columns: %-6s %-16s %4s %3s PATH, rows %-6d %-16s %4d %3d %s", () => {
  assert.equal(OPEN_HEADER, "PID    COMM               FD ERR PATH\n");
  const row = (ret: number) =>
    formatOpenRow(decodeOpenEvent(openRecord({ pid: 1576, ret, comm: "snmpd", path: "/proc" })));
  assert.equal(row(9), "1576   snmpd               9   0 /proc\n");
  assert.equal(row(-2), "1576   snmpd              -1   2 /proc\n");
  // Wider values push the columns, as printf does.
  const wide = formatOpenRow(
    decodeOpenEvent(openRecord({ pid: 12345678, ret: 123456, comm: "x", path: "/" })),
  );
  assert.equal(wide, "12345678 x                123456   0 /\n");
});

test("open JSON lines: one compact object per event, ts in nanoseconds", () => {
  const e = decodeOpenEvent(
    openRecord({ pid: 7, ret: -2, comm: "sh", path: 'a"b', ts: 2n ** 60n }),
  );
  assert.equal(
    openJson(e),
    '{"pid":7,"tid":8,"uid":1000,"comm":"sh","fd":-1,"err":2,"flags":524288,"path":"a\\"b","ts":1152921504606846976}\n',
  );
});

test("exec events: file name then arguments, execsnoop's columns and ' ...' for more", () => {
  const rec = execRecord({
    pid: 100,
    ppid: 1,
    ret: 0,
    comm: "true",
    args: ["/bin/true", "a b", "line\nbreak"],
  });
  const e = decodeExecEvent(rec);
  assert.deepEqual(e.args, ["/bin/true", "a b", "line\nbreak"]);
  assert.equal(EXEC_HEADER, "PCOMM            PID     PPID    RET ARGS\n");
  assert.equal(
    formatExecRow(e),
    "true             100     1         0 /bin/true a b line\\nbreak\n",
  );
  const failed = decodeExecEvent(
    execRecord({ pid: 5, ppid: 4, ret: -2, comm: "sh", args: ["/nope", "x"], truncated: true }),
  );
  assert.equal(formatExecRow(failed), "sh               5       4        -2 /nope x ...\n");
  assert.equal(
    execJson(failed),
    '{"pid":5,"ppid":4,"uid":0,"comm":"sh","ret":-2,"args":["/nope","x"],"truncated":true,"ts":99}\n',
  );
  const cut = execRecord({ pid: 1, ppid: 0, ret: 0, comm: "x", args: ["/x"] });
  new DataView(cut.buffer).setUint32(28, 4000, true);
  assert.throws(() => decodeExecEvent(cut), /its header says 4052/);
});

test("options: BCC's long names, combined short flags, values attached or apart", () => {
  assert.deepEqual(parseOpenOptions(["--pid", "42", "-xj", "-n", "cat", "--duration=2.5"]), {
    name: "cat",
    durationSeconds: 2.5,
    json: true,
    perfBuffer: false,
    help: false,
    pid: 42,
    failedOnly: true,
  });
  assert.deepEqual(parseOpenOptions([]), {
    json: false,
    perfBuffer: false,
    help: false,
    failedOnly: false,
  });
  assert.equal(parseOpenOptions(["--failed", "--name", "cat", "--json"]).failedOnly, true);
  const x = parseExecOptions(["-x", "--max-args=5", "--perf-buffer", "--duration", "1"]);
  assert.equal(x.includeFailed, true);
  assert.equal(x.maxArgs, 5);
  assert.equal(x.perfBuffer, true);
  assert.equal(x.durationSeconds, 1);
  assert.equal(parseExecOptions([]).maxArgs, 20);
});

test("options: bad ones are usage errors that say what is wrong", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parseOpenOptions(["-q"]), /trace open: Unknown option '-q'/],
    [() => parseOpenOptions(["--pid"]), /trace open: Option '--pid <value>' argument missing/],
    [() => parseOpenOptions(["--pid", "abc"]), /--pid PID must be a whole number from 1/],
    [() => parseOpenOptions(["--pid", "0"]), /--pid PID must be a whole number/],
    [
      () => parseOpenOptions(["--duration", "0"]),
      /--duration takes a number of seconds greater than 0, not '0'/,
    ],
    [() => parseOpenOptions(["--duration", "soon"]), /not 'soon'/],
    // The short forms trace took before: the global options' letters, so no longer here.
    [
      () => parseOpenOptions(["-p", "42"]),
      /trace open: Unknown option '-p' \(-p is the global --pretty; a process is --pid PID\)/,
    ],
    [
      () => parseOpenOptions(["-d", "5"]),
      /Unknown option '-d' \(-d is the global --debug; a time limit is --duration SECONDS\)/,
    ],
    [() => parseOpenOptions(["extra"]), /trace open: Unexpected argument 'extra'/],
    [
      () => parseExecOptions(["--max-args", "61"]),
      /--max-args must be a whole number from 1 to 60/,
    ],
    [() => parseExecOptions(["--pid", "1"]), /trace exec: Unknown option '--pid'/],
  ];
  for (const [f, re] of cases)
    assert.throws(f, (e: Error) => e instanceof UsageError && re.test(e.message));
});

/** Runs main in-process and returns exit code and output. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = join(tmpdir(), `tsbpf-trace-unit-${process.pid}-o`);
  const e = join(tmpdir(), `tsbpf-trace-unit-${process.pid}-e`);
  const out = openSync(o, "w");
  const err = openSync(e, "w");
  let code: number;
  try {
    code = await main(args, { out, err });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const r = { code, out: readFileSync(o, "utf8"), err: readFileSync(e, "utf8") };
  rmSync(o, { force: true });
  rmSync(e, { force: true });
  return r;
}

test("main hands `trace` its words unparsed; no short flag means two things", async () => {
  // A usage error from the tool's own parser proves the words reached it intact.
  const r = await run("trace", "open", "--pid", "x1", "--duration", "3");
  assert.equal(r.code, 255);
  assert.match(r.err, /^Error: --pid PID must be a whole number from 1 to 2147483647, not 'x1'\n/);
  assert.match(r.err, /Usage: tsbpf trace open \[--pid PID\]/);
  // Global options before the object still count; abbreviations select the object.
  for (const args of [
    ["t", "o", "-h"],
    ["trace", "open", "--help"],
    ["trace", "open", "help"],
  ]) {
    const help = await run(...args);
    assert.equal(help.code, 0, args.join(" "));
    assert.equal(help.err, "", args.join(" "));
    assert.match(help.out, /^Usage: tsbpf trace open \[--pid PID\]/, args.join(" "));
    assert.doesNotMatch(help.out, /trace exec/, "open's own usage");
  }
  for (const args of [["trace"], ["trace", "help"], ["trace", "--help"], ["trace", "-h"]]) {
    const help = await run(...args);
    assert.equal(help.code, 0, args.join(" "));
    assert.match(help.out, /^Usage: tsbpf trace open .*\n {7}tsbpf trace exec /, args.join(" "));
  }
  const top = await run("help");
  assert.match(top.out, /OBJECT := \{ .*\btrace\b/);
  // Every short flag a trace tool takes is a global one with the same meaning, or no
  // global one.
  const tables = DESCRIPTION.commands.map((c: CommandDescription) => c.options ?? []);
  for (const o of tables.flat()) {
    const global = GLOBAL_OPTIONS.find((g) => g.short === o.short);
    if (o.short && global) assert.equal(o.long, global.long, `-${o.short}`);
  }
  assert.ok(
    GLOBAL_OPTIONS.some((g) => g.short === "p") && GLOBAL_OPTIONS.some((g) => g.short === "d"),
  );
});
