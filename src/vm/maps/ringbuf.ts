/** BPF_MAP_TYPE_RINGBUF in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, RingbufHeader, RingbufOutputFlags } from "../../uapi/index.ts";
import { VmMap, VmMapError } from "./map.ts";

/** Header bytes of a record (`BPF_RINGBUF_HDR_SZ`). */
export const RINGBUF_HDR_SZ = RingbufHeader.HDR_SZ;
/** Busy bit of a record's length word: reserved, not yet submitted or discarded. */
export const RINGBUF_BUSY_BIT = RingbufHeader.BUSY_BIT;
/** Discard bit: the record was discarded and readers skip it. */
export const RINGBUF_DISCARD_BIT = RingbufHeader.DISCARD_BIT;
/** Largest record (`RINGBUF_MAX_RECORD_SZ`). */
const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffff_ffff / 4);
/** Page of the data area in the kernel's `struct bpf_ringbuf` (header, consumer, producer pages). */
const RINGBUF_DATA_PGOFF = 3;
const PAGE_SHIFT = 12;

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** One record a reader took from the ring. */
export interface RingbufRecord {
  /** The sample's bytes (a copy). */
  readonly data: Uint8Array;
  /** Where the record's header was (the consumer position before it). */
  readonly position: number;
}

/**
 * A ring buffer with the kernel's record format (kernel/bpf/ringbuf.c): records are
 * an 8-byte header — u32 length with the busy bit (31) and discard bit (30), u32 page
 * offset — and the sample, padded to 8 bytes; the producer position only grows, the
 * consumer position is the reader's. A reservation fails (NULL to the program) when
 * the record would put the producer more than `size - 1` bytes ahead of the consumer
 * or of the oldest record still busy, as in Linux >= 6.10.
 *
 * The data area is `2 * size` bytes: like the kernel's double mapping of its data
 * pages, a record that wraps past the end is contiguous; when it is committed its tail
 * is copied to the front, so {@link data} reads as the kernel's mapping does. A reader
 * consumes with {@link read} / {@link drain}, or raw: {@link data} with
 * {@link consumerPos} / {@link producerPos}, committing with {@link setConsumerPos}.
 *
 * A program reaches only the sample of a record it reserved (the VM hands it a window
 * on those bytes, closed when the record is submitted or discarded), never the headers
 * or the positions, as the kernel's verifier limits it to its own record.
 *
 * @example
 * ```ts
 * const rb = new VmRingBuf({ name: "events", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
 * prog.run({ data });
 * for (const rec of rb.drain()) console.log(rec.data);
 * ```
 */
export class VmRingBuf extends VmMap {
  /** The data area (twice the ring's size, see above); VM programs write records here. */
  readonly values: Uint8Array;
  /** The ring's size in bytes (`maxEntries`). */
  readonly size: number;
  private readonly view: DataView;
  private cons = 0;
  private prod = 0;
  private pending = 0;

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.RINGBUF });
    this.size = this.maxEntries;
    this.values = new Uint8Array(2 * this.size);
    this.view = new DataView(this.values.buffer);
  }

  /** The data area (see the class description). */
  get data(): Uint8Array {
    return this.values;
  }

  /** The consumer position (bytes consumed since creation). */
  get consumerPos(): number {
    return this.cons;
  }

  /** The producer position (bytes reserved since creation). */
  get producerPos(): number {
    return this.prod;
  }

  /** Bytes between the consumer and producer positions (`BPF_RB_AVAIL_DATA`); never negative. */
  get available(): number {
    return Math.max(0, this.prod - this.cons);
  }

  /** Moves the consumer position (a raw reader's commit); it may not pass the producer. */
  setConsumerPos(pos: number): void {
    if (!Number.isInteger(pos) || pos < this.cons || pos > this.prod)
      throw new RangeError(
        `${this}: consumer position ${pos} is outside ${this.cons}..${this.prod}`,
      );
    this.cons = pos;
  }

  /**
   * Reserves a record of `size` bytes: the byte offset of its sample in {@link values},
   * or -1 when it does not fit (as the kernel's `__bpf_ringbuf_reserve` returns NULL).
   */
  reserve(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ) return -1;
    const len = roundUp8(size + RINGBUF_HDR_SZ);
    if (len > this.size) return -1;
    const mask = this.size - 1;
    let pend = this.pending;
    while (pend < this.prod) {
      const hdrLen = this.view.getUint32(pend & mask, true);
      if (hdrLen & RINGBUF_BUSY_BIT) break;
      pend += roundUp8((hdrLen & ~RINGBUF_DISCARD_BIT) + RINGBUF_HDR_SZ);
    }
    // A header rewritten from JavaScript cannot move the mark past the producer.
    this.pending = Math.min(pend, this.prod);
    const next = this.prod + len;
    if (next - this.cons > mask || next - pend > mask) return -1;
    const off = this.prod & mask;
    this.view.setUint32(off, (size | RINGBUF_BUSY_BIT) >>> 0, true);
    this.view.setUint32(off + 4, RINGBUF_DATA_PGOFF + (off >>> PAGE_SHIFT), true);
    this.prod = next;
    return off + RINGBUF_HDR_SZ;
  }

  /**
   * Submits (or discards) the record whose sample starts at byte `sample` of
   * {@link values}. Returns false when no busy record starts there.
   */
  commit(sample: number, discard: boolean): boolean {
    const off = sample - RINGBUF_HDR_SZ;
    if (off < 0 || off >= this.size || off % 8 !== 0) return false;
    const len = this.view.getUint32(off, true);
    if (!(len & RINGBUF_BUSY_BIT)) return false;
    const size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
    const end = off + RINGBUF_HDR_SZ + size;
    if (end > this.size) this.values.copyWithin(0, this.size, end);
    this.view.setUint32(off, (size | (discard ? RINGBUF_DISCARD_BIT : 0)) >>> 0, true);
    return true;
  }

  /** `bpf_ringbuf_output`: copies `size` bytes at `src[at..]` into a new record; 0 or a negative errno. */
  output(src: Uint8Array, at: number, size: number, flags: bigint): number {
    if (flags & ~BigInt(RingbufOutputFlags.NO_WAKEUP | RingbufOutputFlags.FORCE_WAKEUP))
      return -Errno.EINVAL;
    const rec = this.reserve(size);
    if (rec < 0) return -Errno.EAGAIN;
    this.values.set(src.subarray(at, at + size), rec);
    this.commit(rec, false);
    return 0;
  }

  /** The next submitted record (discarded ones skipped), consumed; undefined when none is ready. */
  read(): RingbufRecord | undefined {
    const mask = this.size - 1;
    while (this.cons < this.prod) {
      const off = this.cons & mask;
      const len = this.view.getUint32(off, true);
      if (len & RINGBUF_BUSY_BIT) return undefined;
      const size = len & ~RINGBUF_DISCARD_BIT;
      const position = this.cons;
      const next = this.cons + roundUp8(size + RINGBUF_HDR_SZ);
      if (next > this.prod)
        // Only a write to `data` from JavaScript can do this (programs cannot reach headers).
        throw new VmMapError(
          Errno.EINVAL,
          `${this}: read: record header at position ${position} says ${size} bytes, past the producer position ${this.prod}`,
        );
      this.cons = next;
      if (len & RINGBUF_DISCARD_BIT) continue;
      const start = off + RINGBUF_HDR_SZ;
      return { data: this.values.slice(start, start + size), position };
    }
    return undefined;
  }

  /** Every record ready now, consumed in order. */
  *drain(): IterableIterator<RingbufRecord> {
    for (let r = this.read(); r !== undefined; r = this.read()) yield r;
  }

  lookupSlot(): number {
    return -1;
  }

  updateRaw(): number {
    return -Errno.EINVAL;
  }

  deleteRaw(): number {
    return -Errno.EINVAL;
  }

  nextKey(): Uint8Array | undefined {
    throw new VmMapError(Errno.ENOTSUPP, `${this}: next key`);
  }

  override lookup(): Uint8Array | undefined {
    throw this.wrongKind("lookup()", "read() or drain()");
  }

  override *keys(): IterableIterator<Uint8Array> {}

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
