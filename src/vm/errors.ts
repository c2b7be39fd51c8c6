/** Errors of the userspace VM. @module */

/**
 * A program did something the VM cannot let it do: a load or store outside every
 * region (or outside the one it points into), a write to read-only memory, an unknown
 * helper, too many call frames, an exhausted instruction budget. Carries where it
 * happened so a person can find the instruction.
 *
 * @example
 * ```ts
 * try { prog.run({ data }); }
 * catch (e) { if (e instanceof VmError) console.log(e.pc, e.instruction, e.reason); }
 * ```
 */
export class VmError extends Error {
  override name = "VmError";
  /** Slot index (8-byte units) of the faulting instruction; -1 outside the interpreter. */
  readonly pc: number;
  /** The instruction, disassembled, when known. */
  readonly instruction: string | undefined;
  /** The address involved, for memory faults. */
  readonly address: bigint | undefined;
  /** What went wrong, without the position. */
  readonly reason: string;

  /** Builds the error; the message reads `pc N (insn): reason`. */
  constructor(reason: string, pc = -1, instruction?: string, address?: bigint) {
    const where = pc >= 0 ? `instruction ${pc}${instruction ? ` (${instruction})` : ""}: ` : "";
    super(`${where}${reason}`);
    this.pc = pc;
    this.instruction = instruction;
    this.address = address;
    this.reason = reason;
  }
}
