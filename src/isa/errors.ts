/** Errors of the instruction-set layer. @module */

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * An instruction whose encoding is not valid eBPF: unknown opcode, reserved fields
 * not zero, a register above r10, a truncated lddw, an unknown atomic operation...
 *
 * @example
 * ```ts
 * try { decodeProgram(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0])); }
 * catch (e) { if (e instanceof InvalidInstructionError) console.log(e.index, e.reason); }
 * ```
 */
export class InvalidInstructionError extends Error {
  override name = "InvalidInstructionError";
  /** Slot index (8-byte units) of the instruction in its program; -1 when standalone. */
  readonly index: number;
  /** The raw bytes of the instruction (8, or 16 for lddw; fewer when truncated). */
  readonly bytes: Uint8Array;
  /** What is wrong, in plain words. */
  readonly reason: string;

  /** Builds the error; the message says where, what bytes, and why. */
  constructor(index: number, bytes: Uint8Array, reason: string) {
    super(
      `invalid instruction${index >= 0 ? ` at ${index}` : ""}${bytes.length ? ` (${hex(bytes)})` : ""}: ${reason}`,
    );
    this.index = index;
    this.bytes = bytes;
    this.reason = reason;
  }
}

/**
 * A syntax or range error in assembly text, with the 1-based line and column and what
 * the assembler expected there.
 */
export class AssemblerError extends Error {
  override name = "AssemblerError";
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly column: number;
  /** The problem, without the position. */
  readonly reason: string;
  /** The source line the error is on. */
  readonly source: string;

  /** Builds the error; the message reads `line L, column C: reason`. */
  constructor(line: number, column: number, reason: string, source = "") {
    super(`line ${line}, column ${column}: ${reason}${source ? `\n  ${source.trim()}` : ""}`);
    this.line = line;
    this.column = column;
    this.reason = reason;
    this.source = source;
  }
}
