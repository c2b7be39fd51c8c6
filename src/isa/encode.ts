/** The typed model to binary instructions. @module */

import type { Instruction } from "./instruction.ts";

/**
 * Writes one instruction (8 bytes, 16 for lddw) at `byteOffset` of `view`,
 * little-endian, from its raw fields.
 */
export function writeInstruction(view: DataView, byteOffset: number, insn: Instruction): void {
  view.setUint8(byteOffset, insn.code);
  view.setUint8(byteOffset + 1, ((insn.src & 0xf) << 4) | (insn.dst & 0xf));
  view.setInt16(byteOffset + 2, insn.off, true);
  view.setInt32(byteOffset + 4, insn.imm, true);
  if (insn.kind === "lddw") {
    view.setUint32(byteOffset + 8, 0, true);
    view.setInt32(byteOffset + 12, insn.imm2, true);
  }
}

/**
 * Encodes one instruction: 8 bytes, or 16 for lddw.
 *
 * @example
 * ```ts
 * encodeInstruction(asm.exit()); // Uint8Array [0x95, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function encodeInstruction(insn: Instruction): Uint8Array {
  const out = new Uint8Array(insn.bytes);
  writeInstruction(new DataView(out.buffer), 0, insn);
  return out;
}

/**
 * Encodes a program, the inverse of `decodeProgram`.
 *
 * @example
 * ```ts
 * const bytes = encodeProgram([asm.mov64(R0, 2), asm.exit()]); // 16 bytes
 * ```
 */
export function encodeProgram(insns: readonly Instruction[]): Uint8Array {
  let len = 0;
  for (const i of insns) len += i.bytes;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const i of insns) {
    writeInstruction(view, at, i);
    at += i.bytes;
  }
  if (at !== len) throw new Error("encodeProgram: internal size mismatch");
  return out;
}

/** Size in bytes of an encoded program. */
export function programByteLength(insns: readonly Instruction[]): number {
  let len = 0;
  for (const i of insns) len += i.bytes;
  return len;
}
