/** Line-by-line comparison for the BTF dump tests. */
import assert from "node:assert/strict";

/** Fails with the first differing line and a few lines of context on either side. */
export function assertSameLines(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  const ctx = (lines: string[]) =>
    lines
      .slice(Math.max(0, i - 3), i + 4)
      .map((l, k) => `${String(Math.max(0, i - 3) + k + 1).padStart(7)}| ${l}`)
      .join("\n");
  assert.fail(
    `${what}: first difference at line ${i + 1} (tsbpf ${a.length} lines, bpftool ${e.length})\n` +
      `tsbpf:\n${ctx(a)}\nbpftool:\n${ctx(e)}`,
  );
}
