#!/usr/bin/env node
// Bundles the CLI for start-up: `npm run build` runs this after tsc. esbuild writes
// src/cli/main.ts and everything it imports (commander included; koffi, a native
// addon, stays a package import) as minified ESM into dist/cli/bundle/: the entry
// (argument parsing, help, errors) and one chunk per lazily imported command module
// and per code they share, so `tsbpf version` parses a few kilobytes where the whole
// CLI is ~780 KB. The `tsbpf` bin, dist/cli/tsbpf.js, turns on Node's compile cache
// where Node has it (>= 22.1: V8's compiled code kept on disk between runs) and then
// loads the bundle's entry. Files the CLI reads at run time are found from the
// package's root (src/cli/package-files.ts), not from the chunks' paths.
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "dist/cli/bundle");

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: join(ROOT, "src/cli/main.ts") },
  outdir: OUT,
  splitting: true,
  chunkNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  minify: true,
  external: ["koffi"],
  // commander is CommonJS: its require() of Node's modules needs a real require. Made
  // on first use: createRequire costs ~0.4 ms, and every chunk carries this banner
  // (`prog list` loads 11 chunks; one of them requires anything).
  banner: {
    js: 'import { createRequire as __tsbpfCreateRequire } from "node:module"; let __tsbpfRequire; const require = (id) => (__tsbpfRequire ??= __tsbpfCreateRequire(import.meta.url))(id);',
  },
  metafile: true,
  logLevel: "warning",
});
const outputs = Object.entries(result.metafile.outputs);
const total = outputs.reduce((n, [, o]) => n + o.bytes, 0);
const entry = outputs.find(([f]) => f.endsWith("/main.js"))?.[1].bytes ?? 0;

const bin = join(ROOT, "dist/cli/tsbpf.js");
writeFileSync(
  bin,
  `#!/usr/bin/env node
// The tsbpf command (see scripts/bundle-cli.mjs): Node's compile cache (Node >= 22.1),
// then the bundled CLI.
import module from "node:module";
module.enableCompileCache?.();
const { main } = await import("./bundle/main.js");
process.exitCode = await main(process.argv.slice(2));
`,
);
chmodSync(bin, 0o755);
console.log(
  `dist/cli/bundle: ${outputs.length} files, ${(total / 1024).toFixed(0)} KB (entry ${(entry / 1024).toFixed(0)} KB); dist/cli/tsbpf.js`,
);
