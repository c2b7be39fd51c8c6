/**
 * What the kernel checks before it walks a program's instructions: every opcode must
 * be one it knows (`bpf_opcode_in_insntable`: "unknown opcode 99"), and a known
 * opcode with fields it reserves is refused when the walk reaches it
 * ("BPF_ALU uses reserved fields").
 * @module
 */

const table = new Uint8Array(256);
const add = (...codes: number[]) => {
  for (const c of codes) table[c] = 1;
};
// ALU and ALU64: 12 operations from a register or an immediate, neg, byte swaps.
for (const cls of [0x04, 0x07])
  for (const op of [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0])
    add(cls | op, cls | op | 0x08);
add(0x84, 0x87, 0xd4, 0xdc, 0xd7);
// JMP and JMP32: conditional jumps from a register or an immediate.
for (const cls of [0x05, 0x06])
  for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0])
    add(cls | op, cls | op | 0x08);
add(0x05, 0x06, 0x85, 0x95, 0xe5);
// Loads and stores; atomics; lddw; legacy packet loads; the speculation barrier.
add(0x71, 0x69, 0x61, 0x79, 0x91, 0x89, 0x81);
add(0x73, 0x6b, 0x63, 0x7b, 0x72, 0x6a, 0x62, 0x7a);
add(0xd3, 0xcb, 0xc3, 0xdb);
add(0x18, 0x30, 0x28, 0x20, 0x50, 0x48, 0x40, 0xc2);

/** Whether the kernel knows opcode `code` at all. */
export const kernelKnowsOpcode = (code: number): boolean => table[code] === 1;

/** ISA v4's new opcodes (Linux 6.6), and may_goto (6.9): 64-bit byte swap, gotol. */
const AFTER_61 = new Set([0xd7, 0x06, 0xe5]);

/** Whether Linux 6.1 knows opcode `code` (one 6.18 knows). */
export const knownTo61 = (code: number): boolean => !AFTER_61.has(code);

/** The kernel's message for a known opcode whose other fields it refuses. */
export function reservedFieldsMessage(code: number, imm: number): string {
  const cls = code & 7;
  const op = code & 0xf0;
  switch (cls) {
    case 0x04:
    case 0x07:
      if (op === 0x80) return "BPF_NEG uses reserved fields";
      if (op === 0xd0) return "BPF_END uses reserved fields";
      if (op === 0xb0) return "BPF_MOV uses reserved fields";
      return "BPF_ALU uses reserved fields";
    case 0x01:
      return "BPF_LDX uses reserved fields";
    case 0x02:
      return "BPF_ST uses reserved fields";
    case 0x03:
      return imm === 0 || code === 0x63 || code === 0x7b || code === 0x73 || code === 0x6b
        ? "BPF_STX uses reserved fields"
        : `BPF_ATOMIC uses invalid atomic opcode ${hex2(imm)}`;
    case 0x00:
      return code === 0x18 ? "invalid BPF_LD_IMM insn" : "BPF_LD_[ABS|IND] uses reserved fields";
    default:
      if (op === 0x80) return "BPF_CALL uses reserved fields";
      if (op === 0x90) return "BPF_EXIT uses reserved fields";
      if (op === 0x00) return "BPF_JA uses reserved fields";
      return "BPF_JMP/JMP32 uses reserved fields";
  }
}

const hex2 = (n: number) => (n >>> 0).toString(16).padStart(2, "0");
