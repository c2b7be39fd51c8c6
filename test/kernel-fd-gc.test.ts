/**
 * A forgotten Fd is closed by the FinalizationRegistry once garbage-collected, and
 * openFdCount() follows (tests compare it before and after, so it must not drift).
 * Runs test/testdata/fd-gc-child.ts with --expose-gc so the collection can be forced.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

test("forgotten maps are closed after GC, and openFdCount() comes back down", { skip }, () => {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "test/testdata/fd-gc-child.ts"],
    { encoding: "utf8" },
  );
  const { before, during, after } = JSON.parse(out) as Record<
    "before" | "during" | "after",
    [number, number]
  >;
  assert.equal(during[0], before[0] + 5);
  assert.equal(during[1], before[1] + 5);
  assert.deepEqual(after, before);
});
