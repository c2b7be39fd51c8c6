/**
 * readHistograms on both backends: the same map layouts read from a VM map and from a
 * map in the kernel give the same sections, and formatting them gives BCC's table.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLog2Histogram, readHistograms } from "../src/hist/index.ts";
import { BpfMap } from "../src/kernel/index.ts";
import type { KeyValueMap, MapSpec } from "../src/spec/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { createVmMap } from "../src/vm/index.ts";
import { kernelSkip } from "./support/kernel.ts";

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const u64 = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);
const bytes = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

type Backend = {
  name: string;
  skip: string | false;
  make: (spec: MapSpec) => KeyValueMap & { close?: () => void };
};
const BACKENDS: Backend[] = [
  { name: "vm", skip: false, make: (spec) => createVmMap(spec, { cpus: 2 }) as KeyValueMap },
  { name: "kernel", skip: kernelSkip, make: (spec) => BpfMap.create(spec) },
];

for (const b of BACKENDS) {
  test(`${b.name}: slot keys in an array of u64 counts`, { skip: b.skip }, () => {
    const m = b.make({
      name: "hist",
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 8,
    });
    try {
      m.update(u32(2), u64(3n));
      m.update(u32(5), u64(7n));
      const [h, ...rest] = readHistograms(m);
      assert.equal(rest.length, 0);
      assert.deepEqual(h?.label, new Uint8Array(0));
      assert.deepEqual(h?.counts, [0n, 0n, 3n, 0n, 0n, 7n, 0n, 0n]);
      assert.match(formatLog2Histogram(h?.counts ?? []), /^\s+32 -> 63\s+: 7\s+\|\*{40}\|$/m);
    } finally {
      m.close?.();
    }
  });

  test(`${b.name}: labelled struct keys {u32 disk; u32 slot} in a hash of u32 counts`, {
    skip: b.skip,
  }, () => {
    const m = b.make({
      name: "hist_d",
      type: MapType.HASH,
      keySize: 8,
      valueSize: 4,
      maxEntries: 64,
    });
    try {
      m.update(bytes(u32(8), u32(1)), u32(4));
      m.update(bytes(u32(8), u32(3)), u32(1));
      m.update(bytes(u32(9), u32(0)), u32(2));
      const sections = readHistograms(m, { kind: "slot-per-entry", slot: { offset: 4 } });
      assert.deepEqual(
        sections.map((s) => [s.label, s.counts]),
        [
          [u32(8), [0n, 4n, 0n, 1n]],
          [u32(9), [2n]],
        ],
      );
    } finally {
      m.close?.();
    }
  });

  test(`${b.name}: per-CPU counts are summed`, { skip: b.skip }, () => {
    const m = b.make({
      name: "hist_pc",
      type: MapType.PERCPU_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 4,
    });
    try {
      const cpus = (m as unknown as { cpus: number }).cpus;
      (m as unknown as { updatePerCpu: (k: Uint8Array, v: Uint8Array[]) => void }).updatePerCpu(
        u32(1),
        Array.from({ length: cpus }, (_, i) => u64(BigInt(i + 1))),
      );
      const [h] = readHistograms(m);
      assert.equal(h?.counts[1], BigInt((cpus * (cpus + 1)) / 2));
    } finally {
      m.close?.();
    }
  });

  test(`${b.name}: libbpf-tools' layout, every slot in the value`, { skip: b.skip }, () => {
    const m = b.make({
      name: "hists",
      type: MapType.HASH,
      keySize: 4,
      valueSize: 4 * 4 + 16,
      maxEntries: 8,
    });
    try {
      const value = new Uint8Array(32);
      value.set(u32(5), 4);
      value.set(u32(6), 12);
      m.update(u32(42), value);
      const [h] = readHistograms(m, { kind: "slots-in-value", count: 4 });
      assert.deepEqual(h?.label, u32(42));
      assert.deepEqual(h?.counts, [0n, 5n, 0n, 6n]);
    } finally {
      m.close?.();
    }
  });
}

test("layouts that do not fit the map are refused, naming the field", () => {
  const m = createVmMap({ name: "h", type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 4 });
  m.update(u32(1), u32(1));
  assert.throws(
    () => readHistograms(m, { kind: "slot-per-entry", slot: { offset: 2, size: 4 } }),
    /the slot at bytes 2\.\.6 is outside its 4 bytes/,
  );
  assert.throws(
    () => readHistograms(m, { kind: "slots-in-value", count: 2 }),
    /slot 1 at bytes 4\.\.8/,
  );
  m.update(u32(5000), u32(1));
  assert.throws(() => readHistograms(m), /slot 5000 is past 4095 \(map "h"\)/);
  const wide = createVmMap({
    name: "w",
    type: MapType.HASH,
    keySize: 12,
    valueSize: 4,
    maxEntries: 4,
  });
  wide.update(new Uint8Array(12), u32(1));
  assert.throws(() => readHistograms(wide), /a 12-byte key is not a slot/);
});
