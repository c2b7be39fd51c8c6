/**
 * `RawRingReader`: the mmap'd memory of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF)
 * and the consumer protocol, with nothing on top — no event loop, no allocation per
 * record. {@link RingBufferReader} (ringbuf.ts) builds the safe API on it; use this
 * one for the last nanoseconds or for what the wrapper does not do.
 *
 * Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (mapped
 * read-write), page 1 the producer position, and the data pages follow, mapped twice
 * in a row so a record that wraps around the ring's end is contiguous in memory. Every
 * record starts on an 8-byte boundary with an 8-byte header: a u32 length whose bit 31
 * says "busy" (reserved, not yet committed: stop here) and bit 30 "discarded" (skip),
 * then a u32 page offset for the kernel.
 *
 * Ordering: the producer position and each header are read with `Atomics.load`
 * (sequentially consistent, at least the kernel's load-acquire), record bytes after
 * the header that says they are committed, and the consumer position is published with
 * `Atomics.store` only after the caller is done with the records it covers.
 *
 * Positions are byte counts that only grow (64-bit in the kernel); they are kept as
 * doubles, exact up to 2^53 bytes (8 PiB) of traffic, and given out as bigint.
 *
 * @module
 */
import { RingbufHeader } from "../../uapi/index.ts";
import { pageSize, SharedMapping } from "../sys/mapping.ts";
import {
  ownWalker,
  pairWalker,
  type RecordFn,
  WALK_BAD_LEN,
  WALK_OFF,
  WALK_SKIPPED,
  WALK_USED,
} from "./ring-walk.ts";

const HDR_SZ = RingbufHeader.HDR_SZ;
const BUSY = RingbufHeader.BUSY_BIT | 0; // the sign bit of an Int32
const DISCARD = RingbufHeader.DISCARD_BIT;
const LEN_MASK = ~(RingbufHeader.BUSY_BIT | RingbufHeader.DISCARD_BIT) >>> 0;
/** Whether headers need `Atomics.load` to be read with acquire semantics (see fill()). */
const ATOMIC_HEADERS = process.arch !== "x64" && process.arch !== "ia32";
const TWO32 = 2 ** 32;

/** Records {@link RawRingReader.consume} delivers between two publications of its position. */
const CONSUME_BATCH = 256;

/** The length of {@link RawRingReader.next}'s answer when no committed record is there. */
export const RING_EMPTY = -1;

/**
 * Reads a ring buffer map's records in place. Not thread-safe (one consumer per ring,
 * as the kernel expects), not tied to the event loop.
 *
 * A *cursor* runs ahead of the published consumer position: {@link next} moves the
 * cursor past one record, {@link commit} publishes it, which hands the space of every
 * record before it back to the producer. Bytes of a record stay valid until the commit
 * that covers it.
 *
 * @example
 * ```ts
 * using raw = RawRingReader.open(map.fd, map.maxEntries);
 * raw.consume((data, offset, length) => handle(data.subarray(offset, offset + length)));
 * ```
 */
export class RawRingReader implements Disposable {
  /** Bytes of the data area (the map's max_entries: a power of two, whole pages). */
  readonly size: number;
  /**
   * The data area mapped twice: `2 * size` bytes, so the record at any offset below
   * `size` is contiguous. Zero-copy; read only between {@link next} and the
   * {@link commit} that releases the record.
   */
  readonly data: Uint8Array;
  /** Offset in {@link data} of the record {@link next} last returned. */
  offset = 0;

  readonly #consumer: SharedMapping;
  readonly #producer: SharedMapping;
  /** Consumer page as u32 words (for cheap 32-bit position stores). */
  readonly #cons32: Uint32Array;
  /** Consumer page as u64 words (for the rare store where the high word changes). */
  readonly #cons64: BigUint64Array;
  /** Producer mapping as i32 words: position at [0..1], headers from the data page on. */
  readonly #prod32: Int32Array;
  readonly #hdrBase: number;
  readonly #mask: number;
  /** Position of the cursor (bytes ever consumed by this reader, plus the start). */
  #cursor: number;
  /** Cursor's offset in the data area (cursor mod size). */
  #off: number;
  /** Last published consumer position, and its high word. */
  #published: number;
  #publishedHi: number;
  #closed = false;
  /** A record was returned since the last commit (its bytes must stay put). */
  #holding = false;
  /** The producer position last read (it only grows: reread when the cursor gets there). */
  #prod = 0;
  /** Uncommitted bytes after which {@link commitSome} publishes. */
  readonly #lazyBytes: number;
  /** {@link batchPairs}' array, grown to the largest batch asked for. */
  #pairs = new Uint32Array(0);
  /** Discarded records skipped. */
  #discarded = 0;

  private constructor(consumer: SharedMapping, producer: SharedMapping, size: number) {
    const page = pageSize();
    this.size = size;
    this.#consumer = consumer;
    this.#producer = producer;
    this.#cons32 = new Uint32Array(consumer.buffer, 0, 2);
    this.#cons64 = new BigUint64Array(consumer.buffer, 0, 1);
    this.#prod32 = new Int32Array(producer.buffer);
    this.data = new Uint8Array(producer.buffer, page, 2 * size);
    this.#hdrBase = page >> 2;
    this.#mask = size - 1;
    this.#lazyBytes = size >> 4;
    this.#fillWalk = pairWalker(this.#prod32, this.#hdrBase, this.#mask, ATOMIC_HEADERS);
    const lo = Atomics.load(this.#cons32, 0);
    const hi = Atomics.load(this.#cons32, 1);
    this.#cursor = hi * TWO32 + lo;
    this.#off = lo & this.#mask;
    this.#published = this.#cursor;
    this.#publishedHi = hi;
  }

  /**
   * Maps the ring buffer map behind `fd` (whose max_entries is `size`). The reader does
   * not own `fd`; the mappings hold their own reference to the map.
   *
   * @param what names the map in errors.
   * @throws RangeError for a size that is not a power of two of whole pages;
   * SyscallError when mmap fails (e.g. ENODEV: `fd` is not a ring buffer map).
   */
  static open(fd: number, size: number, what = `ring buffer map (fd ${fd})`): RawRingReader {
    const page = pageSize();
    if (!Number.isInteger(size) || size < page || (size & (size - 1)) !== 0 || size > 2 ** 30) {
      throw new RangeError(
        `${what}: ring size ${size} is not a power of two between the page size ${page} and 2^30`,
      );
    }
    const consumer = SharedMapping.map(fd, page, 0, "read-write", `consumer page of ${what}`);
    let producer: SharedMapping;
    try {
      producer = SharedMapping.map(fd, page + 2 * size, page, "read", `data pages of ${what}`);
    } catch (e) {
      consumer.close();
      throw e;
    }
    return new RawRingReader(consumer, producer, size);
  }

  /** The producer position: bytes ever reserved in the ring. */
  get producerPosition(): bigint {
    return BigInt(this.#loadProducer());
  }

  /** The published consumer position: bytes ever handed back to the producer. */
  get consumerPosition(): bigint {
    return BigInt(this.#published);
  }

  /** Bytes between the cursor and the producer position (records, headers, padding). */
  pendingBytes(): number {
    return this.#loadProducer() - this.#cursor;
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  #loadProducer(): number {
    const p = this.#prod32;
    for (;;) {
      const hi = Atomics.load(p, 1);
      const lo = Atomics.load(p, 0) >>> 0;
      if (Atomics.load(p, 1) === hi) return hi * TWO32 + lo;
    }
  }

  /**
   * Moves the cursor past the next committed record, skipping discarded ones, and
   * returns its length (its bytes are `data[offset .. offset + length)`), or
   * {@link RING_EMPTY} when the cursor has reached the producer or a record still being
   * written (busy). Does not publish the consumer position past a record it returns:
   * call {@link commit} (discarded records are handed back at once while no returned
   * record is held).
   *
   * @throws Error if a header is impossible (a length beyond the ring): the ring is
   * corrupt or is not a BPF ring buffer.
   */
  next(): number {
    if (this.#closed) return RING_EMPTY; // the pages read zeros now: no records in them
    const prod32 = this.#prod32;
    const mask = this.#mask;
    if (this.#cursor >= this.#prod) this.#prod = this.#loadProducer();
    while (this.#cursor < this.#prod) {
      const word = Atomics.load(prod32, this.#hdrBase + (this.#off >> 2));
      if ((word & BUSY) !== 0) return RING_EMPTY;
      const len = (word & LEN_MASK) >>> 0;
      const total = (len + HDR_SZ + 7) & ~7;
      if (total > this.#prod - this.#cursor) this.#corrupt(len);
      const start = this.#off + HDR_SZ;
      this.#cursor += total;
      this.#off = (this.#off + total) & mask;
      if ((word & DISCARD) === 0) {
        this.offset = start;
        this.#holding = true;
        return len;
      }
      // nothing held: hand the discarded space back at once
      if (!this.#holding) this.commit();
      if (this.#cursor >= this.#prod) this.#prod = this.#loadProducer();
    }
    return RING_EMPTY;
  }

  /** Publishes the cursor: the records before it may now be overwritten by the producer. */
  commit(): void {
    this.#holding = false;
    if (!this.#closed) this.#publish();
  }

  #publish(): void {
    const pos = this.#cursor;
    if (pos === this.#published) return;
    const hi = Math.floor(pos / TWO32);
    if (hi === this.#publishedHi) {
      Atomics.store(this.#cons32, 0, pos >>> 0);
    } else {
      Atomics.store(this.#cons64, 0, BigInt(pos));
      this.#publishedHi = hi;
    }
    this.#published = pos;
  }

  /**
   * Publishes the cursor if it is a sixteenth of the ring or more ahead of the
   * published position: fewer stores to the cache line the producer reads on every
   * reservation, at the price of holding up to that much space a little longer.
   */
  commitSome(): void {
    if (this.#cursor - this.#published >= this.#lazyBytes) this.commit();
  }

  /**
   * Calls `fn(data, offset, length)` for each committed record, in order, up to the
   * producer position or the first busy record, at most `max` records; `data` and the
   * record are valid only during the call. The consumer position is published every
   * 256 records and when the call returns (also when `fn` throws: the record that threw
   * counts as read, the ones after it stay for the next read). Returns how many records
   * were delivered. Not reentrant: `fn` must not read this reader.
   *
   * `fn` returning `false` ends the read after its record. A {@link close} from `fn` is
   * safe (the mappings go when `consume` returns) but ends the read only after the
   * current batch of up to 256 records, unless `fn` also returns `false`.
   *
   * The fastest way to read a ring: each reader walks the headers with its own copy of
   * the loop, so a reader that is always given the same callback code gets it inlined
   * into the walk by V8 (about C's speed for a small callback). Keep `fn` small and
   * monomorphic; a callback made by the same expression each time counts as the same.
   */
  consume(fn: RecordFn, max = Infinity): number {
    if (this.#closed) return 0;
    const walk = this.#walk;
    const out = this.#walkOut;
    let n = 0;
    this.#consuming = true;
    try {
      while (n < max && !this.#closed) {
        const avail = this.#available();
        if (avail === 0) break;
        const limit = Math.min(CONSUME_BATCH, max - n);
        let count = 0;
        out[WALK_BAD_LEN] = -1;
        try {
          count = walk(
            this.#prod32,
            this.#hdrBase,
            this.#mask,
            ATOMIC_HEADERS,
            this.#off,
            avail,
            limit,
            this.data,
            fn,
            out,
          );
        } finally {
          // also when `fn` threw: the walk stopped just past the record that threw
          this.#cursor += out[WALK_USED]!;
          this.#off = out[WALK_OFF]!;
          this.#discarded += out[WALK_SKIPPED]!;
        }
        if (out[WALK_BAD_LEN]! >= 0) this.#corrupt(out[WALK_BAD_LEN]!);
        if (out[WALK_USED] === 0) break; // a busy record first
        n += count;
        this.commit();
      }
    } finally {
      this.#consuming = false;
      if (this.#closed) {
        // closed by `fn`: what was read counts as read, then the pages go
        this.#publish();
        this.#unmap();
      } else this.commit();
    }
    return n;
  }

  /** {@link consume}'s walk: this reader's own copy of ring-walk.ts's `walkRecords`. */
  readonly #walk = ownWalker();
  /** What the walks leave behind (indexes WALK_* of ring-walk.ts). */
  readonly #walkOut = new Int32Array(4);
  /** {@link consume} is running: a {@link close} from its callback unmaps at its end. */
  #consuming = false;
  /** {@link fill}'s walk. */
  readonly #fillWalk: ReturnType<typeof pairWalker>;

  /**
   * Hands out the committed records in batches: `fn(data, pairs, count)` with up to
   * `batch` records at a time, record i being `pairs[2 * i + 1]` bytes of `data` from
   * `pairs[2 * i]`. The records and `pairs` (reused from batch to batch) are valid only
   * during the call; nothing is allocated per record or per batch. Discarded records
   * are skipped and counted in {@link discarded}. The consumer position is published
   * once per batch, when `fn` returns (also when it throws: the whole batch counts as
   * read). At most `max` records; returns how many were delivered.
   *
   * @example
   * ```ts
   * raw.consumeBatches((data, pairs, count) => {
   *   for (let i = 0; i < 2 * count; i += 2) handle(data, pairs[i]!, pairs[i + 1]!);
   * });
   * ```
   *
   * @throws RangeError for a batch size that is not a positive integer
   */
  consumeBatches(
    fn: (data: Uint8Array, pairs: Uint32Array, count: number) => void,
    max = Infinity,
    batch = 256,
  ): number {
    if (!Number.isInteger(batch) || batch < 1)
      throw new RangeError(`ring buffer batch size ${batch} is not a positive integer`);
    const pairs = this.batchPairs(batch);
    const data = this.data;
    let n = 0;
    while (n < max) {
      const count = this.fill(pairs, Math.min(batch, max - n));
      if (count === 0) break;
      n += count;
      try {
        fn(data, pairs, count);
      } finally {
        this.commit();
      }
    }
    this.commit(); // discarded records after the last batch
    return n;
  }

  /**
   * A reusable array for {@link fill} of at least `batch` (offset, length) pairs:
   * the reader's own, grown to the largest batch asked for.
   */
  batchPairs(batch: number): Uint32Array {
    if (this.#pairs.length < 2 * batch) this.#pairs = new Uint32Array(2 * batch);
    return this.#pairs;
  }

  /**
   * Moves the cursor past up to `limit` committed records (and the discarded ones
   * among them; no more than `pairs` holds), writing each one's offset in {@link data}
   * and length to `pairs` (`pairs[2 * i]`, `pairs[2 * i + 1]`); returns how many.
   * Reads the producer position once; stops there, at a busy record or at `limit`.
   * Nothing is published: the records stay valid until {@link commit}.
   *
   * @throws Error if a header is impossible (a length beyond the producer position) or
   * the producer is more than the ring's size ahead: the ring is corrupt, is not a BPF
   * ring buffer, or has another consumer.
   */
  fill(pairs: Uint32Array, limit: number): number {
    if (this.#closed) return 0;
    const avail = this.#available();
    // Ordering. The kernel writes a record's header (length | BUSY) when it reserves
    // the record, before the release store that moves the producer position past it;
    // its load in #available() acquires that store, so every header below it reads as
    // written at reservation or later. A header that still says BUSY ends the walk (the
    // record is being written; it and whatever follows wait for the next fill). The
    // commit clears BUSY (and sets DISCARD for a discard) with an xchg, a full barrier,
    // after the record's bytes: a header read as committed must be a load-acquire for
    // those bytes to be visible after it. On x86 every load is (TSO: loads are not
    // reordered with older loads), and V8 keeps typed array loads in program order, so
    // a plain Int32Array read is a load-acquire there and costs a third of
    // `Atomics.load`, which V8 calls out of line; elsewhere (arm64) headers are read
    // with `Atomics.load`.
    const out = this.#walkOut;
    out[WALK_BAD_LEN] = -1;
    const count = this.#fillWalk(pairs, this.#off, avail, limit, out);
    if (out[WALK_BAD_LEN]! >= 0) this.#corrupt(out[WALK_BAD_LEN]!, out[WALK_USED]!);
    this.#cursor += out[WALK_USED]!;
    this.#off = out[WALK_OFF]!;
    this.#discarded += out[WALK_SKIPPED]!;
    return count;
  }

  /** Discarded records skipped so far (`bpf_ringbuf_discard`), by every read. */
  get discarded(): number {
    return this.#discarded;
  }

  /**
   * Bytes between the cursor and the producer position, read now (once per walk: the
   * producer's store of it is what the walk's header reads are ordered after).
   * At most the ring's size (2^30): `| 0` keeps the walks on 32-bit integers where V8
   * would otherwise carry the positions' doubles through them.
   */
  #available(): number {
    const prod = this.#loadProducer();
    this.#prod = prod;
    const avail = (prod - this.#cursor) | 0;
    if (avail < 0 || avail > this.size) this.#badProducer(prod);
    return avail;
  }

  #badProducer(prod: number): never {
    throw new Error(
      `ring buffer producer position ${prod} is not within ${this.size} bytes after the consumer's ${this.#cursor}: the ring is corrupt or read by another consumer`,
    );
  }

  #corrupt(len: number, ahead = 0): never {
    throw new Error(
      `ring buffer record at position ${this.#cursor + ahead} claims ${len} bytes, beyond the producer position ${this.#prod} (ring of ${this.size} bytes): the ring is corrupt`,
    );
  }

  /**
   * Releases the mappings. Views of {@link data} read zeros afterwards (never freed
   * memory). Safe to call more than once, and from inside {@link consume}'s callback
   * (so from `onRecord`'s and `onRawRecord`'s): the mappings go when `consume` returns,
   * which is after that record for `onRecord` and for a callback that returns `false`.
   */
  close(): void {
    this.#closed = true;
    // From inside consume's callback: consume unmaps when it returns (its walk and
    // commit still read these pages).
    if (!this.#consuming) this.#unmap();
  }

  /** Safe twice: a mapping's close() is. */
  #unmap(): void {
    this.#producer.close();
    this.#consumer.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
