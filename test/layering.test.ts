/**
 * DESIGN.md's layering rules, checked on every module reference in src/ (found by
 * TypeScript's parser: static, side-effect, type-only, re-exports, require and dynamic
 * imports — see import-sites.ts):
 * - the pure core (uapi, isa, btf, elf, spec, hist, metrics, verifier, vm) imports no `node:` module and no
 *   package, so it runs in a browser;
 * - arrows point one way: uapi <- isa <- btf <- spec <- elf <- verifier <- (vm | kernel)
 *   <- cli, with hist (histograms over spec's map interface) beside elf, metrics
 *   (maps as Prometheus/OTLP metrics) above hist, and compile (Node, not the kernel
 *   backend) between elf and cli,
 *   vm and kernel never import each other, and no layer imports the package entry
 *   (src/index.ts, which imports them all);
 * - only src/kernel/sys/ imports koffi;
 * - only src/elf reads SEC() names: nothing else imports its section table or parser
 *   (the loader writes an attach descriptor into each ProgramSpec instead);
 * - every module name is a literal, so the rules above can be checked.
 * A fixture with every import form (testdata/layering/) proves the scanner sees them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { type ImportSite, importSites } from "./import-sites.ts";

const SRC = resolve(import.meta.dirname, "../src");
const FIXTURE = join(import.meta.dirname, "testdata/layering/every-import-form.ts");
const PURE = new Set(["uapi", "isa", "btf", "elf", "spec", "hist", "metrics", "verifier", "vm"]);
/** What each layer may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  uapi: [],
  isa: ["uapi"],
  btf: ["uapi", "isa"],
  spec: ["uapi", "isa", "btf"],
  elf: ["uapi", "isa", "btf", "spec"],
  hist: ["uapi", "spec"],
  metrics: ["uapi", "btf", "spec", "hist"],
  verifier: ["uapi", "isa", "btf", "elf", "spec"],
  vm: ["uapi", "isa", "btf", "elf", "spec", "hist", "verifier"],
  kernel: ["uapi", "isa", "btf", "elf", "spec", "hist", "verifier"],
  // Node-only (it runs clang) but not the kernel backend: compiling needs no root.
  compile: ["uapi", "isa", "btf", "elf", "spec"],
  cli: [
    "uapi",
    "isa",
    "btf",
    "elf",
    "spec",
    "hist",
    "metrics",
    "verifier",
    "vm",
    "kernel",
    "compile",
  ],
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

/** The first path component of a path relative to src/: the layer, or a top-level file. */
const layerOf = (rel: string) => rel.split("/")[0] ?? "";

/** A rule: what is wrong with `site` in the file at `rel` (relative to src/), if anything. */
type Rule = (rel: string, site: ImportSite) => string | undefined;

const where = (rel: string, site: ImportSite) => `${rel}:${site.line} (${site.form} ${site.text})`;

const literalNames: Rule = (rel, site) =>
  site.specifier === undefined
    ? `${where(rel, site)}: a computed module name; its layer cannot be checked`
    : undefined;

const pureCore: Rule = (rel, site) =>
  PURE.has(layerOf(rel)) && site.specifier !== undefined && !site.specifier.startsWith(".")
    ? `${where(rel, site)} imports "${site.specifier}": the pure core may import only its own files`
    : undefined;

const oneWay: Rule = (rel, site) => {
  const from = layerOf(rel);
  const allowed = ALLOWED[from];
  if (!allowed || site.specifier === undefined || !site.specifier.startsWith(".")) return;
  const target = layerOf(relative(SRC, resolve(SRC, dirname(rel), site.specifier)));
  if (target === from) return;
  if (target.endsWith(".ts")) {
    return `${where(rel, site)} imports the package entry ${target}, which imports every layer`;
  }
  if (allowed.includes(target)) return;
  return `${where(rel, site)}: ${from} may not import ${target} (DESIGN.md's arrows)`;
};

const ffiInSys: Rule = (rel, site) =>
  !rel.startsWith("kernel/sys/") &&
  (site.specifier === "koffi" || site.specifier?.startsWith("koffi/"))
    ? `${where(rel, site)} imports koffi; only src/kernel/sys/ may`
    : undefined;

/** The modules that parse SEC() names; only src/elf may import them. */
const SECTION_PARSING = new Set(["elf/section-def.ts", "elf/section-defs.generated.ts"]);

const sectionNamesInElf: Rule = (rel, site) => {
  if (layerOf(rel) === "elf" || site.specifier === undefined || !site.specifier.startsWith(".")) {
    return undefined;
  }
  const target = relative(SRC, resolve(SRC, dirname(rel), site.specifier));
  if (SECTION_PARSING.has(target)) {
    return `${where(rel, site)} imports ${target}: only src/elf parses SEC() names (read spec.attach)`;
  }
  // The same parser through elf's index.
  return target.startsWith("elf/") &&
    /\b(parseSectionName|sectionMatches|SECTION_DEFS)\b/.test(site.text)
    ? `${where(rel, site)} takes elf's section-name parser: only src/elf parses SEC() names`
    : undefined;
};

/** Every source file of src/ (relative to it) and its module references, read once. */
let scanned: [string, ImportSite[]][] | undefined;

/** What `rule` finds wrong in every source file of src/. */
function check(rule: Rule): string[] {
  scanned ??= sources(SRC).map((f) => [relative(SRC, f), importSites(f, readFileSync(f, "utf8"))]);
  const problems: string[] = [];
  for (const [rel, sites] of scanned) {
    for (const site of sites) {
      const problem = rule(rel, site);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

test("every source file sits in a known layer", () => {
  for (const f of sources(SRC)) {
    const layer = layerOf(relative(SRC, f));
    if (layer.endsWith(".ts")) continue; // src/index.ts, the package entry
    assert.ok(layer in ALLOWED, `${relative(SRC, f)} is outside the layers of DESIGN.md`);
  }
});

test("every module name is a literal", () => {
  assert.deepEqual(check(literalNames), []);
});

test("the pure core imports no node: module and no package", () => {
  assert.deepEqual(check(pureCore), []);
});

test("arrows point one way", () => {
  assert.deepEqual(check(oneWay), []);
});

test("only src/elf parses section names", () => {
  assert.deepEqual(check(sectionNamesInElf), []);
});

test("only src/kernel/sys/ touches the FFI", () => {
  assert.deepEqual(check(ffiInSys), []);
});

test("the scanner sees every import form, and nothing in comments or strings", () => {
  const sites = importSites(FIXTURE, readFileSync(FIXTURE, "utf8"));
  assert.deepEqual(
    sites.map((s) => [s.form, s.specifier]),
    [
      ["import", "../kernel/static.ts"],
      ["side-effect import", "node:fs"],
      ["import", "../cli/type-only.ts"],
      ["import", "../kernel/multi-line.ts"],
      ["export from", "../vm/star.ts"],
      ["export from", "../vm/star-as.ts"],
      ["export from", "../elf/named.ts"],
      ["export from", "../spec/type-named.ts"],
      ["import equals", "koffi"],
      ["require", "node:path"],
      ["dynamic import", "../btf/dynamic.ts"],
      ["dynamic import", "../kernel/template.ts"],
      ["dynamic import", undefined],
      ["dynamic import", undefined],
      ["import type node", "../kernel/import-type.ts"],
      ["side-effect import", "../index.ts"],
    ],
  );
  // Read as if it sat in src/isa/, each reference breaks at least one rule, and the
  // rules name the right ones.
  const rel = "isa/every-import-form.ts";
  const rules = { literalNames, pureCore, oneWay, ffiInSys };
  const broken = sites.map((site) =>
    Object.entries(rules)
      .filter(([, rule]) => rule(rel, site) !== undefined)
      .map(([name]) => name),
  );
  assert.deepEqual(broken, [
    ["oneWay"],
    ["pureCore"],
    ["oneWay"],
    ["oneWay"],
    ["oneWay"],
    ["oneWay"],
    ["oneWay"],
    ["oneWay"],
    ["pureCore", "ffiInSys"],
    ["pureCore"],
    ["oneWay"],
    ["oneWay"],
    ["literalNames"],
    ["literalNames"],
    ["oneWay"],
    ["oneWay"],
  ]);
});
