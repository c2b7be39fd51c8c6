import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { assemble, type Instruction } from "../../../isa/index.ts";
import { MapType, ProgType } from "../../../uapi/index.ts";
import { VmError } from "../../errors.ts";
import type { Code, Machine } from "../../interpreter.ts";
import { VmArrayMap } from "../../maps/array.ts";
import { VmProgram, type VmProgramOptions, type VmRunInput } from "../../program.ts";
import { chooseTarget } from "./choose.ts";
import { compileWasm } from "./compile-wasm.ts";
import { instantiateWasm } from "./runtime.ts";

const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "-");

/** What a run did, as text: result or error, outputs and the registers left behind. */
function outcome(p: VmProgram, input: VmRunInput): string {
  let head: string;
  try {
    const r = p.run(input);
    head = `r0 ${r.r0} insns ${r.instructions} data ${hex(r.dataOut)} ctx ${hex(r.ctxOut)}`;
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    head = `error at ${e.pc}: ${e.message}`;
  }
  const R = (p as unknown as { machine: { R: Int32Array } }).machine.R;
  return `${head}\nregs ${[...R].join(",")}`;
}

/**
 * Runs `text` in the interpreter and on the wasm target (forced), each input in turn
 * on the same program (state carries over: maps, the arena); asserts the same outcomes.
 */
function same(
  text: string | Instruction[],
  opts: VmProgramOptions = {},
  inputs: VmRunInput[] = [{}],
  makeMaps: () => VmProgramOptions = () => ({}),
): string[] {
  const insns = typeof text === "string" ? assemble(text) : text;
  const a = new VmProgram(insns, { ...opts, ...makeMaps(), jit: "never" });
  const b = new VmProgram(insns, { ...opts, ...makeMaps(), jit: "always", jitTarget: "wasm" });
  assert.equal(b.jitEngine, "wasm", b.jitEngineReason);
  const out: string[] = [];
  for (const input of inputs) {
    const x = outcome(a, input);
    assert.equal(outcome(b, input), x);
    out.push(x);
  }
  return out;
}

const SUM = "r0 = 0\nr1 = 0\nl:\nr0 += r1\nr1 += 1\nif r1 < 1000 goto l\nexit";

describe("wasm target: engine choice", () => {
  test("auto takes wasm for the loop and says why; js when asked", () => {
    const p = new VmProgram(assemble(SUM), { jit: "always" });
    assert.equal(p.jitEngine, "wasm");
    assert.match(p.jitEngineReason ?? "", /^wasm: 6 instructions, 0 helper calls \(\d+ bytes/);
    assert.equal(p.run().r0, 499500n);
    assert.deepEqual(
      [...(p.jitWasmModule ?? new Uint8Array(0)).subarray(0, 4)],
      [0, 0x61, 0x73, 0x6d],
    );
    assert.equal(p.jitSource, undefined);
    const j = new VmProgram(assemble(SUM), { jit: "always", jitTarget: "js" });
    assert.equal(j.jitEngine, "js");
    assert.equal(new VmProgram(assemble(SUM), { jit: "never" }).jitEngine, undefined);
    assert.throws(() => new VmProgram(assemble(SUM), { jitTarget: "asm" as never }), RangeError);
  });
  test("auto sends calls, tail calls and helper-dense programs to the JS target", () => {
    const calls = new VmProgram(assemble("call sub\nexit\nsub:\nr0 = 1\nexit"), { jit: "always" });
    assert.equal(calls.jitEngine, "js");
    assert.match(calls.jitEngineReason ?? "", /hand to the interpreter/);
    const helpers = new VmProgram(assemble("call 7\ncall 7\nexit"), { jit: "always" });
    assert.equal(helpers.jitEngine, "js");
    assert.match(helpers.jitEngineReason ?? "", /2 helper calls in 3 instructions/);
    assert.deepEqual(
      chooseTarget({ insns: 100, helperCalls: 1, inlineLookups: 0, handOvers: 0, loops: true })
        .wasm,
      true,
    );
    // Helper-dense and large: the JS target takes it too (in chunks), with the same result.
    const lines = ["r6 = 0"];
    for (let i = 0; i < 1500; i++)
      lines.push("call 7", "r6 += r0", `*(u64 *)(r10 -${8 + 8 * (i % 60)}) = r6`);
    lines.push("r0 = r6", "exit");
    const big = new VmProgram(assemble(lines.join("\n")), { jit: "always", seed: 3 });
    assert.equal(big.jitEngine, "js");
    const ref = new VmProgram(assemble(lines.join("\n")), { jit: "never", seed: 3 });
    assert.equal(big.run().r0, ref.run().r0);
  });
  test("without WebAssembly (or when it refuses) the JS target runs and says why", () => {
    const g = globalThis as { WebAssembly?: unknown };
    const real = g.WebAssembly;
    let p: VmProgram;
    try {
      g.WebAssembly = undefined;
      p = new VmProgram(assemble(SUM), { jit: "always", jitTarget: "wasm" });
    } finally {
      g.WebAssembly = real;
    }
    assert.equal(p.jitEngine, "js");
    assert.match(p.jitEngineReason ?? "", /WebAssembly is not available/);
    assert.equal(p.run().r0, 499500n);
  });
  test("irreducible control flow is refused with the jump that makes it so", () => {
    // Two ways into the loop a..b: falling into a, jumping to b.
    const text = "r0 = 0\nif r1 == 0 goto b\na:\nr0 += 1\nb:\nr0 += 2\nif r0 < 10 goto a\nexit";
    const p = new VmProgram(assemble(text), { jit: "always", jitTarget: "wasm" });
    assert.equal(p.jitEngine, "js");
    assert.match(
      p.jitEngineReason ?? "",
      /irreducible control flow \(the jump \d+ -> \d+ enters a loop/,
    );
    assert.equal(p.run().r0, 11n);
    const code = (p as unknown as { code: Parameters<typeof compileWasm>[0] }).code;
    const r = compileWasm(code);
    assert.equal(r.ok, false);
  });
});

describe("wasm target: instances", () => {
  test("a program's instance, arena and call table are collected once it is dropped", async () => {
    // V8 keeps an instance alive as long as a table it imports: one call table shared by
    // every instance kept every arena (WebAssembly.Memory could not allocate after a few
    // thousand programs). Each instance has its own table (calls.ts).
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry(() => {
      collected++;
    });
    const insns = assemble("r0 = 7\nexit");
    for (let i = 0; i < 40; i++) {
      const p = new VmProgram(insns, { jit: "never" });
      const { code, machine } = p as unknown as { code: Code; machine: Machine };
      const w = compileWasm(code);
      assert.ok(w.ok);
      const engine = instantiateWasm(w.module, code, machine);
      engine.loop(machine, 2, 0, 0, 0);
      registry.register(engine.arena, i);
    }
    for (let i = 0; i < 20 && collected < 40; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(collected >= 36, `${collected} of 40 arenas collected`);
  });
});

describe("wasm target: tiering", () => {
  test("auto compiles mid-way; the XDP frame moves into the arena on the next run", () => {
    const text =
      "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 4\nif r4 > r3 goto +3\nr0 = *(u32 *)(r2 +0)\nr0 += 1\n*(u32 *)(r2 +0) = r0\nexit";
    const a = new VmProgram(assemble(text), { type: ProgType.XDP, jit: "never" });
    const b = new VmProgram(assemble(text), {
      type: ProgType.XDP,
      jit: "auto",
      jitThreshold: 3,
      jitTarget: "wasm",
    });
    const data = new Uint8Array(32).fill(5);
    for (let i = 0; i < 5; i++) {
      assert.equal(outcome(b, { data, repeat: 2 }), outcome(a, { data, repeat: 2 }), `run ${i}`);
      assert.equal(b.jitEngine, i >= 1 ? "wasm" : undefined, `run ${i}`);
    }
  });
});

describe("wasm target: the interpreter's semantics", () => {
  test("ALU corners: division by zero and -1, shifts, byte swaps, sign extension", () => {
    const lines = [
      "r1 = -9223372036854775808 ll",
      "r2 = -1",
      "r3 = r1",
      "r3 s/= r2",
      "r4 = r1",
      "r4 s%= r2",
      "r5 = 77",
      "r5 /= r9",
      "r6 = 77",
      "r6 %= r9",
      "w7 = -2147483648",
      "w7 s/= -1",
      "w8 = 5",
      "w8 s%= 0",
      "r0 = r3",
      "r0 ^= r4",
      "r0 += r5",
      "r0 += r6",
      "r0 += r7",
      "r0 += r8",
      "r2 = 0x1122334455667788 ll",
      "r2 = be64 r2",
      "r0 ^= r2",
      "r2 = 0x8182 ll",
      "r2 = be16 r2",
      "r0 += r2",
      "r3 = 0xff80 ll",
      "r3 = (s8)r3",
      "r0 += r3",
      "w4 = 0x12345678",
      "w4 = be32 w4",
      "r0 ^= r4",
      "r5 = 1",
      "r5 <<= 63",
      "r5 s>>= 62",
      "r0 += r5",
      "w6 = -1",
      "w6 >>= 28",
      "r0 += r6",
      "exit",
    ];
    same(lines.join("\n"));
  });
  test("a budget cut mid-run, with repeats, fails at the same instruction", () => {
    for (const budget of [1, 2, 3, 5, 7, 2000, 3002, 3003])
      same(SUM, { budget }, [{}, { repeat: 3 }]);
  });
  test("calls and tail calls hand over to the interpreter, also between repeats", () => {
    const text =
      "r6 = 0\nl:\ncall sub\nr6 += r0\nif r6 < 50 goto l\nr0 = r6\nexit\nsub:\nr0 = 7\nr1 = *(u64 *)(r10 -8)\n*(u64 *)(r10 -8) = r0\nexit";
    const [x] = same(text, {}, [{ repeat: 4 }, {}]);
    assert.match(x!, /^r0 56 /);
  });
  test("XDP: packet reads and writes, context fields, adjust_head between repeats", () => {
    const text = [
      "r6 = r1",
      "r2 = *(u32 *)(r6 +0)",
      "r3 = *(u32 *)(r6 +4)",
      "r4 = r2",
      "r4 += 8",
      "if r4 > r3 goto out",
      "r5 = *(u64 *)(r2 +0)",
      "r5 += 1",
      "*(u64 *)(r2 +0) = r5",
      "*(u8 *)(r2 +7) = 9",
      "r1 = r6",
      "r2 = 2",
      "call 44",
      "r2 = *(u32 *)(r6 +0)",
      "r3 = *(u32 *)(r6 +4)",
      "r0 = r3",
      "r0 -= r2",
      "r4 = *(u8 *)(r2 +0)",
      "r0 <<= 8",
      "r0 |= r4",
      "exit",
      "out:",
      "r0 = 1",
      "exit",
    ].join("\n");
    const data = new Uint8Array(64).map((_, i) => i);
    const outs = same(text, { type: ProgType.XDP }, [
      { data },
      { data, repeat: 5 },
      { data: data.subarray(0, 20) },
    ]);
    // 62 bytes after adjust_head(2), the first of them 0x02.
    assert.match(outs[0]!, /^r0 15874 /);
  });
  test("a pointer register moved to another region between accesses (branches, loops)", () => {
    const branch =
      "*(u64 *)(r10 -8) = 77\nr6 = r1\nr2 = *(u32 *)(r6 +0)\nr3 = *(u8 *)(r2 +0)\nif r3 > 100 goto l\nr2 = r10\nr2 += -8\nl:\nr0 = *(u8 *)(r2 +0)\nexit";
    const data = new Uint8Array(20);
    data[0] = 5;
    assert.match(same(branch, { type: ProgType.XDP }, [{ data }])[0]!, /^r0 77 /);
    data[0] = 200;
    assert.match(same(branch, { type: ProgType.XDP }, [{ data }])[0]!, /^r0 200 /);
    const loop = [
      "*(u64 *)(r10 -8) = 77",
      "r7 = *(u32 *)(r1 +0)",
      "r8 = r10",
      "r8 += -8",
      "r0 = 0",
      "r9 = 0",
      "l:",
      "r2 = r7",
      "if r9 & 0x1 goto +1",
      "r2 = r8",
      "r3 = *(u8 *)(r2 +0)",
      "r0 += r3",
      "r9 += 1",
      "if r9 < 6 goto l",
      "exit",
    ].join("\n");
    assert.match(same(loop, { type: ProgType.XDP }, [{ data }])[0]!, /^r0 831 /);
  });
  test("skb: a context field stored and read back, ld_abs past the packet", () => {
    const text = [
      "r6 = r1",
      "r2 = *(u32 *)(r6 +8)",
      "r2 += 3",
      "*(u32 *)(r6 +8) = r2",
      "r0 = *(u32 *)(r6 +8)",
      "r3 = *(u32 *)(r6 +0)",
      "r0 += r3",
      "exit",
    ].join("\n");
    same(text, { type: ProgType.SCHED_CLS }, [
      { data: new Uint8Array(60), repeat: 3 },
      { data: new Uint8Array(80) },
    ]);
  });
  test("ld_abs/ld_ind in wasm: big-endian packet loads, and past the packet r0 = 0", () => {
    const text = [
      "r6 = r1",
      "r0 = *(u8 *)skb[12]",
      "r7 = r0",
      "r0 = *(u16 *)skb[12]",
      "r7 += r0",
      "r2 = 20",
      "r0 = *(u32 *)skb[r2 + 6]",
      "r7 += r0",
      "r2 = 1000",
      "r0 = *(u32 *)skb[r2 + 0]",
      "r0 = 5",
      "exit",
    ].join("\n");
    const data = new Uint8Array(64).map((_, i) => i * 3);
    for (const type of [ProgType.SOCKET_FILTER, ProgType.SCHED_CLS]) {
      const outs = same(text, { type }, [{ data }, { data, repeat: 3 }]);
      assert.match(outs[0]!, /^r0 0 insns 10 /);
      const p = new VmProgram(assemble(text), { type, jit: "always" });
      assert.equal(p.jitEngine, "wasm", p.jitEngineReason);
    }
  });
  test("raw memory: in the arena, larger than its slots, and faults past it", () => {
    const text =
      "r3 = r1\nr3 += r2\nr3 += -8\nr0 = *(u64 *)(r3 +0)\nr0 += 1\n*(u64 *)(r3 +0) = r0\nr4 = *(u8 *)(r3 +8)\nexit";
    for (const size of [16, 9000]) {
      const mem = new Uint8Array(size).fill(1);
      const [x] = same(text, {}, [{ mem }, { mem, repeat: 3 }]);
      assert.match(x!, /invalid read of 1 bytes/);
    }
  });
  test("map values through the slow path, atomics and may_goto", () => {
    const text = [
      "r6 = 0",
      "*(u32 *)(r10 -4) = 0",
      "l:",
      "may_goto out",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "call map_lookup_elem",
      "if r0 == 0 goto out",
      "r1 = 1",
      "lock *(u64 *)(r0 +0) += r1",
      "r6 += 1",
      "goto l",
      "out:",
      "r0 = r6",
      "exit",
    ].join("\n");
    const maps = () => ({
      maps: [
        new VmArrayMap({
          name: "a",
          type: MapType.ARRAY,
          keySize: 4,
          valueSize: 8,
          maxEntries: 1,
        }),
      ],
    });
    const [x] = same(text, { mayGotoBudget: 25 }, [{}, { repeat: 3 }], maps);
    assert.match(x!, /^r0 25 /);
  });
});
