/**
 * The VM's test files again with every program compiled by the JIT from its first run
 * (`setDefaultJitMode("always")`): the interpreter's unit tests, helpers, contexts,
 * maps, collections, the sandbox, the examples and the VM fuzz targets, and (where a
 * kernel can answer) the differential test against BPF_PROG_TEST_RUN with 300 random
 * programs. Each file is imported here, so its tests register in this process, under
 * the JIT. The last test checks the JIT compiled programs and refused none.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { jitStats, setDefaultJitMode } from "../src/vm/jit/index.ts";

setDefaultJitMode("always");
process.env.TSBPF_DIFF_COUNT ??= "300";

// The kernel differential first: its fd-leak check counts this process's fds, which the
// fuzz workers' teardown would change under it.
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

test("the JIT compiled the programs of these files and refused none", () => {
  assert.ok(jitStats.compiled > 100, `compiled ${jitStats.compiled}`);
  assert.equal(jitStats.refused, 0, jitStats.lastRefusal);
});
