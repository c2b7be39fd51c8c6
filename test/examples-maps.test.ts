/**
 * The map examples, run the way their headers say, output checked.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

function run(file: string): string[] {
  return execFileSync(process.execPath, [...FROM_SOURCE, file], { encoding: "utf8" })
    .trimEnd()
    .split("\n");
}

test("examples/raw-array-map fills with BPF_EXIST; key 1000 is ENOENT", { skip }, () => {
  const lines = run("examples/raw-array-map/raw-array-map.ts");
  assert.match(lines[0] ?? "", /^created array map \(fd \d+, key 4, value 4, 256 entries\)$/);
  assert.deepEqual(lines.slice(1), [
    "filled 32 entries with BPF_EXIST",
    "lookup key 7: value 49",
    "lookup key 1000: error ENOENT: map lookup (key 1000): No such file or directory",
    "BpfMap.lookup(7): 49",
    "BpfMap.lookup(1000): undefined (BpfMap answers a missing key with undefined)",
  ]);
});

test("examples/raw-hash-map: EXIST fails on an empty hash, NOEXIST fills it; key 1000 is ENOENT", {
  skip,
}, () => {
  const lines = run("examples/raw-hash-map/raw-hash-map.ts");
  assert.match(lines[0] ?? "", /^created hash map \(fd \d+, key 4, value 4, 256 entries\)$/);
  assert.deepEqual(lines.slice(1), [
    "BPF_EXIST on an empty hash map: error ENOENT: map update (key 0): No such file or directory",
    "filled 32 entries with BPF_NOEXIST",
    "lookup key 7: value 49",
    "lookup key 1000: error ENOENT: map lookup (key 1000): No such file or directory",
    "BpfMap sees 32 keys; BpfMap.lookup(1000): undefined",
  ]);
});
