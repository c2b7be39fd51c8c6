/**
 * One seeded random generator for the VM (get_prandom_u32) and its tests: mulberry32,
 * small and fast, so a seed replays a whole run.
 *
 * Pure: no `node:` imports.
 * @module
 */

/**
 * mulberry32: returns a function giving the next unsigned 32-bit number of the
 * sequence `seed` starts.
 *
 * @example
 * ```ts
 * const next = seededRandom(42);
 * next(); // the same number for seed 42 on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}
