/** Disassembly for the VM's messages. @module */

import { formatKernel, type Instruction } from "../isa/index.ts";

/** One instruction in the kernel's verifier-log format, e.g. `(61) r2 = *(u32 *)(r1 +4)`. */
export function formatInstruction(insn: Instruction): string {
  try {
    return formatKernel(insn, { rawImm: true });
  } catch {
    return `code 0x${insn.code.toString(16)} dst r${insn.dst} src r${insn.src} off ${insn.off} imm ${insn.imm}`;
  }
}
