// tsx, as the kernel-matrix guests run it (scripts/test-kernels.mjs puts this file at
// node_modules/tsx/dist/loader.mjs inside the guest, so `node --import tsx X.ts` works
// there unchanged). Under qemu's TCG, tsx itself costs 10 s per process even with its
// cache warm (31 s cold) before a test starts; this loader serves the JavaScript the
// host already made with esbuild, with tsx's options (tsxTransformOptions), from /tsbpf-js/<sha1 of the
// source>.js, and only runs esbuild for a .ts file the host did not see (one a test
// wrote). Only `load` is hooked: the project imports its .ts files by their own names.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

if (isMainThread) {
  process.setSourceMapsEnabled(true);
  register(import.meta.url);
}

const CACHE = "/tsbpf-js";
let esbuild;
let options;

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !/\.ts$/.test(url.split("?")[0]) || url.endsWith(".d.ts")) {
    return nextLoad(url, context);
  }
  const path = fileURLToPath(url);
  const text = readFileSync(path, "utf8");
  const hash = createHash("sha1").update(text).digest("hex");
  let source;
  try {
    source = readFileSync(`${CACHE}/${hash}.js`, "utf8");
  } catch {
    esbuild ??= await import("esbuild");
    options ??= JSON.parse(readFileSync(`${CACHE}/options.json`, "utf8"));
    source = esbuild.transformSync(text, { ...options, sourcefile: path }).code;
  }
  return { format: "module", source, shortCircuit: true };
}
