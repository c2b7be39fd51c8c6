/**
 * The handful of instructions feature probes are made of, encoded by hand so the
 * probes need nothing from src/isa (and cost no allocation beyond the bytes).
 * Internal to tsbpf's kernel layer (and its tests).
 * @module
 */

import {
  BPF_ALU64,
  BPF_CALL,
  BPF_DW,
  BPF_EXIT,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LDX,
  BPF_MEM,
  BPF_MOV,
  INSN_SIZE,
} from "../../uapi/index.ts";

/** One instruction as `[code, dst | src << 4, off, imm]`. */
export type RawInsn = readonly [code: number, regs: number, off: number, imm: number];

/** Encodes raw instructions into the bytes BPF_PROG_LOAD takes. */
export function encodeRaw(insns: readonly RawInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  const view = new DataView(out.buffer);
  insns.forEach(([code, regs, off, imm], i) => {
    view.setUint8(i * INSN_SIZE, code);
    view.setUint8(i * INSN_SIZE + 1, regs);
    view.setInt16(i * INSN_SIZE + 2, off, true);
    view.setInt32(i * INSN_SIZE + 4, imm, true);
  });
  return out;
}

/** `rDst = imm` (64-bit). */
export const movImm = (dst: number, imm: number): RawInsn => [
  BPF_ALU64 | BPF_MOV | BPF_K,
  dst,
  0,
  imm,
];
/** `exit`. */
export const exit = (): RawInsn => [BPF_JMP | BPF_EXIT, 0, 0, 0];
/** `call helper#id`. */
export const call = (id: number): RawInsn => [BPF_JMP | BPF_CALL, 0, 0, id];
/** `goto +off`. */
export const ja = (off: number): RawInsn => [BPF_JMP | BPF_JA, 0, off, 0];
/** `if rDst <op> imm goto +off` (64-bit compare); `op` is a BPF_J* constant. */
export const jmpImm = (op: number, dst: number, imm: number, off: number): RawInsn => [
  BPF_JMP | op | BPF_K,
  dst,
  off,
  imm,
];
/** `if wDst <op> imm goto +off` (32-bit compare, ISA v3). */
export const jmp32Imm = (op: number, dst: number, imm: number, off: number): RawInsn => [
  BPF_JMP32 | op | BPF_K,
  dst,
  off,
  imm,
];
/** `r0 = 0; exit`: the smallest valid program. */
export const RETURN_ZERO: Uint8Array = encodeRaw([movImm(0, 0), exit()]);

/**
 * `call helper#id; r0 = *(u64 *)(r1 + 0); exit`: the helper probe. The verifier looks
 * the helper up before anything else, so a missing helper is refused at the call; any
 * helper it finds either fails its argument checks or returns, and then the load (r1
 * is clobbered by the call) fails on the read, so no probe is JIT-compiled and
 * freed again for nothing. The helper id is the imm of the first instruction
 * ({@link HELPER_PROBE_IMM_OFFSET}).
 */
export function helperProbeProgram(id: number): Uint8Array {
  return encodeRaw([call(id), [BPF_LDX | BPF_MEM | BPF_DW, 0 | (1 << 4), 0, 0], exit()]);
}

/** Byte offset of the helper id in {@link helperProbeProgram}'s bytes. */
export const HELPER_PROBE_IMM_OFFSET = 4;
