/**
 * Ring buffer throughput: records per second consumed by tsbpf's RingBufferReader vs
 * a C reader using libbpf's ring_buffer__poll (bench/c/ringbuf-throughput.c, compiled
 * here with `cc -O2 -lbpf`), on the same program and the same event source.
 *
 * The event source: an XDP program that emits one 16-byte record per run (a sequence
 * number from an array map) with bpf_ringbuf_output into a 256 KiB ring, and counts
 * a drop in the same map when the ring is full; a child process (the C binary in
 * `produce` mode, the same for both readers) test-runs it TOTAL times, flat out, on
 * the other CPU. Each reader consumes until the producer has exited and the ring is
 * empty; records/s = records consumed / wall time from the producer's start to the
 * reader's last record. Lost events (drops) are counted on both sides and
 * consumed + lost must equal TOTAL.
 *
 * A second measure takes the producer out of the picture: the program fills a 16 MiB
 * ring first (DRAIN_TOTAL records), then one drain of the full ring is timed — libbpf's
 * ring_buffer__consume vs each tsbpf way of reading — which is the readers' own cost
 * per record, without the cache-line traffic of a producer on the other CPU.
 *
 * Goal (issue 3): at least 0.8 of C's records/s. Needs root. Run alone with
 * `node --import tsx bench/ringbuf-throughput.ts`, or `npm run bench -- ringbuf`.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { BpfMap, Program, type RingBatch, RingBufferReader } from "../src/kernel/index.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import type { BenchResult } from "./result.ts";

const TOTAL = 2_000_000;
const DRAIN_RING_SIZE = 16 * 1024 * 1024;
/** 24 bytes per record (8 of header, 16 of data): fits the 16 MiB ring. */
const DRAIN_TOTAL = 600_000;
const RING_SIZE = 256 * 1024;
/** Rounds per reader, interleaved; each side's figure is its best round (shared, noisy machines). */
const ROUNDS = 5;
/**
 * Drain rounds: more, as a drain takes milliseconds (C ~3 ms, tsbpf more) and on a
 * loaded machine the longer one is the likelier to be preempted within a round.
 */
const DRAIN_ROUNDS = 15;

interface Round {
  readonly consumed: number;
  readonly lost: number;
  readonly seconds: number;
}

function compile(dir: string): string {
  const exe = join(dir, "ringbuf-throughput");
  execFileSync(
    "cc",
    ["-O2", "-o", exe, join(import.meta.dirname, "c", "ringbuf-throughput.c"), "-lbpf"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return exe;
}

/** The bench's XDP program: one 16-byte record into `ring` per run, drops counted in `counters`. */
export function makeProgram(ring: BpfMap, counters: BpfMap): Program {
  const text = `
    *(u32 *)(r10 -4) = 0
    r1 = map_fd(${counters.fd})
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto out
    r6 = r0
    r1 = 1
    r1 = atomic64_fetch_add((u64 *)(r6 +0), r1)
    *(u64 *)(r10 -24) = r1
    *(u64 *)(r10 -16) = 0
    r1 = map_fd(${ring.fd})
    r2 = r10
    r2 += -24
    r3 = 16
    r4 = 0
    call bpf_ringbuf_output
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r6 +8) += r1
  out:
    r0 = 2
    exit
  `;
  return Program.load({
    name: "rb_bench",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(assemble(text)),
  });
}

const ZERO_KEY = new Uint8Array(4);

function resetCounters(counters: BpfMap): void {
  counters.update(ZERO_KEY, new Uint8Array(16));
}

function drops(counters: BpfMap): number {
  const v = counters.lookup(ZERO_KEY);
  if (!v) throw new Error("counters map lost its entry");
  return Number(new DataView(v.buffer, v.byteOffset, 16).getBigUint64(8, true));
}

function check(kind: string, r: Round, total = TOTAL): Round {
  if (r.consumed + r.lost !== total) {
    throw new Error(`${kind}: consumed ${r.consumed} + lost ${r.lost} != ${total} emitted`);
  }
  return r;
}

function cRound(
  exe: string,
  ring: BpfMap,
  prog: Program,
  counters: BpfMap,
  mode: "consume" | "drain" = "consume",
): Promise<Round> {
  resetCounters(counters);
  const total = mode === "consume" ? TOTAL : DRAIN_TOTAL;
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [mode, String(total)], {
      stdio: ["ignore", "pipe", "inherit", ring.fd, prog.fd],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`C reader exited with ${code}`));
      const [consumed, ns] = out.trim().split(" ").map(Number) as [number, number];
      resolve(check("C", { consumed, lost: drops(counters), seconds: ns / 1e9 }, total));
    });
  });
}

type Way = "onRecord" | "async iterator";

async function tsRound(
  exe: string,
  ring: BpfMap,
  prog: Program,
  counters: BpfMap,
  way: Way,
): Promise<Round> {
  resetCounters(counters);
  const reader = RingBufferReader.open(ring);
  let consumed = 0;
  let checksum = 0;
  const start = process.hrtime.bigint();
  let end = start;
  const child = spawn(exe, ["produce", String(TOTAL)], {
    stdio: ["ignore", "ignore", "inherit", prog.fd],
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`producer exited with ${code}`)),
    );
  });
  // once the producer is gone, wait for the ring to empty, then close (ends the loop)
  const finish = exited.then(
    () =>
      new Promise<void>((resolve) => {
        const poll = () => {
          if (reader.pendingBytes() === 0) {
            end = process.hrtime.bigint();
            reader.close();
            resolve();
          } else setImmediate(poll);
        };
        poll();
      }),
  );
  if (way === "onRecord") {
    reader.onRecord((rec) => {
      checksum += rec[0]! | (rec[1]! << 8) | (rec[2]! << 16);
      consumed++;
    });
    await finish;
  } else {
    for await (const rec of reader) {
      checksum += rec[0]! | (rec[1]! << 8) | (rec[2]! << 16);
      consumed++;
    }
    await finish;
  }
  void checksum;
  return check(`tsbpf ${way}`, {
    consumed,
    lost: drops(counters),
    seconds: Number(end - start) / 1e9,
  });
}

type DrainWay = Way | "raw consume" | "drainBatches" | "onRawRecord";

/** What {@link sumBatch} adds up (object fields: written in place, no allocation). */
const batchTotals = { sum: 0, count: 0 };

/**
 * The drainBatches way's callback: the work of C's on_sample, one u32 per record,
 * summed. Made once, at the top level: the same loop in a closure created per drain
 * in tsDrain ran at 16-230 ns a record in a profile (0.10x C), made once at ~9 ns.
 * The sum is a local: in V8 every write of a number that is not a small integer to a
 * captured variable allocates.
 */
function sumBatch(b: RingBatch): void {
  // The record's first u32 through `words` (host order, as C reads it): a DataView
  // read cost ~2 ns a record here, this ~1 (a 600k-record drain, micro-benchmarked).
  const words = b.words;
  const pairs = b.pairs;
  let sum = 0;
  for (let i = 0; i < 2 * b.count; i += 2) sum += words[pairs[i]! >> 2]!;
  batchTotals.sum += sum;
  batchTotals.count += b.count;
}

/** What {@link sumRecord} adds up, and the ring it reads as host-order words. */
const recordTotals: { sum: number; words: Uint32Array } = {
  sum: 0,
  words: new Uint32Array(0),
};

/**
 * The raw consume way's callback, made once as {@link sumBatch} is: C's work per record
 * (its first u32, read as {@link sumBatch} reads it). Always the same function, so
 * V8 inlines it into the reader's walk (see walkRecords in src/kernel/readers/ring-walk.ts).
 */
function sumRecord(_data: Uint8Array, offset: number): void {
  recordTotals.sum += recordTotals.words[offset >> 2]!;
}

/**
 * What the onRawRecord way's callback adds up. The callback stays registered on its
 * reader from round to round (a reader in callback mode stays in it), and a round
 * waits for the count to reach what the program wrote.
 */
const rawRound: { sum: number; count: number; words: Uint32Array } = {
  sum: 0,
  count: 0,
  words: new Uint32Array(0),
};

/** The onRawRecord way's callback: C's on_sample (the first u32 summed, a count). */
function countRawRecord(_data: Uint8Array, offset: number): void {
  rawRound.sum += rawRound.words[offset >> 2]!;
  rawRound.count++;
}

/** A ring for the drain rounds, its program, and the reader kept open on it, if any. */
interface DrainRing {
  readonly ring: BpfMap;
  readonly prog: Program;
  readonly reader?: RingBufferReader;
}

/**
 * Fills the ring, then times one drain of it: with the ring's kept reader if it has
 * one, else with a fresh one.
 */
async function tsDrain(target: DrainRing, counters: BpfMap, way: DrainWay): Promise<Round> {
  const { ring, prog } = target;
  resetCounters(counters);
  const reader = target.reader ?? RingBufferReader.open(ring);
  prog.run({ data: new Uint8Array(64), repeat: DRAIN_TOTAL });
  let consumed = 0;
  let checksum = 0;
  const start = process.hrtime.bigint();
  if (way === "raw consume") {
    const d = reader.raw.data;
    recordTotals.words = new Uint32Array(d.buffer, d.byteOffset, d.byteLength >> 2);
    recordTotals.sum = 0;
    consumed = reader.raw.consume(sumRecord);
    checksum = recordTotals.sum;
  } else if (way === "drainBatches") {
    batchTotals.sum = 0;
    batchTotals.count = 0;
    reader.drainBatches(sumBatch);
    checksum = batchTotals.sum;
    consumed = batchTotals.count;
  } else if (way === "onRawRecord") {
    const want = DRAIN_TOTAL - drops(counters);
    rawRound.count = 0;
    rawRound.sum = 0;
    // the whole ring goes in one delivery: looked at after each turn of the loop
    await new Promise<void>((resolve) => {
      const look = () => (rawRound.count >= want ? resolve() : setImmediate(look));
      look();
    });
    consumed = rawRound.count;
    checksum = rawRound.sum;
  } else if (way === "onRecord") {
    const want = DRAIN_TOTAL - drops(counters);
    await new Promise<void>((resolve) => {
      reader.onRecord((rec) => {
        checksum += rec[0]! | (rec[1]! << 8) | (rec[2]! << 16);
        if (++consumed === want) resolve();
      });
    });
  } else {
    const want = DRAIN_TOTAL - drops(counters);
    for await (const rec of reader) {
      checksum += rec[0]! | (rec[1]! << 8) | (rec[2]! << 16);
      if (++consumed === want) break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (reader !== target.reader) reader.close();
  void checksum;
  return check(`tsbpf drain ${way}`, { consumed, lost: drops(counters), seconds }, DRAIN_TOTAL);
}

const rate = (r: Round) => r.consumed / r.seconds;
const bestOf = (rs: readonly Round[]) => rs.reduce((a, b) => (rate(b) > rate(a) ? b : a));

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("ring buffer benchmarks need root");
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-"));
  const ring = BpfMap.create({
    name: "rb_bench",
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: RING_SIZE,
  });
  const counters = BpfMap.create({
    name: "rb_counters",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 1,
  });
  const prog = makeProgram(ring, counters);
  try {
    const exe = compile(dir);
    const ways: Way[] = ["onRecord", "async iterator"];
    const c: Round[] = [];
    const ts = new Map<Way, Round[]>(ways.map((w) => [w, []]));
    await tsRound(exe, ring, prog, counters, "onRecord"); // warm up the JIT
    for (let i = 0; i < ROUNDS; i++) {
      c.push(await cRound(exe, ring, prog, counters));
      for (const w of ways) ts.get(w)!.push(await tsRound(exe, ring, prog, counters, w));
    }
    const base = bestOf(c);
    const rows: BenchResult[] = ways.map((w) => {
      const r = bestOf(ts.get(w)!);
      return {
        name: `ringbuf ${w} records/s vs C libbpf, producer running (lost of ${TOTAL / 1e6}M: tsbpf ${r.lost}, C ${base.lost})`,
        value: rate(r),
        baseline: rate(base),
        ratio: rate(r) / rate(base),
        goal: ">= 0.8",
        unit: "rec/s",
      };
    });

    // The synchronous ways keep one reader open, each on its own ring (a reader's cursor
    // is its own), as a program draining a ring does; the event-loop ways and C open
    // theirs per round. Opening maps 32 MiB that V8 counts as external memory: a reader
    // opened per round brings a garbage collection into the timed drain.
    const drainRings = new Map<DrainWay | "C", DrainRing>();
    const newRing = (label: string) => {
      const r = BpfMap.create({
        name: label,
        type: MapType.RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: DRAIN_RING_SIZE,
      });
      return { ring: r, prog: makeProgram(r, counters) };
    };
    try {
      const shared = newRing("rb_drain");
      drainRings.set("C", shared);
      drainRings.set("onRecord", shared);
      drainRings.set("async iterator", shared);
      for (const [way, label] of [
        ["drainBatches", "rb_drain_batch"],
        ["raw consume", "rb_drain_raw"],
        ["onRawRecord", "rb_drain_rawcb"],
      ] as const) {
        const r = newRing(label);
        drainRings.set(way, { ...r, reader: RingBufferReader.open(r.ring) });
      }
      const rawCb = drainRings.get("onRawRecord")!.reader!;
      const d = rawCb.raw.data;
      rawRound.words = new Uint32Array(d.buffer, d.byteOffset, d.byteLength >> 2);
      rawCb.onRawRecord(countRawRecord);
      const drainWays: DrainWay[] = [
        "drainBatches",
        "onRawRecord",
        "onRecord",
        "async iterator",
        "raw consume",
      ];
      // Issue 13: the batch API >= 0.8x C; the per-record callback on the event loop
      // without an allocation per record >= 0.5x: onRawRecord, libbpf's sample callback
      // (data, offset, length). onRecord hands out a copy per record (a view with
      // zeroCopy), an allocation each, and the iterator a promise per record: shown.
      // The batch goal is given to both batch forms: drainBatches (records handed over
      // in arrays of 256, walked twice) and raw consume (a callback per record, inlined
      // into the walk; the position published once per 256 records).
      const drainGoal: Record<DrainWay, string> = {
        drainBatches: ">= 0.8",
        onRawRecord: ">= 0.5",
        onRecord: "(breakdown)",
        "async iterator": "(breakdown)",
        "raw consume": ">= 0.8",
      };
      const cd: Round[] = [];
      const td = new Map<DrainWay, Round[]>(drainWays.map((w) => [w, []]));
      for (const w of drainWays) await tsDrain(drainRings.get(w)!, counters, w); // warm up
      for (let i = 0; i < DRAIN_ROUNDS; i++) {
        cd.push(await cRound(exe, shared.ring, shared.prog, counters, "drain"));
        for (const w of drainWays) td.get(w)!.push(await tsDrain(drainRings.get(w)!, counters, w));
      }
      const dbase = bestOf(cd);
      for (const w of drainWays) {
        const r = bestOf(td.get(w)!);
        rows.push({
          name: `ringbuf ${w} drain of a full ring vs C ring_buffer__consume (${DRAIN_TOTAL / 1000}k records)`,
          value: rate(r),
          baseline: rate(dbase),
          ratio: rate(r) / rate(dbase),
          goal: drainGoal[w],
          unit: "rec/s",
        });
      }
    } finally {
      for (const r of new Set(drainRings.values())) {
        r.reader?.close();
        r.prog.close();
        r.ring.close();
      }
    }
    return rows;
  } finally {
    prog.close();
    counters.close();
    ring.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
