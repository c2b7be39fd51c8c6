/**
 * The package's public surface: package.json "exports" lists one subpath per layer
 * users import (".", uapi, isa, btf, spec, elf, hist, metrics, vm, kernel, compile), each
 * pointing at the
 * dist/ file built from a src/ index that exists and loads; every layer's index.ts
 * has its subpath; the root entry gives DESIGN's `import { loadCollectionSpec } from
 * "tsbpf"`. When dist/ is built and newer than every source file, each subpath is
 * also imported through the package's own name (Node's self-reference). Under the
 * test runner (scripts/test.mjs) the tsbpf-source condition resolves the name to src/.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { distSkip } from "./support/dist.ts";

const ROOT = join(import.meta.dirname, "..");
/** One layer's entry in package.json "exports": source, typings, built code. */
interface LayerExport {
  "tsbpf-source": string;
  types: string;
  default: string;
}
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, LayerExport | string>;
  bin: Record<string, string>;
  files: string[];
};
/** The examples' files, built into dist/examples (objects beside compiled loaders). */
const EXAMPLES = "./examples/*";
const layers = Object.fromEntries(
  Object.entries(pkg.exports).filter((e): e is [string, LayerExport] => e[0] !== EXAMPLES),
);

/** The src/ file a dist/ .js path is built from. */
const sourceOf = (distPath: string): string =>
  join(ROOT, distPath.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));

test("exports: one subpath per public layer, each built from an existing src/ index", async () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), [
    ".",
    "./btf",
    "./compile",
    "./elf",
    EXAMPLES,
    "./hist",
    "./isa",
    "./kernel",
    "./metrics",
    "./spec",
    "./uapi",
    "./verifier",
    "./vm",
  ]);
  assert.equal(pkg.exports[EXAMPLES], "./dist/examples/*");
  // include/: tsbpf_log.h; vendor/: libbpf's headers, for compile() without libbpf-dev.
  assert.deepEqual(pkg.files, ["dist", "examples", "include", "vendor"]);
  for (const [sub, target] of Object.entries(layers)) {
    const dir = sub === "." ? "" : `${sub.slice(2)}/`;
    // the condition order matters: Node and TypeScript take the first that applies
    assert.deepEqual(Object.keys(target), ["tsbpf-source", "types", "default"], sub);
    assert.equal(target.default, `./dist/${dir}index.js`, sub);
    assert.equal(target.types, `./dist/${dir}index.d.ts`, sub);
    assert.equal(target["tsbpf-source"], `./src/${dir}index.ts`, sub);
    const src = sourceOf(target.default);
    assert.ok(existsSync(src), `${sub}: ${relative(ROOT, src)} exists`);
    const mod = (await import(pathToFileURL(src).href)) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${sub}: ${relative(ROOT, src)} exports something`);
  }
  // The bin is the bundled CLI's launcher (scripts/bundle-cli.mjs bundles src/cli/main.ts).
  assert.deepEqual(pkg.bin, { tsbpf: "dist/cli/tsbpf.cjs" });
  assert.ok(existsSync(join(ROOT, "scripts/bundle-cli.mjs")));
  assert.ok(existsSync(join(ROOT, "src/cli/main.ts")));
});

test("the bin: the bundled CLI runs and finds the files it reads (package.json, trace objects)", {
  skip: distFresh(join(ROOT, "dist/cli/tsbpf.cjs")),
}, () => {
  const bin = join(ROOT, "dist/cli/tsbpf.cjs");
  const version = execFileSync(process.execPath, [bin, "-j", "version"], { encoding: "utf8" });
  assert.equal(JSON.parse(version).version, pkg.version);
  const bad = spawnSync(process.execPath, [bin, "prog", "shwo"], { encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  // A chunk of the bundle finds the trace objects from the package's root (as root:
  // the tool loads them into the kernel).
  if (process.getuid?.() === 0) {
    const trace = spawnSync(process.execPath, [bin, "trace", "exec", "--duration", "1"], {
      encoding: "utf8",
    });
    assert.equal(trace.status, 0, trace.stderr);
    assert.match(trace.stdout, /^PCOMM\s+PID/);
  }
});

test("the bin's code cache: made per command in a private directory, checked, optional", {
  skip: distFresh(join(ROOT, "dist/cli/tsbpf.cjs")),
}, () => {
  const bin = join(ROOT, "dist/cli/tsbpf.cjs");
  const home = mkdtempSync(join(tmpdir(), "tsbpf-cache-"));
  try {
    const run = (env: Record<string, string>, ...args: string[]) =>
      execFileSync(process.execPath, [bin, ...args], {
        encoding: "utf8",
        env: { ...process.env, XDG_CACHE_HOME: home, ...env },
      });
    const dir = join(home, "tsbpf", "v8");
    const plain = run({}, "version");
    const files = readdirSync(dir);
    assert.equal(files.length, 1, files.join(" "));
    assert.match(files[0]!, /^[0-9a-f]{16}-v[\d.]+-\w+-version\.bin$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const cached = join(dir, files[0]!);
    const made = readFileSync(cached);
    // The cache in use gives the same output and stays as it is: a cache V8 refused
    // would be written anew, renamed into place as another file (another inode).
    const inode = statSync(cached).ino;
    assert.equal(run({}, "version"), plain);
    assert.deepEqual(readFileSync(cached), made);
    assert.equal(statSync(cached).ino, inode, "the cache was rewritten: V8 refused it");
    // A torn file (shorter than its header says) or a foreign one is not used: the bundle
    // is compiled from source and the file written anew.
    assert.deepEqual(made.subarray(0, 8), Buffer.from("tsbpfv8\0"));
    assert.equal(made.readUInt32LE(8), made.length - 12);
    for (const bad of [made.subarray(0, made.length >> 1), Buffer.from("not a cache")]) {
      writeFileSync(cached, bad);
      assert.equal(run({}, "version"), plain);
      const again = readFileSync(cached);
      assert.ok(again.length > made.length * 0.9, `rewritten: ${again.length} bytes`);
      assert.equal(again.readUInt32LE(8), again.length - 12);
    }
    // Another command has its own file; a failing one or a word that is no command none.
    run({}, "-j", "prog", "help");
    assert.ok(readdirSync(dir).some((f) => f.endsWith("-prog-help.bin")));
    spawnSync(process.execPath, [bin, "prog", "shwo"], {
      env: { ...process.env, XDG_CACHE_HOME: home },
    });
    spawnSync(process.execPath, [bin, "../x"], { env: { ...process.env, XDG_CACHE_HOME: home } });
    assert.equal(readdirSync(dir).length, 2, readdirSync(dir).join(" "));
    // Writing a cache removes other builds' files not written for a week, not newer ones
    // (another install in use) and not files that are not caches.
    const week = (Date.now() - 8 * 86_400_000) / 1000;
    const other = (name: string, old: boolean) => {
      writeFileSync(join(dir, name), "x");
      if (old) utimesSync(join(dir, name), week, week);
    };
    other("0123456789abcdef-v20.0.0-x64-version.bin", true);
    other("0123456789abcdef-v20.0.0-x64-version.bin.77.tmp", true);
    other("fedcba9876543210-v20.0.0-x64-version.bin", false);
    other("notes.txt", true);
    run({}, "-j", "map", "help");
    const left = readdirSync(dir);
    assert.ok(
      left.some((f) => f.endsWith("-map-help.bin")),
      left.join(" "),
    );
    assert.ok(!left.some((f) => f.startsWith("0123456789abcdef")), left.join(" "));
    assert.ok(left.includes("fedcba9876543210-v20.0.0-x64-version.bin"), left.join(" "));
    assert.ok(left.includes("notes.txt"), left.join(" "));
    // A directory others may write is not used, and TSBPF_NO_CODE_CACHE=1 turns it off.
    rmSync(dir, { recursive: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    assert.equal(run({}, "version"), plain);
    assert.deepEqual(readdirSync(dir), []);
    chmodSync(dir, 0o700);
    assert.equal(run({ TSBPF_NO_CODE_CACHE: "1" }, "version"), plain);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("every layer with an index.ts is a subpath (cli is the bin)", () => {
  const dirs = readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, "src", d.name, "index.ts")))
    .map((d) => d.name)
    .filter((d) => d !== "cli");
  for (const l of dirs) assert.ok(`./${l}` in layers, `src/${l}/index.ts has no export`);
});

test('the root entry: import { loadCollectionSpec } from "tsbpf" reads an object', async () => {
  const root = await import(pathToFileURL(sourceOf(layers["."]!.default)).href);
  assert.equal(typeof root.loadCollectionSpec, "function");
  assert.equal(typeof root.ELFError, "function");
  const spec = root.loadCollectionSpec(
    new Uint8Array(readFileSync(join(ROOT, "test/testdata/elf/xdp-maps.bpf.o"))),
  );
  assert.ok(spec.programs.xdp_count);
  assert.throws(() => root.loadCollectionSpec(new Uint8Array(8)), root.ELFError);
});

function distFresh(...more: string[]): string | false {
  return distSkip([...Object.values(layers).map((t) => join(ROOT, t.default)), ...more]);
}

test("self-reference: each subpath imports through the package name from dist/", {
  skip: distFresh(),
}, () => {
  const script = `
    const names = ${JSON.stringify(Object.keys(layers))};
    const out = {};
    for (const sub of names) {
      const spec = sub === "." ? "${pkg.name}" : "${pkg.name}/" + sub.slice(2);
      out[sub] = Object.keys(await import(spec)).length;
    }
    const root = await import("${pkg.name}");
    out.loadCollectionSpec = typeof root.loadCollectionSpec;
    console.log(JSON.stringify(out));`;
  const got = JSON.parse(
    execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    }),
  ) as Record<string, number | string>;
  for (const sub of Object.keys(layers)) assert.ok((got[sub] as number) > 0, sub);
  assert.equal(got.loadCollectionSpec, "function");
});

test("the test runner's tsbpf-source condition: the package name resolves to src/, one module with the relative imports", {
  skip: process.execArgv.includes("--conditions=tsbpf-source")
    ? false
    : "node runs without --conditions=tsbpf-source (scripts/test.mjs passes it)",
}, async () => {
  for (const [sub, target] of Object.entries(layers)) {
    const name = sub === "." ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    const want = pathToFileURL(join(ROOT, target["tsbpf-source"])).href;
    assert.equal(import.meta.resolve(name), want, name);
  }
  const byName = await import("tsbpf/kernel");
  const byPath = await import("../src/kernel/index.ts");
  assert.equal(byName.BpfMap, byPath.BpfMap);
});
