/**
 * The trace_pipe reader: line parsing on the formats the kernel prints, and against
 * the real kernel — an XDP program run with BPF_PROG_TEST_RUN calls bpf_trace_printk
 * (the trace event fires in test runs too), and the reader, waiting on the event loop,
 * must give back those lines with this process's pid and comm, then close cleanly.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  parseTraceLine,
  TracePipeReader,
  type TraceRecord,
} from "../src/kernel/readers/trace-pipe.ts";
import { noLeak, PACKET, printkProgram, sleep, within } from "./kernel-ringbuf-programs.ts";
import { kernelSkip, scaled } from "./support/kernel.ts";

const skip = kernelSkip;

describe("parseTraceLine", () => {
  test("the 6.x format: comm-pid, [cpu], five flag columns, timestamp, event, message", () => {
    const line = "            node-14025   [001] b..11  1607.103534: bpf_trace_printk: tsbpf hello";
    assert.deepEqual(parseTraceLine(line), {
      comm: "node",
      pid: 14025,
      cpu: 1,
      flags: "b..11",
      timestamp: 1607.103534,
      event: "bpf_trace_printk",
      message: "tsbpf hello",
      raw: line,
    });
  });

  test("comm with dashes and spaces, <...>, the record-tgid column, no flags column", () => {
    const a = parseTraceLine(
      " kworker/u8:2-sys-88 [000] d.... 10.000001: bpf_trace_printk: a: b: c",
    );
    assert.equal(a.comm, "kworker/u8:2-sys");
    assert.equal(a.pid, 88);
    assert.equal(a.message, "a: b: c");
    const b = parseTraceLine("  <...>-7 (    7) [003] .N... 5.5: bpf_trace_printk: x");
    assert.deepEqual([b.comm, b.pid, b.tgid, b.cpu, b.flags], ["<...>", 7, 7, 3, ".N..."]);
    const c = parseTraceLine("  my prog-12 (-------) [000] 5.000100: bpf_trace_printk: ");
    assert.deepEqual(
      [c.comm, c.pid, c.tgid, c.flags, c.message],
      ["my prog", 12, undefined, "", ""],
    );
    const old = parseTraceLine("    bash-1 [002] ...1 99.123456: 0: hello");
    assert.deepEqual([old.event, old.flags, old.message], ["0", "...1", "hello"]);
  });

  test("a line that is not an event (a message's continuation) is kept whole", () => {
    const r = parseTraceLine("second line of a message");
    assert.deepEqual([r.pid, r.cpu, r.message], [-1, -1, "second line of a message"]);
  });
});

describe("TracePipeReader", { skip }, () => {
  test("reads bpf_trace_printk from a test run, on the event loop, and ends on close", () =>
    noLeak(async () => {
      const nonce = `tsbpf-${process.pid}-${Date.now() % 100000}`;
      using prog = printkProgram(nonce);
      using reader = TracePipeReader.open();
      assert.match(reader.path, /trace_pipe$/);
      reader.readAvailable(); // whatever was there before
      const mine: TraceRecord[] = [];
      setTimeout(() => prog.run({ data: PACKET, repeat: 3 }), 50);
      const loop = (async () => {
        for await (const rec of reader) {
          if (rec.message !== nonce) continue; // lines of other programs
          mine.push(rec);
          if (mine.length === 3) setTimeout(() => reader.close(), 10);
        }
      })();
      await within(5000, loop, "trace_pipe iteration");
      assert.equal(mine.length, 3);
      for (const r of mine) {
        assert.equal(r.pid, process.pid);
        assert.equal(r.comm, "node");
        assert.equal(r.event, "bpf_trace_printk");
        assert.ok(r.cpu >= 0 && r.timestamp > 0);
      }
      assert.ok(mine[0]!.timestamp <= mine[2]!.timestamp);
    }));

  test("onRecord, readAvailable, and a pending wait that close() ends", () =>
    noLeak(async () => {
      const nonce = `tsbpf-cb-${process.pid}`;
      using prog = printkProgram(nonce);
      {
        using reader = TracePipeReader.open();
        reader.readAvailable();
        prog.run({ data: PACKET, repeat: 2 });
        await sleep(20);
        const got = reader.readAvailable().filter((r) => r.message === nonce);
        assert.equal(got.length, 2);
      }
      using reader = TracePipeReader.open();
      const seen: string[] = [];
      reader.onRecord((r) => {
        if (r.message === nonce) seen.push(r.message);
      });
      await sleep(20);
      prog.run({ data: PACKET });
      const until = Date.now() + scaled(1000);
      while (seen.length < 1 && Date.now() < until) await sleep(10);
      await sleep(20); // and nothing more comes
      reader.close();
      assert.deepEqual(seen, [nonce]);

      using idle = TracePipeReader.open();
      const step = idle[Symbol.asyncIterator]().next();
      await sleep(20);
      idle.close();
      // ends (done), unless another program printed first
      await within(1000, step, "pending step");
    }));

  test("a path that is not there is named in the error", () => {
    assert.throws(
      () => TracePipeReader.open({ path: "/nonexistent/trace_pipe" }),
      /cannot open \/nonexistent\/trace_pipe/,
    );
  });
});
