/**
 * Deadlines in tests that hold on slow machines: a wait or a "done at once" bound is
 * written for a real CPU and scaled here, so qemu's emulated CPU (TCG, 5-20 times
 * slower) does not fail it while a real hang or crawl still does.
 * @module
 */

import { readFileSync } from "node:fs";

/**
 * How many times longer than on a real CPU a wait in a test may take here: 1, or 10
 * under qemu's TCG (an emulated CPU, which names itself "QEMU TCG CPU" in /proc/cpuinfo,
 * runs kernel and node code 5-20 times slower). TSBPF_TEST_TIME_SCALE (a number >= 1)
 * sets it.
 */
export const timeScale: number = (() => {
  const env = Number(process.env.TSBPF_TEST_TIME_SCALE);
  if (Number.isFinite(env) && env >= 1) return env;
  try {
    if (/^model name\s*:\s*QEMU TCG CPU/m.test(readFileSync("/proc/cpuinfo", "utf8"))) return 10;
  } catch {
    // no /proc: a real CPU as far as we can tell
  }
  return 1;
})();

/** `ms`, a deadline right for a real CPU, scaled for this machine ({@link timeScale}). */
export function scaled(ms: number): number {
  return ms * timeScale;
}
