/**
 * Logging from BPF in the VM: examples/log's program run in the VM logs the lines its
 * format strings say, the program-side level filter (tsbpf_log_level) and the reader's
 * level drop records, and hostile records and call sites decode to a LogError that
 * names what is wrong, never a crash.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type CollectionSpec, LogDecoder, LogError, type LogRecord } from "../src/spec/index.ts";
import { logLevelConstants, VirtualMachine, VmLogger, VmRingBuf } from "../src/vm/index.ts";
import {
  LOG_KINDS_LINES,
  logExampleSpec,
  logKindsPacket,
  logKindsSpec,
  type OpenatEvent,
  openatRun,
} from "./support/log-example.ts";

const spec = logExampleSpec();
const CREATE: OpenatEvent = {
  pid: 42,
  comm: "bash",
  dfd: -100,
  file: "/tmp/new",
  flags: 0o1101,
  mode: 0o644,
};

function runLines(ev: OpenatEvent, level?: string, readerLevel?: string): string[] {
  const vm = VirtualMachine.load(spec, level ? { constants: logLevelConstants(level) } : {});
  const lines: string[] = [];
  const logger = new VmLogger(vm, {
    write: (l) => lines.push(l),
    ...(readerLevel && { level: readerLevel }),
  });
  assert.equal(vm.program("log_openat").run(openatRun(ev)).retval, 0);
  logger.drain();
  assert.equal(logger.dropped, 0n);
  return lines;
}

test("VM: log_openat logs its lines, formatted from the object's format strings", () => {
  assert.deepEqual(runLines(CREATE), [
    "[INFO  log_openat] pid=42 comm=bash",
    '[DEBUG log_openat] openat(-100, "/tmp/new")',
    "[WARN  log_flags] creating, mode 0644",
    "[TRACE log_flags] flags=0x241",
  ]);
  assert.deepEqual(runLines({ ...CREATE, dfd: -200, flags: 0 }), [
    "[INFO  log_openat] pid=42 comm=bash",
    '[DEBUG log_openat] openat(-200, "/tmp/new")',
    "[TRACE log_flags] flags=0",
    "[ERROR log_openat] bad dfd -200",
  ]);
});

test("VM: a string the program cannot read shows its errno; records are structured for onRecord", () => {
  const vm = VirtualMachine.load(spec);
  const records: LogRecord[] = [];
  const logger = new VmLogger(vm, { onRecord: (r) => records.push(r) });
  const input = openatRun(CREATE);
  vm.program("log_openat").run({ ...input, probeMemory: [] });
  assert.equal(logger.drain(), 4);
  const debug = records.find((r) => r.levelName === "DEBUG");
  assert.equal(debug?.message, 'openat(-100, "(EFAULT)")');
  assert.deepEqual(debug?.args, [
    { type: "s32", value: -100 },
    { type: "ustr", value: "", fault: "EFAULT" },
  ]);
  const info = records[0]!;
  assert.deepEqual(
    { level: info.level, target: info.target, format: info.format, args: info.args },
    {
      level: 3,
      target: "log_openat",
      format: "pid=%d comm=%s",
      args: [
        { type: "u32", value: 42 },
        { type: "kstr", value: "bash" },
      ],
    },
  );
});

test("VM: every kind of argument (widths, signs, MAC, IPv4, cut and .rodata strings, 8 arguments, none)", () => {
  const vm = VirtualMachine.load(logKindsSpec());
  const lines: string[] = [];
  const logger = new VmLogger(vm, { write: (l) => lines.push(l) });
  const pkt = logKindsPacket();
  vm.program("log_kinds").run({ data: pkt });
  vm.program("log_kinds").run({ data: pkt.subarray(0, 20) });
  logger.drain();
  assert.deepEqual(lines, LOG_KINDS_LINES);
});

test("VM: tsbpf_log_level stops calls in the program, the reader's level drops records", () => {
  assert.deepEqual(runLines(CREATE, "warn"), ["[WARN  log_flags] creating, mode 0644"]);
  assert.deepEqual(runLines(CREATE, "error"), []);
  assert.deepEqual(runLines(CREATE, "trace", "info"), [
    "[INFO  log_openat] pid=42 comm=bash",
    "[WARN  log_flags] creating, mode 0644",
  ]);
  assert.throws(
    () => logLevelConstants("loud"),
    /log level "loud": expected 1..5 or error, warn, info, debug, trace/,
  );
});

test("VM: records that find the ring full are counted in tsbpf_log_dropped", () => {
  const ring = spec.maps.TSBPF_LOG!;
  const vm = VirtualMachine.load({
    ...spec,
    maps: { ...spec.maps, TSBPF_LOG: { ...ring, maxEntries: 4096 } },
  });
  let lines = 0;
  const logger = new VmLogger(vm, { write: () => lines++ });
  for (let i = 0; i < 20; i++) vm.program("log_openat").run(openatRun(CREATE)); // 80 calls
  logger.drain();
  assert.ok(lines > 0 && logger.dropped > 0n, `${lines} lines, ${logger.dropped} dropped`);
  assert.equal(BigInt(lines) + logger.dropped, 80n);
});

/** A record of examples/log's INFO call ("pid=%d comm=%s": u32, kstr) as the program writes it. */
function infoRecord(): Uint8Array {
  const vm = VirtualMachine.load(spec);
  const recs: Uint8Array[] = [];
  const ring = vm.map("TSBPF_LOG");
  vm.program("log_openat").run(openatRun(CREATE));
  assert.ok(ring instanceof VmRingBuf);
  for (const r of ring.drain()) recs.push(r.data);
  return recs[0]!;
}

test("hostile records decode to a LogError naming the problem, and the reader goes on", () => {
  const good = infoRecord();
  const decoder = new LogDecoder(spec);
  assert.equal(decoder.decode(good).message, "pid=42 comm=bash");
  const edit = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /log record of 0 bytes: truncated \(the header alone is 16\)/],
    ["header cut", good.subarray(0, 10), /log record of 10 bytes: truncated/],
    [
      "arguments cut",
      good.subarray(0, 30),
      /log site 2 in log_openat\(\) \("pid=%d comm=%s"\): argument 2 \(kstr\) at byte 24: the record ends at 30 \(truncated\)/,
    ],
    [
      "string cut",
      good.subarray(0, 40),
      /argument 2 \(kstr\) at byte 24: a 64-byte string buffer does not fit in the record's 40 bytes/,
    ],
    [
      "unknown site",
      edit((_, v) => v.setUint32(0, 99, true)),
      /unknown call site 99 \(the object's sites: 0, 1, 2, 3, 4; a record from another object\?\)/,
    ],
    [
      "wrong arg count",
      edit((b) => {
        b[5] = 3;
      }),
      /log site 2 in log_openat\(\) \("pid=%d comm=%s"\): record has 3 arguments, the site takes 2/,
    ],
    [
      "wrong type",
      edit((b) => {
        b[9] = 7;
      }),
      /argument 2 has type tag 7, the site's is kstr/,
    ],
    [
      "wrong level",
      edit((b) => {
        b[4] = 1;
      }),
      /record has level 1, the site 3/,
    ],
    [
      "version",
      edit((b) => {
        b[6] = 9;
      }),
      /log record version 9, this reader knows 1/,
    ],
    [
      "string longer than its buffer",
      edit((_, v) => v.setInt32(24, 65, true)),
      /argument 2 \(kstr\) at byte 24: length 65 exceeds its 64-byte buffer/,
    ],
    [
      "huge buffer",
      edit((_, v) => v.setUint32(28, 0xffffffff, true)),
      /a 4294967295-byte string buffer does not fit/,
    ],
    [
      "trailing bytes",
      new Uint8Array([...good, 0, 0, 0, 0, 0, 0, 0, 0]),
      /8 bytes after the last argument \(record of 104, arguments end at 96\)/,
    ],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(
      () => decoder.decode(bytes),
      (e: unknown) => e instanceof LogError && re.test(e.message),
      what,
    );
  }
  // handle() never throws: errors go to onError, good records still come out.
  const errors: string[] = [];
  const lines: string[] = [];
  const handler = new LogDecoder(spec, {
    onError: (e) => errors.push(e.message),
    write: (l) => lines.push(l),
  });
  for (const [, bytes] of cases) handler.handle(bytes);
  handler.handle(good);
  assert.equal(errors.length, cases.length);
  assert.deepEqual(lines, ["[INFO  log_openat] pid=42 comm=bash"]);
  assert.deepEqual([handler.delivered, handler.errors, handler.filtered], [1, cases.length, 0]);
});

test("random bytes never crash the decoder: a record or a LogError", () => {
  const decoder = new LogDecoder(spec);
  const good = infoRecord();
  let seed = 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  for (let i = 0; i < 3000; i++) {
    const b = i % 2 ? good.slice() : new Uint8Array(rand() % 128);
    for (let k = 0; k < 1 + (rand() % 4); k++) if (b.length) b[rand() % b.length] = rand() & 0xff;
    try {
      decoder.decode(b);
    } catch (e) {
      if (!(e instanceof LogError)) throw e;
    }
  }
});

/** `spec` with its call-site section's bytes edited. */
function withSites(edit: (bytes: Uint8Array) => void): CollectionSpec {
  const map = spec.maps[".rodata.tsbpf_log"]!;
  const value = map.contents![0]!.value.slice();
  edit(value);
  return {
    ...spec,
    maps: { ...spec.maps, [map.name]: { ...map, contents: [{ key: new Uint8Array(4), value }] } },
  };
}

test("call sites: a format that does not fit its arguments or a damaged descriptor is a LogError", () => {
  const sites = new LogDecoder(spec).sites;
  assert.deepEqual(
    [...sites.values()].map(
      (s) => `${s.id} ${s.level} ${s.target} ${s.types.join(",")} ${s.format}`,
    ),
    [
      "2 3 log_openat u32,kstr pid=%d comm=%s",
      '3 4 log_openat s32,ustr openat(%d, "%s")',
      "4 1 log_openat s32 bad dfd %d",
      "0 2 log_flags u64 creating, mode %04o",
      "1 5 log_flags u64 flags=%#x",
    ],
  );
  const text = new TextDecoder().decode(spec.maps[".rodata.tsbpf_log"]!.contents![0]!.value);
  const at = text.indexOf("pid=%d") + 5;
  assert.throws(
    () =>
      new LogDecoder(
        withSites((b) => {
          b[at] = "s".charCodeAt(0);
        }),
      ),
    /log site 2 in log_openat\(\) \("pid=%s comm=%s"\): %s at offset 4 is given argument 1, a u32/,
  );
  assert.throws(
    () =>
      new LogDecoder(
        withSites((b) => {
          b[0] = 0;
        }),
      ),
    /\.rodata\.tsbpf_log: variable "log_openat\.__tsbpf_log_site" \(offset 0, 36 bytes\): not a call site \(no TSLG magic\)/,
  );
  assert.throws(
    () =>
      new LogDecoder(
        withSites((b) => {
          b[8] = 7;
        }),
      ),
    /log site 2 in log_openat\(\): level 7 is not 1\.\.5/,
  );
  assert.throws(
    () => new LogDecoder({ ...spec, variables: {} }),
    /no call sites readable \(compile with -g/,
  );
});

test("a VM without tsbpf_log.h's map: LogError naming the maps", () => {
  const { TSBPF_LOG: _, ...maps } = spec.maps;
  const programs = {};
  const vm = VirtualMachine.load({ ...spec, maps, programs });
  assert.throws(
    () => new VmLogger(vm),
    /no TSBPF_LOG map in the collection \(maps: \.rodata, \.bss, \.rodata\.tsbpf_log\): does the object include tsbpf_log\.h\?/,
  );
});
