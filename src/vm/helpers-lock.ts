/**
 * spin_lock and spin_unlock. One thread runs a program, so a lock is a flag in the
 * lock word, and taking a lock already held is a deadlock (a VmError).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { HelperId } from "../uapi/index.ts";
import type { HelperFunction } from "./interpreter.ts";

/** spin_lock and spin_unlock, by id. */
export function lockHelpers(): [number, HelperFunction][] {
  const h = new Map<number, HelperFunction>();
  h.set(HelperId.spin_lock, (m) => {
    const lock = m.argPtr(1, 4, "readwrite");
    if (lock[0]) throw m.error("bpf_spin_lock: the lock is already held (deadlock)");
    lock[0] = 1;
    return 0;
  });
  h.set(HelperId.spin_unlock, (m) => {
    const lock = m.argPtr(1, 4, "readwrite");
    if (!lock[0]) throw m.error("bpf_spin_unlock: the lock is not held");
    lock[0] = 0;
    return 0;
  });
  return [...h];
}
