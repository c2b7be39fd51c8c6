/**
 * The possible CPUs, as the kernel counts them for per-CPU maps: values of per-CPU
 * maps come as one slot per possible CPU (not per online CPU), so a CPU that is
 * offline still has a slot.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { setThreadAffinity, threadAffinity } from "../sys/index.ts";

const POSSIBLE = "/sys/devices/system/cpu/possible";

/**
 * Parses a kernel CPU list ("0-3,5,7-8") into the CPU numbers it names.
 *
 * @example
 * ```ts
 * parseCpuList("0-2,4"); // [0, 1, 2, 4]
 * ```
 */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  const trimmed = text.trim();
  if (trimmed === "") return out;
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m)
      throw new Error(`cannot parse CPU list ${JSON.stringify(text)} at ${JSON.stringify(part)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo)
      throw new Error(`cannot parse CPU list ${JSON.stringify(text)}: range ${part} is backwards`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

let possible: number | undefined;

/**
 * How many slots a per-CPU map value has: the highest possible CPU number plus one
 * (read once from /sys/devices/system/cpu/possible, then cached).
 */
export function possibleCpus(): number {
  if (possible === undefined) {
    let text: string;
    try {
      text = readFileSync(POSSIBLE, "utf8");
    } catch (e) {
      throw new Error(`cannot read ${POSSIBLE} to count possible CPUs: ${(e as Error).message}`);
    }
    const cpus = parseCpuList(text);
    if (cpus.length === 0) throw new Error(`${POSSIBLE} lists no CPU`);
    possible = Math.max(...cpus) + 1;
  }
  return possible;
}

/** Bytes of one CPU's slot in a per-CPU value buffer: the value size rounded up to 8. */
export function perCpuSlotSize(valueSize: number): number {
  return (valueSize + 7) & ~7;
}

/**
 * Runs `fn` with the calling thread pinned to `cpu`, then gives the thread back the
 * CPUs it had. BPF_PROG_TEST_RUN runs a program on the caller's CPU, so what the run
 * writes per CPU (a perf ring's sample, a per-CPU map slot) lands in `cpu`'s slot.
 *
 * @example
 * ```ts
 * onCpu(1, () => prog.run({ data })); // the sample is in CPU 1's perf ring
 * ```
 * @throws SyscallError (EINVAL) when `cpu` is offline or not allowed to this process
 */
export function onCpu<T>(cpu: number, fn: () => T): T {
  const before = threadAffinity();
  setThreadAffinity([cpu]);
  try {
    return fn();
  } finally {
    setThreadAffinity(before);
  }
}
