/**
 * The fuzzers' deterministic randomness: input `i` of a campaign with seed `s` is the
 * same on every run and in every thread, so a failure is reproduced from (s, i) alone.
 *
 * @module
 */

/** mulberry32: a small, fast 32-bit generator. */
export class Rng {
  #a: number;

  constructor(seed: number, stream = 0) {
    // Mix seed and stream (splitmix-like) so nearby inputs get unrelated streams.
    let x = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
    this.#a = (x ^ (x >>> 16)) >>> 0;
  }

  /** A uniform u32. */
  u32(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
}
