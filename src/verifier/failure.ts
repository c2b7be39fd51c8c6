/**
 * A rejection, as the verifier walks the program: the instruction it was checking and
 * the lines it writes to the log for it (the last is the kernel's error line).
 * @module
 */
export class VerifyFailure extends Error {
  override readonly name = "VerifyFailure";
  constructor(
    /** The instruction being checked (an index in slots); undefined when the kernel names none. */
    readonly insn: number | undefined,
    /** What the log says, in order; the first line is the verdict's error line. */
    readonly lines: readonly string[],
  ) {
    super(lines[0]);
  }
}
