/**
 * The VM's map kinds: LPM trie (lookups and the walk order), bloom filter (with
 * BPF_F_ZERO_SEED the same answers as the kernel, false positives included: the jhash
 * is exact), queue/stack against the reference model, LRU invariants, per-CPU values
 * as programs see them, ring buffer records, stack traces, maps of maps, and the
 * tracing helpers over the run input. Kernel comparisons need root.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { asm, R0, R1, R2, R3, R4, R10 } from "../src/isa/index.ts";
import { BpfMap } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapFlags, MapType, ProgType, UpdateFlags } from "../src/uapi/index.ts";
import {
  VmArrayMap,
  VmBloomFilter,
  VmHashMap,
  VmLpmTrie,
  type VmMapError,
  VmMapOfMaps,
  VmProgram,
  VmQueueMap,
  VmRingBuf,
  VmStackTraceMap,
} from "../src/vm/index.ts";
import { jhash, jhash2 } from "../src/vm/maps/jhash.ts";
import { seededRandom as rng } from "../src/vm/random.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { hex, LruHashModel, QueueModel } from "./map-model.ts";
import { kernelSkip } from "./support/kernel.ts";

const k32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const v64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);

function noLeaks<T>(f: () => T): T {
  const fds = fdCounts();
  const r = f();
  assertFdCounts(fds);
  return r;
}

const LPM: MapSpec = {
  name: "lpm",
  type: MapType.LPM_TRIE,
  keySize: 8,
  valueSize: 4,
  maxEntries: 64,
  flags: MapFlags.NO_PREALLOC,
};
const lpmKey = (plen: number, a: number, b: number, c: number, d: number) =>
  Uint8Array.of(plen, 0, 0, 0, a, b, c, d);

describe("LPM trie", () => {
  test("longest prefix wins; errors as the kernel gives them", () => {
    const t = new VmLpmTrie(LPM);
    t.update(lpmKey(16, 192, 168, 0, 0), k32(16));
    t.update(lpmKey(24, 192, 168, 1, 0), k32(24));
    t.update(lpmKey(0, 0, 0, 0, 0), k32(0));
    assert.deepEqual(t.lookup(lpmKey(32, 192, 168, 1, 7)), k32(24));
    assert.deepEqual(t.lookup(lpmKey(32, 192, 168, 2, 7)), k32(16));
    assert.deepEqual(t.lookup(lpmKey(32, 10, 0, 0, 1)), k32(0));
    assert.deepEqual(t.lookup(lpmKey(20, 192, 168, 1, 7)), k32(16));
    const code = (f: () => void) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return (e as VmMapError).code;
      }
    };
    assert.equal(
      code(() => t.update(lpmKey(33, 1, 2, 3, 4), k32(1))),
      "EINVAL",
    );
    assert.equal(
      code(() => t.update(lpmKey(16, 192, 168, 9, 9), k32(1), UpdateFlags.NOEXIST)),
      "EEXIST",
    );
    assert.equal(
      code(() => t.lookupAndDelete(lpmKey(16, 192, 168, 0, 0))),
      "ENOTSUPP",
    );
    assert.equal(t.delete(lpmKey(8, 1, 0, 0, 0)), false);
  });
  test(
    "lookups and the walk order match the kernel's on random prefixes",
    {
      skip: kernelSkip,
    },
    () =>
      noLeaks(() => {
        const rand = rng(Number(process.env.TSBPF_SEED ?? 7));
        for (let round = 0; round < 5; round++) {
          const km = BpfMap.create(LPM);
          try {
            const vm = new VmLpmTrie(LPM);
            for (let i = 0; i < 30; i++) {
              const key = lpmKey(
                rand() % 33,
                rand() & 0xc3,
                rand() & 0x81,
                rand() & 0xff,
                rand() & 0xff,
              );
              const value = k32(i);
              const flags = rand() % 3;
              let kerr = "ok";
              let verr = "ok";
              try {
                km.update(key, value, flags);
              } catch (e) {
                kerr = (e as { code: string }).code;
              }
              try {
                vm.update(key, value, flags);
              } catch (e) {
                verr = (e as VmMapError).code;
              }
              assert.equal(verr, kerr, `update ${hex(key)} flags ${flags}`);
            }
            // The same contents, walked in the same order.
            const kkeys = [...km.keys()].map(hex);
            for (const k of [...vm.keys()]) if (!kkeys.includes(hex(k))) vm.delete(k);
            assert.deepEqual([...vm.keys()].map(hex), kkeys, `round ${round}`);
            for (let q = 0; q < 200; q++) {
              const key = lpmKey(
                rand() % 33,
                rand() & 0xc3,
                rand() & 0x81,
                rand() & 0xff,
                rand() & 0xff,
              );
              assert.equal(
                hex(vm.lookup(key) ?? new Uint8Array()),
                hex(km.lookup(key) ?? new Uint8Array()),
              );
            }
          } finally {
            km.close();
          }
        }
      }),
  );
});

describe("bloom filter", () => {
  test("jhash and jhash2 agree on whole words", () => {
    const b = Uint8Array.from({ length: 24 }, (_, i) => i * 7);
    for (let n = 0; n <= 6; n++) assert.equal(jhash2(b, 0, n, 3), jhash(b, 0, 4 * n, 3));
    assert.equal(jhash(new Uint8Array(0), 0, 0, 0), 0xdeadbeef);
  });
  for (const valueSize of [8, 5]) {
    test(
      `with BPF_F_ZERO_SEED the same answers as the kernel (${valueSize}-byte values)`,
      {
        skip: kernelSkip,
      },
      () =>
        noLeaks(() => {
          const spec: MapSpec = {
            name: "bf",
            type: MapType.BLOOM_FILTER,
            keySize: 0,
            valueSize,
            maxEntries: 40,
            flags: MapFlags.ZERO_SEED,
            mapExtra: 3n,
          };
          const km = BpfMap.create(spec);
          try {
            const vm = new VmBloomFilter(spec);
            const rand = rng(11);
            const value = () => Uint8Array.from({ length: valueSize }, () => rand() & 0xff);
            const pushed = Array.from({ length: 40 }, value);
            for (const v of pushed) {
              km.push(v);
              vm.push(v);
            }
            let maybes = 0;
            for (const v of pushed) assert.equal(vm.has(v), true);
            for (let i = 0; i < 3000; i++) {
              const v = value();
              const k = km.has(v);
              maybes += k ? 1 : 0;
              assert.equal(vm.has(v), k, `value ${hex(v)}`);
            }
            assert.ok(maybes > 0, "some false positives to compare");
          } finally {
            km.close();
          }
        }),
    );
  }
});

describe("queue and stack against the model", () => {
  for (const type of [MapType.QUEUE, MapType.STACK]) {
    test(type === MapType.QUEUE ? "queue" : "stack", () => {
      const spec: MapSpec = { name: "q", type, keySize: 0, valueSize: 4, maxEntries: 5 };
      const vm = new VmQueueMap(spec);
      const model = new QueueModel(spec);
      const rand = rng(3);
      for (let i = 0; i < 500; i++) {
        const op = rand() % 4;
        if (op < 2) {
          const v = k32(rand());
          const flags = [0, 0, 1, 2, 3][rand() % 5] as number;
          let a = "ok";
          let b = "ok";
          try {
            vm.push(v, flags);
          } catch (e) {
            a = (e as VmMapError).code;
          }
          try {
            model.push(v, flags);
          } catch (e) {
            b = (e as { code: string }).code;
          }
          assert.equal(a, b);
        } else if (op === 2) assert.deepEqual(vm.pop(), model.pop());
        else assert.deepEqual(vm.peek(), model.peek());
      }
    });
  }
});

test("LRU hash: keeps the kernel's invariants and evicts the least recently used", () => {
  const spec: MapSpec = {
    name: "lru",
    type: MapType.LRU_HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 8,
  };
  const vm = new VmHashMap(spec);
  const model = new LruHashModel(spec);
  const rand = rng(5);
  for (let i = 0; i < 400; i++) {
    const key = k32(rand() % 20);
    if (rand() % 5 === 0) {
      vm.delete(key);
      model.delete(key);
    } else {
      const v = v64(BigInt(i));
      vm.update(key, v);
      model.update(key, v);
    }
    const snap = new Map([...vm.entries()].map(([k, v]) => [hex(k), hex(v)]));
    assert.equal(model.reconcile(snap), undefined);
  }
  // Strict LRU in the VM: a program's lookup saves a key from eviction.
  const m = new VmHashMap(spec);
  for (let i = 0; i < 8; i++) m.update(k32(i), v64(BigInt(i)));
  m.lookupSlot(k32(0), 0);
  m.update(k32(100), v64(1n));
  assert.notEqual(m.lookup(k32(0)), undefined);
  assert.equal(m.lookup(k32(1)), undefined);
});

describe("per-CPU maps", () => {
  test("a program sees its CPU's value; the user side sees all", () => {
    const arr = new VmArrayMap(
      { name: "pa", type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 },
      { cpus: 3 },
    );
    const hash = new VmHashMap(
      { name: "ph", type: MapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
      { cpus: 3 },
    );
    arr.updatePerCpu(k32(1), [v64(10n), v64(20n), v64(30n)]);
    assert.throws(() => arr.lookup(k32(1)), TypeError);
    // *(u64 *)lookup(map, 1) += 1 on arr; update(hash, 1, 5) — on the run's CPU.
    const insns = [
      asm.st(32, R10, -4, 1),
      asm.ldMapFd(R1, 0),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.call("map_lookup_elem"),
      asm.jmp("jeq", R0, 0, 3),
      asm.ldx(64, R1, R0, 0),
      asm.add64(R1, 1),
      asm.stx(64, R0, 0, R1),
      asm.st(64, R10, -16, 5),
      asm.ldMapFd(R1, 1),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.mov64(R3, R10),
      asm.add64(R3, -16),
      asm.mov64(R4, 0),
      asm.call("map_update_elem"),
      asm.call("get_smp_processor_id"),
      asm.exit(),
    ];
    const p = new VmProgram(insns, { maps: [arr, hash] });
    assert.equal(p.run({ cpu: 2 }).r0, 2n);
    assert.deepEqual(arr.lookupPerCpu(k32(1)), [v64(10n), v64(20n), v64(31n)]);
    assert.deepEqual(hash.lookupPerCpu(k32(1)), [v64(0n), v64(0n), v64(5n)]);
    assert.throws(() => p.run({ cpu: 3 }), /CPU 3, but .* has 3 virtual CPUs/);
  });
});

describe("ring buffer", () => {
  test("records in order, discarded ones skipped, wrap-around contiguous, full fails", () => {
    const rb = new VmRingBuf({
      name: "rb",
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
    });
    const a = rb.reserve(100);
    rb.values.fill(1, a, a + 100);
    const b = rb.reserve(100);
    assert.equal(rb.read(), undefined, "the first record is still busy");
    rb.commit(b, true);
    rb.commit(a, false);
    assert.deepEqual(rb.read()?.data, new Uint8Array(100).fill(1));
    assert.equal(rb.read(), undefined);
    assert.equal(rb.available, 0);
    // Fill close to the end so the next record wraps.
    for (let i = 0; i < 3; i++) {
      assert.equal(rb.output(new Uint8Array(1000).fill(i), 0, 1000, 0n), 0);
      rb.read();
    }
    const big = Uint8Array.from({ length: 900 }, (_, i) => i & 0xff);
    assert.equal(rb.output(big, 0, 900, 0n), 0);
    assert.deepEqual(rb.read()?.data, big);
    assert.equal(rb.reserve(4096), -1);
    assert.equal(rb.output(new Uint8Array(8), 0, 8, 4n), -22);
    // The wrapped record's header: its length with the busy and discard bits clear.
    assert.equal(new DataView(rb.values.buffer).getUint32(3248, true), 900);
    // Its tail past the end is also at the front, as the kernel's double mapping shows it.
    assert.deepEqual(rb.values.subarray(0, 60), big.subarray(840, 900));
  });
});

test("stack trace map: get_stackid with the run's stack", () => {
  const st = new VmStackTraceMap({
    name: "st",
    type: MapType.STACK_TRACE,
    keySize: 4,
    valueSize: 8 * 4,
    maxEntries: 16,
  });
  const prog = new VmProgram(
    [asm.ldMapFd(R2, 0), asm.mov64(R3, 0), asm.call("get_stackid"), asm.exit()],
    {
      maps: [st],
      type: ProgType.KPROBE,
    },
  );
  const stack = { kernel: [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n] };
  const id = prog.run({ ctx: new Uint8Array(168), stack }).r0;
  assert.equal(prog.run({ ctx: new Uint8Array(168), stack }).r0, id);
  const v = st.lookup(k32(Number(id)));
  assert.deepEqual([...new BigUint64Array(v?.buffer ?? new ArrayBuffer(0))], [...stack.kernel, 0n]);
  assert.equal(
    BigInt.asIntN(64, prog.run({ ctx: new Uint8Array(168), stack: { kernel: [] } }).r0),
    -14n,
  );
});

test("map of maps: inner templates, ids on the user side, inner map pointers in programs", () => {
  const inner: MapSpec = {
    name: "in",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 2,
  };
  const outer = new VmMapOfMaps({
    name: "out",
    type: MapType.HASH_OF_MAPS,
    keySize: 4,
    valueSize: 4,
    maxEntries: 4,
    innerMap: inner,
  });
  const a = new VmArrayMap(inner);
  a.update(k32(1), v64(77n));
  outer.update(k32(9), k32(a.id));
  assert.deepEqual(outer.lookup(k32(9)), k32(a.id));
  assert.throws(
    () => outer.set(k32(1), new VmArrayMap({ ...inner, valueSize: 4 })),
    (e: VmMapError) => e.code === "EINVAL",
  );
  // inner = lookup(outer, 9); return *(u64 *)lookup(inner, 1)
  const insns = [
    asm.st(32, R10, -4, 9),
    asm.ldMapFd(R1, 0),
    asm.mov64(R2, R10),
    asm.add64(R2, -4),
    asm.call("map_lookup_elem"),
    asm.jmp("jeq", R0, 0, 7),
    asm.st(32, R10, -4, 1),
    asm.mov64(R1, R0),
    asm.mov64(R2, R10),
    asm.add64(R2, -4),
    asm.call("map_lookup_elem"),
    asm.jmp("jeq", R0, 0, 1),
    asm.ldx(64, R0, R0, 0),
    asm.exit(),
  ];
  assert.equal(new VmProgram(insns, { maps: [outer] }).run().r0, 77n);
});

test("tracing helpers read the run's task, probe memory and clock", () => {
  const probe = {
    address: 0xffff_8880_0000_1000n,
    bytes: new TextEncoder().encode("kernel string\0!!"),
  };
  // probe_read_kernel_str(r10-32, 32, addr) -> r0; plus pid_tgid in the high bits check below.
  const insns = [
    asm.mov64(R1, R10),
    asm.add64(R1, -32),
    asm.mov64(R2, 32),
    asm.lddw(R3, probe.address),
    asm.call("probe_read_kernel_str"),
    asm.exit(),
  ];
  const p = new VmProgram(insns, { type: ProgType.KPROBE });
  assert.equal(p.run({ ctx: new Uint8Array(168), probeMemory: [probe] }).r0, 14n);
  assert.equal(BigInt.asIntN(64, p.run({ ctx: new Uint8Array(168) }).r0), -14n);
  const user = new VmProgram(
    [
      asm.lddw(R3, probe.address),
      ...insns.slice(0, 3),
      asm.call("probe_read_user_str"),
      asm.exit(),
    ],
    {
      type: ProgType.KPROBE,
    },
  );
  assert.equal(
    BigInt.asIntN(
      64,
      user.run({ ctx: new Uint8Array(168), probeMemory: [{ ...probe, space: "kernel" }] }).r0,
    ),
    -14n,
  );
  const ids = new VmProgram([asm.call("get_current_pid_tgid"), asm.exit()], {
    type: ProgType.KPROBE,
  });
  assert.equal(
    ids.run({ ctx: new Uint8Array(168), task: { pid: 42, tid: 43 } }).r0,
    (42n << 32n) | 43n,
  );
  const comm = new VmProgram(
    [
      asm.mov64(R1, R10),
      asm.add64(R1, -16),
      asm.mov64(R2, 16),
      asm.call("get_current_comm"),
      asm.ldx(64, R0, R10, -16),
      asm.exit(),
    ],
    { type: ProgType.KPROBE },
  );
  const r = comm.run({ ctx: new Uint8Array(168), task: { comm: "node" } }).r0;
  assert.equal(new TextDecoder().decode(v64(r)).replace(/\0+$/, ""), "node");
});
