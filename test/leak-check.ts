/**
 * The descriptor leak check every kernel test runs: tsbpf's own count of the fds it
 * owns (`openFdCount()`) and the process's entries in /proc/self/fd, before and after.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { openFdCount } from "../src/kernel/sys/index.ts";

/** Number of entries in /proc/self/fd: every descriptor the process has open. */
export function procFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Both descriptor counts at one moment. */
export interface FdCounts {
  /** tsbpf's `openFdCount()`. */
  readonly owned: number;
  /** Entries in /proc/self/fd. */
  readonly process: number;
}

/** Both descriptor counts now. */
export function fdCounts(): FdCounts {
  return { owned: openFdCount(), process: procFdCount() };
}

/** Asserts that both counts are what they were at `before`. */
export function assertFdCounts(before: FdCounts): void {
  assert.equal(openFdCount(), before.owned, "tsbpf Fd count changed");
  assert.equal(procFdCount(), before.process, "/proc/self/fd count changed");
}

/**
 * Runs `fn` and checks that it left no descriptor open, tsbpf's or the process's; when
 * `fn` returns a promise, the check runs once it settles (and the promise is returned).
 * When `fn` throws, its error is what the caller sees.
 */
export function assertNoLeak<T>(fn: () => Promise<T>): Promise<T>;
export function assertNoLeak<T>(fn: () => T): T;
export function assertNoLeak<T>(fn: () => T | Promise<T>): T | Promise<T> {
  const before = fdCounts();
  const out = fn();
  if (out instanceof Promise) {
    return out.then((v) => {
      assertFdCounts(before);
      return v;
    });
  }
  assertFdCounts(before);
  return out;
}
