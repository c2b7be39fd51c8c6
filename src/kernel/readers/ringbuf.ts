/**
 * Readers of BPF ring buffer maps (BPF_MAP_TYPE_RINGBUF, Linux >= 5.8), the way
 * cilium/ebpf's `ringbuf.Reader` and libbpf's `ring_buffer__poll` read them:
 * records copied out of the mmap'd ring (zero-copy views with `zeroCopy: true`), with
 * the event loop waiting on the map's descriptor for more.
 *
 * - {@link RingBufferReader}: one ring; `for await (const bytes of reader)`,
 *   `reader.onRecord(cb)`, `reader.readAvailable()`.
 * - {@link RingBufferSet}: several rings read as one stream, each record tagged with
 *   its ring.
 * - {@link RawRingReader} (ringbuf-raw.ts) underneath, for zero-allocation loops.
 *
 * @module
 */
import { describeMapType } from "../../spec/map-spec.ts";
import { MapType } from "../../uapi/index.ts";
import { dupFd } from "../sys/fd-watch.ts";
import type { Fd } from "../sys/index.ts";
import { RecordReader, type RecordReaderOptions, type RecordSource } from "./poll.ts";
import type { RecordFn } from "./ring-walk.ts";
import { RawRingReader } from "./ringbuf-raw.ts";

/** A ring buffer map to read: a `BpfMap`, or its descriptor and size. */
export interface RingBufferMapLike {
  /** The map's descriptor (the reader takes its own duplicate). */
  readonly fd: number;
  /** The ring's size in bytes (the map's max_entries). */
  readonly maxEntries: number;
  /** `enum bpf_map_type`; checked when present. */
  readonly type?: number;
  /** For error messages and {@link RingSetRecord.ring}. */
  readonly name?: string;
}

/** One ring, as a {@link RecordSource}: zero-copy views of the double-mapped data. */
class RingSource implements RecordSource<Uint8Array> {
  readonly fds: readonly number[];
  readonly raw: RawRingReader;
  readonly #fd: Fd;

  constructor(map: RingBufferMapLike, label: string) {
    if (map.type !== undefined && map.type !== MapType.RINGBUF) {
      throw new TypeError(
        `${label} is a ${describeMapType(map.type)} map, not a ring buffer (BPF_MAP_TYPE_RINGBUF)`,
      );
    }
    this.#fd = dupFd(map.fd, label);
    try {
      this.raw = RawRingReader.open(this.#fd.value, map.maxEntries, `${label} (fd ${map.fd})`);
    } catch (e) {
      this.#fd.close();
      throw e;
    }
    this.fds = [this.#fd.value];
    this.#buffer = this.raw.data.buffer;
    this.#base = this.raw.data.byteOffset;
  }

  /** The mapping under the ring's data, and where the data starts in it. */
  readonly #buffer: ArrayBufferLike;
  readonly #base: number;

  next(): Uint8Array | undefined {
    const raw = this.raw;
    const len = raw.next();
    if (len < 0) return undefined;
    return this.view(raw.offset, len);
  }

  nextCopy(): Uint8Array | undefined {
    const raw = this.raw;
    const len = raw.next();
    if (len < 0) return undefined;
    return raw.data.slice(raw.offset, raw.offset + len);
  }

  /**
   * A view of `len` bytes at `off` in the ring's data: made with the constructor, which
   * took about half the time of `data.subarray` (a 600k-record loop, Node 20:
   * subarray looks up the species constructor on every call).
   */
  view(off: number, len: number): Uint8Array {
    return new Uint8Array(this.#buffer, this.#base + off, len);
  }

  release(all = true): void {
    if (all) this.raw.commit();
    else this.raw.commitSome();
  }

  // The callbacks below return false once `cb` closed the reader: no record after it.
  drain(cb: (rec: Uint8Array) => void, max = Infinity): number {
    const raw = this.raw;
    return raw.consume((_data, off, len) => {
      cb(this.view(off, len));
      return !raw.closed;
    }, max);
  }

  copy(rec: Uint8Array): Uint8Array {
    return rec.slice();
  }

  drainCopies(cb: (rec: Uint8Array) => void, max = Infinity): number {
    const raw = this.raw;
    return raw.consume((data, off, len) => {
      cb(data.slice(off, off + len));
      return !raw.closed;
    }, max);
  }

  close(): void {
    try {
      this.raw.close();
    } finally {
      this.#fd.close();
    }
  }
}

function labelOf(map: RingBufferMapLike): string {
  return map.name ? `ring buffer "${map.name}"` : `ring buffer (fd ${map.fd})`;
}

/**
 * Reads one ring buffer map. Records are the bytes a BPF program passed to
 * `bpf_ringbuf_output` or `bpf_ringbuf_submit` (discarded records never show up), in
 * the order the producers reserved them.
 *
 * Records are copies, safe to keep and to write to. `{ zeroCopy: true }` gives views
 * of the ring instead (valid until the next read, see {@link RecordReader}): the ring's
 * data pages are mapped read-only by the kernel, so a write to such a view kills the
 * process with SIGSEGV. The same holds for {@link RingBufferReader.raw}'s `data`.
 *
 * @example
 * ```ts
 * using reader = RingBufferReader.open(coll.maps.events);
 * for await (const bytes of reader) {
 *   console.log(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true));
 * }
 * ```
 */
export class RingBufferReader extends RecordReader<Uint8Array> {
  /**
   * The ring underneath, for zero-allocation reads (`raw.consume`): an explicit
   * zero-copy opt-in. Its `data` is the kernel's read-only mapping: never write to it.
   */
  readonly raw: RawRingReader;
  /** The ring's data size in bytes. */
  readonly size: number;

  private constructor(source: RingSource, label: string, opts: RecordReaderOptions) {
    super(source, label, opts);
    this.raw = source.raw;
    this.size = source.raw.size;
  }

  /**
   * Maps `map` for reading. The reader duplicates the map's descriptor, so closing the
   * map first is harmless; `close()` the reader to unmap the ring.
   *
   * @throws TypeError when `map` is not a ring buffer; SyscallError when mmap fails.
   */
  static open(map: RingBufferMapLike, opts: RecordReaderOptions = {}): RingBufferReader {
    const label = labelOf(map);
    return new RingBufferReader(new RingSource(map, label), label, opts);
  }

  /** Bytes written by producers and not yet read (records, headers and padding). */
  pendingBytes(): number {
    return this.closed ? 0 : this.raw.pendingBytes();
  }

  /**
   * Every record available now, in batches of up to `batch` (256): `cb(batch)` sees
   * zero-copy records, valid during the call only: record i is `batch.pairs[2 * i + 1]`
   * bytes of `batch.data` from `batch.pairs[2 * i]` (which allocates nothing), or
   * `batch.record(i)` as a view. The ring's space is handed back once per batch, after
   * `cb` returns (or throws). Discarded records are skipped and counted
   * ({@link discarded}). Never waits (`onRecord` or the iterator wait for records); at
   * most `max` records; returns how many were delivered. Not while `onRecord` reads
   * this reader.
   *
   * @example
   * ```ts
   * reader.drainBatches((b) => {
   *   for (let i = 0; i < 2 * b.count; i += 2) total += b.view.getUint32(b.pairs[i]!, true);
   * });
   * ```
   */
  drainBatches(cb: (batch: RingBatch) => void, max = Infinity, batch = 256): number {
    this.syncSource("drainBatches()");
    this.#batch ??= new RingBatch(this.raw.data);
    const b = this.#batch;
    return this.raw.consumeBatches(
      (_data, pairs, count) => {
        b.pairs = pairs;
        b.count = count;
        cb(b);
      },
      max,
      batch,
    );
  }

  /**
   * {@link onRecord} without an allocation per record, as libbpf's `ring_buffer__poll`
   * calls its sample callback: `fn(data, offset, length)` for each record as the event
   * loop sees the ring ready, the record being `length` bytes of `data` from `offset`,
   * zero-copy and valid during the call only. `data` is the ring's read-only mapping
   * (never write to it); read fields with a DataView over it made once, or copy with
   * `data.slice(offset, offset + length)`. Reads through {@link RawRingReader.consume}:
   * a small callback that is always the same function gets inlined into the walk.
   * Errors as for {@link onRecord}; one way of reading per reader. To stop at a record
   * (closing the reader from `fn`, say), return `false` from `fn`, as libbpf's callback
   * returns an error: a `close()` alone takes effect after the current batch of up to
   * 256 records, which still come (no check per record is made for it).
   *
   * @example
   * ```ts
   * const dv = new DataView(reader.raw.data.buffer, reader.raw.data.byteOffset);
   * reader.onRawRecord((_data, off) => count(dv.getUint32(off, true)));
   * ```
   */
  onRawRecord(fn: RecordFn, onError?: (err: Error) => void): this {
    const raw = this.raw;
    return this.onDrain(
      "onRawRecord()",
      () => {
        raw.consume(fn);
      },
      onError,
    );
  }

  /**
   * Records the producers discarded (`bpf_ringbuf_discard`), skipped by every read of
   * this reader. Records lost to a full ring never reach it: `bpf_ringbuf_output` and
   * `bpf_ringbuf_reserve` fail in the BPF program, which must count them itself.
   */
  get discarded(): number {
    return this.raw.discarded;
  }

  #batch: RingBatch | undefined;
}

/**
 * A batch of ring buffer records ({@link RingBufferReader.drainBatches}), zero-copy and
 * valid during the callback only: the ring's data pages are read-only, never write to
 * them. Record i is `pairs[2 * i + 1]` bytes of {@link data} from `pairs[2 * i]`.
 */
export class RingBatch {
  /** The ring's data area (mapped twice in a row: every record is contiguous). */
  readonly data: Uint8Array;
  /** A DataView over {@link data}, for reading fields at `pairs[2 * i] + field`. */
  readonly view: DataView;
  /**
   * {@link data} as 32-bit words in the host's byte order (the order the kernel wrote
   * them in): a record starts 8-byte aligned, so a 4-byte-aligned field at byte `f` of
   * record i is `words[(pairs[2 * i] + f) >> 2]`. In a micro-benchmark of a 600k-record
   * drain (Node 20) a read through it cost ~1 ns a record, one through {@link view} ~2.
   */
  readonly words: Uint32Array;
  /** Records in the batch. */
  count = 0;
  /**
   * (offset in {@link data}, length in bytes) of each record, `2 * count` entries
   * (the ones past them are stale).
   */
  pairs: Uint32Array = new Uint32Array(0);

  constructor(data: Uint8Array) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
  }

  /** Record `i` as a view (allocates one; `data` and `pairs` do not). */
  record(i: number): Uint8Array {
    if (!(i >= 0 && i < this.count))
      throw new RangeError(`ring batch: record ${i} of ${this.count}`);
    const d = this.data;
    return new Uint8Array(d.buffer, d.byteOffset + this.pairs[2 * i]!, this.pairs[2 * i + 1]!);
  }
}

/** A record from a {@link RingBufferSet}: its ring's name and its bytes. */
export interface RingSetRecord {
  /** The name the ring was given to {@link RingBufferSet.open}. */
  readonly ring: string;
  /** The record's bytes (a zero-copy view unless the set copies). */
  readonly data: Uint8Array;
}

/** Several rings as one source: round-robin between rings that have records. */
class RingSetSource implements RecordSource<RingSetRecord> {
  readonly fds: readonly number[];
  readonly rings: { name: string; source: RingSource }[];
  #turn = 0;

  constructor(maps: [string, RingBufferMapLike][]) {
    this.rings = [];
    try {
      for (const [name, map] of maps) {
        this.rings.push({ name, source: new RingSource(map, `ring buffer "${name}"`) });
      }
    } catch (e) {
      for (const r of this.rings) r.source.close();
      throw e;
    }
    this.fds = this.rings.flatMap((r) => r.source.fds);
  }

  next(): RingSetRecord | undefined {
    const rings = this.rings;
    const n = rings.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#turn + k) % n;
      const ring = rings[i]!;
      const data = ring.source.next();
      if (data !== undefined) {
        this.#turn = (i + 1) % n;
        return { ring: ring.name, data };
      }
    }
    return undefined;
  }

  release(all = true): void {
    for (const r of this.rings) r.source.release(all);
  }

  drain(cb: (rec: RingSetRecord) => void, max = Infinity): number {
    let total = 0;
    for (const { name, source } of this.rings) {
      if (total >= max) break;
      total += source.drain((data) => cb({ ring: name, data }), max - total);
    }
    return total;
  }

  copy(rec: RingSetRecord): RingSetRecord {
    return { ring: rec.ring, data: rec.data.slice() };
  }

  drainCopies(cb: (rec: RingSetRecord) => void, max = Infinity): number {
    let total = 0;
    for (const { name, source } of this.rings) {
      if (total >= max) break;
      total += source.drainCopies((data) => cb({ ring: name, data }), max - total);
    }
    return total;
  }

  close(): void {
    let first: unknown;
    for (const r of this.rings) {
      try {
        r.source.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }
}

/**
 * Several ring buffers read together — libbpf's `ring_buffer__add` — on the one event
 * loop: every ring's descriptor is watched, and records come out tagged with their
 * ring's name. Within a ring, order is kept; between rings, the set takes turns.
 *
 * @example
 * ```ts
 * using set = RingBufferSet.open({ opens: coll.maps.opens, execs: coll.maps.execs });
 * set.onRecord(({ ring, data }) => console.log(ring, data.length));
 * ```
 */
export class RingBufferSet extends RecordReader<RingSetRecord> {
  /** The rings' names, in the order given. */
  readonly names: readonly string[];

  private constructor(source: RingSetSource, opts: RecordReaderOptions) {
    super(source, `ring buffer set (${source.rings.map((r) => r.name).join(", ")})`, opts);
    this.names = source.rings.map((r) => r.name);
  }

  /**
   * Maps every ring. An array names rings by their map names (or their index when a map
   * has none); an object names them by its keys.
   *
   * @throws TypeError for a map that is not a ring buffer, or no ring at all.
   */
  static open(
    maps: readonly RingBufferMapLike[] | Readonly<Record<string, RingBufferMapLike>>,
    opts: RecordReaderOptions = {},
  ): RingBufferSet {
    const entries: [string, RingBufferMapLike][] = Array.isArray(maps)
      ? (maps as readonly RingBufferMapLike[]).map((m, i) => [m.name || String(i), m])
      : Object.entries(maps as Record<string, RingBufferMapLike>);
    if (entries.length === 0) throw new TypeError("RingBufferSet.open: no ring buffer given");
    const seen = new Set<string>();
    for (const [name] of entries) {
      if (seen.has(name)) throw new TypeError(`RingBufferSet.open: two rings are named "${name}"`);
      seen.add(name);
    }
    return new RingBufferSet(new RingSetSource(entries), opts);
  }
}
