/**
 * Prometheus's text exposition format, version 0.0.4: for each family a `# HELP` and
 * a `# TYPE` line, then its samples; histograms as cumulative `_bucket{le="..."}`
 * series ending with `le="+Inf"`, then `_sum` (when known) and `_count`.
 *
 * Serve the text with {@link PROMETHEUS_CONTENT_TYPE} from any HTTP server.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { sanitizeLabelName, sanitizeMetricName } from "./names.ts";
import type { HistogramFamily, Labels, MetricFamily, NumberFamily } from "./types.ts";

/** The Content-Type of {@link renderPrometheus}'s text. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value with `\`, `"` and newlines escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escaping: `\` and newlines (quotes stay as they are). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: bigints exactly, numbers as Go's ParseFloat reads them. */
export function formatSampleValue(v: number | bigint): string {
  if (typeof v === "bigint") return v.toString();
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    const name = sanitizeLabelName(k);
    // Two names that sanitise alike ("a.b", "a_b") would make a series Prometheus rejects.
    if (seen.has(name)) throw new RangeError(`label "${k}" repeats label "${name}"`);
    seen.add(name);
    parts.push(`${name}="${escapeLabelValue(v)}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function renderNumbers(f: NumberFamily, name: string, out: string[]): void {
  for (const s of f.samples)
    out.push(`${name}${labelText(s.labels)} ${formatSampleValue(s.value)}`);
}

function renderHistogram(f: HistogramFamily, name: string, out: string[]): void {
  for (const s of f.samples) {
    if (s.counts.length !== s.bounds.length + 1) {
      throw new RangeError(
        `histogram ${name}: ${s.bounds.length} bounds need ${s.bounds.length + 1} counts, not ${s.counts.length}`,
      );
    }
    if ("le" in s.labels) throw new RangeError(`histogram ${name}: "le" is its bucket label`);
    let cumulative = 0n;
    s.bounds.forEach((bound, i) => {
      cumulative += s.counts[i] ?? 0n;
      const le = formatSampleValue(bound);
      out.push(`${name}_bucket${labelText(s.labels, ["le", le])} ${cumulative}`);
    });
    out.push(`${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
    if (s.sum !== undefined)
      out.push(`${name}_sum${labelText(s.labels)} ${formatSampleValue(s.sum)}`);
    out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
  }
}

/** The name a family is exposed under: sanitised, and a counter's ending in `_total`. */
export function exposedName(f: MetricFamily): string {
  const name = sanitizeMetricName(f.name);
  return f.type === "counter" && !name.endsWith("_total") ? `${name}_total` : name;
}

/**
 * The families in the text exposition format (0.0.4), ending with a newline.
 *
 * @example
 * ```ts
 * const text = renderPrometheus([
 *   { name: "tcp_connects", type: "counter", help: "TCP connections", samples: [
 *     { labels: { dport: "443" }, value: 12n } ] },
 * ]);
 * // # HELP tcp_connects_total TCP connections
 * // # TYPE tcp_connects_total counter
 * // tcp_connects_total{dport="443"} 12
 * ```
 * @throws RangeError when two families expose the same name, a label repeats once
 *   sanitised, or a histogram's counts do not fit its bounds
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    const name = exposedName(f);
    if (seen.has(name)) throw new RangeError(`two metric families are named "${name}"`);
    seen.add(name);
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`);
    if (f.type === "histogram") renderHistogram(f, name, out);
    else renderNumbers(f, name, out);
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
