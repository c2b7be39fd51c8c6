/**
 * Reading histograms out of maps, in the two layouts BPF tools use:
 * - one entry per slot (BCC's `BPF_HISTOGRAM`, bpftrace's maps): the key is the slot,
 *   or a struct holding a label and the slot; the value is the slot's count;
 * - one entry per label with every slot in the value (libbpf-tools'
 *   `struct hist { __u32 slots[N]; ... }` keyed by disk, PID or CPU).
 *
 * Works on any {@link KeyValueMap}: a map in the kernel or in the VM. Per-CPU maps are
 * summed over CPUs.
 *
 * @module
 */

import type { KeyValueMap, PerCpuMap } from "../spec/index.ts";
import { isPerCpuMapType } from "../spec/index.ts";

/** A little-endian unsigned field inside a key or value. */
export interface Field {
  /** Byte offset. */
  readonly offset: number;
  /** Size in bytes (default 4). */
  readonly size?: 1 | 2 | 4 | 8;
}

/** Where the counts sit. */
export type HistogramLayout =
  | {
      /** One entry per slot. `slot`: where the slot sits in the key (default: the whole key). */
      readonly kind: "slot-per-entry";
      readonly slot?: Field;
    }
  | {
      /** One entry per label; `count` u32/u64 slots start at `offset` in the value. */
      readonly kind: "slots-in-value";
      readonly offset?: number;
      readonly count: number;
      readonly size?: 4 | 8;
    };

/** One histogram of a map: its label (the key's bytes other than the slot) and counts. */
export interface HistogramSection {
  /** The label's bytes; empty when the key is only the slot. */
  readonly label: Uint8Array;
  /** Counts by slot index. */
  readonly counts: bigint[];
}

/** Slots past this are refused: a u64's log2 needs 65, BCC's linear tables 1025. */
export const MAX_SLOTS = 4096;

/**
 * The little-endian unsigned integer of `size` bytes at `offset` in `bytes`.
 *
 * @throws RangeError naming `what` when it lies outside the bytes
 */
export function readUnsigned(
  bytes: Uint8Array,
  offset: number,
  size: number,
  what: string,
): bigint {
  if (offset < 0 || offset + size > bytes.length) {
    throw new RangeError(
      `histogram: ${what} at bytes ${offset}..${offset + size} is outside its ${bytes.length} bytes`,
    );
  }
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

/** Each key with its values: one per CPU for per-CPU maps, else one. */
export function* entryValues(
  map: KeyValueMap | (KeyValueMap & PerCpuMap),
): Generator<[Uint8Array, Uint8Array[]]> {
  if (isPerCpuMapType(map.type) && "entriesPerCpu" in map) {
    yield* map.entriesPerCpu();
    return;
  }
  for (const [k, v] of map.entries()) yield [k, [v]];
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The histograms in `map`, one section per label, sorted by label bytes.
 *
 * @example
 * ```ts
 * // BPF side: u32 slot keys in an array map of u64 counts.
 * const [h] = readHistograms(map, { kind: "slot-per-entry" });
 * console.log(formatLog2Histogram(h.counts, { unit: "usecs" }));
 * ```
 * @throws RangeError when a field lies outside the key or value, or a slot is past
 *   {@link MAX_SLOTS}
 */
export function readHistograms(
  map: KeyValueMap | (KeyValueMap & PerCpuMap),
  layout: HistogramLayout = { kind: "slot-per-entry" },
): HistogramSection[] {
  const sections = new Map<string, HistogramSection>();
  const section = (label: Uint8Array, slots: number): HistogramSection => {
    const id = hex(label);
    let s = sections.get(id);
    if (!s) {
      s = { label: label.slice(), counts: [] };
      sections.set(id, s);
    }
    while (s.counts.length < slots) s.counts.push(0n);
    return s;
  };
  for (const [key, values] of entryValues(map)) {
    if (layout.kind === "slot-per-entry") {
      const size = layout.slot?.size ?? (layout.slot ? 4 : key.length);
      const offset = layout.slot?.offset ?? 0;
      if (![1, 2, 4, 8].includes(size)) {
        throw new RangeError(`histogram: a ${size}-byte key is not a slot; say where the slot is`);
      }
      const slot = Number(readUnsigned(key, offset, size, "the slot"));
      if (slot >= MAX_SLOTS) {
        throw new RangeError(
          `histogram: slot ${slot} is past ${MAX_SLOTS - 1} (map "${map.name}")`,
        );
      }
      const label = new Uint8Array(key.length - size);
      label.set(key.subarray(0, offset), 0);
      label.set(key.subarray(offset + size), offset);
      const s = section(label, slot + 1);
      for (const v of values) {
        const count = readUnsigned(v, 0, v.length >= 8 ? 8 : 4, "the count");
        s.counts[slot] = (s.counts[slot] ?? 0n) + count;
      }
    } else {
      const size = layout.size ?? 4;
      const offset = layout.offset ?? 0;
      if (layout.count < 1 || layout.count > MAX_SLOTS) {
        throw new RangeError(`histogram: ${layout.count} slots (1..${MAX_SLOTS})`);
      }
      const s = section(key, layout.count);
      for (const v of values) {
        for (let i = 0; i < layout.count; i++) {
          s.counts[i] = (s.counts[i] ?? 0n) + readUnsigned(v, offset + i * size, size, `slot ${i}`);
        }
      }
    }
  }
  return [...sections.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}
