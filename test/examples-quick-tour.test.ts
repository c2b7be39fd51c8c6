/**
 * examples/quick-tour is the README's "API at a glance": run it and check every line,
 * so the README's snippet cannot drift from an API that works.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

test("examples/quick-tour: map, verifier log, test run, disassembly", { skip }, () => {
  const out = execFileSync(
    process.execPath,
    [...FROM_SOURCE, "examples/quick-tour/quick-tour.ts"],
    { encoding: "utf8" },
  );
  const lines = out.split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    "lookup 3: 300",
    "lookup 9: undefined",
    "sum of values: 1000",
    "batch lookup: 5 entries",
  ]);
  assert.match(lines[4] ?? "", /^verifier: processed 2 insns \(limit 1000000\)/);
  assert.equal(lines[5], "test run: retval 2, 64 bytes out");
  assert.deepEqual(lines.slice(6), ["   0: (b7) r0 = 2", "   1: (95) exit", ""]);
});
