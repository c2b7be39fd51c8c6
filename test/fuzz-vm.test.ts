/**
 * The VM fuzzer for a fixed 20 s (CI's share of the daily campaign): seeded random and
 * mutated programs against the VM; no untyped error, no hang over 2 s, no access to
 * another program's memory. The seed changes daily (UTC day number) unless
 * TSBPF_FUZZ_SEED sets it; a failure prints the seed, the program and its replay command.
 * A long campaign: `npm run fuzz -- vm --seconds 3600 [--seed S]`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzzVm } from "../fuzz/vm.ts";
import { timeScale } from "./support/time.ts";

const seed = Number(process.env.TSBPF_FUZZ_SEED ?? Math.floor(Date.now() / 86_400_000));

// The budget (20 s, over 100 programs) and the fuzzer's 2 s hang limit are for a real
// CPU; the VM is plain JavaScript, the same on every kernel, so an emulated CPU (qemu's
// TCG, where starting the worker alone takes the 20 s) leaves it to the host's run.
const slowSkip =
  timeScale > 1 &&
  `an emulated CPU (time scale ${timeScale}): the VM fuzzer's budgets are for a real one`;

test(`fuzz vm for 20 s (seed ${seed}): no untyped errors, hangs or cross-object accesses`, {
  skip: slowSkip,
}, async () => {
  const s = await fuzzVm({ seconds: 20, seed });
  const summary = `${s.programs} programs: ok ${s.ok}, typed ${s.typed}, untyped ${s.untyped}, hangs ${s.hangs}, cross ${s.cross}`;
  assert.deepEqual(s.failures, [], summary);
  assert.equal(s.untyped + s.hangs + s.cross, 0, summary);
  assert.ok(s.programs > 100, summary);
  assert.ok(s.ok > 0 && s.typed > 0, summary);
});

test("a VM campaign by count with two jobs runs exactly that many programs", {
  skip: slowSkip,
}, async () => {
  const s = await fuzzVm({ seconds: Number.POSITIVE_INFINITY, seed, jobs: 2, programs: 60 });
  assert.equal(s.programs, 60);
  assert.deepEqual(s.failures, []);
});
