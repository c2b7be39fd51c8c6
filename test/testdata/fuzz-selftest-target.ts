/** A fuzz target that misbehaves on purpose, for test/fuzz-elf-btf.test.ts's harness check. */
class Typed extends Error {}

export function runInput(_seed: number, index: number): void {
  if (index === 2) for (;;);
  if (index === 4) throw new TypeError("boom");
  // The fourth input of a campaign's second job (fuzz/harness.ts LANE).
  if (index === 100_000_003) throw new RangeError("second job");
  if (index % 2 === 1) throw new Typed("bad input");
}

export function isTyped(e: unknown): boolean {
  return e instanceof Typed;
}
