/**
 * The VM's test files again with every program compiled by the JIT's WebAssembly
 * target from its first run (`setDefaultJitMode("always")`, `setDefaultJitTarget("wasm")`):
 * the same files as test/vm-jit-matrix.test.ts (which runs them with the target each
 * program's heuristic picks). Programs the wasm compiler refuses (an irreducible CFG)
 * run in the JS target; the last test checks that most were compiled to wasm.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { jitStats, setDefaultJitMode } from "../src/vm/jit/index.ts";
import { setDefaultJitTarget } from "../src/vm/jit/wasm/choose.ts";
import { wasmStats } from "../src/vm/jit/wasm/runtime.ts";

setDefaultJitMode("always");
setDefaultJitTarget("wasm");
process.env.TSBPF_DIFF_COUNT ??= "300";

const FILES = [
  "./vm-differential.test.ts",
  "../src/vm/interpreter.test.ts",
  "../src/vm/helpers.test.ts",
  "./vm-contexts.test.ts",
  "./vm-maps.test.ts",
  "./vm-map-kinds.test.ts",
  "./vm-collection.test.ts",
  "./vm-collection-api.test.ts",
  "./vm-sandbox.test.ts",
  "./vm-examples.test.ts",
  "./vm-example-xdp-count.test.ts",
  "./fuzz-vm.test.ts",
];
for (const f of FILES) await import(f);

test("the wasm target compiled the programs of these files", () => {
  assert.ok(wasmStats.instantiated > 100, `wasm ${wasmStats.instantiated}`);
  assert.ok(
    wasmStats.instantiated >= jitStats.compiled * 0.9,
    `wasm ${wasmStats.instantiated} of ${jitStats.compiled} compiled`,
  );
});
