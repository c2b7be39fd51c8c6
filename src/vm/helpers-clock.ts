/**
 * Time, randomness and the CPU: ktime_get_ns (and boot, coarse, tai), jiffies64,
 * get_prandom_u32, get_smp_processor_id and get_numa_node_id.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { HelperId } from "../uapi/index.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";
import { seededRandom } from "./random.ts";

/** A monotonic nanosecond clock starting at the wall-clock time. */
export function defaultClock(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n;
  const t0 = performance.now();
  return () => base + BigInt(Math.round((performance.now() - t0) * 1e6));
}

/**
 * The clock, random and CPU helpers, by id: `clock` gives nanoseconds, `seed` seeds
 * get_prandom_u32, `cpuOf` tells the running CPU.
 */
export function clockHelpers(
  clock: () => bigint,
  seed: number,
  cpuOf: (m: Machine) => number,
): [number, HelperFunction][] {
  const random = seededRandom(seed);
  const h = new Map<number, HelperFunction>();
  const now = () => BigInt.asUintN(64, clock());
  h.set(HelperId.ktime_get_ns, now);
  h.set(HelperId.ktime_get_boot_ns, now);
  h.set(HelperId.ktime_get_coarse_ns, now);
  h.set(HelperId.ktime_get_tai_ns, now);
  h.set(HelperId.jiffies64, () => now() / 4_000_000n); // HZ=250
  h.set(HelperId.get_prandom_u32, () => random());
  h.set(HelperId.get_smp_processor_id, cpuOf);
  h.set(HelperId.get_numa_node_id, () => 0);
  return [...h];
}
