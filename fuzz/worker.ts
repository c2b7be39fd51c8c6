/**
 * The fuzz worker: runs inputs start, start + 1, ... of the target until told to stop,
 * writing its progress to shared memory (see harness.ts) and posting untyped errors.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { SLOT } from "./harness.ts";

/** What a target's worker module exports. */
export interface TargetWorker {
  /** Runs input `index` of `seed`; throws what the code under test threw. */
  runInput(seed: number, index: number): void | Promise<void>;
  /** True for an error that is an acceptable answer to bad input (typed, one line). */
  isTyped(e: unknown): boolean;
  /** Loads what the first input would load lazily, before the watchdog looks. */
  warmUp?(): void | Promise<void>;
}

const data = workerData as {
  target: string;
  seed: number;
  start: number;
  end: number;
  shared: SharedArrayBuffer;
};
const shared = new Float64Array(data.shared);
const t = (await import(data.target)) as TargetWorker;
await t.warmUp?.();

for (let i = data.start; i < data.end && shared[SLOT.STOP] !== 1; i++) {
  shared[SLOT.INDEX] = i;
  const t0 = Date.now();
  shared[SLOT.STARTED] = t0;
  try {
    await t.runInput(data.seed, i);
    shared[SLOT.OK]!++;
  } catch (e) {
    if (t.isTyped(e)) shared[SLOT.TYPED]!++;
    else {
      shared[SLOT.UNTYPED]!++;
      const err = e instanceof Error ? e : new Error(String(e));
      parentPort?.postMessage({
        index: i,
        name: err.name,
        message: `${err.message.split("\n")[0]}${err.stack ? ` @ ${err.stack.split("\n")[1]?.trim()}` : ""}`,
      });
    }
  }
  const took = Date.now() - t0;
  if (took > shared[SLOT.SLOWEST]!) shared[SLOT.SLOWEST] = took;
  shared[SLOT.STARTED] = 0;
}
shared[SLOT.DONE] = 1;
