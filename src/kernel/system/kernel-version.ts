/**
 * The running kernel's version, read once from `uname -r` (`os.release()`): as
 * numbers for "since Linux X.Y" checks, and as `KERNEL_VERSION(a, b, c)` for what
 * kprobe programs once had to declare and `LINUX_KERNEL_VERSION` externs read.
 * @module
 */

import { release } from "node:os";

/** A kernel release as numbers: `6.18.44-amd64` is 6, 18, 44 (0 where `uname -r` has none). */
export interface KernelRelease {
  /** The major version, e.g. 6. */
  readonly major: number;
  /** The minor version, e.g. 18. */
  readonly minor: number;
  /** The patch level (sublevel), e.g. 44; 0 when the release names none. */
  readonly patch: number;
}

/**
 * Parses a `uname -r` string such as `6.18.44-amd64` or `5.15.0-91-generic`; all zeros
 * when it does not start with `MAJOR.MINOR`.
 *
 * @example
 * ```ts
 * parseKernelRelease("6.18.44-amd64"); // { major: 6, minor: 18, patch: 44 }
 * ```
 */
export function parseKernelRelease(text: string): KernelRelease {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return { major: 0, minor: 0, patch: 0 };
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

let running: KernelRelease | undefined;

/** The running kernel's release (from `os.release()`, parsed once). */
export function runningKernelRelease(): KernelRelease {
  running ??= parseKernelRelease(release());
  return running;
}

/**
 * `KERNEL_VERSION(major, minor, patch)` with the patch level capped at 255, as libbpf
 * and the kernel's own macro do (`6.1.300` is `KERNEL_VERSION(6, 1, 255)`).
 *
 * @example
 * ```ts
 * kernelVersionCode({ major: 6, minor: 18, patch: 44 }); // 0x06122c
 * ```
 */
export function kernelVersionCode(r: KernelRelease): number {
  return (r.major << 16) + (r.minor << 8) + Math.min(r.patch, 255);
}

/**
 * `KERNEL_VERSION(a, b, c)` of the running kernel: what kprobe programs once had to
 * declare in `kern_version`, and the value of a `LINUX_KERNEL_VERSION` extern.
 */
export function runningKernelVersion(): number {
  return kernelVersionCode(runningKernelRelease());
}
