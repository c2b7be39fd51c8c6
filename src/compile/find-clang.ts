/**
 * Finding clang: the `clang` option, then `$TSBPF_CLANG`, then `$CLANG`, then the
 * newest `clang-N` on PATH, then `clang`. The first two or three are a user's explicit
 * choice: when one is set and unusable, that is the error (no silent fallback). A
 * clang must say `clang version N.x.y` with N >= {@link MIN_CLANG_MAJOR}.
 *
 * Running `clang --version` costs ~20 ms, so its answer is kept per binary (real path,
 * inode, size, mtime) in memory and under the cache directory: a compile served from
 * the cache runs no clang at all.
 *
 * @module
 */

import { execFile } from "node:child_process";
import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Environment, sha256, writeFileAtomic } from "./cache-dir.ts";
import { type ClangCandidate, ClangNotFoundError } from "./errors.ts";

const run = promisify(execFile);

/** The oldest clang whose BPF output tsbpf loads (BTF, CO-RE relocations, `.maps`). */
export const MIN_CLANG_MAJOR = 14;

/** The clang a compile uses. */
export interface ClangInfo {
  /** Its path, as found (not resolved through symlinks). */
  readonly path: string;
  /** `19.1.7`, from `clang --version`. */
  readonly version: string;
  /** The major version (19). */
  readonly major: number;
  /** The first line of `clang --version` ("Debian clang version 19.1.7 (3~deb12u1)"). */
  readonly banner: string;
}

/** Where {@link findClang} looks. */
export interface FindClangOptions {
  /** A path or a name on PATH; when given, nothing else is tried. */
  readonly clang?: string;
  /** The environment (`TSBPF_CLANG`, `CLANG`, `PATH`); default `process.env`. */
  readonly env?: Environment;
  /** Keeps `clang --version` answers here (`CACHE/clang/`); none: memory only. */
  readonly cacheDir?: string;
}

type Version = Omit<ClangInfo, "path">;
type Probe = { ok: true; version: Version } | { ok: false; reason: string };

const versions = new Map<string, Version>();

/**
 * The clang to compile with.
 *
 * @example
 * ```ts
 * const clang = await findClang(); // { path: "/usr/bin/clang-19", version: "19.1.7", ... }
 * ```
 * @throws {ClangNotFoundError} naming every candidate tried and the package to install
 */
export async function findClang(options: FindClangOptions = {}): Promise<ClangInfo> {
  const env = options.env ?? process.env;
  const tried: ClangCandidate[] = [];
  const explicit: [string, string | undefined][] = [
    ["the clang option", options.clang],
    ["$TSBPF_CLANG", env.TSBPF_CLANG],
    ["$CLANG", env.CLANG],
  ];
  for (const [what, value] of explicit) {
    if (!value) continue;
    const path = value.includes("/") ? value : onPath(value, env.PATH);
    const p = path ? await probe(path, options.cacheDir) : notFound(value, env.PATH);
    if (p.ok) return { path: path!, ...p.version };
    throw new ClangNotFoundError([{ candidate: `${value} (${what})`, reason: p.reason }]);
  }
  for (const [name, path] of pathCandidates(env.PATH)) {
    const major = /^clang-(\d+)$/.exec(name)?.[1];
    if (major !== undefined && Number(major) < MIN_CLANG_MAJOR) {
      tried.push({ candidate: path, reason: `older than clang ${MIN_CLANG_MAJOR}` });
      continue;
    }
    const p = await probe(path, options.cacheDir);
    if (p.ok) return { path, ...p.version };
    tried.push({ candidate: path, reason: p.reason });
  }
  throw new ClangNotFoundError(tried);
}

function notFound(name: string, pathVar: string | undefined): Probe {
  return {
    ok: false,
    reason: `not found${name.includes("/") ? "" : ` on PATH (${pathVar ?? ""})`}`,
  };
}

/** The directories of PATH, in order (an empty entry is the current directory). */
function pathDirs(pathVar: string | undefined): string[] {
  return (pathVar ?? "").split(":").map((d) => d || ".");
}

/** The first executable file `name` on PATH. */
function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of pathDirs(pathVar)) {
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Every `clang-N` on PATH, newest first (the first directory wins for a name), then
 * `clang`: [name, path] pairs.
 */
function pathCandidates(pathVar: string | undefined): [string, string][] {
  const found = new Map<string, string>();
  for (const dir of pathDirs(pathVar)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // a PATH entry that does not exist
    }
    for (const n of names) {
      if (/^clang(-\d+)?$/.test(n) && !found.has(n) && isExecutable(join(dir, n))) {
        found.set(n, join(dir, n));
      }
    }
  }
  const major = (n: string) => Number(/-(\d+)$/.exec(n)?.[1] ?? -1);
  return [...found].sort(([a], [b]) => major(b) - major(a));
}

/** Runs `path --version` (or remembers its answer) and checks the version. */
async function probe(path: string, cacheDir: string | undefined): Promise<Probe> {
  let key: string;
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    if (!st.isFile()) return { ok: false, reason: "not a file" };
    accessSync(real, constants.X_OK);
    key = sha256(`${real}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeMs}`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === "ENOENT" ? "not found" : `not executable (${code})` };
  }
  let version = versions.get(key) ?? readCachedVersion(cacheDir, key);
  if (!version) {
    let stdout: string;
    try {
      ({ stdout } = await run(path, ["--version"], { timeout: 30_000, encoding: "utf8" }));
    } catch (e) {
      return { ok: false, reason: `\`${path} --version\` failed: ${(e as Error).message}` };
    }
    const banner = stdout.split("\n")[0] ?? "";
    const m = /\bclang version (\d+)\.(\d+)(?:\.(\d+))?/.exec(stdout);
    if (!m) return { ok: false, reason: `not clang (--version says "${banner}")` };
    version = { version: `${m[1]}.${m[2]}.${m[3] ?? 0}`, major: Number(m[1]), banner };
    if (cacheDir) writeFileAtomic(join(cacheDir, "clang", `${key}.json`), JSON.stringify(version));
  }
  versions.set(key, version);
  if (version.major < MIN_CLANG_MAJOR) {
    return { ok: false, reason: `version ${version.version} is older than ${MIN_CLANG_MAJOR}` };
  }
  return { ok: true, version };
}

function readCachedVersion(cacheDir: string | undefined, key: string): Version | undefined {
  if (!cacheDir) return undefined;
  try {
    const v = JSON.parse(readFileSync(join(cacheDir, "clang", `${key}.json`), "utf8"));
    return typeof v.version === "string" &&
      typeof v.major === "number" &&
      typeof v.banner === "string"
      ? { version: v.version, major: v.major, banner: v.banner }
      : undefined;
  } catch {
    return undefined; // not cached (or unreadable: ask clang again)
  }
}
