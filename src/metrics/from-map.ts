/**
 * Counters and gauges from array and hash maps (kernel or VM, per-CPU values summed):
 * one sample per entry, labelled by its key ({@link keyLabels}), valued by the whole
 * value, one field of it, or — for a struct value with BTF — one family per numeric
 * member (`NAME_MEMBER`).
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { entryValues, type Field, readUnsigned } from "../hist/index.ts";
import type { KeyValueMap, PerCpuMap } from "../spec/index.ts";
import { flattenFields, type MapTypes } from "./btf-fields.ts";
import { keyLabels } from "./key-labels.ts";
import type { Labels, NumberFamily, NumberSample } from "./types.ts";

/** How a map becomes counters or gauges. */
export interface MapMetricOptions {
  /** Family name (default: the map's name); members of a struct value are appended. */
  readonly name?: string;
  /** "gauge" (default: nothing known about the values) or "counter" (only ever grows). */
  readonly type?: "counter" | "gauge";
  /** HELP text (default: names the map). */
  readonly help?: string;
  /** The map's BTF: key fields become labels, value members become families. */
  readonly types?: MapTypes;
  /**
   * Which part of the value to export: a BTF member path (`"bytes"`, `"stats_rx"`), or
   * where an unsigned integer sits when there is no BTF. Default: the whole value
   * (an integer of 1, 2, 4 or 8 bytes) or, with BTF, every numeric member.
   */
  readonly field?: string | Field;
  /** Label of a key that is not a struct (default "key"). */
  readonly keyLabel?: string;
  /** Labels added to every sample. */
  readonly labels?: Labels;
}

/** What a map, or the options chosen for it, cannot give. */
export class MetricsError extends Error {
  override name = "MetricsError";
}

type Scalar = number | bigint;

const add = (a: Scalar | undefined, b: Scalar): Scalar =>
  a === undefined
    ? b
    : typeof a === "bigint" && typeof b === "bigint"
      ? a + b
      : Number(a) + Number(b);

/** The numeric fields of one value, by member path ("" for the whole value). */
function valueFields(
  map: KeyValueMap,
  value: Uint8Array,
  opts: MapMetricOptions,
): Map<string, Scalar> {
  const out = new Map<string, Scalar>();
  const { types, field } = opts;
  if (types?.valueTypeId) {
    const fields = flattenFields(types.btf, types.valueTypeId, value).filter((f) => f.numeric);
    const chosen = typeof field === "string" ? fields.filter((f) => f.path === field) : fields;
    if (typeof field === "string" && chosen.length === 0) {
      const known = fields.map((f) => f.path || "(the whole value)").join(", ");
      throw new MetricsError(
        `map "${map.name}": its value has no numeric member "${field}" (it has: ${known})`,
      );
    }
    for (const f of chosen) out.set(typeof field === "string" ? "" : f.path, f.value as Scalar);
    return out;
  }
  if (typeof field === "string") {
    throw new MetricsError(
      `map "${map.name}": member "${field}" needs the map's BTF, and it has none`,
    );
  }
  const at = field ?? { offset: 0, size: value.length as Field["size"] };
  const size = at.size ?? 4;
  if (![1, 2, 4, 8].includes(size)) {
    throw new MetricsError(
      `map "${map.name}": its ${value.length}-byte value is not an integer and has no BTF; name a field (offset and size)`,
    );
  }
  out.set("", readUnsigned(value, at.offset, size, `map "${map.name}" value field`));
  return out;
}

/**
 * The counters or gauges of `map`'s entries, read now.
 *
 * @example
 * ```ts
 * const families = mapMetrics(map, { name: "tcp_connects", type: "counter", types });
 * res.end(renderPrometheus(families));
 * ```
 * @throws MetricsError when the value has no integer to export or `field` names nothing
 */
export function mapMetrics(
  map: KeyValueMap | (KeyValueMap & PerCpuMap),
  opts: MapMetricOptions = {},
): NumberFamily[] {
  const base = opts.name ?? map.name;
  const help = opts.help ?? `BPF map "${map.name}"`;
  const byPath = new Map<string, NumberSample[]>();
  for (const [key, values] of entryValues(map)) {
    const labels = { ...opts.labels, ...keyLabels(key, opts) };
    let sum = new Map<string, Scalar>();
    for (const v of values) {
      const fields = valueFields(map, v, opts);
      const next = new Map<string, Scalar>();
      for (const [path, x] of fields) next.set(path, add(sum.get(path), x));
      sum = next;
    }
    for (const [path, value] of sum) {
      const samples = byPath.get(path) ?? [];
      samples.push({ labels, value });
      byPath.set(path, samples);
    }
  }
  // A map with no entries still announces its families: read their names off a zero value.
  if (byPath.size === 0) {
    for (const path of valueFields(map, new Uint8Array(map.valueSize), opts).keys())
      byPath.set(path, []);
  }
  return [...byPath].map(([path, samples]) => ({
    name: path === "" ? base : `${base}_${path}`,
    help: path === "" ? help : `${help}, member ${path}`,
    type: opts.type ?? "gauge",
    samples,
  }));
}
