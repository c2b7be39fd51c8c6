/** BPF_MAP_TYPE_PERF_EVENT_ARRAY in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType } from "../../uapi/index.ts";
import { VmMap, VmMapError } from "./map.ts";

/** One sample that bpf_perf_event_output wrote. */
export interface PerfSample {
  /** The CPU whose buffer got it. */
  readonly cpu: number;
  /** The raw sample: the program's bytes, then any packet bytes it asked for (`BPF_F_CTXLEN_MASK`). */
  readonly data: Uint8Array;
}

/**
 * A per-CPU event buffer: what a `perf_event_open(PERF_COUNT_SW_BPF_OUTPUT)` ring
 * gives a reader in the kernel, without the mmap format: samples in order, at most
 * `capacity` bytes of them (more are counted as lost, as a full ring loses them).
 */
export class PerfSink {
  /** The CPU the event is bound to (an output from another CPU is EOPNOTSUPP). */
  readonly cpu: number;
  /** Bytes the samples may hold before new ones are lost (default 64 KiB, 16 pages). */
  readonly capacity: number;
  /** Samples not read yet. */
  readonly samples: Uint8Array[] = [];
  /** Samples dropped because the buffer was full. */
  lost = 0;
  private bytes = 0;

  constructor(cpu: number, capacity = 16 * 4096) {
    this.cpu = cpu;
    this.capacity = capacity;
  }

  /** Adds a sample (or counts it lost); the size of a PERF_RECORD_SAMPLE with raw data decides. */
  push(data: Uint8Array): boolean {
    // header (8) + u32 raw size + data, padded to 8 bytes, as the kernel writes it.
    const rec = 8 + Math.ceil((4 + data.length) / 8) * 8;
    if (this.bytes + rec > this.capacity) {
      this.lost++;
      return false;
    }
    this.bytes += rec;
    this.samples.push(data);
    return true;
  }

  /** Takes every sample, oldest first. */
  take(): Uint8Array[] {
    const out = this.samples.splice(0);
    this.bytes = 0;
    return out;
  }
}

/**
 * A perf event array: slot `i` holds the event of CPU `i` once a reader opened it
 * ({@link open}; empty slots make bpf_perf_event_output fail with ENOENT, as in the
 * kernel). `bpf_perf_event_output(ctx, map, flags, data, size)` picks the slot
 * `flags & BPF_F_INDEX_MASK` (`BPF_F_CURRENT_CPU` for the running CPU): E2BIG past
 * the end, EOPNOTSUPP when the slot's event belongs to another CPU, EINVAL for
 * unknown flags.
 *
 * @example
 * ```ts
 * const events = new VmPerfEventArray({ name: "events", type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
 * events.open(0);
 * prog.run({ data });
 * for (const s of events.drain()) console.log(s.cpu, s.data);
 * ```
 */
export class VmPerfEventArray extends VmMap {
  readonly values: Uint8Array = new Uint8Array(0);
  private readonly sinks: (PerfSink | undefined)[];

  constructor(spec: MapSpec) {
    // max_entries 0 means "every possible CPU" to libbpf; the VM then has one slot.
    super({ ...spec, type: spec.type ?? MapType.PERF_EVENT_ARRAY });
    this.sinks = new Array(Math.max(1, this.maxEntries)).fill(undefined);
  }

  /** Slots (maxEntries, or 1 when the spec said 0). */
  get slots(): number {
    return this.sinks.length;
  }

  /** Opens the event of slot `index` (bound to CPU `cpu`, by default the same number). */
  open(index: number, cpu = index, capacity?: number): PerfSink {
    if (!Number.isInteger(index) || index < 0 || index >= this.sinks.length)
      throw new RangeError(`${this}: index ${index} is not below ${this.sinks.length}`);
    const sink = new PerfSink(cpu, capacity);
    this.sinks[index] = sink;
    return sink;
  }

  /** Opens every slot, each for the CPU of its number. */
  openAll(capacity?: number): void {
    for (let i = 0; i < this.sinks.length; i++) this.open(i, i, capacity);
  }

  /** The sink of slot `index`, if open. */
  sink(index: number): PerfSink | undefined {
    return this.sinks[index];
  }

  /**
   * `bpf_perf_event_output` from CPU `cpu`: `index` is `flags & BPF_F_INDEX_MASK`
   * already resolved; 0 or a negative errno.
   */
  output(index: number, cpu: number, data: Uint8Array): number {
    if (index >= this.sinks.length) return -Errno.E2BIG;
    const sink = this.sinks[index];
    if (!sink) return -Errno.ENOENT;
    if (sink.cpu !== cpu) return -Errno.EOPNOTSUPP;
    sink.push(data);
    return 0;
  }

  /** Every sample of every open slot, slot by slot, consumed. */
  *drain(): IterableIterator<PerfSample> {
    for (const s of this.sinks) {
      if (!s) continue;
      for (const data of s.take()) yield { cpu: s.cpu, data };
    }
  }

  lookupSlot(): number {
    return -1;
  }

  updateRaw(): number {
    return -Errno.EINVAL;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    const i = new DataView(key.buffer, key.byteOffset + at, 4).getUint32(0, true);
    if (i >= this.sinks.length) return -Errno.E2BIG;
    if (!this.sinks[i]) return -Errno.ENOENT;
    this.sinks[i] = undefined;
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let i =
      key === undefined ? 0 : new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true) + 1;
    if (key !== undefined && i - 1 >= this.sinks.length) i = 0;
    if (i >= this.sinks.length) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, i, true);
    return out;
  }

  override lookup(): Uint8Array | undefined {
    throw new VmMapError(Errno.EOPNOTSUPP, `${this}: lookup`);
  }

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
