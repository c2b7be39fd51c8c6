import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MapSpecError } from "../../spec/map-spec.ts";
import { MapType, UpdateFlags } from "../../uapi/index.ts";
import { VmHashMap } from "./hash.ts";

/** A deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("VmHashMap lookups through the hash chains", () => {
  for (const type of [MapType.HASH, MapType.LRU_HASH] as const)
    for (const keySize of [1, 3, 4, 5, 8, 13, 16]) {
      test(`${type === MapType.HASH ? "hash" : "lru_hash"}, ${keySize}-byte keys: lookups agree with iteration and the last write`, () => {
        const maxEntries = 24;
        const m = new VmHashMap({ name: "h", type, keySize, valueSize: 4, maxEntries });
        const next = rng(keySize * 31 + type);
        // 40 distinct keys over the map's 24 entries: updates fail (hash) or evict (LRU).
        const keys = Array.from({ length: 40 }, (_, i) => {
          const k = new Uint8Array(keySize);
          for (let j = 0; j < keySize; j++) k[j] = next() & 0xff;
          k[0] = i; // distinct
          return k;
        });
        const model = new Map<string, number>();
        for (let step = 0; step < 3000; step++) {
          const k = keys[next() % keys.length]!;
          const op = next() % 4;
          if (op < 2) {
            const v = next() >>> 0;
            const flags = [UpdateFlags.ANY, UpdateFlags.NOEXIST, UpdateFlags.EXIST][next() % 3]!;
            const value = new Uint8Array(new Uint32Array([v]).buffer);
            if (m.updateRaw(k, 0, value, 0, flags) === 0) model.set(hex(k), v);
          } else if (op === 2) {
            if (m.deleteRaw(k, 0) === 0) model.delete(hex(k));
          }
          // Whatever LRU evicted leaves the model too.
          const present = new Set([...m.keys()].map(hex));
          if (type === MapType.LRU_HASH)
            for (const key of [...model.keys()]) if (!present.has(key)) model.delete(key);
          assert.equal(present.size, model.size, `step ${step}: keys`);
          for (const key of keys) {
            const got = m.lookup(key);
            const want = model.get(hex(key));
            if (want === undefined)
              assert.equal(got, undefined, `step ${step}: ${hex(key)} absent`);
            else assert.equal(new DataView(got!.buffer, got!.byteOffset).getUint32(0, true), want);
          }
        }
      });
    }
});

test("a max_entries the VM cannot preallocate is a MapSpecError before any allocation", () => {
  assert.throws(
    () =>
      new VmHashMap({
        name: "huge",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 3188457488,
      }),
    (e: unknown) =>
      e instanceof MapSpecError && /more than a VM map may preallocate/.test(e.message),
  );
});
