import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { threadAffinity } from "../sys/index.ts";
import { onCpu, parseCpuList, perCpuSlotSize, possibleCpus } from "./cpus.ts";

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

/** The CPU the calling thread last ran on (field 39 of /proc/thread-self/stat). */
function currentCpu(): number {
  const stat = readFileSync("/proc/thread-self/stat", "utf8");
  // the command name (field 2) may hold spaces: count fields after its closing paren
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[39 - 3]);
}

test("onCpu runs on the CPU it names and gives the thread its CPUs back", () => {
  const before = threadAffinity();
  assert.ok(before.length >= 1);
  for (const cpu of before) assert.equal(onCpu(cpu, currentCpu), cpu);
  assert.deepEqual(threadAffinity(), before);
  assert.throws(() => onCpu(-1, () => 0), RangeError);
  // a CPU this machine does not have: the kernel says EINVAL, and nothing changed
  assert.throws(() => onCpu(8000, () => 0), /sched_setaffinity.*EINVAL|Invalid argument/);
  assert.deepEqual(threadAffinity(), before);
});
