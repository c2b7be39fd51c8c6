import assert from "node:assert/strict";
import { test } from "node:test";
import { MapType } from "../uapi/index.ts";
import { checkMapCompatible, MapIncompatibleError, mapMismatches } from "./map-compat.ts";

const base = { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 };

test("every mismatch is listed, in one typed error", () => {
  assert.deepEqual(mapMismatches(base, base), []);
  const have = { ...base, valueSize: 4, maxEntries: 8, flags: 1 };
  assert.deepEqual(
    mapMismatches(have, base).map((m) => m.field),
    ["valueSize", "maxEntries", "flags"],
  );
  assert.throws(
    () => checkMapCompatible("map pinned at /sys/fs/bpf/x", "x", have, base),
    (e: unknown) =>
      e instanceof MapIncompatibleError &&
      e.mapName === "x" &&
      e.mismatches.length === 3 &&
      e.message ===
        'map pinned at /sys/fs/bpf/x does not match spec "x": valueSize is 4, the spec says 8; maxEntries is 8, the spec says 16; flags is 1, the spec says 0',
  );
});
