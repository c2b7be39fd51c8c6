import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCpuList, perCpuSlotSize, possibleCpus } from "./cpus.ts";

test("parseCpuList reads the kernel's CPU list syntax", () => {
  assert.deepEqual(parseCpuList("0"), [0]);
  assert.deepEqual(parseCpuList("0-3\n"), [0, 1, 2, 3]);
  assert.deepEqual(parseCpuList("0-1,4,6-7"), [0, 1, 4, 6, 7]);
  assert.deepEqual(parseCpuList(""), []);
  assert.throws(() => parseCpuList("0-x"), /cannot parse CPU list "0-x"/);
  assert.throws(() => parseCpuList("3-1"), /backwards/);
});

test("possibleCpus counts up to the highest possible CPU, at least the online ones", () => {
  const n = possibleCpus();
  assert.ok(n >= 1);
  assert.equal(possibleCpus(), n, "cached");
});

test("per-CPU slots are rounded up to 8 bytes", () => {
  assert.equal(perCpuSlotSize(1), 8);
  assert.equal(perCpuSlotSize(8), 8);
  assert.equal(perCpuSlotSize(12), 16);
});
