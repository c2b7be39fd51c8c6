/**
 * scripts/test-files.mjs: which test files there are, and which can reach the kernel
 * (the kernel matrix runs only those in its guests).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { kernelFacingTests, testFiles } from "../scripts/test-files.mjs";

const ROOT = resolve(import.meta.dirname, "..");

test("a file reaches the kernel through imports, helpers, cycles and dynamic imports", () => {
  const root = mkdtempSync(join(tmpdir(), "tsbpf-test-files-"));
  const put = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  try {
    put("src/kernel/map.ts", "export const m = 1;\n");
    put("src/kernel/map.test.ts", 'import { m } from "./map.ts";\n');
    put("src/vm/run.ts", 'import { x } from "../isa/x.js";\nexport const r = x;\n');
    put("src/isa/x.ts", "export const x = 1;\n");
    put("src/vm/run.test.ts", 'import { r } from "./run.ts";\n');
    put("test/support/kernel.ts", "export const kernelSkip = false;\n");
    put("test/direct.test.ts", 'import { m } from "../src/kernel/map.ts";\n');
    put("test/helper.ts", 'export * from "./support/kernel.ts";\n');
    put("test/via-helper.test.ts", 'import { kernelSkip } from "./helper.ts";\n');
    put("test/lazy.test.ts", 'const m = await import("../src/kernel/map.ts");\n');
    // a cycle: a -> b -> a, and b -> the kernel; c -> b must reach it too
    put("test/a.ts", 'import "./b.ts";\n');
    put("test/b.ts", 'import "./a.ts";\nimport "../src/kernel/map.ts";\n');
    put("test/cycle.test.ts", 'import "./a.ts";\nimport "./b.ts";\n');
    put("test/pure.test.ts", 'import { r } from "../src/vm/run.ts";\n');
    put("test/testdata/ignored.test.ts", "");
    const all = testFiles(root);
    assert.deepEqual(all, [
      "src/kernel/map.test.ts",
      "src/vm/run.test.ts",
      "test/cycle.test.ts",
      "test/direct.test.ts",
      "test/lazy.test.ts",
      "test/pure.test.ts",
      "test/via-helper.test.ts",
    ]);
    assert.deepEqual(kernelFacingTests(root, all), [
      "src/kernel/map.test.ts",
      "test/cycle.test.ts",
      "test/direct.test.ts",
      "test/lazy.test.ts",
      "test/via-helper.test.ts",
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("this repository: kernel tests face the kernel, the pure cores do not", () => {
  const all = testFiles(ROOT);
  const facing = new Set(kernelFacingTests(ROOT, all));
  for (const f of [
    "test/kernel-map.test.ts",
    "test/cli-prog.test.ts",
    "test/vm-differential.test.ts",
  ])
    assert.ok(facing.has(f), `${f} reaches the kernel`);
  for (const f of [
    "src/vm/interpreter.test.ts",
    "test/elf-reader.test.ts",
    "test/btf-dump.test.ts",
  ])
    assert.ok(all.includes(f) && !facing.has(f), `${f} is pure`);
});
