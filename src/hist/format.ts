/**
 * Histograms printed the way people already read them:
 * - BCC's `print_log2_hist` / `print_linear_hist` (the `usecs : count distribution`
 *   table with a 40-star bar, used by biolatency, runqlat and the other BCC tools);
 * - bpftrace's `hist()` / `lhist()` (`[4, 8)   20 |@@@@...|`, a 52-wide `@` bar).
 *
 * The counts come in slots, as the BPF side computed them. Log2 slots follow one of two
 * conventions, named in {@link Log2Slots}; linear slots are `min + i * step`.
 *
 * @module
 */

/** A count as a map holds it: a u32 or u64 read as a number or a bigint. */
export type Count = number | bigint;

/**
 * How the BPF program turned a value into a log2 slot:
 * - `"libbpf"`: libbpf-tools' `log2l()` (bits.bpf.h): slot = floor(log2(v)), with 0 and 1
 *   both in slot 0. Slot i holds [2^i, 2^(i+1) - 1]. tsbpf's own tools use this.
 * - `"bcc"`: BCC's `bpf_log2l()`: slot = floor(log2(v)) + 1 for v > 0, and 0 for v = 0.
 *   Slot i (i >= 1) holds [2^(i-1), 2^i - 1]; BCC never prints slot 0.
 */
export type Log2Slots = "libbpf" | "bcc";

/** Which tool's layout to print. */
export type HistogramStyle = "bcc" | "bpftrace";

/** One bucket: the values it holds (inclusive bounds) and how many fell in it. */
export interface HistogramBucket {
  readonly low: bigint;
  readonly high: bigint;
  readonly count: bigint;
}

/** Options shared by both kinds. */
export interface FormatOptions {
  /** Column header: the unit of the values ("usecs", "kbytes"); default "value". */
  readonly unit?: string;
  /** "bcc" (default) or "bpftrace". */
  readonly style?: HistogramStyle;
}

/** Options of {@link formatLog2Histogram}. */
export interface Log2FormatOptions extends FormatOptions {
  /** The slot convention of the counts (default "libbpf"). */
  readonly slots?: Log2Slots;
  /** BCC's `strip_leading_zero`: rows before the first non-zero one are left out. */
  readonly stripLeadingZero?: boolean;
}

/** Options of {@link formatLinearHistogram}. */
export interface LinearFormatOptions extends FormatOptions {
  /** The value slot 0 starts at (default 0). */
  readonly min?: number;
  /** Values per slot (default 1). */
  readonly step?: number;
}

/** BCC's bar width; above 32 slots it halves, as the rows widen. */
const BCC_STARS = 40;
/** bpftrace's bar width. */
const BPFTRACE_BAR = 52;

const big = (c: Count): bigint => (typeof c === "bigint" ? c : BigInt(Math.trunc(c)));

/** The values log2 slot `i` holds, inclusive (libbpf's slot 0 holds 0 and 1). */
export function log2SlotRange(i: number, slots: Log2Slots = "libbpf"): [bigint, bigint] {
  const p = slots === "bcc" ? i - 1 : i;
  if (p < 0) return [0n, 0n];
  const low = slots === "libbpf" && p === 0 ? 0n : 1n << BigInt(p);
  return [low, (1n << BigInt(p + 1)) - 1n];
}

/**
 * The low bound BCC prints: a one-value slot is shown as `low - 1 -> low` (BCC's slot 1,
 * which holds only 1, reads "0 -> 1").
 */
const printedLow = (low: bigint, high: bigint): bigint =>
  low === high && low > 0n ? low - 1n : low;

/**
 * The slot a value falls in, as the BPF side computes it (for tests, and for userspace
 * code that fills a histogram itself).
 */
export function log2Slot(value: Count, slots: Log2Slots = "libbpf"): number {
  let v = big(value);
  if (v < 0n) throw new RangeError(`log2Slot: ${v} is negative`);
  if (v === 0n) return 0;
  let bits = 0;
  while (v > 1n) {
    v >>= 1n;
    bits++;
  }
  return slots === "bcc" ? bits + 1 : bits;
}

/**
 * The buckets of log2 counts, slot by slot, with BCC's printed bounds (BCC's slot 0 is
 * dropped: BCC never shows it).
 */
export function log2Buckets(
  counts: readonly Count[],
  slots: Log2Slots = "libbpf",
): HistogramBucket[] {
  const out: HistogramBucket[] = [];
  for (let i = slots === "bcc" ? 1 : 0; i < counts.length; i++) {
    const [low, high] = log2SlotRange(i, slots);
    out.push({ low: printedLow(low, high), high, count: big(counts[i] ?? 0) });
  }
  return out;
}

/** The buckets of linear counts: slot i holds [min + i*step, min + (i+1)*step - 1]. */
export function linearBuckets(
  counts: readonly Count[],
  opts: { readonly min?: number; readonly step?: number } = {},
): HistogramBucket[] {
  const { min, step } = linearRange(opts);
  return counts.map((c, i) => ({
    low: BigInt(min + i * step),
    high: BigInt(min + (i + 1) * step - 1),
    count: big(c),
  }));
}

function linearRange(opts: { readonly min?: number; readonly step?: number }) {
  const min = opts.min ?? 0;
  const step = opts.step ?? 1;
  if (!Number.isSafeInteger(min)) throw new RangeError(`histogram min ${min} is not an integer`);
  if (!Number.isSafeInteger(step) || step < 1) {
    throw new RangeError(`histogram step ${step} is not a positive integer`);
  }
  return { min, step };
}

/** BCC's star bar: `width * val / max` stars, the last one a `+` past the maximum. */
function stars(val: bigint, max: bigint, width: number): string {
  if (max === 0n) return "";
  const n = Math.min(width, Math.floor((width * Number(val)) / Number(max)));
  const text = "*".repeat(n);
  return val > max ? `${text.slice(0, -1)}+` : text;
}

const padLeft = (s: string, n: number) => s.padStart(n);
const padRight = (s: string, n: number) => s.padEnd(n);

/** Index of the last non-zero count, or -1. */
function lastNonZero(counts: readonly bigint[]): number {
  for (let i = counts.length - 1; i >= 0; i--) if ((counts[i] ?? 0n) > 0n) return i;
  return -1;
}

function maxOf(counts: readonly bigint[]): bigint {
  let m = 0n;
  for (const c of counts) if (c > m) m = c;
  return m;
}

/**
 * A log2 histogram as text, ending in a newline ("" when every count is zero).
 *
 * @example
 * ```ts
 * formatLog2Histogram([0, 3, 10], { unit: "usecs" });
 * //      usecs               : count     distribution
 * //          0 -> 1          : 0        |                                        |
 * //          2 -> 3          : 3        |************                            |
 * //          4 -> 7          : 10       |****************************************|
 * ```
 */
export function formatLog2Histogram(
  counts: readonly Count[],
  opts: Log2FormatOptions = {},
): string {
  const slots = opts.slots ?? "libbpf";
  const unit = opts.unit ?? "value";
  const values = counts.map(big);
  if (opts.style === "bpftrace") return bpftraceLog2(values, slots);
  const last = lastNonZero(values);
  // BCC prints nothing without a count past slot 0 (with its slots, slot 0 is hidden).
  if (last < 0 || (slots === "bcc" && last === 0)) return "";
  const max = maxOf(values);
  // The last slot's index, in BCC's numbering, picks the layout: beyond 32 the rows
  // need 20 digits and the bar halves.
  const wide = (slots === "bcc" ? last : last + 1) > 32;
  const width = wide ? 20 : 10;
  const bar = wide ? BCC_STARS / 2 : BCC_STARS;
  let out = wide
    ? `               ${padRight(unit, 29)} : count     distribution\n`
    : `     ${padRight(unit, 19)} : count     distribution\n`;
  let strip = opts.stripLeadingZero ?? false;
  for (let i = slots === "bcc" ? 1 : 0; i <= last; i++) {
    const v = values[i] ?? 0n;
    if (strip && v === 0n) continue;
    strip = false;
    const [low, high] = log2SlotRange(i, slots);
    out += `${padLeft(String(printedLow(low, high)), width)} -> ${padRight(String(high), width)} : ${padRight(String(v), 8)} |${padRight(stars(v, max, bar), bar)}|\n`;
  }
  return out;
}

/**
 * A linear histogram as text (BCC's `print_linear_hist` prints slot indices, so with
 * `min`/`step` other than 0/1 the rows show each slot's first value).
 */
export function formatLinearHistogram(
  counts: readonly Count[],
  opts: LinearFormatOptions = {},
): string {
  const { min, step } = linearRange(opts);
  const values = counts.map(big);
  if (opts.style === "bpftrace") return bpftraceLinear(values, min, step);
  const last = lastNonZero(values);
  if (last < 0) return "";
  const max = maxOf(values);
  let out = `     ${padRight(opts.unit ?? "value", 13)} : count     distribution\n`;
  for (let i = 0; i <= last; i++) {
    const v = values[i] ?? 0n;
    out += `        ${padRight(String(min + i * step), 10)} : ${padRight(String(v), 8)} |${padRight(stars(v, max, BCC_STARS), BCC_STARS)}|\n`;
  }
  return out;
}

/** bpftrace's label of a power of two: 1024 and up as K, M, G, T, P, E. */
function powerLabel(v: bigint): string {
  const suffixes = ["", "K", "M", "G", "T", "P", "E"];
  let s = 0;
  while (s < suffixes.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    s++;
  }
  return `${v}${suffixes[s]}`;
}

/** bpftrace's label of a linear bound: K or M only when the step is a multiple of 1024. */
function linearLabel(v: number, step: number): string {
  if (step % 1024 !== 0 || v === 0) return String(v);
  if (v % (1024 * 1024) === 0) return `${v / (1024 * 1024)}M`;
  if (v % 1024 === 0) return `${v / 1024}K`;
  return String(v);
}

/** One bpftrace row: the label in 16 columns, the count in 8, a 52-wide `@` bar. */
function bpftraceRow(label: string, v: bigint, max: bigint): string {
  const width = max === 0n ? 0 : Math.floor((Number(v) / Number(max)) * BPFTRACE_BAR);
  return `${padRight(label, 16)}${padLeft(String(v), 8)} |${padRight("@".repeat(width), BPFTRACE_BAR)}|\n`;
}

function firstNonZero(counts: readonly bigint[]): number {
  return counts.findIndex((c) => c > 0n);
}

/** bpftrace's rows, from the first non-zero slot to the last, each labelled by `label`. */
function bpftraceRows(values: readonly bigint[], label: (i: number) => string): string {
  const first = firstNonZero(values);
  if (first < 0) return "";
  const last = lastNonZero(values);
  const max = maxOf(values);
  let out = "";
  for (let i = first; i <= last; i++) out += bpftraceRow(label(i), values[i] ?? 0n, max);
  return out;
}

function bpftraceLog2(values: readonly bigint[], slots: Log2Slots): string {
  return bpftraceRows(values, (i) => {
    const [low, high] = log2SlotRange(i, slots);
    return low === high ? `[${low}]` : `[${powerLabel(low)}, ${powerLabel(high + 1n)})`;
  });
}

function bpftraceLinear(values: readonly bigint[], min: number, step: number): string {
  return bpftraceRows(values, (i) => {
    const lo = min + i * step;
    return `[${linearLabel(lo, step)}, ${linearLabel(lo + step, step)})`;
  });
}

/** A histogram as JSON: the fields of BCC's `print_json_hist`, as valid JSON values. */
export interface HistogramJson {
  /** Local time, `YYYY-MM-DD HH:MM:SS`. */
  readonly ts: string;
  readonly val_type: string;
  readonly data: readonly {
    readonly "interval-start": number | string;
    readonly "interval-end": number | string;
    readonly count: number | string;
  }[];
  /** The section's label, when the histogram has one (BCC adds the section key). */
  readonly [section: string]: unknown;
}

/** A u64 as a JSON number when it is exact, else as a decimal string. */
const jsonNumber = (v: bigint): number | string =>
  v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);

/** BCC's local timestamp format. */
function localTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The JSON of a histogram, shaped as BCC's tools print it with `-j` (BCC prints a Python
 * dict; this is the same fields as JSON): buckets up to the last non-zero one.
 */
export function histogramJson(
  buckets: readonly HistogramBucket[],
  opts: { readonly unit?: string; readonly section?: [string, unknown]; readonly now?: Date } = {},
): HistogramJson {
  let last = -1;
  buckets.forEach((b, i) => {
    if (b.count > 0n) last = i;
  });
  const data = buckets.slice(0, last + 1).map((b) => ({
    "interval-start": jsonNumber(b.low),
    "interval-end": jsonNumber(b.high),
    count: jsonNumber(b.count),
  }));
  const out: Record<string, unknown> = {
    ts: localTimestamp(opts.now ?? new Date()),
    val_type: opts.unit ?? "value",
    data,
  };
  if (opts.section) out[opts.section[0]] = opts.section[1];
  return out as HistogramJson;
}
