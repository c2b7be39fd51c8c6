/**
 * The VM as a sandbox (issue 9): a program, even one the verifier never saw, cannot
 * escape its run's budget and call depth, nor touch memory that is not its own. Each
 * test reproduces one hostile program and expects a typed error (or the right result)
 * within 2 s.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  asm,
  type Instruction,
  InvalidInstructionError,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
} from "../src/isa/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { VmError, VmMemory, VmProgArray, VmProgram } from "../src/vm/index.ts";

/** Runs `fn`, which must end within 2 s; returns its value or its exception. */
function timed<T>(fn: () => T): T | unknown {
  const t0 = performance.now();
  let out: T | unknown;
  try {
    out = fn();
  } catch (e) {
    out = e;
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  return out;
}

function isVmError(e: unknown, re: RegExp): boolean {
  return e instanceof VmError && re.test(e.message);
}

describe("frame pointer and budgets", () => {
  test("a write to r10 is refused at construction, naming the instruction", () => {
    // The program: r10 = 0, then a bpf_loop whose callback ran as a fresh run.
    const prog = [
      asm.mov64(R10, 0),
      asm.mov64(R1, 1),
      asm.ldFunc(R2, 6),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.ja(-8),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = timed(() => new VmProgram(prog));
    assert.ok(isVmError(e, /r10 is the frame pointer and is read-only/), String(e));
    assert.equal((e as VmError).pc, 0);
    assert.equal((e as VmError).instruction, "(b7) r10 = 0");
  });
  test("every instruction form that writes r10 is refused", () => {
    const writers: Instruction[] = [
      asm.add64(R10, 8),
      asm.mov32(R10, R1),
      asm.ldx(64, R10, R1, 0),
      asm.lddw(R10, 1n),
      asm.atomic("add", 64, R1, 0, R10, true),
      asm.atomic("xchg", 64, R1, 0, R10, true),
    ];
    for (const w of writers)
      assert.throws(
        () => new VmProgram([w, asm.exit()]),
        (e: unknown) => isVmError(e, /read-only/) && (e as VmError).pc === 0,
        `${w.kind} ${w.code}`,
      );
    // Stores through r10 and reading it are fine.
    const ok = new VmProgram([
      asm.st(64, R10, -8, 7),
      asm.ldx(64, R0, R10, -8),
      asm.atomic("add", 64, R10, -8, R1),
      asm.exit(),
    ]);
    assert.equal(ok.run().r0, 7n);
  });
  test("a callback that calls bpf_loop with itself stops at the frame limit", () => {
    const prog = [
      asm.mov64(R1, 1),
      asm.ldFunc(R2, 5),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.exit(),
      // the callback, slot 7
      asm.mov64(R1, 1),
      asm.ldFunc(R2, -2),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = timed(() => new VmProgram(prog).run());
    assert.ok(isVmError(e, /too many nested calls/), String(e));
  });
  test("callbacks count against the run's instruction budget", () => {
    // bpf_loop(1000, cb) where cb runs 3 instructions: over a budget of 2000.
    const prog = [
      asm.mov64(R1, 1000),
      asm.ldFunc(R2, 5),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.exit(),
      asm.mov64(R0, 0),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = timed(() => new VmProgram(prog, { budget: 2000 }).run());
    assert.ok(isVmError(e, /budget of 2000 exhausted/), String(e));
    const ok = new VmProgram(prog, { budget: 4000 }).run();
    assert.equal(ok.r0, 1000n);
    assert.equal(ok.instructions, 6 + 3000);
  });
  test("a self tail call stops after 33 tail calls", () => {
    const memory = new VmMemory();
    const jt = new VmProgArray<VmProgram>({
      name: "jt",
      type: MapType.PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    });
    // r7 counts the runs in the stack... registers are kept across tail calls: r6 counts.
    const p = new VmProgram(
      [
        asm.add64(R6, 1),
        asm.ldMapFd(R2, 0),
        asm.mov64(R3, 0),
        asm.call(12),
        asm.mov64(R0, R6),
        asm.exit(),
      ],
      { memory, maps: [jt] },
    );
    jt.set(0, p);
    const r = timed(() => p.run());
    assert.equal((r as { r0: bigint }).r0, 34n);
    // A loop around the failing tail call ends with the budget, not a hang.
    const loop = new VmProgram(
      [asm.ldMapFd(R2, 0), asm.mov64(R3, 0), asm.call(12), asm.ja(-5), asm.exit()],
      { memory, maps: [jt] },
    );
    jt.set(0, loop);
    const e = timed(() => loop.run());
    assert.ok(isVmError(e, /budget/), String(e));
  });
});

describe("hand-built instructions are validated", () => {
  const bad: [string, Instruction, RegExp][] = [
    ["dst: 12", { ...asm.mov64(R0, 1), dst: 12 } as Instruction, /dst register r12/],
    ["src: 11", { ...asm.mov64(R0, R1), src: 11 } as Instruction, /src register r11/],
    [
      "a 1-byte atomic add",
      { ...asm.atomic("add", 32, R1, 0, R2), code: 0xd3 } as Instruction,
      /atomic add exists only for 32- and 64-bit/,
    ],
    [
      "a kind that disagrees with the opcode",
      { ...asm.mov64(R0, 1), kind: "exit" } as Instruction,
      /encode a alu instruction/,
    ],
    ["an offset that does not fit", { ...asm.ja(0), off: 70000 } as Instruction, /offset 70000/],
  ];
  for (const [what, insn, re] of bad)
    test(what, () =>
      assert.throws(
        () => new VmProgram([asm.mov64(R6, 0), insn, asm.exit()]),
        (e: unknown) => e instanceof InvalidInstructionError && e.index === 1 && re.test(e.message),
      ),
    );
});
