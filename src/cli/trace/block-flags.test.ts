import assert from "node:assert/strict";
import { test } from "node:test";
import { blockFlagsName } from "./block-flags.ts";

test("blockFlagsName: BCC's operation names, each flag a prefix in BCC's order", () => {
  const SYNC = 1 << 11;
  const META = 1 << 12;
  const FUA = 1 << 17;
  const RAHEAD = 1 << 19;
  assert.equal(blockFlagsName(0), "Read");
  assert.equal(blockFlagsName(1 | SYNC), "Sync-Write");
  assert.equal(blockFlagsName(2), "Flush");
  assert.equal(blockFlagsName(5), "SecureErase");
  assert.equal(blockFlagsName(0 | META), "Metadata-Read");
  assert.equal(blockFlagsName(1 | SYNC | META | FUA), "ForcedUnitAccess-Metadata-Sync-Write");
  assert.equal(blockFlagsName(0 | RAHEAD), "ReadAhead-Read");
  assert.equal(blockFlagsName(0xff), "Unknown");
});
