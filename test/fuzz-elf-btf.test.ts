/**
 * Short, fixed-time runs of the ELF and BTF fuzzers (issue 9): mutated objects and BTF
 * must give only typed errors, no hang over 2 s and no crash. The seed changes every
 * run (printed on failure with the input and a command that reproduces it). Long
 * campaigns: `npm run fuzz -- elf --seconds 3600` (see the README).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzz as fuzzBtf } from "../fuzz/btf.ts";
import { fuzz as fuzzElf } from "../fuzz/elf.ts";
import { campaign, LANE } from "../fuzz/harness.ts";

const seed = Date.now() % 2 ** 31;

for (const [name, fuzz] of [
  ["elf", fuzzElf],
  ["btf", fuzzBtf],
] as const) {
  test(`fuzz ${name}: 6 s of mutations, only typed errors (seed ${seed})`, async () => {
    const r = await fuzz({ seconds: 6, seed, quiet: true });
    // On a loaded machine a worker takes seconds to start: any input at all will do.
    assert.ok(r.tried > 0, "no input ran");
    assert.deepEqual(
      r.failures.map((f) => `${f.kind} input ${f.index}: ${f.message} (${f.command})`),
      [],
    );
    assert.ok(r.peakRssMB < 1024, `peak RSS ${r.peakRssMB} MB`);
  });
}

test("the harness catches a hang, an untyped error, and names the input", async () => {
  const r = await campaign(
    {
      name: "selftest",
      module: new URL("./testdata/fuzz-selftest-target.ts", import.meta.url).href,
      reproduce: (s, i) => ({ file: "(none)", command: `selftest ${s} ${i}` }),
    },
    { seconds: 30, seed: 7, maxInputs: 6, quiet: true, hangMs: 300 },
  );
  assert.equal(r.hangs, 1);
  assert.equal(r.untyped, 1);
  assert.equal(r.tried, 6);
  assert.deepEqual(
    r.failures.map((f) => [f.kind, f.index, f.command]),
    [
      ["hang", 2, "selftest 7 2"],
      ["untyped", 4, "selftest 7 4"],
    ],
  );
});

test("a campaign with two jobs splits its inputs and keeps their indices", async () => {
  const r = await campaign(
    {
      name: "selftest",
      module: new URL("./testdata/fuzz-selftest-target.ts", import.meta.url).href,
      reproduce: (s, i) => ({ file: "(none)", command: `selftest ${s} ${i}` }),
    },
    { seconds: 30, seed: 7, maxInputs: 12, jobs: 2, quiet: true, hangMs: 300 },
  );
  // Job 0 runs inputs 0..5, job 1 inputs LANE..LANE + 5.
  assert.equal(r.tried, 12);
  assert.deepEqual(
    r.failures.map((f) => [f.kind, f.index]).sort((a, b) => Number(a[1]) - Number(b[1])),
    [
      ["hang", 2],
      ["untyped", 4],
      ["untyped", LANE + 3],
    ],
  );
});
