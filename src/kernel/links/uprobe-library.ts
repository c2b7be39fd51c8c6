/**
 * Finding the file behind a library or program name, for uprobes: "libc.so.6" or
 * "c" through /etc/ld.so.cache (as the dynamic linker would), then the usual library
 * directories; "bash" through $PATH.
 *
 * @module
 */

import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const CACHE = "/etc/ld.so.cache";
const MAGIC = "glibc-ld.so.cache1.1";
/** ld.so.cache entry flags naming this architecture's 64-bit libraries. */
const ARCH_FLAGS: Partial<Record<string, number>> = { x64: 0x0303, arm64: 0x0a03 };

/** Library directories searched when the cache has no entry. */
export const LIBRARY_DIRS: readonly string[] = [
  "/lib/x86_64-linux-gnu",
  "/usr/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib64",
  "/usr/lib64",
  "/lib",
  "/usr/lib",
  "/usr/local/lib",
];

/**
 * Entries of /etc/ld.so.cache (glibc's "1.1" format) for this architecture: library
 * name (soname, e.g. "libc.so.6") → path. Empty when the cache is missing or unreadable.
 */
export function readLdSoCache(path = CACHE): Map<string, string> {
  const out = new Map<string, string>();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    return out;
  }
  const text = new TextDecoder("latin1");
  // The new format may follow an old-format ("ld.so-1.7.0") block; find its magic.
  const start = Buffer.from(bytes).indexOf(MAGIC);
  if (start < 0 || start + 48 > bytes.length) return out;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nlibs = v.getUint32(start + 20, true);
  const want = ARCH_FLAGS[process.arch];
  const str = (off: number): string => {
    let end = off;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return text.decode(bytes.subarray(off, end));
  };
  for (let i = 0; i < nlibs; i++) {
    const e = start + 48 + i * 24;
    if (e + 24 > bytes.length) break;
    const flags = v.getInt32(e, true);
    if (want !== undefined && flags !== want) continue;
    const key = str(v.getUint32(e + 4, true));
    if (!out.has(key)) out.set(key, str(v.getUint32(e + 8, true)));
  }
  return out;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of binary `name`: a path (with a `/`) as given; a library ("libc.so.6",
 * "libc", "c") through /etc/ld.so.cache and then {@link LIBRARY_DIRS}; a program
 * through $PATH.
 *
 * @throws Error naming what was searched when nothing is found.
 */
export function resolveBinary(name: string): string {
  if (name.includes("/")) {
    if (!existsSync(name)) throw new Error(`${name} does not exist`);
    return name;
  }
  const isLib = name.includes(".so") || name.startsWith("lib");
  if (isLib || !name.includes(".")) {
    const candidates = name.includes(".so")
      ? [name]
      : [`${name.startsWith("lib") ? name : `lib${name}`}.so`];
    const cache = readLdSoCache();
    for (const c of candidates) {
      const hit = cache.get(c) ?? [...cache.entries()].find(([k]) => k.startsWith(`${c}.`))?.[1];
      if (hit) return hit;
      for (const dir of LIBRARY_DIRS) {
        const p = join(dir, c);
        if (existsSync(p)) return p;
      }
    }
    if (isLib) {
      throw new Error(
        `cannot find library ${name}: not in ${CACHE} nor in ${LIBRARY_DIRS.join(", ")}`,
      );
    }
  }
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(dir, name);
    if (dir && executable(p)) return p;
  }
  throw new Error(`cannot find ${name}: not a library in ${CACHE} and not a program in $PATH`);
}
