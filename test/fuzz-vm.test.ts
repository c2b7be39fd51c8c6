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

const seed = Number(process.env.TSBPF_FUZZ_SEED ?? Math.floor(Date.now() / 86_400_000));

test(`fuzz vm for 20 s (seed ${seed}): no untyped errors, hangs or cross-object accesses`, async () => {
  const s = await fuzzVm({ seconds: 20, seed });
  const summary = `${s.programs} programs: ok ${s.ok}, typed ${s.typed}, untyped ${s.untyped}, hangs ${s.hangs}, cross ${s.cross}`;
  assert.deepEqual(s.failures, [], summary);
  assert.equal(s.untyped + s.hangs + s.cross, 0, summary);
  assert.ok(s.programs > 100, summary);
  assert.ok(s.ok > 0 && s.typed > 0, summary);
});
