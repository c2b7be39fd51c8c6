#!/usr/bin/env node
// Builds the playground (playground/): esbuild bundles playground/src/main.ts and the
// pure core it imports (isa, elf, btf, spec, verifier, vm) into one minified ES module,
// and copies index.html and style.css beside it: dist/playground/ is a static site any
// server (or `tsbpf playground`) serves. A Node-only module reaching the bundle (a
// `node:` import, koffi, anything under src/kernel, src/cli or src/compile) fails the
// build, naming who imported it. `--quiet` prints nothing on success.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const SRC = join(ROOT, "playground");
const OUT = join(ROOT, "dist/playground");

/** Refuses what cannot run in a page. */
const browserOnly = {
  name: "browser-only",
  setup(b) {
    b.onResolve({ filter: /^(node:|koffi$)/ }, (args) => ({
      errors: [
        { text: `${args.path} is Node-only (imported by ${relative(ROOT, args.importer)})` },
      ],
    }));
    b.onResolve({ filter: /\/(kernel|cli|compile)\// }, (args) => {
      const importer = relative(ROOT, args.importer);
      return /^src\/(kernel|cli|compile)\//.test(importer) || args.path.includes("src/")
        ? { errors: [{ text: `${args.path} is not pure (imported by ${importer})` }] }
        : undefined;
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const result = await build({
  entryPoints: { playground: join(SRC, "src/main.ts") },
  outdir: OUT,
  // The VM and the ELF reader are chunks of their own, loaded after the first verdict.
  splitting: true,
  chunkNames: "chunk-[hash]",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  conditions: ["tsbpf-source"],
  plugins: [browserOnly],
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
copyFileSync(join(SRC, "style.css"), join(OUT, "style.css"));
// The chunks the entry imports statically, preloaded from the page's head: the browser
// fetches them with the entry instead of after parsing it (one round trip less).
const entry = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith("/playground.js"));
const preload = (entry?.[1].imports ?? [])
  .filter((i) => i.kind === "import-statement")
  .map((i) => `<link rel="modulepreload" href="${relative(OUT, join(ROOT, i.path))}">`)
  .join("\n");
const html = readFileSync(join(SRC, "index.html"), "utf8");
const script = '<script type="module" src="playground.js"></script>';
if (!html.includes(script)) throw new Error(`playground/index.html has no ${script}`);
writeFileSync(join(OUT, "index.html"), html.replace(script, `${preload}\n${script}`));

if (!process.argv.includes("--quiet")) {
  const files = readdirSync(OUT).map((f) => readFileSync(join(OUT, f)));
  const bytes = files.reduce((n, f) => n + f.length, 0);
  const gz = files.reduce((n, f) => n + gzipSync(f).length, 0);
  const entry = readFileSync(join(OUT, "playground.js")).length;
  console.log(
    `dist/playground: ${files.length} files, ${(bytes / 1024).toFixed(0)} KB (entry ${(entry / 1024).toFixed(0)} KB), ${(gz / 1024).toFixed(0)} KB gzipped`,
  );
}
