/**
 * Metric and label names as Prometheus accepts them: metric names match
 * `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` and may not start
 * with `__` (reserved for Prometheus's own labels). Anything else is mapped onto those
 * alphabets, the way Prometheus's own exporters map foreign names.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

/**
 * `name` as a valid metric name: every other character becomes `_`, and a name that
 * starts with a digit gets a leading `_` (`"9p.reads"` → `"_9p_reads"`).
 *
 * @throws RangeError for an empty name
 */
export function sanitizeMetricName(name: string): string {
  if (name === "") throw new RangeError("a metric name cannot be empty");
  const s = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * `name` as a valid label name: like {@link sanitizeMetricName} without `:`; a name
 * starting with the reserved `__` is prefixed with `key` (`"__x"` → `"key__x"`).
 *
 * @throws RangeError for an empty name
 */
export function sanitizeLabelName(name: string): string {
  if (name === "") throw new RangeError("a label name cannot be empty");
  let s = name.replace(/[^a-zA-Z0-9_]/g, "_");
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s.startsWith("__") ? `key${s}` : s;
}
