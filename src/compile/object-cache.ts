/**
 * Compiled objects on disk, found again by a key over everything that went into the
 * command (source, arguments, clang's version, vmlinux.h's BTF hash) and checked
 * against every header clang read: clang's dependency list (`-MD`) is stored with each
 * header's SHA-256, and an entry whose headers changed since (a libbpf-dev upgrade, a
 * user header edited) is a miss. This is ccache's "direct mode", in small.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256, writeFileAtomic } from "./cache-dir.ts";

/** A cached object and what clang said when it was built (its warnings). */
export interface CachedObject {
  readonly bytes: Uint8Array;
  readonly stderr: string;
}

/** meta.json of an entry: each header read, with its hash, and clang's stderr. */
interface Meta {
  readonly deps: [path: string, hash: string][];
  readonly stderr: string;
}

const entryDir = (cacheDir: string, key: string) => join(cacheDir, "objects", key);

/**
 * The object cached under `key`, when every header it was built from still has the same
 * contents.
 */
export function lookupObject(cacheDir: string, key: string): CachedObject | undefined {
  const dir = entryDir(cacheDir, key);
  try {
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Meta;
    if (!Array.isArray(meta.deps) || typeof meta.stderr !== "string") return undefined;
    for (const [path, hash] of meta.deps) {
      if (sha256(readFileSync(path)) !== hash) return undefined;
    }
    return { bytes: new Uint8Array(readFileSync(join(dir, "object.o"))), stderr: meta.stderr };
  } catch {
    return undefined; // no entry, an entry being written, or a header gone: compile
  }
}

/** Stores an object under `key` with the headers (`deps`, absolute paths) it read. */
export function storeObject(
  cacheDir: string,
  key: string,
  bytes: Uint8Array,
  deps: readonly string[],
  stderr: string,
): void {
  const dir = entryDir(cacheDir, key);
  const meta: Meta = { deps: deps.map((p) => [p, sha256(readFileSync(p))]), stderr };
  writeFileAtomic(join(dir, "object.o"), bytes);
  // Last: an entry is complete once its meta.json exists.
  writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta));
}

/**
 * The prerequisites of a make rule as clang writes it with `-MD -MF`
 * (`out.o: a.c /usr/include/x.h \` continued on the next line; spaces in names escaped
 * as `\ `, `$` as `$$`).
 *
 * @example
 * ```ts
 * parseDepFile("o.o: a.c /usr/include/linux/bpf.h \\\n  b\\ c.h\n"); // ["a.c", "/usr/include/linux/bpf.h", "b c.h"]
 * ```
 */
export function parseDepFile(text: string): string[] {
  const body = text.replace(/\\\r?\n/g, " ");
  // The target ends at the first ": " that is not escaped.
  const colon = body.search(/(?<!\\):(\s|$)/);
  const rest = colon < 0 ? "" : body.slice(colon + 1);
  const deps: string[] = [];
  let cur = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === "\\" && i + 1 < rest.length && /[ \t#\\]/.test(rest[i + 1]!)) {
      cur += rest[++i];
    } else if (c === "$" && rest[i + 1] === "$") {
      cur += "$";
      i++;
    } else if (/\s/.test(c)) {
      if (cur) deps.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  if (cur) deps.push(cur);
  return deps;
}
