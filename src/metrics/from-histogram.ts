/**
 * Prometheus/OTLP histograms from maps of log2 or linear slots (the maps BCC's and
 * libbpf-tools' histograms fill; read by {@link readHistograms}), one sample per label.
 *
 * Bucket bounds are the slots' inclusive upper values: a libbpf log2 slot i holds
 * [2^i, 2^(i+1) - 1] (slot 0: 0 and 1), so its `le` is 2^(i+1) - 1 — exact for the
 * integer values BPF programs count. The sum is not in the map: it is approximated as
 * each slot's count times the midpoint of its range (`sum: "none"` leaves `_sum` out,
 * which Prometheus accepts: quantiles come from the buckets).
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import {
  type HistogramLayout,
  type Log2Slots,
  linearBuckets,
  log2SlotRange,
  readHistograms,
} from "../hist/index.ts";
import type { KeyValueMap, PerCpuMap } from "../spec/index.ts";
import type { MapTypes } from "./btf-fields.ts";
import { MetricsError } from "./from-map.ts";
import { keyLabels } from "./key-labels.ts";
import type { HistogramFamily, HistogramSample, Labels } from "./types.ts";

/** How slots map onto values. */
export type SlotScale =
  | { readonly kind: "log2"; readonly slots?: Log2Slots }
  | { readonly kind: "linear"; readonly min?: number; readonly step?: number };

/** How a map becomes a histogram family. */
export interface HistogramMetricOptions {
  /** Family name (default: the map's name). */
  readonly name?: string;
  readonly help?: string;
  /** The map's BTF: key fields other than the slot become labels; the layout is found from it. */
  readonly types?: MapTypes;
  /** Where slots and counts sit (default: {@link detectHistogramLayout}). */
  readonly layout?: HistogramLayout;
  /** Log2 (default, libbpf's slots) or linear. */
  readonly scale?: SlotScale;
  /** Multiplies every bound and the sum: 1e-6 turns microsecond slots into seconds. */
  readonly unitScale?: number;
  /** "midpoint" (default): `_sum` from slot midpoints; "none": no sum. */
  readonly sum?: "midpoint" | "none";
  /** Label of a non-struct label part of the key (default "key"). */
  readonly keyLabel?: string;
  /** Labels added to every sample. */
  readonly labels?: Labels;
}

/** Names a key member holding the slot is recognised by. */
const SLOT_MEMBERS = new Set(["slot", "bucket"]);

/**
 * The layout of a histogram map, read from its BTF: a key member named `slot` or
 * `bucket` is the slot (one entry per slot); a value struct with an integer array
 * (libbpf-tools' `struct hist { __u32 slots[N]; }`) holds every slot; otherwise the
 * whole key is the slot.
 */
export function detectHistogramLayout(types: MapTypes | undefined): HistogramLayout {
  if (!types) return { kind: "slot-per-entry" };
  const { btf } = types;
  const key = types.keyTypeId ? btf.resolve(types.keyTypeId) : undefined;
  if (key?.kind === "STRUCT") {
    const m = key.members.find((x) => SLOT_MEMBERS.has(x.name));
    if (m && m.bitfieldSize === 0) {
      const size = btf.sizeof(m.type);
      if (size === 1 || size === 2 || size === 4 || size === 8) {
        return { kind: "slot-per-entry", slot: { offset: m.bitOffset >> 3, size } };
      }
    }
  }
  const value = types.valueTypeId ? btf.resolve(types.valueTypeId) : undefined;
  if (value?.kind === "STRUCT") {
    for (const m of value.members) {
      const arr = btf.resolve(m.type);
      if (arr.kind !== "ARRAY" || m.bitfieldSize !== 0) continue;
      const el = btf.resolve(arr.type);
      if (el.kind === "INT" && (el.size === 4 || el.size === 8) && arr.nelems > 0) {
        return {
          kind: "slots-in-value",
          offset: m.bitOffset >> 3,
          count: arr.nelems,
          size: el.size,
        };
      }
    }
  }
  return { kind: "slot-per-entry" };
}

/** The inclusive [low, high] values of each of `n` slots. */
function slotRanges(n: number, scale: SlotScale): [bigint, bigint][] {
  if (scale.kind === "linear") {
    return linearBuckets(new Array<number>(n).fill(0), scale).map((b) => [b.low, b.high]);
  }
  return Array.from({ length: n }, (_, i) => log2SlotRange(i, scale.slots));
}

function keySkip(layout: HistogramLayout, keySize: number): [number, number] | undefined {
  if (layout.kind !== "slot-per-entry") return undefined;
  if (!layout.slot) return [0, keySize];
  const size = layout.slot.size ?? 4;
  return [layout.slot.offset, layout.slot.offset + size];
}

/** The key a section's label came from, with zeros where the slot was. */
function keyOfLabel(label: Uint8Array, skip: [number, number] | undefined): Uint8Array {
  if (!skip) return label;
  const key = new Uint8Array(label.length + skip[1] - skip[0]);
  key.set(label.subarray(0, skip[0]), 0);
  key.set(label.subarray(skip[0]), skip[1]);
  return key;
}

/**
 * The histogram family of `map`, read now: one sample per label (per key without its
 * slot, or per key for slots-in-value maps).
 *
 * @example
 * ```ts
 * // BPF side: log2 slots of microseconds in an array map.
 * const family = histogramMetrics(map, { name: "runq_latency_seconds", unitScale: 1e-6 });
 * res.end(renderPrometheus([family]));
 * ```
 * @throws MetricsError (or RangeError from {@link readHistograms}) for a layout the map cannot have
 */
export function histogramMetrics(
  map: KeyValueMap | (KeyValueMap & PerCpuMap),
  opts: HistogramMetricOptions = {},
): HistogramFamily {
  const layout = opts.layout ?? detectHistogramLayout(opts.types);
  const scale: SlotScale = opts.scale ?? { kind: "log2" };
  const unit = opts.unitScale ?? 1;
  if (!(unit > 0) || !Number.isFinite(unit)) {
    throw new MetricsError(`map "${map.name}": unit scale ${unit} must be a positive number`);
  }
  const skip = keySkip(layout, map.keySize);
  const samples: HistogramSample[] = [];
  for (const section of readHistograms(map, layout)) {
    // BCC's slot 0 holds only zeros; it stays, as the bucket le="0".
    const ranges = slotRanges(section.counts.length, scale);
    const key = keyOfLabel(section.label, skip);
    const labels = { ...opts.labels, ...keyLabels(key, { ...opts, skip: skip ?? [0, 0] }) };
    let count = 0n;
    let sum = 0;
    section.counts.forEach((c, i) => {
      const [low, high] = ranges[i] as [bigint, bigint];
      count += c;
      sum += Number(c) * ((Number(low) + Number(high)) / 2);
    });
    samples.push({
      labels,
      bounds: ranges.map(([, high]) => Number(high) * unit),
      counts: [...section.counts, 0n],
      count,
      ...(opts.sum !== "none" && { sum: sum * unit }),
    });
  }
  return {
    name: opts.name ?? map.name,
    help: opts.help ?? `BPF map "${map.name}" (histogram)`,
    type: "histogram",
    samples,
  };
}
