/**
 * Micro-benchmark behind the ring buffer batch drain: ns per record to walk a full
 * 16 MiB ring of 600k 16-byte records (filled by the bench's XDP program), through the
 * public APIs and through bare walks of the mapping (header read with Atomics.load or
 * a plain Int32Array read). Best of 7 rounds. Needs root.
 * `node --import tsx bench/micro/ringbuf-drain.ts [WAY...]` (the named ways only: the
 * ways share one reader, and its walk inlines a consume callback only while it has
 * seen no other: `rawConsumeWords` alone shows the inlined callback).
 */
import { BpfMap, RingBufferReader } from "../../src/kernel/index.ts";
import { pageSize, SharedMapping } from "../../src/kernel/sys/mapping.ts";
import { MapType } from "../../src/uapi/index.ts";
import { makeProgram } from "../ringbuf-throughput.ts";

const SIZE = 16 * 1024 * 1024;
const TOTAL = 600_000;
const ROUNDS = 7;

const ring = BpfMap.create({
  name: "rb_micro",
  type: MapType.RINGBUF,
  keySize: 0,
  valueSize: 0,
  maxEntries: SIZE,
});
const counters = BpfMap.create({
  name: "rb_micro_c",
  type: MapType.ARRAY,
  keySize: 4,
  valueSize: 16,
  maxEntries: 1,
});
const prog = makeProgram(ring, counters);
const reader = RingBufferReader.open(ring);
let sink = 0;
const acc = new Float64Array(1);

const page = pageSize();
const cons = SharedMapping.map(ring.fd, page, 0, "read-write", "consumer page");
const prodMap = SharedMapping.map(ring.fd, page + 2 * SIZE, page, "read", "data pages");
const cons32 = new Uint32Array(cons.buffer, 0, 2);
const prod32 = new Int32Array(prodMap.buffer);
const bytes = new Uint8Array(prodMap.buffer, page);
const hdrBase = page >> 2;
const pairs = new Uint32Array(512);

/** A bare walk: one producer load, headers read by `hdr`, pairs filled, one consumer store per batch. */
function bareWalk(atomic: boolean): number {
  let n = 0;
  let cons = Atomics.load(cons32, 0);
  const prod = Atomics.load(prod32, 0);
  const mask = SIZE - 1;
  while (cons < prod) {
    let count = 0;
    let pos = cons;
    while (pos < prod && count < 256) {
      const idx = hdrBase + ((pos & mask) >> 2);
      const word = atomic ? Atomics.load(prod32, idx) : prod32[idx]!;
      if (word < 0) break;
      const len = word & 0x3fffffff;
      if ((word & 0x40000000) === 0) {
        pairs[2 * count] = (pos & mask) + 8;
        pairs[2 * count + 1] = len;
        count++;
      }
      pos += (len + 15) & ~7;
    }
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const off = pairs[2 * i]!;
      sum += bytes[off]! | (bytes[off + 1]! << 8) | (bytes[off + 2]! << 16);
    }
    sink += sum;
    n += count;
    cons = pos;
    Atomics.store(cons32, 0, cons);
  }
  return n;
}

/** C's callback: the record's first u32, summed into an object's field. */
const totals = { sum: 0 };
const words = new Uint32Array(reader.raw.data.buffer, reader.raw.data.byteOffset);
function sumWord(_data: Uint8Array, offset: number): void {
  totals.sum += words[offset >> 2]!;
}

const ways: Record<string, () => number> = {
  drainBatchesCapturedSum: () => {
    let n = 0;
    reader.drainBatches((b) => {
      const d = b.data;
      for (let i = 0; i < 2 * b.count; i += 2) {
        const off = b.pairs[i]!;
        sink += d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16);
      }
      n += b.count;
    });
    return n;
  },
  drainBatches: () => {
    let n = 0;
    reader.drainBatches((b) => {
      const d = b.data;
      const pairs = b.pairs;
      let sum = 0;
      for (let i = 0; i < 2 * b.count; i += 2) {
        const off = pairs[i]!;
        sum += d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16);
      }
      sink += sum;
      n += b.count;
    });
    return n;
  },
  // a Float64Array slot: a captured `let` would allocate a number per record
  rawConsume: () =>
    reader.raw.consume((d, off) => {
      acc[0]! += d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16);
    }),
  rawConsumeWords: () => {
    totals.sum = 0;
    return reader.raw.consume(sumWord);
  },
  bareAtomics: () => bareWalk(true),
  barePlain: () => bareWalk(false),
};

const only = process.argv.slice(2);
for (const [name, fn] of Object.entries(ways)) {
  if (only.length > 0 && !only.includes(name)) continue;
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    prog.run({ data: new Uint8Array(64), repeat: TOTAL });
    const t0 = process.hrtime.bigint();
    const n = fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (n !== TOTAL) throw new Error(`${name}: ${n} records, want ${TOTAL}`);
    best = Math.min(best, ns / n);
  }
  console.log(
    `${name.padEnd(16)} ${best.toFixed(2)} ns/record  (${(1e3 / best).toFixed(0)} M rec/s)`,
  );
}
void sink;
reader.close();
prog.close();
ring.close();
counters.close();
