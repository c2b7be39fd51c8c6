/**
 * Ring buffer readers against the real kernel: XDP programs run with
 * BPF_PROG_TEST_RUN emit records through bpf_ringbuf_output and reserve/submit/discard,
 * and the reader must give back exactly those records, in order — sizes that are not
 * multiples of 8, discarded records skipped, a record wrapping around the ring's end,
 * wake-ups on the event loop, several rings at once — and leave no descriptor, mapping
 * or event-loop handle behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { RingBufferReader, RingBufferSet } from "../src/kernel/readers/ringbuf.ts";
import { RING_EMPTY } from "../src/kernel/readers/ringbuf-raw.ts";
import { MapType } from "../src/uapi/index.ts";
import {
  type Emit,
  expectedRecords,
  noLeak,
  PACKET,
  ringbufProgram,
  sleep,
  within,
} from "./kernel-ringbuf-programs.ts";
import { kernelSkip, scaled } from "./support/kernel.ts";

const skip = kernelSkip;

function ringMap(name: string, size = 4096): BpfMap {
  return BpfMap.create({ name, type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

function sameRecords(got: readonly Uint8Array[], want: readonly Uint8Array[]): void {
  assert.deepEqual(got.map(hex), want.map(hex));
}

const SIZES = [1, 3, 5, 8, 12, 13, 24, 31, 40, 7];

describe("RingBufferReader", { skip }, () => {
  test("records of every size come back exactly, in order (readAvailable)", () =>
    noLeak(() => {
      using map = ringMap("rb_sizes");
      const emits: Emit[] = SIZES.map((size) => ({ size, how: "output" }));
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map, { zeroCopy: true });
      assert.equal(reader.size, 4096);
      assert.deepEqual(reader.readAvailable(), []);
      prog.run({ data: PACKET, repeat: 3 });
      const want = expectedRecords(emits);
      // 8-byte header, length rounded up to 8
      const bytes = SIZES.reduce((n, s) => n + 8 + ((s + 7) & ~7), 0);
      assert.equal(reader.pendingBytes(), 3 * bytes);
      const got = reader.readAvailable();
      sameRecords(got, [...want, ...want, ...want]);
      assert.equal(reader.raw.consumerPosition, 0n, "not released before the next read");
      assert.deepEqual(reader.readAvailable(), []);
      assert.equal(reader.raw.consumerPosition, BigInt(3 * bytes));
      assert.equal(reader.raw.producerPosition, BigInt(3 * bytes));
    }));

  test("reserve/submit records come back, discarded ones are skipped", () =>
    noLeak(() => {
      using map = ringMap("rb_discard");
      const emits: Emit[] = [
        { size: 16, how: "submit" },
        { size: 9, how: "discard" },
        { size: 9, how: "submit" },
        { size: 4, how: "output" },
        { size: 33, how: "discard" },
        { size: 33, how: "discard" },
        { size: 2, how: "submit" },
        { size: 64, how: "discard" },
      ];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 2 });
      const want = expectedRecords(emits);
      assert.equal(want.length, 4);
      const got: Uint8Array[] = [];
      for (let r = reader.read(); r !== undefined; r = reader.read()) got.push(r.slice());
      sameRecords(got, [...want, ...want]);
      // the trailing discards were consumed too: the ring is empty
      assert.equal(reader.pendingBytes(), 0);
      assert.equal(reader.raw.consumerPosition, reader.raw.producerPosition);
    }));

  test("a record that wraps around the ring's end is contiguous and intact", () =>
    noLeak(() => {
      using map = ringMap("rb_wrap");
      // 4 records of 1000 bytes take 4 * 1008 = 4032 bytes; the 5th spans 4032..5040
      const emits: Emit[] = [{ size: 1000, how: "submit" }];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map, { zeroCopy: true });
      const want = expectedRecords(emits)[0]!;
      prog.run({ data: PACKET, repeat: 4 });
      assert.equal(reader.readAvailable().length, 4);
      reader.release(); // else the ring is still full and the kernel drops the 5th
      prog.run({ data: PACKET, repeat: 1 });
      const raw = reader.raw;
      const len = raw.next();
      assert.equal(len, 1000);
      assert.ok(raw.offset < 4096 && raw.offset + len > 4096, "the record crosses the ring's end");
      assert.equal(hex(raw.data.subarray(raw.offset, raw.offset + len)), hex(want));
      raw.commit();
      assert.equal(raw.next(), RING_EMPTY);
      // and the ring keeps going: 3 more fill it to the brim again
      prog.run({ data: PACKET, repeat: 3 });
      const more = reader.readAvailable();
      assert.equal(more.length, 3);
      for (const m of more) assert.equal(hex(m), hex(want));
      assert.equal(raw.consumerPosition, 5040n);
    }));

  test("drainBatches: every record in order, in batches, the space handed back per batch", () =>
    noLeak(() => {
      using map = ringMap("rb_batch", 8192);
      const emits: Emit[] = SIZES.map((size) => ({ size, how: "output" }));
      emits.splice(3, 0, { size: 9, how: "discard" }, { size: 20, how: "submit" });
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      assert.equal(
        reader.drainBatches(() => assert.fail("no records yet")),
        0,
      );
      prog.run({ data: PACKET, repeat: 5 });
      const want = expectedRecords(emits);
      const got: string[] = [];
      const counts: number[] = [];
      const consumerAt: bigint[] = [];
      const n = reader.drainBatches(
        (b) => {
          counts.push(b.count);
          // The space of the records seen so far, not of this batch, is handed back.
          consumerAt.push(reader.raw.consumerPosition);
          for (let i = 0; i < b.count; i++) {
            const rec = b.record(i);
            assert.equal(rec.length, b.pairs[2 * i + 1]);
            assert.equal(rec.byteOffset - b.data.byteOffset, b.pairs[2 * i]);
            // words: the record's first 32 bits in host order, as the view reads them
            if (rec.length >= 4) {
              const host = new Uint32Array(rec.slice(0, 4).buffer)[0];
              assert.equal(b.words[b.pairs[2 * i]! >> 2], host);
              assert.equal(b.view.getUint32(b.pairs[2 * i]!, true), host); // x86 and arm64
            }
            got.push(hex(rec));
          }
          assert.throws(() => b.record(b.count), RangeError);
        },
        Infinity,
        7,
      );
      assert.equal(n, 5 * want.length);
      assert.deepEqual(got, Array(5).fill(want.map(hex)).flat());
      assert.deepEqual(counts, [7, 7, 7, 7, 7, 7, 7, 6]);
      assert.equal(consumerAt[0], 0n);
      assert.ok(consumerAt[1]! > 0n && consumerAt[1]! < consumerAt[2]!);
      assert.equal(reader.pendingBytes(), 0);
      assert.equal(reader.raw.consumerPosition, reader.raw.producerPosition);
      // max, and a throw: the batch counts as read, the rest stay for the next drain.
      prog.run({ data: PACKET, repeat: 2 });
      assert.equal(
        reader.drainBatches(() => {}, 3),
        3,
      );
      assert.throws(
        () =>
          reader.drainBatches(() => {
            throw new Error("boom");
          }, 4),
        /boom/,
      );
      let rest = 0;
      reader.drainBatches((b) => {
        rest += b.count;
      });
      assert.equal(rest, 2 * want.length - 7);
      assert.throws(() => reader.drainBatches(() => {}, Infinity, 0), /batch size 0/);
      reader.onRecord(() => {});
      assert.throws(() => reader.drainBatches(() => {}), /already used with onRecord/);
    }));

  test("drainBatches across the ring's end: pairs point at intact records, discards skipped and counted", () =>
    noLeak(() => {
      using map = ringMap("rb_batch_wrap");
      // 112 + 64 + 24 = 200 bytes a run, one discarded record among three
      const emits: Emit[] = [
        { size: 100, how: "submit" },
        { size: 50, how: "discard" },
        { size: 13, how: "output" },
      ];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      const want = expectedRecords(emits).map(hex);
      prog.run({ data: PACKET, repeat: 15 }); // 3000 bytes
      assert.equal(
        reader.drainBatches(() => {}),
        30,
      );
      assert.equal(reader.discarded, 15);
      assert.equal(reader.raw.consumerPosition, 3000n);
      // the next 10 runs cover 3000..5000: run 5's first record spans 4008..4108
      prog.run({ data: PACKET, repeat: 10 });
      const got: string[] = [];
      let crossed = 0;
      const n = reader.drainBatches(
        (b) => {
          assert.ok(b.count >= 1 && b.count <= 4);
          for (let i = 0; i < b.count; i++) {
            const off = b.pairs[2 * i]!;
            const len = b.pairs[2 * i + 1]!;
            assert.ok(off < reader.size + 8, `offset ${off} is within the first mapping`);
            if (off < reader.size && off + len > reader.size) crossed++;
            got.push(hex(b.data.subarray(off, off + len)));
          }
        },
        Infinity,
        4,
      );
      assert.equal(n, 20);
      assert.equal(crossed, 1, "one record crosses the ring's end");
      assert.deepEqual(got, Array(10).fill(want).flat());
      assert.equal(reader.discarded, 25);
      assert.equal(reader.raw.consumerPosition, 5000n);
      assert.equal(reader.raw.producerPosition, 5000n);
    }));

  test("raw consume: a throw mid-batch counts that record as read and leaves the rest", () =>
    noLeak(() => {
      using map = ringMap("rb_consume_throw");
      const emits: Emit[] = [
        { size: 8, how: "output" },
        { size: 24, how: "discard" },
      ];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      const raw = reader.raw;
      const want = hex(expectedRecords(emits)[0]!);
      prog.run({ data: PACKET, repeat: 10 }); // 10 * (16 + 32) bytes
      let seen = 0;
      assert.throws(
        () =>
          raw.consume((data, off, len) => {
            assert.equal(hex(data.subarray(off, off + len)), want);
            if (++seen === 3) throw new Error("third");
          }),
        /third/,
      );
      // up to the third record: its discard after it is not read yet
      assert.equal(raw.consumerPosition, 2n * 48n + 16n);
      assert.equal(raw.discarded, 2);
      assert.equal(
        raw.consume(() => {}, 4),
        4,
      );
      assert.equal(raw.consumerPosition, 6n * 48n + 16n);
      assert.equal(
        raw.consume(() => {}),
        3,
      );
      assert.equal(raw.discarded, 10);
      assert.equal(raw.consumerPosition, 480n);
      // fill() stops where its array ends, whatever the limit: no record skipped unseen
      prog.run({ data: PACKET, repeat: 3 });
      const one = new Uint32Array(2);
      assert.equal(raw.fill(one, 10), 1);
      assert.equal(raw.fill(one, 10), 1);
      raw.commit();
      assert.equal(raw.consumerPosition, 480n + 48n + 16n);
    }));

  test("only discarded records: nothing delivered, their space handed back, counted", () =>
    noLeak(() => {
      using map = ringMap("rb_batch_disc");
      using prog = ringbufProgram([map.fd], [{ size: 40, how: "discard" }]);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 7 });
      assert.equal(
        reader.drainBatches(() => assert.fail("a discarded record was delivered")),
        0,
      );
      assert.equal(reader.discarded, 7);
      assert.equal(reader.raw.consumerPosition, 7n * 48n);
      assert.equal(reader.pendingBytes(), 0);
    }));

  test("a full ring drops records (the program sees the error); the reader gets the rest", () =>
    noLeak(() => {
      using map = ringMap("rb_full");
      const emits: Emit[] = [{ size: 1000, how: "submit" }];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 10 });
      assert.equal(reader.readAvailable().length, 4);
    }));

  test("copy: true gives records that outlive the next read", () =>
    noLeak(() => {
      using map = ringMap("rb_copy");
      const emits: Emit[] = [{ size: 1000, how: "submit" }];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map, { copy: true });
      prog.run({ data: PACKET, repeat: 4 });
      const first = reader.readAvailable();
      assert.equal(reader.raw.consumerPosition, 4032n, "copies are released at once");
      prog.run({ data: PACKET, repeat: 4 }); // overwrites the ring where `first` was
      const want = hex(expectedRecords(emits)[0]!);
      for (const r of first) assert.equal(hex(r), want);
      assert.equal(reader.readAvailable().length, 4);
    }));

  test("the async iterator wakes on new data and ends on close", () =>
    noLeak(async () => {
      using map = ringMap("rb_iter");
      const emits: Emit[] = [
        { size: 5, how: "output" },
        { size: 17, how: "submit" },
      ];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      const want = expectedRecords(emits);
      const got: string[] = [];
      const timers = [50, 100, 150].map((ms) => setTimeout(() => prog.run({ data: PACKET }), ms));
      const loop = (async () => {
        for await (const rec of reader) {
          got.push(hex(rec));
          if (got.length === 6) setTimeout(() => reader.close(), 20);
        }
        return "ended";
      })();
      assert.equal(await within(5000, loop, "iteration"), "ended");
      timers.forEach(clearTimeout);
      assert.deepEqual(got, [...want, ...want, ...want].map(hex));
      assert.ok(reader.closed);
      reader.close(); // twice is fine
    }));

  test("close() ends an iteration step that is waiting", () =>
    noLeak(async () => {
      using map = ringMap("rb_close");
      using reader = RingBufferReader.open(map); // closed even when a wait fails
      const it = reader[Symbol.asyncIterator]();
      const step = it.next();
      await sleep(20);
      reader.close();
      assert.deepEqual(await within(1000, step, "pending step"), { done: true, value: undefined });
    }));

  test("onRecord gets records already waiting and new ones; close stops it", () =>
    noLeak(async () => {
      using map = ringMap("rb_cb");
      const emits: Emit[] = [{ size: 11, how: "output" }];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 2 });
      const got: string[] = [];
      let done!: () => void;
      const five = new Promise<void>((r) => {
        done = r;
      });
      reader.onRecord((rec) => {
        got.push(hex(rec));
        if (got.length === 5) done();
      });
      assert.throws(() => reader.readAvailable(), /already used with onRecord/);
      setTimeout(() => prog.run({ data: PACKET, repeat: 3 }), 30);
      await within(5000, five, "callbacks");
      reader.close();
      prog.run({ data: PACKET });
      await sleep(20);
      assert.equal(got.length, 5);
      assert.deepEqual(got, Array(5).fill(hex(expectedRecords(emits)[0]!)));
    }));

  test("onRawRecord: each record as (data, offset, length) in place, waiting ones and new; discards skipped", () =>
    noLeak(async () => {
      using map = ringMap("rb_rawcb");
      const emits: Emit[] = [
        { size: 13, how: "output" },
        { size: 5, how: "discard" },
        { size: 40, how: "submit" },
      ];
      using prog = ringbufProgram([map.fd], emits);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET });
      const got: string[] = [];
      let inRing = true;
      let done!: () => void;
      const four = new Promise<void>((r) => {
        done = r;
      });
      reader.onRawRecord((data, off, len) => {
        inRing &&= data === reader.raw.data; // the ring itself, nothing allocated
        got.push(hex(data.subarray(off, off + len)));
        if (got.length === 4) done();
      });
      assert.throws(() => reader.readAvailable(), /already used with onRecord/);
      assert.throws(() => reader.onRawRecord(() => {}), /a callback is already set/);
      setTimeout(() => prog.run({ data: PACKET }), 30);
      await within(5000, four, "callbacks");
      reader.close();
      const want = expectedRecords(emits).map(hex);
      assert.deepEqual(got, [...want, ...want]);
      assert.ok(inRing);
      assert.equal(reader.discarded, 2);
    }));

  test("close() from inside a callback: no record after that one, no error, the rest left in the ring", () =>
    noLeak(async () => {
      using map = ringMap("rb_cbclose", 16384);
      using prog = ringbufProgram([map.fd], [{ size: 12, how: "output" }]);
      for (const how of ["raw.consume", "onRecord", "onRecord zeroCopy", "onRawRecord"]) {
        const reader = RingBufferReader.open(map, { zeroCopy: how === "onRecord zeroCopy" });
        prog.run({ data: PACKET, repeat: 10 });
        const lengths: number[] = [];
        const errors: Error[] = [];
        let closed!: () => void;
        const third = new Promise<void>((r) => {
          closed = r;
        });
        const seen = (len: number): false | undefined => {
          lengths.push(len);
          if (lengths.length !== 3) return undefined;
          reader.close(); // the ring's pages go once the read returns
          closed();
          return false; // how raw.consume and onRawRecord stop here; onRecord stops anyway
        };
        if (how === "raw.consume") {
          assert.equal(
            reader.raw.consume((_d, _o, len) => seen(len)),
            3,
          );
        } else if (how === "onRawRecord") {
          reader.onRawRecord(
            (_d, _o, len) => seen(len),
            (e) => errors.push(e),
          );
        } else {
          reader.onRecord(
            (rec) => seen(rec.length),
            (e) => errors.push(e),
          );
        }
        await within(5000, third, how);
        await sleep(20); // no late delivery, no error
        assert.deepEqual(lengths, [12, 12, 12], how);
        assert.deepEqual(errors, [], how);
        // the three delivered count as read: the next reader gets the seven after them
        using next = RingBufferReader.open(map);
        assert.equal(next.readAvailable().length, 7, how);
      }
    }));

  test("raw.consume: a close() from the callback without false lets the batch finish, on intact pages", () =>
    noLeak(() => {
      using map = ringMap("rb_cbclose2", 16384);
      using prog = ringbufProgram([map.fd], [{ size: 12, how: "output" }]);
      const reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 10 });
      const firsts: number[] = [];
      const n = reader.raw.consume((data, off) => {
        firsts.push(data[off]!);
        if (firsts.length === 3) reader.close();
      });
      assert.equal(n, 10);
      const want = expectedRecords([{ size: 12, how: "output" }])[0]![0]!;
      assert.deepEqual(firsts, Array(10).fill(want)); // not the zeros of unmapped pages
      assert.equal(
        reader.raw.consume(() => assert.fail("closed")),
        0,
      );
    }));

  for (const how of ["onRecord", "onRawRecord"] as const) {
    test(`${how}: an exception from the callback goes to onError, and the record counts as read`, () =>
      noLeak(async () => {
        using map = ringMap("rb_cberr");
        using prog = ringbufProgram([map.fd], [{ size: 8, how: "output" }]);
        using reader = RingBufferReader.open(map);
        prog.run({ data: PACKET, repeat: 2 });
        const errors: Error[] = [];
        let calls = 0;
        const boom = () => {
          calls++;
          throw new Error("boom");
        };
        const onError = (e: Error) => errors.push(e);
        if (how === "onRecord") reader.onRecord(boom, onError);
        else reader.onRawRecord(boom, onError);
        const until = Date.now() + scaled(1000);
        while (calls < 2 && Date.now() < until) await sleep(10);
        await sleep(20); // and no third call
        // the throw ends the drain; the second record comes on the next readiness (the
        // ring is still readable: level-triggered)
        assert.equal(calls, 2);
        assert.deepEqual(
          errors.map((e) => e.message),
          ["boom", "boom"],
        );
        assert.equal(reader.pendingBytes(), 0);
      }));
  }

  test("zero-copy views read zeros after close (no crash)", () =>
    noLeak(() => {
      using map = ringMap("rb_stale");
      using prog = ringbufProgram([map.fd], [{ size: 8, how: "output" }]);
      const reader = RingBufferReader.open(map, { zeroCopy: true });
      prog.run({ data: PACKET });
      const [view] = reader.readAvailable();
      assert.ok(view);
      assert.ok(view.some((b) => b !== 0));
      reader.close();
      assert.ok(view.every((b) => b === 0));
      assert.throws(() => reader.read(), /reader is closed/);
    }));

  test("records are copies by default: kept and written to after the reader moved on", () =>
    noLeak(() => {
      using map = ringMap("rb_copies");
      using prog = ringbufProgram([map.fd], [{ size: 8, how: "output" }]);
      using reader = RingBufferReader.open(map);
      prog.run({ data: PACKET, repeat: 2 });
      const got = reader.readAvailable();
      assert.equal(got.length, 2);
      // copies hold no ring space: released by the read itself
      assert.equal(reader.raw.consumerPosition, reader.raw.producerPosition);
      const first = got[0]!;
      const want = hex(first);
      assert.notEqual(first.buffer, reader.raw.data.buffer);
      prog.run({ data: PACKET, repeat: 600 }); // overwrites the ring many times
      reader.readAvailable();
      assert.equal(hex(first), want);
      first.fill(0xff); // a plain array: no crash
      reader.close();
      assert.ok(first.every((b) => b === 0xff));
    }));

  test("the map may be closed before the reader", () =>
    noLeak(() => {
      const map = ringMap("rb_order");
      const prog = ringbufProgram([map.fd], [{ size: 8, how: "output" }]);
      using reader = RingBufferReader.open(map); // closed even when a wait fails
      prog.run({ data: PACKET, repeat: 2 });
      prog.close();
      map.close();
      assert.equal(reader.readAvailable().length, 2);
      reader.close();
    }));

  test("bad input: not a ring buffer, closed map", () =>
    noLeak(() => {
      using hash = BpfMap.create({
        name: "not_rb",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 4,
      });
      assert.throws(() => RingBufferReader.open(hash), /hash map, not a ring buffer/);
      // a wrong size given with a raw fd is refused before mmap
      assert.throws(
        () => RingBufferReader.open({ fd: hash.fd, maxEntries: 1000 }),
        /ring size 1000 is not a power of two/,
      );
      // mmap of a map that is no ring buffer: the kernel says no
      assert.throws(
        () => RingBufferReader.open({ fd: hash.fd, maxEntries: 4096 }),
        (e: Error) => /mmap consumer page/.test(e.message),
      );
    }));
});

describe("RingBufferSet", { skip }, () => {
  test("several rings in one poll: every record, tagged with its ring, order kept per ring", () =>
    noLeak(async () => {
      using a = ringMap("rb_a");
      using b = ringMap("rb_b", 8192);
      using c = ringMap("rb_c");
      const emits: Emit[] = [
        { size: 3, how: "output", ring: 0 },
        { size: 9, how: "output", ring: 1 },
        { size: 4, how: "submit", ring: 2 },
        { size: 10, how: "output", ring: 1 },
        { size: 6, how: "discard", ring: 0 },
      ];
      using prog = ringbufProgram([a.fd, b.fd, c.fd], emits);
      using set = RingBufferSet.open({ a, b, c });
      assert.deepEqual(set.names, ["a", "b", "c"]);
      const got: Record<string, string[]> = { a: [], b: [], c: [] };
      let n = 0;
      const runs = 4;
      const total = runs * 4;
      const loop = (async () => {
        for await (const { ring, data } of set) {
          got[ring]!.push(hex(data));
          if (++n === total) set.close();
        }
      })();
      for (let i = 0; i < runs; i++) setTimeout(() => prog.run({ data: PACKET }), 20 * (i + 1));
      await within(5000, loop, "set iteration");
      for (const [i, name] of ["a", "b", "c"].entries()) {
        const want = expectedRecords(emits, i).map(hex);
        assert.deepEqual(got[name], Array.from({ length: runs }, () => want).flat(), name);
      }
    }));

  test("readAvailable and onRecord over a set; names from the maps of an array", () =>
    noLeak(async () => {
      using a = ringMap("rb_x");
      using b = ringMap("rb_y");
      using prog = ringbufProgram(
        [a.fd, b.fd],
        [
          { size: 8, how: "output", ring: 0 },
          { size: 8, how: "output", ring: 1 },
        ],
      );
      {
        using set = RingBufferSet.open([a, b]);
        assert.deepEqual(set.names, ["rb_x", "rb_y"]);
        prog.run({ data: PACKET, repeat: 2 });
        const got = set.readAvailable().map((r) => r.ring);
        assert.deepEqual(got.sort(), ["rb_x", "rb_x", "rb_y", "rb_y"]);
      }
      using set2 = RingBufferSet.open([a, b]);
      const seen: string[] = [];
      set2.onRecord(({ ring }) => seen.push(ring));
      prog.run({ data: PACKET, repeat: 2 });
      const until = Date.now() + scaled(1000);
      while (seen.length < 4 && Date.now() < until) await sleep(10);
      await sleep(20); // and nothing more comes
      set2.close();
      assert.deepEqual(seen.sort(), ["rb_x", "rb_x", "rb_y", "rb_y"]);
      assert.throws(() => RingBufferSet.open([]), /no ring buffer given/);
      assert.throws(() => RingBufferSet.open([a, a]), /two rings are named "rb_x"/);
    }));
});

describe("event loop", { skip }, () => {
  test("a process with readers that were closed, or are idle, exits by itself", () => {
    const script = fileURLToPath(new URL("./testdata/ringbuf-exit.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", script], {
      encoding: "utf8",
      timeout: scaled(20_000),
    });
    assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^got 3 records\nidle reader did not hold the loop\n$/);
  });
});
