#!/usr/bin/env node
// Copies the files the built code reads at run time from src/ into dist/, at the same
// relative paths: the committed BPF objects (*.bpf.o) the CLI's trace tools load.
// Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const SRC = join(ROOT, "src");
const DIST = join(ROOT, "dist");

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith(".bpf.o")) out.push(p);
  }
  return out;
}

for (const file of walk(SRC, [])) {
  const to = join(DIST, relative(SRC, file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
  console.log(relative(ROOT, to));
}
