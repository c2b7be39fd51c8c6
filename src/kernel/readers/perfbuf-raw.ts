/**
 * `RawPerfRing`: one CPU's perf event ring buffer, mmap'd, and the consumer protocol
 * of include/uapi/linux/perf_event.h — without the event loop. {@link PerfBufferReader}
 * (perfbuf.ts) opens one per CPU and reads them together.
 *
 * Layout: one metadata page (`struct perf_event_mmap_page`: the producer's
 * `data_head`, the consumer's `data_tail`, `data_offset`/`data_size`), then 2^n data
 * pages. Records (`struct perf_event_header`: u32 type, u16 misc, u16 size) are 8-byte
 * aligned and may wrap around the end of the data area; such a record is copied into
 * a fresh buffer, every other one is read in place.
 *
 * @module
 */
import { pageSize, SharedMapping } from "../sys/mapping.ts";

/** `offsetof(struct perf_event_mmap_page, ...)`: the fields a consumer uses. */
export const PERF_MMAP_PAGE = {
  data_head: 1024,
  data_tail: 1032,
  data_offset: 1040,
  data_size: 1048,
} as const;

/** `enum perf_event_type` values a BPF output event produces. */
export const PerfRecordType = {
  /** Records were dropped because the ring was full: u64 id, u64 lost. */
  LOST: 2,
  /** A sample; with PERF_SAMPLE_RAW only: u32 size, then `size` bytes. */
  SAMPLE: 9,
} as const;

const HEADER_SIZE = 8;
const TWO32 = 2 ** 32;

/** What {@link RawPerfRing.next} found. */
export const PerfRingStatus = {
  /** No complete record between the tail and the head. */
  EMPTY: 0,
  /** A sample: its raw bytes are `bytes[offset .. offset + length)`. */
  SAMPLE: 1,
  /** A lost-records notice: {@link RawPerfRing.lost} records were dropped. */
  LOST: 2,
} as const;
/** A value of {@link PerfRingStatus}. */
export type PerfRingStatus = (typeof PerfRingStatus)[keyof typeof PerfRingStatus];

/**
 * One perf event's mmap'd ring. Like {@link RawRingReader}, a cursor runs ahead of the
 * published `data_tail`: {@link next} moves past one record, {@link commit} publishes,
 * and record bytes read in place stay valid until that commit.
 */
export class RawPerfRing implements Disposable {
  /** Bytes of the data area (a power of two). */
  readonly size: number;
  /** Where the last sample's bytes are: the data area, or a copy when it wrapped. */
  bytes: Uint8Array;
  /** Offset of the last sample's raw bytes in {@link bytes}. */
  offset = 0;
  /**
   * Length of the last sample's raw bytes, padding included: the kernel pads them so
   * that the u32 size and the data end on 8 bytes, and does not zero the padding.
   */
  length = 0;
  /** Records dropped, from the last LOST notice. */
  lost = 0;

  readonly #mapping: SharedMapping;
  readonly #meta32: Uint32Array;
  readonly #meta64: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #headIdx: number;
  readonly #tailIdx: number;
  #cursor: number;
  #published: number;
  #publishedHi: number;
  #closed = false;

  private constructor(mapping: SharedMapping) {
    this.#mapping = mapping;
    const buf = mapping.buffer;
    this.#meta32 = new Uint32Array(buf, 0, pageSize() >> 2);
    this.#meta64 = new BigUint64Array(buf, 0, pageSize() >> 3);
    const meta = new DataView(buf, 0, pageSize());
    let dataOffset = Number(meta.getBigUint64(PERF_MMAP_PAGE.data_offset, true));
    let dataSize = Number(meta.getBigUint64(PERF_MMAP_PAGE.data_size, true));
    if (dataSize === 0) {
      // kernels before 4.1 leave them 0: the data area follows the first page
      dataOffset = pageSize();
      dataSize = mapping.length - pageSize();
    }
    this.size = dataSize;
    this.#data = new Uint8Array(buf, dataOffset, dataSize);
    this.#view = new DataView(buf, dataOffset, dataSize);
    this.bytes = this.#data;
    this.#headIdx = PERF_MMAP_PAGE.data_head >> 2;
    this.#tailIdx = PERF_MMAP_PAGE.data_tail >> 2;
    const lo = Atomics.load(this.#meta32, this.#tailIdx);
    const hi = Atomics.load(this.#meta32, this.#tailIdx + 1);
    this.#cursor = hi * TWO32 + lo;
    this.#published = this.#cursor;
    this.#publishedHi = hi;
  }

  /**
   * Maps the perf event behind `fd` with `pages` data pages (a power of two).
   * @param what names the event in errors.
   * @throws RangeError for a page count that is not a power of two; SyscallError when
   * mmap fails.
   */
  static open(fd: number, pages: number, what = `perf event (fd ${fd})`): RawPerfRing {
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 2 ** 18) {
      throw new RangeError(`${what}: ${pages} data pages is not a power of two up to 2^18`);
    }
    const len = (1 + pages) * pageSize();
    return new RawPerfRing(SharedMapping.map(fd, len, 0, "read-write", what));
  }

  /** The kernel's `data_head`: bytes ever written. */
  #loadHead(): number {
    const m = this.#meta32;
    const i = this.#headIdx;
    for (;;) {
      const hi = Atomics.load(m, i + 1);
      const lo = Atomics.load(m, i);
      if (Atomics.load(m, i + 1) === hi) return hi * TWO32 + lo;
    }
  }

  /** Bytes between the cursor and `data_head`. */
  pendingBytes(): number {
    return this.#closed ? 0 : this.#loadHead() - this.#cursor;
  }

  /**
   * Moves past the next record and says what it was: a sample (its bytes at
   * {@link bytes}/{@link offset}/{@link length}), a lost-records notice ({@link lost}),
   * or {@link PerfRingStatus.EMPTY}. Records of other types are skipped.
   *
   * @throws Error for a record header that cannot be (size 0 or beyond the ring).
   */
  next(): PerfRingStatus {
    if (this.#closed) return PerfRingStatus.EMPTY;
    const head = this.#loadHead();
    const view = this.#view;
    while (this.#cursor < head) {
      const off = this.#cursor % this.size;
      const type = view.getUint32(off, true);
      const size = view.getUint16(off + 6, true);
      if (size < HEADER_SIZE || size > this.size || this.#cursor + size > head) {
        throw new Error(
          `perf ring record at position ${this.#cursor} has size ${size} (ring ${this.size} bytes, head at ${head}): the ring is corrupt`,
        );
      }
      this.#cursor += size;
      if (type !== PerfRecordType.SAMPLE && type !== PerfRecordType.LOST) continue;
      let bytes = this.#data;
      let base = off;
      if (off + size > this.size) {
        // wraps around the end: copy both parts
        bytes = new Uint8Array(size);
        bytes.set(this.#data.subarray(off));
        bytes.set(this.#data.subarray(0, size - (this.size - off)), this.size - off);
        base = 0;
      }
      const dv = bytes === this.#data ? view : new DataView(bytes.buffer);
      if (type === PerfRecordType.LOST) {
        this.lost = Number(dv.getBigUint64(base + 16, true));
        return PerfRingStatus.LOST;
      }
      const rawSize = dv.getUint32(base + HEADER_SIZE, true);
      if (HEADER_SIZE + 4 + rawSize > size) {
        throw new Error(
          `perf sample at position ${this.#cursor - size} claims ${rawSize} raw bytes in a ${size}-byte record`,
        );
      }
      this.bytes = bytes;
      this.offset = base + HEADER_SIZE + 4;
      this.length = rawSize;
      return PerfRingStatus.SAMPLE;
    }
    return PerfRingStatus.EMPTY;
  }

  /** Publishes the cursor as `data_tail`: the kernel may overwrite what came before. */
  commit(): void {
    const pos = this.#cursor;
    if (pos === this.#published || this.#closed) return;
    const hi = Math.floor(pos / TWO32);
    if (hi === this.#publishedHi) {
      Atomics.store(this.#meta32, this.#tailIdx, pos >>> 0);
    } else {
      Atomics.store(this.#meta64, this.#tailIdx >> 1, BigInt(pos));
      this.#publishedHi = hi;
    }
    this.#published = pos;
  }

  /** Unmaps the ring (views read zeros afterwards). Safe to call more than once. */
  close(): void {
    this.#closed = true;
    this.#mapping.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
