import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../../elf/index.ts";
import { asm, type Instruction, R0, R1, R2, R3, R4, R6, R7, R10 } from "../../isa/index.ts";
import type { MapSpec } from "../../spec/map-spec.ts";
import { MapType, ProgType } from "../../uapi/index.ts";
import { VmError } from "../errors.ts";
import { VmArrayMap } from "../maps/array.ts";
import { createVmMap } from "../maps/create.ts";
import { VmProgArray } from "../maps/prog-array.ts";
import { VmMemory } from "../memory.ts";
import { VmProgram, type VmProgramOptions, type VmRunInput } from "../program.ts";
import { VirtualMachine } from "../virtual-machine.ts";
import { compileCode, defaultJitMode, jitStats, setDefaultJitMode } from "./index.ts";

/** What a run did, as text: result or error, and the registers left behind. */
function outcome(p: VmProgram, input: VmRunInput = {}): string {
  let head: string;
  try {
    const r = p.run(input);
    head = `r0 ${r.r0} insns ${r.instructions} data ${Buffer.from(r.dataOut).toString("hex")}`;
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    head = `error at ${e.pc}: ${e.message}`;
  }
  const R = (p as unknown as { machine: { R: Int32Array } }).machine.R;
  return `${head}\nregs ${[...R].join(",")}`;
}

/** Runs `insns` in the interpreter and both JIT targets; asserts the same outcome and returns it. */
function both(insns: Instruction[], opts: VmProgramOptions = {}, input: VmRunInput = {}): string {
  const a = new VmProgram(insns, { ...opts, jit: "never" });
  assert.equal(a.engine, "interpreter");
  const x = outcome(a, input);
  for (const jitTarget of ["js", "wasm"] as const) {
    const b = new VmProgram(insns, { ...opts, jit: "always", jitTarget });
    assert.equal(b.engine, "jit", b.jitRefusal);
    assert.equal(b.jitEngine, jitTarget, b.jitEngineReason);
    assert.equal(outcome(b, input), x, jitTarget);
  }
  return x;
}

const SUM = [
  asm.mov64(R0, 0),
  asm.mov64(R1, 0),
  asm.add64(R0, R1),
  asm.add64(R1, 1),
  asm.jmp("jlt", R1, 1000, -3),
  asm.exit(),
];

describe("jit: engines", () => {
  test("never, always and auto pick the engine; auto compiles after the threshold", () => {
    assert.equal(new VmProgram(SUM, { jit: "never" }).engine, "interpreter");
    const p = new VmProgram(SUM, { jit: "always", jitTarget: "js" });
    assert.equal(p.engine, "jit");
    assert.match(p.jitSource ?? "", /function jit\(m, start, base/);
    const auto = new VmProgram(SUM, { jit: "auto", jitThreshold: 3 });
    for (let i = 0; i < 2; i++) {
      assert.equal(auto.run().r0, 499500n);
      assert.equal(auto.engine, "interpreter");
    }
    assert.equal(auto.run().r0, 499500n);
    assert.equal(auto.engine, "jit");
    // A repeated run counts each repetition.
    const big = new VmProgram(SUM, { jit: "auto", jitThreshold: 100 });
    big.run({ repeat: 100 });
    assert.equal(big.engine, "jit");
  });
  test("a bad mode is a RangeError naming it", () => {
    assert.throws(
      () => new VmProgram(SUM, { jit: "fast" as never }),
      (e: unknown) => e instanceof RangeError && /"fast"|fast/.test(e.message),
    );
    assert.throws(() => setDefaultJitMode("sometimes" as never), RangeError);
  });
  test("the default mode is a module setting", () => {
    const was = defaultJitMode();
    try {
      setDefaultJitMode("always");
      assert.equal(new VmProgram(SUM).engine, "jit");
      setDefaultJitMode("never");
      assert.equal(new VmProgram(SUM).engine, "interpreter");
    } finally {
      setDefaultJitMode(was);
    }
  });
  test("without new Function (a CSP page) the program runs in the interpreter and says why", () => {
    const real = globalThis.Function;
    const refused = jitStats.refused;
    // What a page without 'unsafe-eval' does to `new Function`.
    globalThis.Function = class {
      constructor() {
        throw new EvalError("Refused to evaluate a string as JavaScript");
      }
    } as unknown as FunctionConstructor;
    let p: VmProgram;
    try {
      p = new VmProgram(SUM, { jit: "always", jitTarget: "js" });
    } finally {
      globalThis.Function = real;
    }
    assert.equal(p.engine, "interpreter");
    assert.match(p.jitRefusal ?? "", /new Function is unavailable.*EvalError: Refused/);
    assert.equal(jitStats.refused, refused + 1);
    assert.equal(p.run().r0, 499500n);
    assert.equal(p.jitCompile(), false, "a refusal is not retried");
  });
  test("a large program runs in chunks, entered from each other, with the same results", () => {
    // 3,000 stores, then a loop whose head and back edge sit in different chunks.
    const insns: Instruction[] = [asm.mov64(R0, 0), asm.mov64(R6, 0)];
    for (let i = 0; i < 3000; i++) insns.push(asm.st(64, R10, -8 * (1 + (i % 64)), i));
    insns.push(asm.ldx(64, R0, R10, -8), asm.add64(R6, 1));
    for (let i = 0; i < 1500; i++) insns.push(asm.alu64("xor", R7, R6));
    insns.push(asm.jmp("jlt", R6, 5, -(insns.length - 3001)), asm.add64(R0, R6), asm.exit());
    const x = both(insns);
    assert.match(x, /^r0 2949 /);
    const p = new VmProgram(insns, { jit: "always", jitTarget: "js" });
    const chunks = (p.jitSource ?? "").match(/^\/\/ chunk \d+: slots \d+\.\.\d+$/gm) ?? [];
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    for (const budget of [100, 3001, 3010, 4600, 6000, 9000]) both(insns, { budget });
  });
  test("compileCode gives the source and the time it took", () => {
    const p = new VmProgram(SUM, { jit: "never" });
    const code = (p as unknown as { code: Parameters<typeof compileCode>[0] }).code;
    const r = compileCode(code);
    assert.ok(r.ok);
    assert.ok(r.ms >= 0 && r.ms < 1000);
    // The counted loop is an inner loop, not a dispatch per iteration.
    assert.match(r.source, /case 2:\nfor \(;;\)/);
  });
});

describe("jit: the interpreter's semantics", () => {
  test("the budget fails at the same instruction, inside a block and inside a loop", () => {
    for (const budget of [1, 2, 3, 4, 5, 6, 100, 2999, 3002, 3003]) {
      const x = both(SUM, { budget });
      if (budget < 3003) assert.match(x, new RegExp(`budget of ${budget} exhausted`));
      else assert.match(x, /r0 499500 insns 3003/);
    }
  });
  test("faults name the same instruction and leave the same registers", () => {
    const x = both([
      asm.mov64(R0, 5),
      asm.mov64(R2, R10),
      asm.add64(R2, 7),
      asm.mov64(R3, 9),
      asm.ldx(64, R4, R2, 0),
      asm.exit(),
    ]);
    assert.match(x, /error at 4: instruction 4 .*invalid read of 8 bytes/);
  });
  test("bpf-to-bpf calls, the 9th frame and may_goto", () => {
    both([
      asm.mov64(R6, 6),
      asm.st(64, R10, -8, 100),
      asm.mov64(R1, 5),
      asm.callBpf(4),
      asm.add64(R0, R6),
      asm.ldx(64, R1, R10, -8),
      asm.add64(R0, R1),
      asm.exit(),
      asm.mov64(R6, 0),
      asm.st(64, R10, -8, 1),
      asm.mov64(R0, R1),
      asm.exit(),
    ]);
    assert.match(both([asm.callBpf(-1), asm.exit()]), /too many nested calls/);
    const loop = [asm.mov64(R0, 0), asm.mayGoto(2), asm.add64(R0, 1), asm.ja(-3), asm.exit()];
    assert.match(both(loop, { mayGotoBudget: 1000 }), /^r0 1000 /);
    assert.match(both(loop, { mayGotoBudget: 1000, budget: 1500 }), /budget of 1500/);
  });
  test("bpf_loop callbacks run compiled, and a budget cut inside one hands over", () => {
    const insns = [
      asm.mov64(R1, 50),
      asm.ldFunc(R2, 6),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.mov64(R6, R0),
      asm.exit(),
      // callback(i, ctx): r0 = i >= 40
      asm.mov64(R0, 0),
      asm.jmp("jlt", R1, 40, 1),
      asm.mov64(R0, 1),
      asm.exit(),
    ];
    assert.match(both(insns), /^r0 41 /);
    for (const budget of [7, 20, 100, 130]) assert.match(both(insns, { budget }), /budget of/);
  });
  test("tail calls between compiled and interpreted programs, from a subprogram too", () => {
    for (const [ja, jb] of [
      ["always", "always"],
      ["always", "never"],
      ["never", "always"],
    ] as const) {
      const memory = new VmMemory();
      const jt = new VmProgArray<VmProgram>({
        name: "jt",
        type: MapType.PROG_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 2,
      });
      const counter = new VmArrayMap({
        name: "count",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: 1,
      });
      // a: calls a subprogram that tail-calls b; b returns 7 to a's main, which adds 100.
      const a = new VmProgram(
        [
          asm.mov64(R6, R1),
          asm.callBpf(2),
          asm.add64(R0, 100),
          asm.exit(),
          asm.ldMapFd(R2, 0),
          asm.mov64(R3, 1),
          asm.mov64(R0, 1),
          asm.call(12),
          asm.exit(),
        ],
        { memory, maps: [jt, counter], jit: ja },
      );
      const b = new VmProgram(
        [
          asm.ldMapValue(R2, 1, 0),
          asm.ldx(64, R3, R2, 0),
          asm.add64(R3, 1),
          asm.stx(64, R2, 0, R3),
          asm.mov64(R0, 7),
          asm.exit(),
        ],
        { memory, maps: [jt, counter], jit: jb },
      );
      jt.set(1, b);
      const r = a.run();
      assert.equal(r.r0, 107n, `${ja}/${jb}`);
      assert.equal(r.instructions, 2 + 4 + 6 + 2, `${ja}/${jb}`);
      const v = counter.values;
      assert.equal(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), 1n);
    }
  });
  test("more forward jumps than one region's labels, across loops and calls", () => {
    // 140 blocks: r0 = r0 * 3 + i, skipped when bit i % 5 of r1 is set (a region of
    // over 64 forward targets); a backward loop and a subprogram call split regions.
    const insns: Instruction[] = [asm.mov64(R0, 1), asm.mov64(R1, 0x1b), asm.mov64(R6, 0)];
    for (let i = 0; i < 140; i++) {
      insns.push(
        asm.mov64(R2, R1),
        asm.rsh64(R2, i % 5),
        asm.and64(R2, 1),
        asm.jmp("jne", R2, 0, 2),
        asm.mul64(R0, 3),
        asm.add64(R0, i),
      );
      if (i === 99) insns.push(asm.add64(R6, 1), asm.jmp("jlt", R6, 3, -7));
      if (i === 119)
        insns.push(
          asm.mov64(R7, R0),
          asm.callBpf(1),
          asm.ja(2),
          asm.mov64(R0, 5),
          asm.exit(),
          asm.add64(R0, R7),
        );
    }
    insns.push(asm.exit());
    const x = both(insns);
    assert.match(x, /^r0 \d+ insns \d+/);
  });
  test("ld_abs past the packet ends the run with r0 = 0 and the same count", () => {
    const x = both(
      [asm.mov64(R6, R1), asm.ldAbs(8, 0), asm.ldAbs(32, 100), asm.mov64(R0, 5), asm.exit()],
      { type: ProgType.SOCKET_FILTER },
      { data: new Uint8Array(64).fill(3) },
    );
    assert.match(x, /^r0 0 insns 3 /);
  });
  test("context fields through the slow path", () => {
    both(
      [
        asm.ldx(32, R2, R1, 0),
        asm.ldx(32, R3, R1, 4),
        asm.mov64(R0, R3),
        asm.sub64(R0, R2),
        asm.exit(),
      ],
      { type: ProgType.XDP },
      { data: new Uint8Array(60) },
    );
  });
});

describe("jit: map lookups inline", () => {
  /**
   * Lookups of `keys` (a 4-byte index, or that index in a 16-byte key), each hit adding
   * its value to r6 and incrementing it in place; then `inserts` new keys through
   * map_update_elem (evicting from a full LRU map). Runs in both engines on maps of its
   * own and returns the outcome and the map's contents.
   */
  function lookups(spec: Omit<MapSpec, "name">, keys: number[], inserts: number[] = [], cpus = 1) {
    const ks = spec.keySize;
    const insns: Instruction[] = [asm.mov64(R6, 0)];
    for (const k of keys) {
      insns.push(asm.st(32, R10, -16, k));
      if (ks === 16) insns.push(asm.st(32, R10, -12, 7), asm.st(64, R10, -8, -1));
      insns.push(
        asm.ldMapFd(R1, 1),
        asm.mov64(R2, R10),
        asm.add64(R2, -16),
        asm.call("map_lookup_elem"),
        asm.jmp("jeq", R0, 0, 4),
        asm.ldx(64, R3, R0, 0),
        asm.alu64("add", R6, R3),
        asm.add64(R3, 1),
        asm.stx(64, R0, 0, R3),
      );
    }
    for (const k of inserts) {
      insns.push(asm.st(32, R10, -16, k));
      if (ks === 16) insns.push(asm.st(32, R10, -12, 7), asm.st(64, R10, -8, -1));
      insns.push(
        asm.st(64, R10, -24, k * 100),
        asm.ldMapFd(R1, 1),
        asm.mov64(R2, R10),
        asm.add64(R2, -16),
        asm.mov64(R3, R10),
        asm.add64(R3, -24),
        asm.mov64(R4, 0),
        asm.call("map_update_elem"),
      );
    }
    insns.push(asm.mov64(R0, R6), asm.exit());
    const out: string[] = [];
    const sources: string[] = [];
    for (const jit of ["never", "always"] as const) {
      const map = createVmMap({ name: "m", ...spec }, { cpus });
      for (let k = 0; k < 6; k++) {
        const key = new Uint8Array(ks);
        new DataView(key.buffer).setUint32(0, k, true);
        if (ks === 16) {
          key[4] = 7;
          key.fill(0xff, 8);
        }
        if (cpus > 1)
          map.updatePerCpu(
            key,
            Array.from({ length: cpus }, () => new Uint8Array(8).fill(k)),
          );
        else map.update(key, new Uint8Array(8).fill(k));
      }
      // The JS target's inline lookups (the wasm target's: src/vm/jit/wasm/arena.test.ts).
      const p = new VmProgram(insns, { jit, jitTarget: "js", resolveMap: () => map });
      assert.equal(p.engine, jit === "always" ? "jit" : "interpreter", p.jitRefusal);
      sources.push(p.jitSource ?? "");
      // Twice: the first run opens the values' windows, the second finds them cached.
      const runs = [outcome(p), outcome(p)].join("\n");
      const entries = [...map.keys()].map((k) => Buffer.from(k).toString("hex")).join(",");
      out.push(`${runs}\nkeys ${entries}`);
    }
    assert.equal(out[1], out[0]);
    return { outcome: out[0]!, source: sources[1]! };
  }
  const keys = [0, 3, 5, 9, 3, 0xffffffff, 1, 3];
  test("arrays: address arithmetic, misses past the end", () => {
    const r = lookups({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 6 }, keys);
    assert.match(r.source, /lookupSite\(/);
    assert.match(r.outcome, /^r0 \d+/);
  });
  test("hash maps of 4- and 16-byte keys, hits and misses", () => {
    for (const keySize of [4, 16]) {
      const r = lookups({ type: MapType.HASH, keySize, valueSize: 8, maxEntries: 8 }, keys);
      assert.match(r.source, /lookupSite\(/);
      assert.match(r.source, keySize === 4 ? /lookupSlotU32/ : /lookupSlotWords/);
    }
  });
  test("LRU maps: inline lookups touch keys as the helper does (the same evictions)", () => {
    for (const keySize of [4, 16]) {
      const r = lookups(
        { type: MapType.LRU_HASH, keySize, valueSize: 8, maxEntries: 6 },
        [2, 0, 4, 1],
        [10, 11, 12],
      );
      assert.match(r.outcome, /keys /);
    }
  });
  test("per-CPU maps with several CPUs stay with the helper", () => {
    const r = lookups(
      { type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 6 },
      keys,
      [],
      2,
    );
    assert.doesNotMatch(r.source, /lookupSite\(/);
  });
});

describe("jit: collections", () => {
  test("VirtualMachine.load passes the engine to every program; tail calls agree", () => {
    const bytes = readFileSync(
      join(import.meta.dirname, "../../../test/testdata/elf/map-in-map.bpf.o"),
    );
    const data = new Uint8Array(64).fill(1);
    const results: string[][] = [];
    for (const jit of ["never", "always"] as const) {
      const vm = VirtualMachine.load(loadCollectionSpec(bytes), { jit });
      const out: string[] = [];
      for (const [name, p] of Object.entries(vm.programs)) {
        assert.equal(
          p.engine,
          jit === "always" ? "jit" : "interpreter",
          `${name}: ${p.jitRefusal}`,
        );
        out.push(`${name}: ${outcome(p, { data })}`);
      }
      results.push(out);
    }
    assert.deepEqual(results[1], results[0]);
  });
});
