#!/usr/bin/env node
// Bundles the CLI for start-up: `npm run build` runs this after tsc. esbuild writes
// src/cli/main.ts and everything it imports (commander included; koffi, a native
// addon, stays a package import) as one minified CommonJS file,
// dist/cli/bundle/main.cjs; the command modules stay lazy (esbuild runs a module's
// top level on its first import), so a command runs only its own code. The `tsbpf`
// bin, dist/cli/tsbpf.cjs, is scripts/cli-launcher.cjs with the bundle's hash written
// in: it compiles the bundle from V8's code cache when it has one (see that file for
// why: Node 20 has no compile cache, and an ES module entry costs the ES module
// loader). Files the CLI reads at run time are found from the package's root
// (src/cli/package-files.ts), not from the bundle's path.
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "dist/cli/bundle");
const BUNDLE = join(OUT, "main.cjs");

rmSync(OUT, { recursive: true, force: true });
rmSync(join(ROOT, "dist/cli/tsbpf.js"), { force: true }); // the ES module bin of before
await build({
  entryPoints: [join(ROOT, "src/cli/main.ts")],
  outfile: BUNDLE,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20.19",
  minify: true,
  external: ["koffi"],
  // The source's import.meta, in CommonJS: the bundle's own file.
  define: { "import.meta.url": "__tsbpfBundleUrl", "import.meta.dirname": "__dirname" },
  // "use strict" first: the banner comes before esbuild's own, which would then no
  // longer be a directive, and the source (ES modules) is strict code.
  banner: {
    js: '"use strict";\nvar __tsbpfBundleUrl = require("node:url").pathToFileURL(__filename).href;',
  },
  logLevel: "warning",
});
// The launcher compiles the bundle as a function body: no #! line in it.
const code = readFileSync(BUNDLE, "utf8").replace(/^#!.*\n/, "");
writeFileSync(BUNDLE, code);
const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);

const bin = join(ROOT, "dist/cli/tsbpf.cjs");
const launcher = readFileSync(join(ROOT, "scripts/cli-launcher.cjs"), "utf8");
if (!launcher.includes("__TSBPF_BUNDLE_HASH__"))
  throw new Error("cli-launcher.cjs: no hash placeholder");
writeFileSync(bin, launcher.replace("__TSBPF_BUNDLE_HASH__", hash));
chmodSync(bin, 0o755);
console.log(
  `dist/cli/bundle/main.cjs: ${(Buffer.byteLength(code) / 1024).toFixed(0)} KB (hash ${hash}); dist/cli/tsbpf.cjs`,
);
