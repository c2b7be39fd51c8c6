import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  callsJson,
  decodeFlowEvent,
  decodeGcEvent,
  FLOW_EVENT_SIZE,
  FLOW_HEADER,
  type FlowEvent,
  FlowPrinter,
  formatCalls,
  formatGc,
  GC_EVENT_SIZE,
  gcHeader,
  type MethodCalls,
  UPYTHON_NAME_LEN,
} from "./upython-format.ts";

const row = (func: string, calls: bigint, ns = 0n): MethodCalls => ({
  file: "<stdin>",
  func,
  calls,
  ns,
});

describe("ucalls", () => {
  test("BCC's columns, ascending, busiest last", () => {
    const rows = [row("fibo", 14190928n), row("<module>", 1n)];
    assert.equal(
      formatCalls(rows, { latency: false, milliseconds: false }),
      "\n" +
        "METHOD                                              # CALLS\n" +
        "<stdin>.<module>                                          1\n" +
        "<stdin>.fibo                                       14190928\n",
    );
  });

  test("--latency sorts by time; --milliseconds; --top", () => {
    const rows = [row("a", 9n, 8_858_350n), row("b", 1n, 7_000n), row("c", 2n, 4_841_017_640n)];
    assert.equal(
      formatCalls(rows, { latency: true, milliseconds: false, top: 2 }),
      "\n" +
        "METHOD                                              # CALLS TIME (us)\n" +
        "<stdin>.a                                                 9 8858.35\n" +
        "<stdin>.c                                                 2 4841017.64\n",
    );
    assert.match(formatCalls(rows, { latency: true, milliseconds: true }), /# CALLS TIME \(ms\)\n/);
    assert.equal(
      callsJson([row("b", 1n, 7_000n)], { latency: true, milliseconds: false }),
      '{"method":"<stdin>.b","file":"<stdin>","function":"b","calls":1,"time_us":7}\n',
    );
  });
});

function flowBytes(kind: 1 | 2, tid: number, ts: bigint, func: string): Uint8Array {
  const b = new Uint8Array(FLOW_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, kind);
  v.setUint16(2, 3, true);
  v.setUint32(4, 27245, true);
  v.setUint32(8, tid, true);
  v.setBigUint64(16, ts, true);
  b.set(new TextEncoder().encode("app.py"), 24);
  b.set(new TextEncoder().encode(func), 24 + UPYTHON_NAME_LEN);
  return b;
}

describe("uflow", () => {
  test("rows indented by depth; a return without its entry pops nothing", () => {
    const p = new FlowPrinter(1_000_000_000n);
    const ev = (kind: 1 | 2, func: string, tid = 27245): FlowEvent =>
      decodeFlowEvent(flowBytes(kind, tid, 5_536_000_000n, func));
    const out = [
      ev(1, "main"),
      ev(1, "gets"),
      ev(2, "<lambda>"), // CPython 3.11's profile hook: a return with no entry
      ev(2, "gets"),
      ev(1, "tty", 27246), // another thread starts at the top
      ev(2, "main"),
    ].map((e) => p.row(e));
    assert.equal(
      FLOW_HEADER + out.join(""),
      "CPU PID    TID    TIME(s)  METHOD\n" +
        "3   27245  27245  4.536    -> app.py.main\n" +
        "3   27245  27245  4.536      -> app.py.gets\n" +
        "3   27245  27245  4.536        <- app.py.<lambda>\n" +
        "3   27245  27245  4.536      <- app.py.gets\n" +
        "3   27245  27246  4.536    -> app.py.tty\n" +
        "3   27245  27245  4.536    <- app.py.main\n",
    );
  });

  test("--method and --class filter on prefixes; JSON carries the depth", () => {
    const p = new FlowPrinter(0n, { method: "ge", file: "app" });
    assert.equal(p.row(decodeFlowEvent(flowBytes(1, 1, 0n, "main"))), "");
    assert.equal(
      p.json(decodeFlowEvent(flowBytes(1, 1, 2_000_000n, "gets"))),
      '{"cpu":3,"pid":27245,"tid":1,"time_s":0.002,"direction":"entry","depth":2,"method":"app.py.gets"}\n',
    );
    assert.throws(() => decodeFlowEvent(new Uint8Array(10)), /uflow record of 10 bytes/);
  });
});

describe("ugc", () => {
  const gc = (start: bigint, us: bigint, gen: number, collected: number) => {
    const b = new Uint8Array(GC_EVENT_SIZE);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, start, true);
    v.setBigUint64(8, start + us * 1000n, true);
    v.setBigInt64(16, BigInt(gen), true);
    v.setBigInt64(24, BigInt(collected), true);
    return decodeGcEvent(b);
  };

  test("BCC's columns and Python's description", () => {
    const f = { milliseconds: false };
    assert.equal(
      gcHeader(f) + formatGc(gc(2_001_000_000n, 63_120n, 2, 17), 500_000_000n, f),
      "START    TIME (us) DESCRIPTION                             \n" +
        "1.501    63120.00 gen 2 GC collected 17 objects\n",
    );
  });

  test("--minimum and --filter", () => {
    const e = gc(0n, 1500n, 0, 3);
    assert.equal(formatGc(e, 0n, { milliseconds: true, minimumMs: 2 }), "");
    assert.equal(
      formatGc(e, 0n, { milliseconds: true, minimumMs: 1 }),
      "0.000    1.50     gen 0 GC collected 3 objects\n",
    );
    assert.equal(formatGc(e, 0n, { milliseconds: false, filter: "gen 1" }), "");
  });
});
