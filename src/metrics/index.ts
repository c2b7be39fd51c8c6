/**
 * Metrics from maps: counters, gauges and histograms read from any map (kernel or VM),
 * rendered in Prometheus's text exposition format or sent as OTLP/HTTP JSON. Serve
 * them from your own HTTP server:
 *
 * Pure: no `node:` imports.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { mapMetrics, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "tsbpf/metrics";
 * createServer((req, res) => {
 *   const text = renderPrometheus(mapMetrics(map, { name: "tcp_connects", type: "counter" }));
 *   res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(text);
 * }).listen(9435, "127.0.0.1");
 * ```
 * @module
 */

export { type FlatField, flattenFields, type MapTypes } from "./btf-fields.ts";
export {
  detectHistogramLayout,
  type HistogramMetricOptions,
  histogramMetrics,
  type SlotScale,
} from "./from-histogram.ts";
export { type MapMetricOptions, MetricsError, mapMetrics } from "./from-map.ts";
export { type KeyLabelOptions, keyLabels, rawKeyText } from "./key-labels.ts";
export { sanitizeLabelName, sanitizeMetricName } from "./names.ts";
export {
  type CancelSignal,
  OTLP_METRICS_PATH,
  type OtlpAttribute,
  type OtlpOptions,
  OtlpPushError,
  otlpMetricsRequest,
  pushOtlpMetrics,
} from "./otlp-json.ts";
export {
  escapeLabelValue,
  exposedName,
  formatSampleValue,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "./prometheus-text.ts";
export type * from "./types.ts";
