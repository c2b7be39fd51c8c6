/**
 * The operator spellings of the text syntax the kernel, bpftool and LLVM share
 * (`r0 += 1`, `if r1 s> r2 goto`, `lock *(u64 *)(r1 +0) |= r2`, `*(u32 *)`): one table
 * that both disassemblers print from and the assembler parses with.
 * @module
 */

import type {
  AccessSize,
  AluInstruction,
  AluOp,
  AtomicOp,
  JumpInstruction,
  JumpOp,
} from "./instruction.ts";

/** The operator of each ALU operation (`neg` has none: it prints as `r0 = -r0`). */
export const ALU_OPERATORS: Readonly<Record<Exclude<AluOp, "neg">, string>> = {
  add: "+=",
  sub: "-=",
  mul: "*=",
  div: "/=",
  sdiv: "s/=",
  or: "|=",
  and: "&=",
  lsh: "<<=",
  rsh: ">>=",
  mod: "%=",
  smod: "s%=",
  xor: "^=",
  mov: "=",
  movsx: "=",
  arsh: "s>>=",
};

/** The comparison of each conditional jump (`if r1 s>= r2 goto ...`). */
export const JUMP_OPERATORS: Readonly<Record<JumpOp, string>> = {
  jeq: "==",
  jgt: ">",
  jge: ">=",
  jset: "&",
  jne: "!=",
  jsgt: "s>",
  jsge: "s>=",
  jlt: "<",
  jle: "<=",
  jslt: "s<",
  jsle: "s<=",
};

/** The atomic operations written `lock *(uN *)(rD +off) OP rS`, and their operators. */
export const ATOMIC_OPERATORS: Readonly<Partial<Record<AtomicOp, string>>> = {
  add: "+=",
  or: "|=",
  and: "&=",
  xor: "^=",
};

function inverse<K extends string>(table: Readonly<Partial<Record<K, string>>>): Record<string, K> {
  const out: Record<string, K> = {};
  for (const [op, text] of Object.entries(table) as [K, string][]) out[text] ??= op;
  return out;
}

/**
 * Compound-assignment operator → ALU operation, for the assembler. Plain `=` is not
 * here: it is a move (or movsx, when a `(sN)` cast follows), which the parser decides.
 */
export const ALU_BY_OPERATOR: Readonly<Record<string, AluOp>> = inverse<AluOp>(
  Object.fromEntries(Object.entries(ALU_OPERATORS).filter(([, text]) => text !== "=")),
);

/** Comparison operator → conditional jump, for the assembler. */
export const JUMP_BY_OPERATOR: Readonly<Record<string, JumpOp>> = inverse(JUMP_OPERATORS);

/** `lock` operator → atomic operation, for the assembler. */
export const ATOMIC_BY_OPERATOR: Readonly<Record<string, AtomicOp>> = inverse(ATOMIC_OPERATORS);

/**
 * Every operator above longer than one character, longest first (so a tokenizer that
 * takes the first match takes the longest one).
 */
export const MULTI_CHAR_OPERATORS: readonly string[] = [
  ...new Set([...Object.values(ALU_OPERATORS), ...Object.values(JUMP_OPERATORS)]),
]
  .filter((text) => text.length > 1)
  .sort((a, b) => b.length - a.length);

/** The memory type of an access: `u32`, or `s32` for a sign-extending load. */
export function memoryType(size: AccessSize, signed = false): string {
  return `${signed ? "s" : "u"}${size}`;
}

/** Parses a memory type (`u8`..`u64`, `s8`..`s64`); undefined when `text` is none. */
export function parseMemoryType(text: string): { size: AccessSize; signed: boolean } | undefined {
  const m = /^([us])(8|16|32|64)$/.exec(text);
  if (!m) return undefined;
  return { size: Number(m[2]) as AccessSize, signed: m[1] === "s" };
}

/**
 * The text of an ALU instruction in the shared syntax (`r0 += 1`, `w1 = (s8)w2`,
 * `r0 = -r0`), with immediates written by `imm` (the kernel prints decimal, LLVM hex).
 */
export function aluText(insn: AluInstruction, imm: (n: number) => string): string {
  const r = insn.bits === 32 ? "w" : "r";
  const { dst, src } = insn;
  if (insn.op === "neg") return `${r}${dst} = -${r}${dst}`;
  const op = ALU_OPERATORS[insn.op];
  if (insn.source === "reg") {
    const sx = insn.op === "movsx" ? `(s${insn.extendFrom})` : "";
    return `${r}${dst} ${op} ${sx}${r}${src}`;
  }
  return `${r}${dst} ${op} ${imm(insn.imm)}`;
}

/**
 * The condition of a conditional jump (`r1 s> 0x10`, `w2 == w3`), with immediates
 * written by `imm`.
 */
export function conditionText(insn: JumpInstruction, imm: (n: number) => string): string {
  const r = insn.bits === 32 ? "w" : "r";
  const rhs = insn.source === "reg" ? `${r}${insn.src}` : imm(insn.imm);
  return `${r}${insn.dst} ${JUMP_OPERATORS[insn.op]} ${rhs}`;
}
