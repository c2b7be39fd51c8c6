/**
 * The on-disk cache of {@link compile}: where it lives, and writes that other processes
 * compiling at the same time never see half done (write a temporary file, then rename).
 *
 * ```
 * CACHE/vmlinux/SHA256-OF-BTF/vmlinux.h   vmlinux.h per kernel BTF
 * CACHE/objects/KEY/object.o, meta.json  objects (meta.json written last: complete)
 * CACHE/clang/KEY.json                   clang's version, per binary
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The default cache directory: `$XDG_CACHE_HOME/tsbpf`, else `~/.cache/tsbpf` (the XDG
 * base directory rule).
 */
export function defaultCacheDir(env: Environment = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec: a relative path is invalid and must be ignored.
  return xdg?.startsWith("/") ? join(xdg, "tsbpf") : join(homedir(), ".cache", "tsbpf");
}

/** The SHA-256 of `data`, in hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes `data` to `path` so that a reader sees the old file or the whole new one:
 * into a temporary file beside it, then renamed over it. Makes the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Environment variables as compile() reads them: `process.env`'s shape, spelled without
 * @types/node's `NodeJS` namespace so the published typings need no Node types.
 */
export type Environment = Readonly<Record<string, string | undefined>>;
