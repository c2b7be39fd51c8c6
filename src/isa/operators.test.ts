// The operator table read by both disassemblers and the assembler, pinned against the
// spellings of the kernel's kernel/bpf/disasm.c (bpf_alu_string, bpf_alu_sign_string,
// bpf_jmp_string, bpf_atomic_alu_string) written out here a second time: a typo in
// the one table would otherwise round-trip unnoticed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assemble } from "./assemble.ts";
import { asm, R1, R2 } from "./builder.ts";
import { formatKernel } from "./format-kernel.ts";
import { formatLlvm } from "./format-llvm.ts";
import type { AluOp, AtomicOp, JumpOp } from "./instruction.ts";
import { MULTI_CHAR_OPERATORS, memoryType, parseMemoryType } from "./operators.ts";

const ALU: [AluOp, string][] = [
  ["add", "+="],
  ["sub", "-="],
  ["mul", "*="],
  ["div", "/="],
  ["sdiv", "s/="],
  ["or", "|="],
  ["and", "&="],
  ["lsh", "<<="],
  ["rsh", ">>="],
  ["mod", "%="],
  ["smod", "s%="],
  ["xor", "^="],
  ["mov", "="],
  ["arsh", "s>>="],
];

const JUMP: [JumpOp, string][] = [
  ["jeq", "=="],
  ["jgt", ">"],
  ["jge", ">="],
  ["jset", "&"],
  ["jne", "!="],
  ["jsgt", "s>"],
  ["jsge", "s>="],
  ["jlt", "<"],
  ["jle", "<="],
  ["jslt", "s<"],
  ["jsle", "s<="],
];

const ATOMIC: [AtomicOp, string][] = [
  ["add", "+="],
  ["or", "|="],
  ["and", "&="],
  ["xor", "^="],
];

describe("operators", () => {
  it("ALU operators are the kernel's, printed by both formats and parsed back", () => {
    for (const [op, text] of ALU) {
      const insn = asm.alu64(op, R1, R2);
      assert.equal(formatKernel(insn).slice(5), `r1 ${text} r2`, op);
      assert.equal(formatLlvm(insn), `r1 ${text} r2`, op);
      assert.deepEqual(assemble(`r1 ${text} r2`), [insn], op);
      assert.deepEqual(assemble(`w1 ${text} 3`), [asm.alu32(op, R1, 3)], op);
    }
  });

  it("jump comparisons are the kernel's, printed by both formats and parsed back", () => {
    for (const [op, text] of JUMP) {
      const insn = asm.jmp(op, R1, R2, 1);
      assert.equal(formatKernel(insn).slice(5), `if r1 ${text} r2 goto pc+1`, op);
      assert.equal(formatLlvm(insn, {}, 0), `if r1 ${text} r2 goto +0x1 <.text+0x10>`, op);
      assert.deepEqual(assemble(`if r1 ${text} r2 goto +1`), [insn], op);
      assert.deepEqual(assemble(`if w1 ${text} 5 goto +1`), [asm.jmp32(op, R1, 5, 1)], op);
    }
  });

  it("atomic lock operators are the kernel's, printed by both formats and parsed back", () => {
    for (const [op, text] of ATOMIC) {
      const insn = asm.atomic(op, 64, R1, 8, R2, false);
      assert.equal(formatKernel(insn).slice(5), `lock *(u64 *)(r1 +8) ${text} r2`, op);
      assert.equal(formatLlvm(insn), `lock *(u64 *)(r1 + 0x8) ${text} r2`, op);
      assert.deepEqual(assemble(`lock *(u64 *)(r1 +8) ${text} r2`), [insn], op);
    }
  });

  it("the tokenizer's operators are every multi-character one, longest first", () => {
    const expected = new Set(
      [...ALU, ...JUMP].map(([, text]) => text).filter((text) => text.length > 1),
    );
    assert.deepEqual(new Set(MULTI_CHAR_OPERATORS), expected);
    for (let i = 1; i < MULTI_CHAR_OPERATORS.length; i++) {
      const [a, b] = [MULTI_CHAR_OPERATORS[i - 1] ?? "", MULTI_CHAR_OPERATORS[i] ?? ""];
      assert.ok(a.length >= b.length, `${a} before ${b}`);
    }
  });

  it("memory types", () => {
    assert.equal(memoryType(32), "u32");
    assert.equal(memoryType(8, true), "s8");
    assert.deepEqual(parseMemoryType("s16"), { size: 16, signed: true });
    assert.deepEqual(parseMemoryType("u64"), { size: 64, signed: false });
    assert.equal(parseMemoryType("u7"), undefined);
    assert.equal(parseMemoryType("x32"), undefined);
  });
});
