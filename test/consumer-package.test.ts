/**
 * The consumer path (issue 14), as a new user walks it: `npm pack` of the built package,
 * then the README's "Five minutes" commands in an empty directory (its ```sh consumer
 * block, with `npm install tsbpf` pointed at the tarball and every install made
 * `--prefer-offline`, so the npm cache serves it when the registry is away), then the
 * README's ```ts consumer snippets: the VM one compiled under the tsconfig `tsc --init`
 * wrote, both under the README's ```json consumer tsconfig (skipLibCheck off), with the
 * TypeScript the commands installed and this repository's (5.9); the oldest the README
 * claims (5.2, fetched into its own directory; a skip naming the reason when npm cannot
 * get it) checks every subpath's typings without @types/node (whose newest releases need
 * a newer TypeScript), then the snippets with skipLibCheck.
 * Each compiled snippet runs and prints what the README's console block after it shows
 * (the kernel's line as root only). Also: the bin, a shipped example, CommonJS loading
 * as the README says, and typings free of TypeScript 5.7's generic typed arrays.
 *
 * Needs a fresh dist/ (`npm run build`; CI runs it after the build), skips otherwise.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { distSkip } from "./support/dist.ts";
import { NO_REGISTRY, ok, packTsbpf, run } from "./support/npm-project.ts";

const ROOT = join(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
/** The oldest TypeScript the README claims. */
const OLDEST_TS = "5.2";
const IS_ROOT = process.getuid?.() === 0;

/** The README's code blocks whose info string is `LANG consumer [NAME]`, by `LANG NAME`. */
function consumerBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of text.matchAll(/^```(\w+) consumer(?: (\w+))?\n([\s\S]*?)^```$/gm)) {
    const key = m[2] ? `${m[1]} ${m[2]}` : m[1]!;
    assert.ok(!blocks.has(key), `README.md has two \`\`\`${key} consumer blocks`);
    blocks.set(key, m[3]!);
  }
  return blocks;
}

/** The lines after `$ COMMAND` in the README's console block that starts with it. */
function consoleOutput(command: string): string[] {
  const at = README.indexOf(`\`\`\`console\n$ ${command}\n`);
  assert.ok(at >= 0, `README.md has a console block for \`${command}\``);
  const start = README.indexOf("\n", README.indexOf("$ ", at)) + 1;
  return README.slice(start, README.indexOf("```", start)).trimEnd().split("\n");
}

const blocks = consumerBlocks(README);
const block = (key: string): string => {
  const b = blocks.get(key);
  assert.ok(b, `README.md has a \`\`\`${key.replace(" ", " consumer ")} block`);
  return b;
};

const skip = distSkip(
  [
    join(ROOT, "dist/index.js"),
    join(ROOT, "dist/kernel/index.d.ts"),
    join(ROOT, "dist/cli/tsbpf.cjs"),
    join(ROOT, "dist/examples/xdp-count/xdp-count.js"),
  ],
  { examples: true },
);

describe("the package as a consumer installs it (README's five minutes)", { skip }, () => {
  let work = "";
  let project = "";
  /** Why the README's commands could not run here (no registry, no cache), or "". */
  let unavailable = "";

  before(() => {
    work = mkdtempSync(join(tmpdir(), "tsbpf-consumer-"));
    const tarball = packTsbpf(work);
    // The README's commands, as written, but for where the package comes from.
    const script = block("sh").trimEnd().split("\n");
    assert.equal(
      script.filter((l) => l === "npm install tsbpf").length,
      1,
      "README's commands install tsbpf with `npm install tsbpf`",
    );
    const commands = script.map((l) =>
      l === "npm install tsbpf"
        ? `npm install --prefer-offline ${tarball}`
        : l.replace(/^npm install /, "npm install --prefer-offline "),
    );
    const dir = /^mkdir (\S+)/.exec(script[0]!)?.[1];
    assert.ok(dir, "README's commands start by making the project's directory");
    project = join(work, dir);
    const r = run("bash", ["-euc", commands.join("\n")], work);
    if (r.status !== 0 && NO_REGISTRY.test(r.stderr)) {
      unavailable = `npm could not reach the registry nor find the packages in its cache: ${NO_REGISTRY.exec(r.stderr)?.[0]}`;
      return;
    }
    ok(r, "the README's commands");
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs the project's TypeScript (or `tsc`, a path) on the project; its errors on failure. */
  const tsc = (args: string[], tscPath = join(project, "node_modules/typescript/bin/tsc")) =>
    ok(run(process.execPath, [tscPath, ...args], project), `tsc ${args.join(" ")}`);

  test("the VM snippet compiles under `tsc --init`'s settings and prints what the README shows", (t) => {
    if (unavailable) return t.skip(unavailable);
    writeFileSync(join(project, "vm.ts"), block("ts vm"));
    tsc([]);
    const out = ok(run(process.execPath, ["vm.js"], project), "node vm.js");
    assert.deepEqual(out.trimEnd().split("\n"), consoleOutput("npx tsc && node vm.js"));
  });

  test("with the README's tsconfig, both snippets compile and run (the kernel's line as root)", (t) => {
    if (unavailable) return t.skip(unavailable);
    writeFileSync(join(project, "tsconfig.json"), block("json tsconfig"));
    writeFileSync(join(project, "vm.ts"), block("ts vm"));
    writeFileSync(join(project, "kernel.ts"), block("ts kernel"));
    tsc([]);
    const vm = ok(run(process.execPath, ["vm.js"], project), "node vm.js");
    assert.deepEqual(vm.trimEnd().split("\n"), consoleOutput("npx tsc && node vm.js"));
    const kernel = ok(run(process.execPath, ["kernel.js"], project), "node kernel.js");
    const want = consoleOutput("npx tsc && sudo node kernel.js");
    const got = kernel.trimEnd().split("\n");
    if (IS_ROOT) assert.deepEqual(got, want);
    else assert.deepEqual(got.slice(0, 1), want.slice(0, 1));
  });

  test(`this repository's TypeScript checks the snippets, skipLibCheck off; ${OLDEST_TS} every subpath's typings and the snippets`, (t) => {
    if (unavailable) return t.skip(unavailable);
    writeFileSync(join(project, "tsconfig.json"), block("json tsconfig"));
    writeFileSync(join(project, "vm.ts"), block("ts vm"));
    writeFileSync(join(project, "kernel.ts"), block("ts kernel"));
    // the README's tsconfig leaves skipLibCheck off: tsbpf's .d.ts files are checked too
    assert.doesNotMatch(block("json tsconfig"), /skipLibCheck/);
    tsc(["--noEmit"], join(ROOT, "node_modules/typescript/bin/tsc"));
    const oldest = join(work, `typescript-${OLDEST_TS}`);
    mkdirSync(oldest);
    const r = run(
      "npm",
      ["install", "--prefer-offline", "--no-save", "--no-package-lock", `typescript@${OLDEST_TS}`],
      oldest,
    );
    if (r.status !== 0 && NO_REGISTRY.test(r.stderr)) {
      return t.skip(`typescript@${OLDEST_TS}: npm could not reach the registry nor its cache`);
    }
    ok(r, `npm install typescript@${OLDEST_TS}`);
    const old = join(oldest, "node_modules/typescript/bin/tsc");
    assert.match(
      tsc(["--version"], old),
      new RegExp(`^Version ${OLDEST_TS.replace(".", "\\.")}\\.`),
    );
    // Every subpath's typings, checked (skipLibCheck off) without @types/node, whose
    // newest versions need a newer TypeScript than tsbpf does; then the snippets against
    // them with the README's tsconfig, @types/node's own files unchecked.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(pkg.exports).filter((s) => !s.includes("*"));
    writeFileSync(
      join(project, "every-subpath.ts"),
      subpaths.map((s, i) => `export type * as M${i} from "tsbpf${s.slice(1)}";\n`).join(""),
    );
    writeFileSync(
      join(project, "tsconfig.typings.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        compilerOptions: { types: [], noEmit: true },
        files: ["every-subpath.ts"],
      }),
    );
    tsc(["-p", "tsconfig.typings.json"], old);
    tsc(["--noEmit", "--skipLibCheck"], old);
  });

  test("the bin, a shipped example, and CommonJS loading as the README says", (t) => {
    if (unavailable) return t.skip(unavailable);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const version = ok(
      run(join(project, "node_modules/.bin/tsbpf"), ["-j", "version"], project),
      "tsbpf",
    );
    assert.equal(JSON.parse(version).version, pkg.version);
    // xdp-count's VM column runs without root; as root the kernel's column beside it
    const example = ok(
      run(process.execPath, ["node_modules/tsbpf/dist/examples/xdp-count/xdp-count.js"], project),
      "the xdp-count example",
    );
    assert.match(example, /^dropped\s+1\b/m);
    writeFileSync(
      join(project, "load.cjs"),
      `const { VmProgram } = require("tsbpf/vm");
import("tsbpf/kernel").then((k) => console.log(typeof VmProgram, typeof k.BpfMap));`,
    );
    assert.equal(
      ok(run(process.execPath, ["load.cjs"], project), "load.cjs"),
      "function function\n",
    );
  });
});

test("the built typings name no generic typed array (TypeScript < 5.7 reads none)", {
  skip,
}, () => {
  const bad: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".d.ts")) {
        const text = readFileSync(p, "utf8");
        for (const m of text.matchAll(
          /\b(?:(?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array|DataView|Buffer)<\w+>/g,
        ))
          bad.push(`${p}: ${m[0]}`);
        if (/\bNodeJS\./.test(text)) bad.push(`${p}: NodeJS.* (needs @types/node)`);
      }
    }
  };
  walk(join(ROOT, "dist"));
  assert.deepEqual(
    bad,
    [],
    "annotate these declarations (`: Uint8Array`) so tsc does not infer Uint8Array<ArrayBuffer>",
  );
});
