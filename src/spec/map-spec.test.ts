import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MapFlags, MapType } from "../uapi/index.ts";
import {
  isKeylessMapType,
  isMapInMapType,
  isPerCpuMapType,
  type MapSpec,
  MapSpecError,
  sanitizeObjectName,
  validateMapSpec,
} from "./map-spec.ts";

const base = { name: "m", keySize: 4, valueSize: 8, maxEntries: 16 };

function fails(spec: MapSpec, field: string, message?: RegExp): void {
  assert.throws(
    () => validateMapSpec(spec),
    (e: unknown) => {
      assert.ok(e instanceof MapSpecError, `MapSpecError, got ${String(e)}`);
      assert.equal(e.field, field, e.message);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

describe("validateMapSpec", () => {
  test("accepts a valid spec of every common type", () => {
    const ok: MapSpec[] = [
      { ...base, type: MapType.HASH },
      { ...base, type: MapType.ARRAY },
      { ...base, type: MapType.PERCPU_HASH },
      { ...base, type: MapType.PERCPU_ARRAY },
      { ...base, type: MapType.LRU_HASH },
      { ...base, type: MapType.LRU_PERCPU_HASH, flags: MapFlags.NO_COMMON_LRU },
      { ...base, type: MapType.LPM_TRIE, keySize: 8, flags: MapFlags.NO_PREALLOC },
      { ...base, type: MapType.QUEUE, keySize: 0 },
      { ...base, type: MapType.STACK, keySize: 0 },
      { ...base, type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 3n },
      { name: "rb", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 * 4 },
      { ...base, type: MapType.PROG_ARRAY, valueSize: 4 },
      { ...base, type: MapType.PERF_EVENT_ARRAY, valueSize: 4, maxEntries: 0 },
      {
        ...base,
        type: MapType.ARRAY_OF_MAPS,
        valueSize: 4,
        innerMap: { ...base, type: MapType.ARRAY },
      },
      {
        ...base,
        type: MapType.HASH_OF_MAPS,
        valueSize: 4,
        innerMap: { ...base, type: MapType.HASH },
      },
      { ...base, type: MapType.CGROUP_STORAGE, keySize: 16, maxEntries: 0 },
      {
        ...base,
        type: MapType.TASK_STORAGE,
        maxEntries: 0,
        flags: MapFlags.NO_PREALLOC,
        btfKeyTypeId: 1,
        btfValueTypeId: 2,
      },
      { ...base, type: MapType.STACK_TRACE, valueSize: 8 * 127 },
      { ...base, type: MapType.DEVMAP, valueSize: 8 },
      {
        name: "a",
        type: MapType.ARENA,
        keySize: 0,
        valueSize: 0,
        maxEntries: 10,
        flags: MapFlags.MMAPABLE,
      },
    ];
    for (const spec of ok) validateMapSpec(spec);
  });

  test("names the field and the rule", () => {
    fails({ ...base, type: 9999 as MapType }, "type", /9999 is not a map type/);
    fails({ ...base, type: MapType.UNSPEC }, "type", /UNSPEC/);
    fails(
      { ...base, type: MapType.HASH, maxEntries: 0 },
      "maxEntries",
      /at least 1 for hash maps, got 0/,
    );
    fails(
      { ...base, type: MapType.ARRAY, keySize: 8 },
      "keySize",
      /must be 4 for array maps, got 8/,
    );
    fails({ ...base, type: MapType.ARRAY, valueSize: 0 }, "valueSize", /at least 1/);
    fails(
      { ...base, type: MapType.QUEUE },
      "keySize",
      /must be 0 for queue maps \(they have no keys\), got 4/,
    );
    fails({ ...base, type: MapType.BLOOM_FILTER }, "keySize");
    fails(
      { ...base, type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 16n },
      "mapExtra",
      /0\.\.15/,
    );
    fails(
      { ...base, type: MapType.HASH, mapExtra: 1n },
      "mapExtra",
      /only used by bloom_filter and arena/,
    );
    fails(
      { name: "rb", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 12288 },
      "maxEntries",
      /power of 2/,
    );
    fails(
      { name: "rb", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1024 },
      "maxEntries",
      /page size \(4096\)/,
    );
    fails(
      { name: "rb", type: MapType.RINGBUF, keySize: 0, valueSize: 8, maxEntries: 4096 },
      "valueSize",
    );
    fails({ ...base, type: MapType.LPM_TRIE, keySize: 8 }, "flags", /BPF_F_NO_PREALLOC/);
    fails(
      { ...base, type: MapType.LPM_TRIE, keySize: 4, flags: MapFlags.NO_PREALLOC },
      "keySize",
      /5\.\.260/,
    );
    fails(
      { ...base, type: MapType.LRU_HASH, flags: MapFlags.NO_PREALLOC },
      "flags",
      /must not include BPF_F_NO_PREALLOC/,
    );
    fails({ ...base, type: MapType.HASH, flags: MapFlags.NO_COMMON_LRU }, "flags");
    fails({ ...base, type: MapType.HASH, flags: MapFlags.RDONLY | MapFlags.WRONLY }, "flags");
    fails({ ...base, type: MapType.HASH, keySize: 600 }, "keySize", /1\.\.512/);
    fails({ ...base, type: MapType.PERCPU_ARRAY, valueSize: 40000 }, "valueSize", /1\.\.32768/);
    fails({ ...base, type: MapType.PROG_ARRAY }, "valueSize", /must be 4/);
    fails({ ...base, type: MapType.ARRAY_OF_MAPS, valueSize: 4 }, "innerMap", /required/);
    fails(
      {
        ...base,
        type: MapType.ARRAY_OF_MAPS,
        valueSize: 4,
        innerMap: { ...base, type: MapType.ARRAY, keySize: 2 },
      },
      "innerMap.keySize",
    );
    fails(
      { ...base, type: MapType.HASH, innerMap: { ...base, type: MapType.ARRAY } },
      "innerMap",
      /only for/,
    );
    fails({ ...base, type: MapType.CGROUP_STORAGE, keySize: 16 }, "maxEntries", /must be 0/);
    fails(
      { ...base, type: MapType.CGROUP_STORAGE, keySize: 12, maxEntries: 0 },
      "keySize",
      /8 or 16/,
    );
    fails(
      { ...base, type: MapType.SK_STORAGE, maxEntries: 0, flags: MapFlags.NO_PREALLOC },
      "btfKeyTypeId",
    );
    fails({ ...base, type: MapType.STRUCT_OPS, maxEntries: 1 }, "btfVmlinuxValueTypeId");
    fails({ ...base, type: MapType.STACK_TRACE, valueSize: 12 }, "valueSize", /multiple of 8/);
    fails(
      { name: "a", type: MapType.ARENA, keySize: 0, valueSize: 0, maxEntries: 1 },
      "flags",
      /MMAPABLE/,
    );
    fails({ ...base, type: MapType.HASH, keySize: -1 }, "keySize", /integer/);
    fails({ ...base, type: MapType.HASH, maxEntries: 1.5 }, "maxEntries", /integer/);
    fails(
      {
        ...base,
        type: MapType.HASH,
        contents: [{ key: new Uint8Array(4), value: new Uint8Array(4) }],
      },
      "contents[0].value",
      /is 4 bytes, the map's values are 8/,
    );
  });

  test("the message starts with the map's name", () => {
    assert.throws(
      () => validateMapSpec({ ...base, name: "counts", type: MapType.HASH, maxEntries: 0 }),
      { message: 'map "counts": maxEntries must be at least 1 for hash maps, got 0' },
    );
  });

  test("page size is an option", () => {
    const rb = {
      name: "rb",
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 16384,
    } as const;
    validateMapSpec(rb, { pageSize: 16384 });
    assert.throws(
      () => validateMapSpec({ ...rb, maxEntries: 8192 }, { pageSize: 16384 }),
      MapSpecError,
    );
  });
});

describe("map type helpers and names", () => {
  test("sanitizeObjectName keeps what the kernel accepts", () => {
    assert.equal(sanitizeObjectName("my-map:counts!"), "my_map_counts_");
    assert.equal(sanitizeObjectName("a.b_c9"), "a.b_c9");
    assert.equal(sanitizeObjectName("0123456789abcdefghij"), "0123456789abcde");
    assert.equal(sanitizeObjectName("é"), "_");
  });

  test("type classes", () => {
    assert.ok(isPerCpuMapType(MapType.LRU_PERCPU_HASH));
    assert.ok(!isPerCpuMapType(MapType.HASH));
    assert.ok(isMapInMapType(MapType.HASH_OF_MAPS));
    assert.ok(isKeylessMapType(MapType.BLOOM_FILTER));
    assert.ok(!isKeylessMapType(MapType.ARRAY));
  });
});
