/**
 * The descriptor leak check every kernel test runs: tsbpf's own count of the fds it
 * owns (`openFdCount()`) and the process's entries in /proc/self/fd, before and after.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openFdCount } from "../src/kernel/sys/index.ts";

/** Where tsx caches what it compiled; its loader thread writes there whenever it likes. */
const TSX_CACHE = join(tmpdir(), "tsx-");

/** What `readlink` of one of this process's descriptors says, or undefined once closed. */
function fdTarget(fd: string): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * tsx compiles TypeScript in a long-lived esbuild child that its loader thread starts
 * on the first module missing from its cache, so the first `import()` of an uncompiled
 * module (the CLI imports its subcommands lazily) would add esbuild's two descriptors
 * for the rest of the process: the machine's cache state, not the code under test.
 * Importing a module compiled for this process alone, once, before any count is taken,
 * makes that happen here, on every machine. (An ES module, as the project's are: tsx
 * compiles CommonJS with another esbuild, in the main thread.)
 */
async function startTsxCompiler(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-leak-check-"));
  try {
    writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
    const file = join(dir, "warm.ts");
    writeFileSync(file, `export const pid: number = ${process.pid}; // ${Date.now()}\n`);
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
await startTsxCompiler();

/**
 * Number of descriptors the process has open, from /proc/self/fd, leaving out the files
 * tsx's loader thread writes to its cache at any moment. The listing's own descriptor is
 * gone by the time it is read.
 */
export function procFdCount(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    const target = fdTarget(fd);
    if (target === undefined || target.startsWith(TSX_CACHE)) continue;
    n++;
  }
  return n;
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

/**
 * Asserts that tsbpf's count is what it was at `before` and that the process's did not
 * grow (other code in the process — worker threads, test files loaded beside this one —
 * may close descriptors it opened earlier; only growth is a leak).
 */
export function assertFdCounts(before: FdCounts): void {
  assert.equal(openFdCount(), before.owned, "tsbpf Fd count changed");
  const now = procFdCount();
  assert.ok(now <= before.process, `/proc/self/fd count grew from ${before.process} to ${now}`);
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
