/**
 * Metric families as an OTLP `ExportMetricsServiceRequest` in the protobuf JSON mapping
 * that OTLP/HTTP accepts with `Content-Type: application/json` (opentelemetry-proto's
 * metrics/v1): counters as monotonic cumulative sums, gauges as gauges, histograms as
 * cumulative explicit-bucket histograms. 64-bit integers are JSON strings, enums their
 * numbers, field names lowerCamelCase, as the mapping requires.
 *
 * Written here rather than taken from the @opentelemetry SDK: the SDK's exporter needs
 * eleven packages (37 MB installed, 430 KB bundled) to send this one JSON document.
 *
 * Pure: no `node:` imports (`pushOtlpMetrics` uses the global `fetch`).
 *
 * @module
 */

import type { HistogramSample, Labels, MetricFamily, NumberSample } from "./types.ts";

/** OTLP's AggregationTemporality: the counts since the start time. */
const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
/** The default path of OTLP/HTTP metrics. */
export const OTLP_METRICS_PATH = "/v1/metrics";
const INT64_MAX = (1n << 63n) - 1n;

/** One OTLP `KeyValue` with a string value. */
export interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue: string };
}

/** Who is reporting and since when. */
export interface OtlpOptions {
  /** Resource attributes (default `{ "service.name": "tsbpf" }`). */
  readonly resource?: Labels;
  /** Instrumentation scope name and version (default "tsbpf"). */
  readonly scope?: { readonly name: string; readonly version?: string };
  /** When counting started, in ns since the epoch (cumulative sums and histograms). */
  readonly startTimeUnixNano: bigint;
  /** When the values were read, in ns since the epoch. */
  readonly timeUnixNano: bigint;
}

const attributes = (labels: Labels): OtlpAttribute[] =>
  Object.entries(labels).map(([key, v]) => ({ key, value: { stringValue: v } }));

/** A number data point value: `asInt` (a string) for integers that fit an int64, else `asDouble`. */
function pointValue(v: number | bigint): { asInt: string } | { asDouble: number } {
  if (typeof v === "bigint") {
    return v <= INT64_MAX && v >= -INT64_MAX - 1n
      ? { asInt: v.toString() }
      : { asDouble: Number(v) };
  }
  return Number.isSafeInteger(v) ? { asInt: String(v) } : { asDouble: v };
}

function numberPoint(s: NumberSample, o: OtlpOptions, cumulative: boolean) {
  return {
    attributes: attributes(s.labels),
    ...(cumulative && { startTimeUnixNano: o.startTimeUnixNano.toString() }),
    timeUnixNano: o.timeUnixNano.toString(),
    ...pointValue(s.value),
  };
}

function histogramPoint(s: HistogramSample, o: OtlpOptions) {
  return {
    attributes: attributes(s.labels),
    startTimeUnixNano: o.startTimeUnixNano.toString(),
    timeUnixNano: o.timeUnixNano.toString(),
    count: s.count.toString(),
    ...(s.sum !== undefined && { sum: s.sum }),
    bucketCounts: s.counts.map((c) => c.toString()),
    explicitBounds: [...s.bounds],
  };
}

function metric(f: MetricFamily, o: OtlpOptions): Record<string, unknown> {
  const head = { name: f.name, description: f.help, unit: f.unit ?? "" };
  switch (f.type) {
    case "counter":
      return {
        ...head,
        sum: {
          dataPoints: f.samples.map((s) => numberPoint(s, o, true)),
          aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE,
          isMonotonic: true,
        },
      };
    case "gauge":
      return { ...head, gauge: { dataPoints: f.samples.map((s) => numberPoint(s, o, false)) } };
    case "histogram":
      return {
        ...head,
        histogram: {
          dataPoints: f.samples.map((s) => histogramPoint(s, o)),
          aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE,
        },
      };
  }
}

/**
 * The OTLP/HTTP JSON request body for `families` (a plain object: `JSON.stringify` it).
 *
 * @example
 * ```ts
 * const now = BigInt(Date.now()) * 1_000_000n;
 * const body = otlpMetricsRequest(families, { startTimeUnixNano: started, timeUnixNano: now });
 * await fetch("http://127.0.0.1:4318/v1/metrics", {
 *   method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
 * });
 * ```
 */
export function otlpMetricsRequest(families: readonly MetricFamily[], o: OtlpOptions) {
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes(o.resource ?? { "service.name": "tsbpf" }) },
        scopeMetrics: [
          {
            scope: {
              name: o.scope?.name ?? "tsbpf",
              ...(o.scope?.version && { version: o.scope.version }),
            },
            metrics: families.map((f) => metric(f, o)),
          },
        ],
      },
    ],
  };
}

/** An OTLP receiver that answered with an error status. */
export class OtlpPushError extends Error {
  override name = "OtlpPushError";
  /** The HTTP status. */
  readonly status: number;
  constructor(url: string, status: number, body: string) {
    super(`OTLP push to ${url}: HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ""}`);
    this.status = status;
  }
}

/**
 * What cancels a push: an `AbortSignal`, named by its shape so the package's typings need
 * neither the DOM library nor @types/node.
 */
export interface CancelSignal {
  readonly aborted: boolean;
}

/**
 * POSTs `families` to an OTLP/HTTP metrics endpoint (`url` as given: include the
 * `/v1/metrics` path) as JSON, and returns when the receiver has accepted them.
 *
 * @throws OtlpPushError on a non-2xx answer; fetch's TypeError when nothing answers
 */
export async function pushOtlpMetrics(
  url: string,
  families: readonly MetricFamily[],
  o: OtlpOptions,
  signal?: CancelSignal,
): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(otlpMetricsRequest(families, o)),
    ...(signal && { signal: signal as AbortSignal }),
  });
  const text = await res.text();
  if (!res.ok) throw new OtlpPushError(url, res.status, text);
}
