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
import { jitStats } from "../src/vm/jit/index.ts";
// Static imports, in this order: the JIT setting first (see that module); the kernel
// differential next (its fd-leak check counts this process's fds, which the fuzz
// workers' teardown would change under it).
import "./support/jit-matrix-always.ts";
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

test("the JIT compiled the programs of these files and refused none", () => {
  assert.ok(jitStats.compiled > 100, `compiled ${jitStats.compiled}`);
  assert.equal(jitStats.refused, 0, jitStats.lastRefusal);
});
