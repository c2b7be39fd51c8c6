/** Binary instructions to the typed model. @module */

import { plainBytes, viewOf } from "../uapi/bytes.ts";
import { BPF_DW, BPF_IMM, BPF_LD, INSN_SIZE } from "../uapi/insn.ts";
import { InvalidInstructionError } from "./errors.ts";
import { type DecodeOptions, type Instruction, instructionFromFields } from "./instruction.ts";

const LDDW = BPF_LD | BPF_IMM | BPF_DW;

/**
 * Decodes the instruction at `slot` (8-byte units) of `bytes`, little-endian.
 * Reads two slots for lddw. Throws `InvalidInstructionError` with the slot index,
 * the raw bytes and the reason.
 *
 * @example
 * ```ts
 * const insn = decodeInstruction(new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0]));
 * // { kind: "alu", op: "mov", bits: 64, source: "imm", dst: 0, imm: 2, ... }
 * ```
 */
export function decodeInstruction(
  bytes: Uint8Array,
  slot = 0,
  opts: DecodeOptions = {},
): Instruction {
  bytes = plainBytes(bytes); // so the raw bytes kept in errors are copies
  const at = slot * INSN_SIZE;
  const view = viewOf(bytes);
  if (at + INSN_SIZE > bytes.length) {
    throw new InvalidInstructionError(
      slot,
      bytes.slice(at),
      `truncated: ${bytes.length - at} bytes left, an instruction needs 8`,
    );
  }
  const code = view.getUint8(at);
  const regs = view.getUint8(at + 1);
  const fields = {
    code,
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
    imm2: 0,
  };
  let raw = bytes.slice(at, at + INSN_SIZE);
  if (code === LDDW) {
    if (at + 2 * INSN_SIZE > bytes.length) {
      throw new InvalidInstructionError(
        slot,
        bytes.slice(at),
        "truncated lddw: the second half of the 16-byte instruction is missing",
      );
    }
    raw = bytes.slice(at, at + 2 * INSN_SIZE);
    const c2 = view.getUint8(at + 8);
    const r2 = view.getUint8(at + 9);
    const o2 = view.getInt16(at + 10, true);
    if (c2 !== 0 || r2 !== 0 || o2 !== 0) {
      throw new InvalidInstructionError(
        slot,
        raw,
        `lddw: the second slot must have opcode, registers and offset 0 (has code 0x${c2.toString(16)}, regs 0x${r2.toString(16)}, off ${o2})`,
      );
    }
    fields.imm2 = view.getInt32(at + 12, true);
  }
  try {
    return instructionFromFields(fields, opts);
  } catch (e) {
    if (e instanceof InvalidInstructionError)
      throw new InvalidInstructionError(slot, raw, e.reason);
    throw e;
  }
}

/**
 * Decodes a whole program: `bytes.length` must be a multiple of 8. lddw becomes one
 * `Instruction` of 16 bytes, so the array index is not always the slot index; use
 * `slotCount` (or `bytes`) to walk slots.
 *
 * @example
 * ```ts
 * const insns = decodeProgram(encodeProgram([asm.mov64(R0, 2), asm.exit()]));
 * ```
 */
export function decodeProgram(bytes: Uint8Array, opts: DecodeOptions = {}): Instruction[] {
  bytes = plainBytes(bytes);
  const out: Instruction[] = [];
  if (bytes.length % INSN_SIZE !== 0) {
    const last = Math.floor(bytes.length / INSN_SIZE);
    throw new InvalidInstructionError(
      last,
      bytes.slice(last * INSN_SIZE),
      `truncated: program length ${bytes.length} is not a multiple of 8`,
    );
  }
  const slots = bytes.length / INSN_SIZE;
  for (let slot = 0; slot < slots; ) {
    const insn = decodeInstruction(bytes, slot, opts);
    out.push(insn);
    slot += insn.bytes / INSN_SIZE;
  }
  return out;
}
