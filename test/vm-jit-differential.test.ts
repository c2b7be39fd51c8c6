/**
 * The JIT (both targets, JavaScript and WebAssembly) against the interpreter on seeded random programs (the generator of the
 * kernel differential test, test/vm-random-programs.ts): the same retval, r0, every
 * register after the run, instruction count, packet and context out, printk lines,
 * map contents and ring-buffer records — or the same VmError (message, instruction)
 * when the run fails. Three runs per program: as generated; with an instruction budget
 * cut somewhere inside the run (the budget error at the same instruction, the JIT
 * handing over to the interpreter mid-block); and with one instruction's offset or
 * immediate mutated (faults, unknown helpers, runaway loops under a small budget).
 *
 * Then a quarter as many again with a function (chunk) per region of at most 3 slots,
 * so that jumps, calls, returns and hand-overs cross chunks through the driver.
 *
 * No kernel needed. TSBPF_SEED replays a seed, TSBPF_JIT_DIFF_COUNT sets how many
 * programs run (2,000).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProgram } from "../src/isa/index.ts";
import { jitSizes, jitStats, resetJitSizes } from "../src/vm/jit/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { FDS, hex, mutate, outcome } from "./vm-jit-compare.ts";
import { randomProgram } from "./vm-random-programs.ts";

const COUNT = Number(process.env.TSBPF_JIT_DIFF_COUNT ?? 2000);
/** Programs of the run with tiny chunks. */
const TINY = Math.ceil(COUNT / 4);
const SEED = Number(process.env.TSBPF_SEED ?? Math.floor(Math.random() * 0x7fff_ffff));

/** Why the wasm target refused programs (they run in the JS target). */
const refusals: string[] = [];

/** The differential run over `count` programs of seed `seed` (see the module header). */
function agree(count: number, seed: number): void {
  const COUNT = count;
  const SEED = seed;
  const rand = seededRandom(SEED);
  const compiled0 = jitStats.compiled;
  let budgetCuts = 0;
  let mutants = 0;
  let errors = 0;
  for (let i = 0; i < COUNT; i++) {
    const p = randomProgram(rand);
    const insns = p.build(FDS);
    const where = `TSBPF_SEED=${SEED}, program ${i}`;
    const a = outcome(p, insns, "never", undefined);
    const b = outcome(p, insns, "always", undefined);
    const c = outcome(p, insns, "always", undefined, "wasm");
    if (c.engine === "jit js") refusals.push(c.reason);
    assert.equal(a.engine, "interpreter", where);
    assert.equal(b.engine, "jit js", where);
    // The wasm target refuses irreducible control flow (random jumps make some): JS runs it.
    assert.match(c.engine, /^jit (wasm|js)$/, where);
    assert.equal(b.text, a.text, `${where}: as generated`);
    assert.equal(c.text, a.text, `${where}: as generated (wasm)`);
    if (a.executed > 1) {
      const budget = 1 + (rand() % (a.executed - 1));
      const x = outcome(p, insns, "never", budget);
      const y = outcome(p, insns, "always", budget);
      const z = outcome(p, insns, "always", budget, "wasm");
      assert.equal(y.text, x.text, `${where}: budget ${budget}`);
      assert.equal(z.text, x.text, `${where}: budget ${budget} (wasm)`);
      assert.match(x.text, /instruction budget of \d+ exhausted/, `${where}: budget ${budget}`);
      budgetCuts++;
    }
    const bytes = mutate(insns, rand);
    let decodes = true;
    try {
      decodeProgram(bytes);
    } catch {
      decodes = false;
    }
    if (decodes) {
      const x = outcome(p, bytes, "never", 200_000);
      const y = outcome(p, bytes, "always", 200_000);
      const z = outcome(p, bytes, "always", 200_000, "wasm");
      assert.equal(y.text, x.text, `${where}: mutated\n${hex(bytes)}`);
      assert.equal(z.text, x.text, `${where}: mutated (wasm)\n${hex(bytes)}`);
      if (x.text.includes("error pc")) errors++;
      mutants++;
    }
  }
  assert.ok(jitStats.compiled - compiled0 >= 2 * COUNT, "every program was compiled, twice");
  for (const r of refusals) assert.match(r, /irreducible control flow/);
  assert.ok(refusals.length < COUNT / 10, `wasm refused ${refusals.length} of ${COUNT}`);
  assert.ok(budgetCuts > COUNT / 2, `budget cuts ${budgetCuts}`);
  assert.ok(errors > 0, "some mutants fail");
  console.log(
    `# ${COUNT} programs, ${budgetCuts} budget cuts, ${mutants} mutants (${errors} failing alike), wasm refused ${refusals.length} (irreducible)`,
  );
}

test(`JIT and interpreter agree on ${COUNT} random programs (TSBPF_SEED=${SEED})`, () => {
  agree(COUNT, SEED);
});

test(`... and with a function per region of at most 3 slots (${TINY} programs, TSBPF_SEED=${SEED})`, () => {
  // Every jump, call and return then crosses chunks through the driver.
  jitSizes.chunkChars = 1;
  jitSizes.regionSlots = 3;
  try {
    agree(TINY, SEED + 1);
  } finally {
    resetJitSizes();
  }
});
