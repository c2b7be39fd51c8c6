/**
 * The perf buffer reader: what BPF programs send with `bpf_perf_event_output` into a
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY, read the way libbpf's `perf_buffer` and
 * cilium/ebpf's `perf.Reader` do.
 *
 * For every CPU the reader opens a software perf event of type
 * PERF_COUNT_SW_BPF_OUTPUT (sample_type PERF_SAMPLE_RAW, a wake-up per sample or at a
 * byte watermark), mmaps its ring (one metadata page and 2^n data pages), enables it,
 * and stores its descriptor in the map at the CPU's index — `BPF_F_CURRENT_CPU` then
 * sends each record to the ring of the CPU the program ran on. Each ring's descriptor
 * is watched by the event loop. When a ring is full the kernel drops records and later
 * writes a PERF_RECORD_LOST with the count: the reader reports it as a `lost` record
 * and adds it to {@link PerfBufferReader.lostRecords}.
 *
 * @module
 */
import { describeMapType } from "../../spec/map-spec.ts";
import { MapType } from "../../uapi/index.ts";
import {
  PERF_SAMPLE_RAW,
  PerfSoftwareConfig,
  PerfType,
  perfEventEnable,
  perfEventOpen,
} from "../links/perf-event.ts";
import { onlineCpus } from "../links/perf-sampling.ts";
import { BpfMap } from "../maps/map.ts";
import { dupFd } from "../sys/fd-watch.ts";
import type { Fd } from "../sys/index.ts";
import { pageSize } from "../sys/mapping.ts";
import { possibleCpus } from "../system/cpus.ts";
import { PerfRingStatus, RawPerfRing } from "./perfbuf-raw.ts";
import { RecordReader, type RecordReaderOptions, type RecordSource } from "./poll.ts";

/** `attr.watermark`: wake up at `wakeup_watermark` bytes rather than every N events. */
const PERF_ATTR_WATERMARK = 1n << 14n;

/** A sample: the bytes a program passed to `bpf_perf_event_output`. */
export interface PerfSample {
  readonly kind: "sample";
  /** The CPU whose ring it came from. */
  readonly cpu: number;
  /**
   * The raw bytes: a copy, or with `zeroCopy: true` a view of the ring (unless the
   * record wrapped around the ring's end). The kernel pads raw data so that its u32 length and the data
   * end on 8 bytes, so up to 7 bytes of padding follow what the program wrote; the
   * kernel skips them without writing, so they hold whatever the ring held before.
   */
  readonly data: Uint8Array;
}

/** The kernel dropped records on a CPU because its ring was full. */
export interface PerfLost {
  readonly kind: "lost";
  /** The CPU whose ring was full. */
  readonly cpu: number;
  /** How many records were dropped (a u64 in the kernel; exact below 2^53). */
  readonly lost: number;
}

/** A record from a {@link PerfBufferReader}. */
export type PerfRecord = PerfSample | PerfLost;

/** Options of {@link PerfBufferReader.open}. */
export interface PerfBufferOptions extends RecordReaderOptions {
  /**
   * Data pages per CPU, a power of two (default 8: 32 KiB with 4 KiB pages). Records
   * arriving faster than they are read beyond that are lost (and counted).
   */
  readonly pages?: number;
  /**
   * Wake the reader once this many bytes wait in a CPU's ring instead of at every
   * record (fewer wake-ups; records below the watermark wait for more or for a read).
   */
  readonly watermark?: number;
  /** CPUs to read (default: the online CPUs below the map's max_entries). */
  readonly cpus?: readonly number[];
}

/** A perf event array to read: a `BpfMap`, or its descriptor. */
export interface PerfEventArrayLike {
  /** The map's descriptor (the reader takes its own duplicate). */
  readonly fd: number;
  /** For error messages. */
  readonly name?: string;
}

interface CpuRing {
  readonly cpu: number;
  readonly fd: Fd;
  readonly ring: RawPerfRing;
}

class PerfSource implements RecordSource<PerfRecord> {
  readonly fds: readonly number[];
  /** perf_poll() clears the wake-up it reports. */
  readonly oneShotReadiness = true;
  readonly rings: CpuRing[] = [];
  lost = 0;
  readonly #map: BpfMap;
  #turn = 0;

  constructor(map: BpfMap, cpus: readonly number[], pages: number, watermark: number | undefined) {
    this.#map = map;
    const key = new Uint8Array(4);
    const value = new Uint8Array(4);
    const kv = new DataView(key.buffer);
    const vv = new DataView(value.buffer);
    try {
      for (const cpu of cpus) {
        const fd = perfEventOpen(
          {
            type: PerfType.SOFTWARE,
            config: BigInt(PerfSoftwareConfig.BPF_OUTPUT),
            sampleType: PERF_SAMPLE_RAW,
            samplePeriod: 1n,
            wakeupEvents: watermark ?? 1,
            flags: watermark !== undefined ? PERF_ATTR_WATERMARK : 0n,
          },
          { pid: -1, cpu },
          `BPF output event on CPU ${cpu}`,
        );
        let ring: RawPerfRing;
        try {
          ring = RawPerfRing.open(fd.value, pages, `perf ring of CPU ${cpu}`);
        } catch (e) {
          fd.close();
          throw e;
        }
        this.rings.push({ cpu, fd, ring });
        perfEventEnable(fd.value);
        kv.setUint32(0, cpu, true);
        vv.setUint32(0, fd.value, true);
        map.update(key, value);
      }
    } catch (e) {
      this.close();
      throw e;
    }
    this.fds = this.rings.map((r) => r.fd.value);
  }

  #record(r: CpuRing, status: PerfRingStatus): PerfRecord {
    const ring = r.ring;
    if (status === PerfRingStatus.LOST) {
      this.lost += ring.lost;
      return { kind: "lost", cpu: r.cpu, lost: ring.lost };
    }
    return {
      kind: "sample",
      cpu: r.cpu,
      // the constructor, not subarray (~20 ns a view against ~40: see ringbuf.ts)
      data: new Uint8Array(ring.bytes.buffer, ring.bytes.byteOffset + ring.offset, ring.length),
    };
  }

  next(): PerfRecord | undefined {
    const rings = this.rings;
    const n = rings.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#turn + k) % n;
      const r = rings[i]!;
      const status = r.ring.next();
      if (status !== PerfRingStatus.EMPTY) {
        this.#turn = (i + 1) % n;
        return this.#record(r, status);
      }
    }
    return undefined;
  }

  release(): void {
    for (const r of this.rings) r.ring.commit();
  }

  drain(cb: (rec: PerfRecord) => void, max = Infinity): number {
    let total = 0;
    for (const r of this.rings) {
      const ring = r.ring;
      while (total < max) {
        const status = ring.next();
        if (status === PerfRingStatus.EMPTY) break;
        total++;
        try {
          cb(this.#record(r, status));
        } finally {
          ring.commit();
        }
      }
    }
    return total;
  }

  copy(rec: PerfRecord): PerfRecord {
    return rec.kind === "sample" ? { kind: "sample", cpu: rec.cpu, data: rec.data.slice() } : rec;
  }

  close(): void {
    const key = new Uint8Array(4);
    const kv = new DataView(key.buffer);
    for (const r of this.rings) {
      if (!this.#map.closed) {
        kv.setUint32(0, r.cpu, true);
        try {
          this.#map.delete(key);
        } catch {
          // the slot was emptied or replaced already
        }
      }
      r.ring.close();
      r.fd.close();
    }
    this.rings.length = 0;
    this.#map.close();
  }
}

/**
 * Reads a perf event array: one ring per CPU, records tagged with their CPU, lost
 * records reported and counted.
 *
 * Samples are copies, safe to keep and to write to. `{ zeroCopy: true }` gives views
 * of the rings instead, valid until the next read from this reader (see
 * {@link RecordReader}); the kernel lets user space write only a perf ring's control
 * page, so **a write to such a view kills the process (SIGBUS)**.
 *
 * @example
 * ```ts
 * using reader = PerfBufferReader.open(coll.maps.events, { pages: 16 });
 * for await (const rec of reader) {
 *   if (rec.kind === "lost") console.warn(`lost ${rec.lost} records on CPU ${rec.cpu}`);
 *   else handle(rec.data);
 * }
 * ```
 */
export class PerfBufferReader extends RecordReader<PerfRecord> {
  /** The CPUs read, in order. */
  readonly cpus: readonly number[];
  /** The rings, per CPU, for direct reads. */
  readonly rings: readonly RawPerfRing[];
  readonly #source: PerfSource;

  private constructor(source: PerfSource, label: string, opts: RecordReaderOptions) {
    super(source, label, opts);
    this.#source = source;
    this.cpus = source.rings.map((r) => r.cpu);
    this.rings = source.rings.map((r) => r.ring);
  }

  /**
   * Opens a BPF output event and its ring on every CPU and stores them in `map`
   * (a BPF_MAP_TYPE_PERF_EVENT_ARRAY). `close()` empties those slots and closes
   * everything.
   *
   * @throws TypeError when `map` is not a perf event array; RangeError for bad options;
   * SyscallError from perf_event_open, mmap or the map update.
   */
  static open(map: PerfEventArrayLike, opts: PerfBufferOptions = {}): PerfBufferReader {
    const label = map.name ? `perf buffer "${map.name}"` : `perf buffer (fd ${map.fd})`;
    const own = BpfMap.fromFd(dupFd(map.fd, label));
    let source: PerfSource;
    try {
      if (own.type !== MapType.PERF_EVENT_ARRAY) {
        throw new TypeError(
          `${label} is a ${describeMapType(own.type)} map, not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)`,
        );
      }
      const pages = opts.pages ?? 8;
      if (opts.watermark !== undefined) {
        const max = pages * pageSize();
        if (!Number.isInteger(opts.watermark) || opts.watermark < 1 || opts.watermark >= max) {
          throw new RangeError(
            `${label}: watermark ${opts.watermark} must be between 1 and ${max - 1} bytes (the ring holds ${max})`,
          );
        }
      }
      const limit = Math.min(own.maxEntries, possibleCpus());
      let cpus: readonly number[];
      if (opts.cpus) {
        for (const c of opts.cpus) {
          if (!Number.isInteger(c) || c < 0 || c >= limit) {
            throw new RangeError(
              `${label}: CPU ${c} is out of range (the map has ${own.maxEntries} slots, ${possibleCpus()} possible CPUs)`,
            );
          }
        }
        cpus = opts.cpus;
      } else {
        cpus = onlineCpus().filter((c) => c < limit);
      }
      if (cpus.length === 0) throw new RangeError(`${label}: no CPU to read`);
      source = new PerfSource(own, cpus, pages, opts.watermark);
    } catch (e) {
      own.close();
      throw e;
    }
    return new PerfBufferReader(source, label, opts);
  }

  /** Records the kernel reported lost so far (sum of the `lost` records read). */
  get lostRecords(): number {
    return this.#source.lost;
  }

  /** Bytes waiting in all rings (records and headers). */
  pendingBytes(): number {
    let n = 0;
    for (const r of this.rings) n += r.pendingBytes();
    return n;
  }
}
