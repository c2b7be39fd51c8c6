#!/usr/bin/env node
// Copies the files the built code reads at run time into dist/, at the same relative
// paths: the committed BPF objects (*.bpf.o) that src/'s CLI trace tools load (src/X ->
// dist/X), and those the examples load beside their compiled .js (examples/X ->
// dist/examples/X). Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith(".bpf.o")) out.push(p);
  }
  return out;
}

for (const [from, into] of [
  [join(ROOT, "src"), DIST],
  [join(ROOT, "examples"), join(DIST, "examples")],
]) {
  for (const file of walk(from, [])) {
    const to = join(into, relative(from, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
    console.log(relative(ROOT, to));
  }
}
