/**
 * DESIGN.md's layering rules, checked by reading every import in src/:
 * - the pure core (uapi, isa, btf, elf, spec, vm) imports no `node:` module and no
 *   native package, so it runs in a browser;
 * - arrows point one way: uapi <- isa <- btf <- spec <- elf <- (vm | kernel) <- cli,
 *   and vm and kernel never import each other;
 * - only src/kernel/sys/ imports koffi.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const SRC = resolve(import.meta.dirname, "../src");
const PURE = new Set(["uapi", "isa", "btf", "elf", "spec", "vm"]);
/** What each layer may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  uapi: [],
  isa: ["uapi"],
  btf: ["uapi", "isa"],
  spec: ["uapi", "isa", "btf"],
  elf: ["uapi", "isa", "btf", "spec"],
  vm: ["uapi", "isa", "btf", "elf", "spec"],
  kernel: ["uapi", "isa", "btf", "elf", "spec"],
  cli: ["uapi", "isa", "btf", "elf", "spec", "vm", "kernel"],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2]) as string);
  return out;
}

const layerOf = (file: string) => relative(SRC, file).split("/")[0] ?? "";

test("every source file sits in a known layer", () => {
  for (const f of sources(SRC)) {
    const layer = layerOf(f);
    if (layer.endsWith(".ts")) continue; // src/index.ts, the package entry
    assert.ok(layer in ALLOWED, `${relative(SRC, f)} is outside the layers of DESIGN.md`);
  }
});

test("the pure core imports no node: module and no native package", () => {
  for (const f of sources(SRC)) {
    if (!PURE.has(layerOf(f))) continue;
    for (const spec of importsOf(f)) {
      assert.ok(
        spec.startsWith("."),
        `${relative(SRC, f)} imports "${spec}": the pure core may import only its own files`,
      );
    }
  }
});

test("arrows point one way", () => {
  for (const f of sources(SRC)) {
    const from = layerOf(f);
    const allowed = ALLOWED[from];
    if (!allowed) continue;
    for (const spec of importsOf(f)) {
      if (!spec.startsWith(".")) continue;
      const target = layerOf(resolve(dirname(f), spec));
      if (target === from || target.endsWith(".ts")) continue;
      assert.ok(
        allowed.includes(target),
        `${relative(SRC, f)} (${from}) imports ${spec} (${target}), against DESIGN.md's arrows`,
      );
    }
  }
});

test("only src/kernel/sys/ touches the FFI", () => {
  for (const f of sources(SRC)) {
    const rel = relative(SRC, f);
    if (rel.startsWith("kernel/sys/")) continue;
    for (const spec of importsOf(f)) {
      assert.notEqual(spec, "koffi", `${rel} imports koffi; only src/kernel/sys/ may`);
    }
  }
});
