/**
 * Every map operation against the real kernel, type by type: hash, array, per-CPU
 * hash/array, LRU hash, LPM trie, queue, stack, bloom filter, ring buffer, map-in-map,
 * program array; the update flags' semantics; batches with partial counts; iteration
 * while deleting; freeze; info. Each test checks it leaves no descriptor behind.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KernelBTF } from "../src/kernel/btf/kernel-btf.ts";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { MapBatchError } from "../src/kernel/maps/map-batch.ts";
import { mapInfoById } from "../src/kernel/maps/map-info.ts";
import { SyscallError } from "../src/kernel/sys/index.ts";
import { possibleCpus } from "../src/kernel/system/cpus.ts";
import { MapFlags, MapType, UpdateFlags } from "../src/uapi/index.ts";
import { lpm4, noLeaks, readU32, skipUnlessRoot as skip, u32, u64 } from "./map-model-support.ts";

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return "ok";
};

describe("hash map", { skip }, () => {
  test("lookup, update with each flag, delete, lookupAndDelete, nextKey", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_hash",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 4,
      });
      try {
        assert.equal(m.lookup(u32(1)), undefined, "missing key is undefined");
        m.update(u32(1), u64(10));
        assert.deepEqual(m.lookup(u32(1)), u64(10));
        assert.equal(
          code(() => m.update(u32(1), u64(11), UpdateFlags.NOEXIST)),
          "EEXIST",
        );
        assert.equal(
          code(() => m.update(u32(2), u64(20), UpdateFlags.EXIST)),
          "ENOENT",
        );
        m.update(u32(1), u64(12), UpdateFlags.EXIST);
        m.update(u32(2), u64(20), UpdateFlags.NOEXIST);
        assert.deepEqual(m.lookup(u32(1)), u64(12));
        m.update(u32(3), u64(30));
        m.update(u32(4), u64(40));
        assert.equal(
          code(() => m.update(u32(5), u64(50))),
          "E2BIG",
          "full",
        );
        m.update(u32(4), u64(41)); // replacing in a full map works
        assert.equal(m.delete(u32(3)), true);
        assert.equal(m.delete(u32(3)), false);
        assert.deepEqual(m.lookupAndDelete(u32(4)), u64(41));
        assert.equal(m.lookupAndDelete(u32(4)), undefined);
        const first = m.nextKey();
        assert.ok(first);
        const second = m.nextKey(first);
        assert.ok(second);
        assert.equal(m.nextKey(second), undefined);
        assert.deepEqual(new Set([readU32(first), readU32(second)]), new Set([1, 2]));
        const out = new Uint8Array(8);
        assert.equal(m.lookupInto(u32(2), out), true);
        assert.deepEqual(out, u64(20));
        assert.equal(m.lookupInto(u32(9), out), false);
        const error = (() => {
          try {
            m.update(u32(2), u64(0), UpdateFlags.NOEXIST);
          } catch (e) {
            return e as SyscallError;
          }
        })();
        assert.ok(error instanceof SyscallError);
        assert.match(error.message, /hash map "t_hash".*File exists.*BPF_NOEXIST/);
      } finally {
        m.close();
      }
    }));

  test("keys() and entries() survive deleting the current key", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_iter",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 64,
      });
      try {
        for (let i = 0; i < 50; i++) m.update(u32(i), u32(i * 2));
        const seen: number[] = [];
        for (const k of m.keys()) {
          seen.push(readU32(k) as number);
          m.delete(k);
        }
        assert.equal(seen.length, 50);
        assert.equal(new Set(seen).size, 50, "each key exactly once");
        assert.equal(m.nextKey(), undefined);
        for (let i = 0; i < 10; i++) m.update(u32(i), u32(i * 2));
        const entries = [...m.entries()].map(([k, v]) => [readU32(k), readU32(v)]);
        assert.equal(entries.length, 10);
        for (const [k, v] of entries) assert.equal(v, (k as number) * 2);
        assert.equal([...m].length, 10, "the map itself iterates its entries");
        assert.equal([...m.entriesBatched(3)].length, 10);
      } finally {
        m.close();
      }
    }));

  test("batch update, lookup, delete and lookup-and-delete, with partial counts", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_batch",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 100,
      });
      try {
        const keys = Array.from({ length: 40 }, (_, i) => u32(i));
        assert.equal(
          m.updateBatch(
            keys,
            keys.map((_, i) => u64(i * 3)),
          ),
          40,
        );
        const all = new Map<number, number>();
        let cursor: Uint8Array | undefined;
        do {
          const chunk = m.lookupBatch(16, cursor);
          for (const [k, v] of chunk.entries()) all.set(readU32(k) as number, readU32(v) as number);
          cursor = chunk.cursor;
        } while (cursor);
        assert.equal(all.size, 40);
        for (const [k, v] of all) assert.equal(v, k * 3);
        // packed input works too
        const packed = new Uint8Array(8);
        packed.set(u32(100), 0);
        packed.set(u32(101), 4);
        assert.equal(m.updateBatch(packed, new Uint8Array(16)), 2);
        // delete stops at the first missing key and says how far it got
        const err = (() => {
          try {
            m.deleteBatch([u32(0), u32(1), u32(999), u32(2)]);
          } catch (e) {
            return e as MapBatchError;
          }
        })();
        assert.ok(err instanceof MapBatchError, "MapBatchError");
        assert.equal(err.code, "ENOENT");
        assert.equal(err.processed, 2);
        assert.equal(m.lookup(u32(1)), undefined);
        assert.ok(m.lookup(u32(2)));
        assert.equal(
          code(() => m.updateBatch([u32(1)], [u64(1)], { elemFlags: UpdateFlags.NOEXIST })),
          "EINVAL",
        );
        let removed = 0;
        cursor = undefined;
        do {
          const chunk = m.lookupAndDeleteBatch(64, cursor);
          removed += chunk.count;
          cursor = chunk.cursor;
        } while (cursor);
        assert.equal(removed, 40);
        assert.equal(m.nextKey(), undefined);
        assert.throws(() => m.lookupBatch(4, new Uint8Array(3)), /cursor is 3 bytes, expected 4/);
      } finally {
        m.close();
      }
    }));

  test("freeze makes the map read-only from user space; info says frozen", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_frozen",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 4,
        contents: [{ key: u32(7), value: u32(70) }],
        freeze: true,
      });
      try {
        assert.equal(readU32(m.lookup(u32(7))), 70);
        assert.equal(
          code(() => m.update(u32(1), u32(1))),
          "EPERM",
        );
        assert.equal(m.info().frozen, true);
      } finally {
        m.close();
      }
    }));
});

describe("array map", { skip }, () => {
  test("every index exists; NOEXIST is EEXIST, out of range E2BIG/undefined, delete EINVAL", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_array",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 8,
      });
      try {
        assert.deepEqual(m.lookup(u32(3)), u32(0), "zeroed");
        m.update(u32(3), u32(33), UpdateFlags.EXIST);
        assert.equal(readU32(m.lookup(u32(3))), 33);
        assert.equal(
          code(() => m.update(u32(3), u32(1), UpdateFlags.NOEXIST)),
          "EEXIST",
        );
        assert.equal(
          code(() => m.update(u32(8), u32(1))),
          "E2BIG",
        );
        assert.equal(m.lookup(u32(1000)), undefined);
        assert.equal(
          code(() => m.delete(u32(3))),
          "EINVAL",
        );
        assert.equal(
          code(() => m.lookupAndDelete(u32(3))),
          "ENOTSUPP",
        );
        assert.deepEqual([...m.keys()].map(readU32), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert.equal(readU32(m.nextKey(u32(100))), 0, "after an index out of range: the first");
        assert.equal(m.nextKey(u32(7)), undefined);
        const chunk = m.lookupBatch(5);
        assert.equal(chunk.count, 5);
        assert.equal(readU32(chunk.value(3)), 33);
        const rest = m.lookupBatch(5, chunk.cursor);
        assert.equal(rest.count, 3);
        assert.equal(rest.cursor, undefined);
        const err = (() => {
          try {
            m.updateBatch([u32(1), u32(2), u32(50), u32(4)], [u32(1), u32(2), u32(3), u32(4)]);
          } catch (e) {
            return e as MapBatchError;
          }
        })();
        assert.ok(err instanceof MapBatchError);
        assert.equal(err.code, "E2BIG");
        assert.equal(err.processed, 2);
        assert.equal(readU32(m.lookup(u32(2))), 2);
        assert.equal(readU32(m.lookup(u32(4))), 0);
      } finally {
        m.close();
      }
    }));
});

describe("per-CPU maps", { skip }, () => {
  const cpus = skip ? 1 : possibleCpus();

  test("per-CPU array: one value per possible CPU", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_pcarr",
        type: MapType.PERCPU_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 4,
      });
      try {
        assert.equal(m.cpus, cpus);
        const values = Array.from({ length: cpus }, (_, c) => u32(100 + c));
        m.updatePerCpu(u32(1), values);
        assert.deepEqual(m.lookupPerCpu(u32(1)), values);
        assert.deepEqual(
          m.lookupPerCpu(u32(0)),
          Array.from({ length: cpus }, () => u32(0)),
        );
        assert.equal(m.lookupPerCpu(u32(9)), undefined);
        assert.throws(() => m.lookup(u32(1)), /lookupPerCpu/);
        assert.throws(() => m.updatePerCpu(u32(1), [u32(1)].slice(0, cpus - 1)), RangeError);
        const chunk = m.lookupBatch(4);
        assert.equal(chunk.valueStride, 8 * cpus, "slots rounded up to 8 bytes");
        assert.deepEqual(m.splitPerCpu(chunk.value(1)), values);
      } finally {
        m.close();
      }
    }));

  test("per-CPU hash and LRU per-CPU hash", () =>
    noLeaks(() => {
      for (const type of [MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH]) {
        const m = BpfMap.create({
          name: "t_pchash",
          type,
          keySize: 8,
          valueSize: 12,
          maxEntries: 8,
        });
        try {
          const values = Array.from({ length: cpus }, (_, c) => new Uint8Array(12).fill(c + 1));
          m.updatePerCpu(u64(5), values, UpdateFlags.NOEXIST);
          assert.equal(
            code(() => m.updatePerCpu(u64(5), values, UpdateFlags.NOEXIST)),
            "EEXIST",
          );
          assert.deepEqual(m.lookupPerCpu(u64(5)), values);
          assert.deepEqual(
            [...m.entriesPerCpu()].map(([k, v]) => [k, v]),
            [[u64(5), values]],
          );
          assert.equal(m.delete(u64(5)), true);
          assert.equal(m.lookupPerCpu(u64(5)), undefined);
        } finally {
          m.close();
        }
      }
    }));
});

describe("LRU hash", { skip }, () => {
  test("never fails for room: evicts, stays within max entries, keeps the newest key", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_lru",
        type: MapType.LRU_HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 16,
      });
      try {
        for (let i = 0; i < 200; i++) {
          m.update(u32(i), u32(i));
          assert.equal(readU32(m.lookup(u32(i))), i);
          assert.ok([...m.keys()].length <= 16);
        }
      } finally {
        m.close();
      }
    }));
});

describe("LPM trie", { skip }, () => {
  test("IPv4 longest-prefix match, flags, walk", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_lpm",
        type: MapType.LPM_TRIE,
        keySize: 8,
        valueSize: 4,
        maxEntries: 8,
        flags: MapFlags.NO_PREALLOC,
      });
      try {
        m.update(lpm4(8, 10, 0, 0, 0), u32(8));
        m.update(lpm4(16, 10, 1, 0, 0), u32(16));
        m.update(lpm4(24, 10, 1, 2, 0), u32(24));
        m.update(lpm4(0, 0, 0, 0, 0), u32(0));
        assert.equal(readU32(m.lookup(lpm4(32, 10, 1, 2, 3))), 24);
        assert.equal(readU32(m.lookup(lpm4(32, 10, 1, 3, 3))), 16);
        assert.equal(readU32(m.lookup(lpm4(32, 10, 9, 9, 9))), 8);
        assert.equal(readU32(m.lookup(lpm4(32, 11, 0, 0, 1))), 0, "the default route");
        assert.equal(readU32(m.lookup(lpm4(16, 10, 1, 2, 3))), 16, "only prefixes up to the key's");
        assert.equal(
          code(() => m.update(lpm4(16, 10, 1, 99, 99), u32(1), UpdateFlags.NOEXIST)),
          "EEXIST",
        );
        assert.equal(
          code(() => m.update(lpm4(33, 10, 1, 0, 0), u32(1))),
          "EINVAL",
        );
        assert.equal(m.delete(lpm4(0, 0, 0, 0, 0)), true);
        assert.equal(m.lookup(lpm4(32, 11, 0, 0, 1)), undefined);
        assert.equal([...m.keys()].length, 3);
      } finally {
        m.close();
      }
    }));

  test("IPv6 keys", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_lpm6",
        type: MapType.LPM_TRIE,
        keySize: 20,
        valueSize: 4,
        maxEntries: 8,
        flags: MapFlags.NO_PREALLOC,
      });
      try {
        const key = (plen: number, ...bytes: number[]) => {
          const k = new Uint8Array(20);
          new DataView(k.buffer).setUint32(0, plen, true);
          k.set(bytes, 4);
          return k;
        };
        m.update(key(32, 0x20, 0x01, 0x0d, 0xb8), u32(1)); // 2001:db8::/32
        m.update(key(48, 0x20, 0x01, 0x0d, 0xb8, 0, 1), u32(2)); // 2001:db8:1::/48
        assert.equal(
          readU32(m.lookup(key(128, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))),
          2,
        );
        assert.equal(readU32(m.lookup(key(128, 0x20, 0x01, 0x0d, 0xb8, 0, 2))), 1);
        assert.equal(m.lookup(key(128, 0x20, 0x02)), undefined);
      } finally {
        m.close();
      }
    }));
});

describe("queue, stack, bloom filter", { skip }, () => {
  test("queue: FIFO, E2BIG when full, EXIST drops the oldest", () =>
    noLeaks(() => {
      const q = BpfMap.create({
        name: "t_queue",
        type: MapType.QUEUE,
        keySize: 0,
        valueSize: 4,
        maxEntries: 3,
      });
      try {
        assert.equal(q.peek(), undefined);
        assert.equal(q.pop(), undefined);
        for (const v of [1, 2, 3]) q.push(u32(v));
        assert.equal(
          code(() => q.push(u32(4))),
          "E2BIG",
        );
        q.push(u32(4), UpdateFlags.EXIST);
        assert.equal(readU32(q.peek()), 2);
        assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()].map(readU32), [2, 3, 4, undefined]);
        assert.equal(
          code(() => q.push(u32(1), UpdateFlags.NOEXIST)),
          "EINVAL",
        );
      } finally {
        q.close();
      }
    }));

  test("stack: LIFO", () =>
    noLeaks(() => {
      const s = BpfMap.create({
        name: "t_stack",
        type: MapType.STACK,
        keySize: 0,
        valueSize: 8,
        maxEntries: 4,
      });
      try {
        for (const v of [1, 2, 3]) s.push(u64(v));
        assert.equal(readU32(s.peek()), 3);
        assert.deepEqual([s.pop(), s.pop(), s.pop(), s.pop()].map(readU32), [3, 2, 1, undefined]);
      } finally {
        s.close();
      }
    }));

  test("bloom filter: no false negatives", () =>
    noLeaks(() => {
      const b = BpfMap.create({
        name: "t_bloom",
        type: MapType.BLOOM_FILTER,
        keySize: 0,
        valueSize: 4,
        maxEntries: 100,
        mapExtra: 5n,
      });
      try {
        for (let i = 0; i < 50; i++) b.push(u32(i * 7));
        for (let i = 0; i < 50; i++) assert.equal(b.has(u32(i * 7)), true);
        let falsePositives = 0;
        for (let i = 1000; i < 2000; i++) if (b.has(u32(i))) falsePositives++;
        assert.ok(falsePositives < 200, `${falsePositives} false positives in 1000`);
        assert.equal(b.info().mapExtra, 5n);
        assert.throws(() => b.pop(), /push\(\)\/has\(\)/);
      } finally {
        b.close();
      }
    }));
});

describe("ring buffer, program array, map-in-map", { skip }, () => {
  test("ring buffer: create only; element operations are refused before any syscall", () =>
    noLeaks(() => {
      const rb = BpfMap.create({
        name: "t_ringbuf",
        type: MapType.RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: 1 << 16,
      });
      try {
        const info = rb.info();
        assert.equal(info.typeName, "ringbuf");
        assert.equal(info.maxEntries, 1 << 16);
        assert.throws(() => rb.push(new Uint8Array(0)), TypeError);
      } finally {
        rb.close();
      }
    }));

  test("program array: create only", () =>
    noLeaks(() => {
      const pa = BpfMap.create({
        name: "t_progs",
        type: MapType.PROG_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 8,
      });
      try {
        assert.equal(pa.info().typeName, "prog_array");
        assert.equal(pa.lookup(u32(0)), undefined, "empty slot");
      } finally {
        pa.close();
      }
    }));

  for (const type of [MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS]) {
    test(`${type === MapType.ARRAY_OF_MAPS ? "array" : "hash"} of maps: store an inner map, read back its id`, () =>
      noLeaks(() => {
        const innerSpec = {
          name: "t_inner",
          type: MapType.ARRAY,
          keySize: 4,
          valueSize: 4,
          maxEntries: 2,
        } as const;
        const outer = BpfMap.create({
          name: "t_outer",
          type,
          keySize: 4,
          valueSize: 4,
          maxEntries: 4,
          innerMap: innerSpec,
        });
        const inner = BpfMap.create(innerSpec);
        const other = BpfMap.create({ ...innerSpec, valueSize: 8 });
        try {
          inner.update(u32(1), u32(42));
          outer.update(u32(2), u32(inner.fd));
          const id = readU32(outer.lookup(u32(2)));
          assert.equal(id, inner.info().id);
          const again = BpfMap.fromId(id as number);
          try {
            assert.equal(readU32(again.lookup(u32(1))), 42);
          } finally {
            again.close();
          }
          assert.equal(
            code(() => outer.update(u32(3), u32(other.fd))),
            "EINVAL",
            "inner map of another shape",
          );
          assert.equal(outer.delete(u32(2)), true);
          assert.equal(outer.lookup(u32(2)), undefined);
        } finally {
          outer.close();
          inner.close();
          other.close();
        }
      }));
  }
});

describe("creation options and info", { skip }, () => {
  test("name is sanitized and truncated; numa node sets BPF_F_NUMA_NODE; info by fd and id agree", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "my-map:counts!and-more",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 3,
        numaNode: 0,
      });
      try {
        assert.equal(m.name, "my_map_counts_a");
        const info = m.info();
        assert.equal(info.name, "my_map_counts_a");
        assert.equal(info.typeName, "hash");
        assert.equal(info.keySize, 4);
        assert.equal(info.maxEntries, 3);
        assert.ok(info.flags & MapFlags.NUMA_NODE);
        assert.ok(info.id > 0);
        assert.equal(info.frozen, false);
        const byId = mapInfoById(info.id);
        assert.deepEqual(byId, info);
        assert.match(String(m), /hash map "my_map_counts_a", fd \d+/);
      } finally {
        m.close();
      }
    }));

  test("BTF key and value type ids reach the kernel", () =>
    noLeaks(() => {
      // Hand-made BTF: type 1 = int (4 bytes, 32 bits), named "int".
      const strings = new TextEncoder().encode("\0int\0");
      const types = new Uint32Array([1, 0x01000000, 4, 32]);
      const hdr = new DataView(new ArrayBuffer(24));
      hdr.setUint16(0, 0xeb9f, true);
      hdr.setUint8(2, 1);
      hdr.setUint32(4, 24, true);
      hdr.setUint32(8, 0, true);
      hdr.setUint32(12, types.byteLength, true);
      hdr.setUint32(16, types.byteLength, true);
      hdr.setUint32(20, strings.length, true);
      const blob = new Uint8Array(24 + types.byteLength + strings.length);
      blob.set(new Uint8Array(hdr.buffer), 0);
      blob.set(new Uint8Array(types.buffer), 24);
      blob.set(strings, 24 + types.byteLength);
      using btf = KernelBTF.load(blob, { what: "test BTF" });
      try {
        const m = BpfMap.create(
          {
            name: "t_btf",
            type: MapType.HASH,
            keySize: 4,
            valueSize: 4,
            maxEntries: 2,
            btfKeyTypeId: 1,
            btfValueTypeId: 1,
          },
          { btfFd: btf.fd },
        );
        try {
          const info = m.info();
          assert.ok(info.btfId > 0);
          assert.equal(info.btfKeyTypeId, 1);
          assert.equal(info.btfValueTypeId, 1);
        } finally {
          m.close();
        }
      } finally {
        btf.close();
      }
    }));

  test("close is idempotent; a closed map says so", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_close",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      m[Symbol.dispose]();
      m.close();
      assert.equal(m.closed, true);
      assert.throws(() => m.lookup(u32(0)), /array map "t_close" is closed/);
      assert.throws(() => m.update(u32(0), u32(0)), /is closed/);
    }));
});
