#!/usr/bin/env node
// The `tsbpf` command: scripts/bundle-cli.mjs copies this file to dist/cli/tsbpf.cjs
// beside the bundled CLI (dist/cli/bundle/main.cjs) and writes the bundle's hash in.
//
// Why CommonJS and a code cache of our own: most of a short command's time is start-up.
// An ES module entry makes Node set up its ES module loader and resolve, read and
// compile each module; Node 20 has no compile cache (Node >= 22.1 has
// module.enableCompileCache, which covers ES modules). One CommonJS bundle, compiled
// from V8's code cache when there is one, skips the loader and most of the compiling:
// `tsbpf prog list` 1.25-1.28x a bare `node -e 0` against 1.50-1.56x for the ES module
// chunks (bench/cli-walltime.ts, 2026-12-07). The cache is kept per command (object
// and verb: the code a command runs) in $XDG_CACHE_HOME/tsbpf/v8 or ~/.cache/tsbpf/v8,
// a directory only this user may write: code read from a place others can write would
// run as this (often root) user. V8 refuses a cache made by another V8 or with other
// flags, but of the source it checks only the length: a cache made for another text of
// the same length is taken, and runs the code it holds. So the file names carry the
// bundle's hash (written in at build time; a bundle edited by hand afterwards is not
// covered) and Node's version, and a header with
// the data's length guards against a torn file (files are written whole and renamed
// into place; no checksum: node:crypto alone took ~10 ms to load). Any problem with the
// cache only means the bundle is compiled from source. TSBPF_NO_CODE_CACHE=1 turns it
// off. Each build or Node upgrade starts new files (~0.3-0.5 MB per command), so writing
// one also removes the files of other builds not written for STALE_DAYS: another
// install in use loses its cache at most once a week, and the directory does not grow
// by every version ever run.
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

const BUNDLE_HASH = "__TSBPF_BUNDLE_HASH__";
const bundle = path.join(__dirname, "bundle", "main.cjs");

/** The cache directory, made private if missing; undefined when it is not safe or possible. */
function cacheDir() {
  if (process.env.TSBPF_NO_CODE_CACHE === "1") return undefined;
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.env.HOME ? path.join(process.env.HOME, ".cache") : undefined);
  if (!base || !path.isAbsolute(base)) return undefined;
  const dir = path.join(base, "tsbpf", "v8");
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    const uid = process.geteuid ? process.geteuid() : -1;
    if (st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** The cache file of this command: the first two words that name it, or undefined. */
function cacheFile(dir, argv) {
  const words = argv.filter((a) => !a.startsWith("-")).slice(0, 2);
  if (!words.every((w) => /^[a-z][a-z0-9-]{0,23}$/.test(w))) return undefined;
  const command = words.length > 0 ? words.join("-") : "main";
  return path.join(dir, `${BUNDLE_HASH}-${process.version}-${process.arch}-${command}.bin`);
}

/** A cache file starts with these 8 bytes and the data's length (u32, little-endian). */
const MAGIC = Buffer.from("tsbpfv8\0");
const HEADER = MAGIC.length + 4;

/** The cached code (V8's data after the header); undefined if absent or torn. */
function readCache(file) {
  try {
    const raw = fs.readFileSync(file);
    const whole =
      raw.length > HEADER &&
      raw.subarray(0, MAGIC.length).equals(MAGIC) &&
      raw.readUInt32LE(MAGIC.length) === raw.length - HEADER;
    return whole ? raw.subarray(HEADER) : undefined;
  } catch {
    return undefined;
  }
}

/** Days after which another build's cache files (and torn temporary files) are removed. */
const STALE_DAYS = 7;

/** Removes other builds' cache files older than STALE_DAYS from `dir`; `own` is this build's prefix. */
function pruneCaches(dir, own) {
  const before = Date.now() - STALE_DAYS * 86_400_000;
  try {
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(own) && name.endsWith(".bin")) continue;
      if (!/^[0-9a-f]{16}-.*\.(bin|tmp)$/.test(name)) continue;
      const f = path.join(dir, name);
      if (fs.lstatSync(f).mtimeMs < before) fs.rmSync(f, { force: true });
    }
  } catch {
    // Best effort: a cache left behind only takes space.
  }
}

function writeCache(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header);
  header.writeUInt32LE(data.length, MAGIC.length);
  try {
    fs.writeFileSync(tmp, Buffer.concat([header, data]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
  pruneCaches(path.dirname(file), `${BUNDLE_HASH}-${process.version}-${process.arch}-`);
}

const argv = process.argv.slice(2);
const dir = cacheDir();
const file = dir && cacheFile(dir, argv);
const cachedData = file && readCache(file);
const source = fs.readFileSync(bundle, "utf8");
const script = new vm.Script(Module.wrap(source), {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
});
const mod = { exports: {} };
script.runInThisContext()(
  mod.exports,
  Module.createRequire(bundle),
  mod,
  bundle,
  path.dirname(bundle),
);
mod.exports.main(argv).then((code) => {
  process.exitCode = code;
  // Made after the command ran, so the functions it compiled are in it.
  if (file && code === 0 && (!cachedData || script.cachedDataRejected))
    writeCache(file, script.createCachedData());
});
