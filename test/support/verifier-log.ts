/**
 * Comparing tsbpf's verifier log with the kernel's, line by line (issue 11, the log).
 *
 * Before comparing, both logs drop what tsbpf does not write by design: the kernel's
 * precision-tracking lines (`mark_precise: ...`), its 6.18 stack-liveness lines
 * (`(0) frame 0 insn 7 +live -8`, `(0) live stack update done in 2 iterations`) and the `Live regs before insn:` block (level 2). Map
 * addresses the kernel prints in `lddw` lines (`r1 = 0xffff8881...`) and tsbpf's
 * `map[idx:N]` both become `<map>`.
 * @module
 */

/** One log, as lines ready to compare. */
export function comparableLines(log: string): string[] {
  const out: string[] = [];
  let inLive = false;
  for (const raw of log.split("\n")) {
    if (raw.startsWith("Live regs before insn")) {
      inLive = true;
      continue;
    }
    if (inLive) {
      if (/^[ \d]+: [.\d]{10} /.test(raw)) continue;
      inLive = false;
    }
    if (raw.startsWith("mark_precise: ") || /^SCC (?:enter|exit)/.test(raw)) continue;
    if (/^\([\d,]+\) (?:frame \d+ insn \d+ [+-]|live stack update)/.test(raw)) continue;
    out.push(
      raw
        .replace(/= 0xffff[0-9a-f]{12}\b/g, "= <map>")
        .replace(/= map\[idx:\d+\](?:\[0\]\+\d+)?/g, "= <map>"),
    );
  }
  while (out.length && out[out.length - 1] === "") out.pop();
  return out;
}

/** How two logs agree. */
export interface LogAgreement {
  /** Lines of the kernel's log (after {@link comparableLines}). */
  readonly kernelLines: number;
  /** Lines of tsbpf's. */
  readonly tsbpfLines: number;
  /** Lines both have, in order (the longest common subsequence). */
  readonly common: number;
  /** The first line that differs, both sides, when they differ. */
  readonly firstDiff?: { readonly line: number; readonly kernel: string; readonly tsbpf: string };
}

/** Compares two logs: common lines in order, and the first difference. */
export function compareLogs(kernelLog: string, tsbpfLog: string): LogAgreement {
  const k = comparableLines(kernelLog);
  const t = comparableLines(tsbpfLog);
  let first: LogAgreement["firstDiff"];
  for (let i = 0; i < Math.max(k.length, t.length); i++)
    if (k[i] !== t[i]) {
      first = { line: i + 1, kernel: k[i] ?? "<end>", tsbpf: t[i] ?? "<end>" };
      break;
    }
  return {
    kernelLines: k.length,
    tsbpfLines: t.length,
    common: lcs(k, t),
    ...(first ? { firstDiff: first } : {}),
  };
}

/** Length of the longest common subsequence (a shared prefix and suffix first, then DP). */
function lcs(a: readonly string[], b: readonly string[]): number {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const same = start + (a.length - endA);
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  if (x.length === 0 || y.length === 0) return same;
  // Too big for the quadratic table: count only the shared ends.
  if (x.length * y.length > 4_000_000) return same;
  let prev = new Uint32Array(y.length + 1);
  let cur = new Uint32Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++)
      cur[j] =
        x[i - 1] === y[j - 1]
          ? (prev[j - 1] as number) + 1
          : Math.max(prev[j] as number, cur[j - 1] as number);
    [prev, cur] = [cur, prev];
  }
  return same + (prev[y.length] as number);
}
