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
 * No kernel needed. TSBPF_SEED replays a seed, TSBPF_JIT_DIFF_COUNT sets how many
 * programs run (2,000).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProgram, encodeProgram, type Instruction } from "../src/isa/index.ts";
import {
  createVmMap,
  VmArrayMap,
  VmError,
  VmHashMap,
  type VmMap,
  VmProgram,
  type VmRingBuf,
} from "../src/vm/index.ts";
import { jitStats } from "../src/vm/jit/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { type RandomProgram, randomProgram } from "./vm-random-programs.ts";

const COUNT = Number(process.env.TSBPF_JIT_DIFF_COUNT ?? 2000);
const SEED = Number(process.env.TSBPF_SEED ?? Math.floor(Math.random() * 0x7fff_ffff));
const FDS = [101, 102, 103, 104];

/** Why the wasm target refused programs (they run in the JS target). */
const refusals: string[] = [];

const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "-");

/** What one run in one engine did, as comparable text. */
function outcome(
  p: RandomProgram,
  program: Uint8Array | Instruction[],
  jit: "never" | "always",
  budget: number | undefined,
  jitTarget: "js" | "wasm" = "js",
): { text: string; executed: number; engine: string } {
  const maps: VmMap[] = p.maps.map((m) => {
    const vm = createVmMap(m.spec);
    if (vm instanceof VmArrayMap || vm instanceof VmHashMap)
      for (const [k, v] of m.contents) vm.update(k, v);
    return vm;
  });
  const byFd = new Map(FDS.map((fd, i) => [fd, maps[i]!]));
  let prog: VmProgram;
  try {
    prog = new VmProgram(program, {
      type: p.type,
      resolveMap: (_pseudo, imm) => byFd.get(imm),
      jit,
      jitTarget,
      seed: 7,
      clock: () => 1_000_000n,
      ...(budget !== undefined && { budget }),
    });
  } catch (e) {
    return { text: `build: ${(e as Error).message}`, executed: 0, engine: "none" };
  }
  const engine = prog.engine === "jit" ? `jit ${prog.jitEngine}` : prog.engine;
  if (jitTarget === "wasm" && prog.jitEngine === "js") refusals.push(prog.jitEngineReason ?? "");
  const lines: string[] = [];
  let executed = 0;
  try {
    const r = prog.run({ data: p.data });
    executed = r.instructions;
    lines.push(
      `retval ${r.retval} r0 ${r.r0} insns ${r.instructions}`,
      `data ${hex(r.dataOut)}`,
      `ctx ${hex(r.ctxOut)}`,
      `printk ${r.printk.join("|")}`,
    );
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    lines.push(`error pc ${e.pc}: ${e.message}`);
  }
  // The registers every engine leaves in the machine (the shared register file).
  const R = (prog as unknown as { machine: { R: Int32Array } }).machine.R;
  lines.push(`regs ${[...R].join(",")}`);
  for (let i = 0; i < 3; i++)
    lines.push(
      `map ${i}: ${[...maps[i]!.entries()]
        .map(([k, v]) => `${hex(k)}=${hex(v)}`)
        .sort()
        .join(" ")}`,
    );
  lines.push(`ring ${[...(maps[3] as VmRingBuf).drain()].map((r) => hex(r.data)).join(" ")}`);
  return { text: lines.join("\n"), executed, engine };
}

/** One instruction's offset or immediate changed (bytes 2..7 of a random slot). */
function mutate(insns: Instruction[], rand: () => number): Uint8Array {
  const bytes = encodeProgram(insns).slice();
  const slot = rand() % (bytes.length / 8);
  const at = slot * 8 + 2 + (rand() % 6);
  bytes[at] = rand() & 0xff;
  return bytes;
}

test(`JIT and interpreter agree on ${COUNT} random programs (TSBPF_SEED=${SEED})`, () => {
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
});
