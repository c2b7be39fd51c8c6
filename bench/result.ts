/**
 * What every benchmark reports: a measurement, the baseline measured in the same run
 * (C through raw syscalls, bpftool, the kernel's own test-run time...), their ratio
 * and the goal for that ratio. Ratios, never absolute times, because these machines
 * are noisy; see DESIGN.md.
 */
export interface BenchResult {
  /** What was measured, e.g. "hash lookup ops/s vs C". */
  readonly name: string;
  /** tsbpf's figure. */
  readonly value: number;
  /** The baseline's figure, measured in the same run. */
  readonly baseline: number;
  /** How tsbpf compares; the bench says which way is better in `goal`. */
  readonly ratio: number;
  /** The target, e.g. ">= 0.8" or "<= 2". */
  readonly goal: string;
  /** Unit of value and baseline, e.g. "ops/s", "ms". */
  readonly unit?: string;
}

/** Median of a list of samples. */
export function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** True when `ratio` meets a goal written as ">= X" or "<= X". */
export function meetsGoal(ratio: number, goal: string): boolean {
  const m = /^\s*(>=|<=)\s*([\d.]+)/.exec(goal);
  if (!m) return true;
  const x = Number(m[2]);
  return m[1] === ">=" ? ratio >= x : ratio <= x;
}
