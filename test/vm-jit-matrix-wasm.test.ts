/**
 * The VM's test files again with every program compiled by the JIT's WebAssembly
 * target from its first run (`setDefaultJitMode("always")`, `setDefaultJitTarget("wasm")`):
 * the same files as test/vm-jit-matrix.test.ts (which runs them with the target each
 * program's heuristic picks). Programs the wasm compiler refuses (an irreducible CFG)
 * run in the JS target; the last test checks that most were compiled to wasm.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { jitStats } from "../src/vm/jit/index.ts";
import { wasmStats } from "../src/vm/jit/wasm/runtime.ts";
// Static imports, in this order: the JIT setting first (see that module); the kernel
// differential next (its fd-leak check counts this process's fds, which the fuzz
// workers' teardown would change under it).
import "./support/jit-matrix-wasm.ts";
import "./vm-differential.test.ts";
import "../src/vm/interpreter.test.ts";
import "../src/vm/helpers.test.ts";
import "./vm-contexts.test.ts";
import "./vm-maps.test.ts";
import "./vm-map-kinds.test.ts";
import "./vm-collection.test.ts";
import "./vm-collection-api.test.ts";
import "./vm-sandbox.test.ts";
import "./vm-examples.test.ts";
import "./vm-example-xdp-count.test.ts";
import "./fuzz-vm.test.ts";

test("the wasm target compiled the programs of these files", () => {
  assert.ok(wasmStats.instantiated > 100, `wasm ${wasmStats.instantiated}`);
  assert.ok(
    wasmStats.instantiated >= jitStats.compiled * 0.9,
    `wasm ${wasmStats.instantiated} of ${jitStats.compiled} compiled`,
  );
});
