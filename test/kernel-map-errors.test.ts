/**
 * Bad input to maps gives errors that say what is wrong and where, before any system
 * call when tsbpf can tell, and leaves no descriptor open.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { MapSpecError } from "../src/spec/map-spec.ts";
import { MapType } from "../src/uapi/index.ts";
import { noLeaks, skipUnlessRoot as skip, u32 } from "./map-model-support.ts";

describe("bad map input", { skip }, () => {
  test("wrong key size: RangeError naming the map and both sizes, before any syscall", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_keys",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 4,
      });
      try {
        assert.throws(() => m.lookup(new Uint8Array(8)), {
          name: "RangeError",
          message: 'hash map "t_keys": key is 8 bytes, expected 4',
        });
        assert.throws(
          () => m.update(new Uint8Array(3), new Uint8Array(8)),
          /key is 3 bytes, expected 4/,
        );
        assert.throws(() => m.delete(new Uint8Array(0)), /key is 0 bytes, expected 4/);
        assert.throws(() => m.nextKey(new Uint8Array(5)), /key is 5 bytes, expected 4/);
      } finally {
        m.close();
      }
    }));

  test("value of wrong length: RangeError naming the map and both sizes", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_values",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: 4,
      });
      const q = BpfMap.create({
        name: "t_q",
        type: MapType.QUEUE,
        keySize: 0,
        valueSize: 4,
        maxEntries: 4,
      });
      try {
        assert.throws(() => m.update(u32(0), new Uint8Array(4)), {
          name: "RangeError",
          message: 'array map "t_values": value is 4 bytes, expected 8',
        });
        assert.throws(
          () => q.push(new Uint8Array(8)),
          /queue map "t_q": value is 8 bytes, expected 4/,
        );
        assert.throws(
          () => m.updateBatch([u32(0)], [new Uint8Array(2)]),
          /values\[0\] is 2 bytes, expected 8/,
        );
      } finally {
        m.close();
        q.close();
      }
    }));

  test("a key to a queue: the error says queues have no keys and what to use", () =>
    noLeaks(() => {
      const q = BpfMap.create({
        name: "t_q2",
        type: MapType.QUEUE,
        keySize: 0,
        valueSize: 4,
        maxEntries: 4,
      });
      try {
        assert.throws(
          () => q.lookup(u32(1)),
          /queue map "t_q2": lookup\(\) is not an operation of queue maps \(use push\(\)\/pop\(\)\/peek\(\)\)/,
        );
        assert.throws(() => q.update(u32(1), u32(1)), TypeError);
      } finally {
        q.close();
      }
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_q3",
            type: MapType.QUEUE,
            keySize: 4,
            valueSize: 4,
            maxEntries: 4,
          }),
        {
          name: "MapSpecError",
          message: 'map "t_q3": keySize must be 0 for queue maps (they have no keys), got 4',
        },
      );
    }));

  test("unknown map type: the error names the type number", () =>
    noLeaks(() => {
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_unknown",
            type: 9999 as MapType,
            keySize: 4,
            valueSize: 4,
            maxEntries: 1,
          }),
        (e: unknown) => e instanceof MapSpecError && e.field === "type" && /9999/.test(e.message),
      );
    }));

  test("zero max entries: the error names the field", () =>
    noLeaks(() => {
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_zero",
            type: MapType.HASH,
            keySize: 4,
            valueSize: 4,
            maxEntries: 0,
          }),
        {
          name: "MapSpecError",
          message: 'map "t_zero": maxEntries must be at least 1 for hash maps, got 0',
        },
      );
    }));

  test("array keys must be 4 bytes; ring buffers a power-of-2 multiple of the page size", () =>
    noLeaks(() => {
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_arr",
            type: MapType.ARRAY,
            keySize: 8,
            valueSize: 4,
            maxEntries: 1,
          }),
        /keySize must be 4 for array maps, got 8/,
      );
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_rb",
            type: MapType.RINGBUF,
            keySize: 0,
            valueSize: 0,
            maxEntries: 12288,
          }),
        /maxEntries must be a power of 2 and a multiple of the page size/,
      );
    }));

  test("a kernel refusal the spec check cannot see still names the map and its parameters", () =>
    noLeaks(() => {
      // Too large for the kernel: a value of 2^31 bytes in a preallocated hash.
      assert.throws(
        () =>
          BpfMap.create({
            name: "t_huge",
            type: MapType.HASH,
            keySize: 4,
            valueSize: 2 ** 31,
            maxEntries: 1,
          }),
        (e: unknown) =>
          e instanceof Error &&
          /create hash map "t_huge"/.test(e.message) &&
          /value 2147483648/.test(e.message),
      );
    }));

  test("missing pin path: the error names the path and says whether bpffs is there", () =>
    noLeaks(() => {
      assert.throws(
        () => BpfMap.fromPin("/sys/fs/bpf/tsbpf-no-such-pin"),
        (e: unknown) =>
          e instanceof Error &&
          e.message.includes("/sys/fs/bpf/tsbpf-no-such-pin") &&
          /No such file or directory/.test(e.message) &&
          /is on bpffs, but nothing is pinned at/.test(e.message),
      );
      assert.throws(
        () => BpfMap.fromPin("/tmp/tsbpf-no-such-pin"),
        (e: unknown) =>
          e instanceof Error &&
          e.message.includes("/tmp/tsbpf-no-such-pin") &&
          /is not on a bpf filesystem/.test(e.message),
      );
      assert.throws(
        () => BpfMap.fromPin("/sys/fs/bpf/tsbpf-no-such-dir/x"),
        /\/sys\/fs\/bpf\/tsbpf-no-such-dir does not exist/,
      );
    }));

  test("a map id that does not exist", () =>
    noLeaks(() => {
      assert.throws(() => BpfMap.fromId(0x7fffffff), /no BPF map has id 2147483647/);
    }));
});
