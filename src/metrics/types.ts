/**
 * The metric data model shared by the Prometheus text format and OTLP: a family (one
 * name, one type, one help text) of samples told apart by their labels.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

/** What a family measures, in Prometheus's terms (OTLP: monotonic sum, gauge, histogram). */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names to label values; names are sanitised when rendered. */
export type Labels = Readonly<Record<string, string>>;

/** A counter or gauge sample: a u64 count is a bigint, anything else a number. */
export interface NumberSample {
  readonly labels: Labels;
  readonly value: number | bigint;
}

/**
 * A histogram sample in OTLP's explicit-bucket shape: `counts[i]` observations fell in
 * `(bounds[i - 1], bounds[i]]`, and `counts[bounds.length]` above the last bound.
 * Counts are per bucket (not cumulative); the Prometheus renderer accumulates them.
 */
export interface HistogramSample {
  readonly labels: Labels;
  /** Inclusive upper bounds, strictly increasing. */
  readonly bounds: readonly number[];
  /** `bounds.length + 1` per-bucket counts. */
  readonly counts: readonly bigint[];
  /** Total observations (the sum of `counts`). */
  readonly count: bigint;
  /** Sum of the observed values, when known (maps of slots only approximate it). */
  readonly sum?: number;
}

/** Counters and gauges. */
export interface NumberFamily {
  /** Base name: a counter's is rendered with `_total` appended. */
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  /** Unit in UCUM's case-sensitive form ("s", "By", "1"), for OTLP; "" when none. */
  readonly unit?: string;
  readonly samples: readonly NumberSample[];
}

/** Histograms. */
export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly unit?: string;
  readonly samples: readonly HistogramSample[];
}

/** One metric family. */
export type MetricFamily = NumberFamily | HistogramFamily;
