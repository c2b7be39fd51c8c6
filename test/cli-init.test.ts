/**
 * `tsbpf init DIR`: the project it writes passes its own checks right after install —
 * the packed package installed into it from the tarball (`--tsbpf`), `npm install
 * --prefer-offline` (the npm cache serves tsx, typescript and @types/node), then
 * `npm run build` (tsbpf compile + gen types), `npm run typecheck` and `npm test`: the
 * VM test passes, and the kernel one too as root (skipped with its reason otherwise).
 * Also: a non-empty DIR, a bad name and a missing tarball are refused with a message
 * naming them, and the dev dependencies' versions are the ones package-lock.json has.
 *
 * The project test needs a fresh dist/ (`npm run build`; CI runs it after the build).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEV_DEPENDENCIES } from "../src/cli/init/project-files.ts";
import { findClang } from "../src/compile/index.ts";
import { isRoot, tsbpf } from "./cli-run.ts";
import { distSkip } from "./support/dist.ts";
import { needs, toolSkip } from "./support/kernel.ts";
import { NO_REGISTRY, ok, packTsbpf, run } from "./support/npm-project.ts";

const ROOT = join(import.meta.dirname, "..");

describe("tsbpf init's refusals", () => {
  let work = "";
  before(() => {
    work = mkdtempSync(join(tmpdir(), "tsbpf-init-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("a non-empty DIR: nothing written, the error names DIR and what is in it", async () => {
    const dir = join(work, "full");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "mine\n");
    const r = await tsbpf("init", dir);
    assert.equal(r.code, 255);
    assert.match(r.stderr, new RegExp(`init: ${dir} is not empty \\(1 entries: notes\\.txt\\)`));
    assert.equal(readFileSync(join(dir, "notes.txt"), "utf8"), "mine\n");
  });

  test("a name that is not a package and file name; a tarball that is not there", async () => {
    const bad = await tsbpf("init", join(work, "Bad_Name"));
    assert.equal(bad.code, 255);
    assert.match(
      bad.stderr,
      /name 'Bad_Name' \(from DIR .*\) is not .*: give one with --name NAME/,
    );
    const missing = await tsbpf("init", join(work, "p"), "--tsbpf", join(work, "no.tgz"));
    assert.equal(missing.code, 255);
    assert.match(missing.stderr, /--tsbpf .*no\.tgz: no such file or directory/);
  });

  test("the files, with --name, a tarball as an absolute file: spec, in JSON", async () => {
    const tarball = join(work, "t.tgz");
    writeFileSync(tarball, "");
    const dir = join(work, "made");
    const r = await tsbpf("-j", "init", dir, "--name", "pkt-count", "--tsbpf", tarball);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).files, [
      "package.json",
      "tsconfig.json",
      ".gitignore",
      "README.md",
      "src/pkt-count.bpf.c",
      "src/pkt-count.ts",
      "test/pkt-count.test.ts",
    ]);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    assert.equal(pkg.dependencies.tsbpf, `file:${tarball}`);
    assert.match(
      pkg.scripts.build,
      /tsbpf compile src\/pkt-count\.bpf\.c -o build\/pkt-count\.bpf\.o/,
    );
  });
});

test("the project's dev dependencies are at the versions package-lock.json installed", () => {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  };
  for (const [name, range] of Object.entries(DEV_DEPENDENCIES)) {
    assert.equal(range.slice(1), lock.packages[`node_modules/${name}`]?.version, name);
  }
});

// npm and clang are not aboard scripts/test-kernels.mjs's guests: there this skips.
const skip = needs(
  distSkip([join(ROOT, "dist/cli/tsbpf.cjs"), join(ROOT, "dist/spec/index.js")]),
  toolSkip("npm"),
  (await findClang().catch(() => undefined)) ? false : "no clang >= 14 on this machine",
);

test("a project from tsbpf init passes its own build, typecheck and test", { skip }, (t) => {
  const work = mkdtempSync(join(tmpdir(), "tsbpf-init-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const tarball = packTsbpf(work);
  const project = join(work, "xdp-demo");
  const bin = join(ROOT, "dist/cli/tsbpf.cjs");
  ok(run(process.execPath, [bin, "init", project, "--tsbpf", tarball], work), "tsbpf init");
  const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], project);
  if (install.status !== 0 && NO_REGISTRY.test(install.stderr)) {
    return t.skip(
      `npm could not reach the registry nor its cache: ${NO_REGISTRY.exec(install.stderr)?.[0]}`,
    );
  }
  ok(install, "npm install");
  ok(run("npm", ["run", "build"], project), "npm run build");
  ok(run("npm", ["run", "typecheck"], project), "npm run typecheck");
  const out = ok(run("npm", ["test"], project), "npm test");
  assert.match(out, /^ok 1 - in the VM: each packet passes/m);
  if (isRoot) assert.match(out, /^ok 2 - in the kernel: .*BPF_PROG_TEST_RUN$/m);
  else assert.match(out, /^ok 2 - in the kernel: .* # SKIP the kernel test needs root/m);
});
