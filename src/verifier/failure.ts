/**
 * A rejection, as the verifier walks the program: the instruction it was checking and
 * the lines it writes to the log for it (the last is the kernel's error line).
 * @module
 */
export class VerifyFailure extends Error {
  override readonly name = "VerifyFailure";
  constructor(
    /** The instruction being checked (an index in slots). */
    readonly insn: number,
    /** What the log says, in order; the last line is the verdict. */
    readonly lines: readonly string[],
  ) {
    super(lines[lines.length - 1]);
  }
}
