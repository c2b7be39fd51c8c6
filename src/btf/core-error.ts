/**
 * The error of a CO-RE relocation that cannot be applied at all (as opposed to one
 * the target kernel cannot satisfy, which poisons its instruction instead).
 *
 * @module
 */

import { BTFError } from "./errors.ts";

/**
 * A CO-RE relocation could not be applied: its access string does not fit the
 * program's own BTF, candidates disagree (ambiguity), or the instruction it names does
 * not hold what the compiler should have put there. `relocation` says which.
 *
 * @example
 * ```ts
 * try {
 *   applyCoreRelocations(insns, relos, resolver);
 * } catch (e) {
 *   if (e instanceof CoreRelocationError) console.error(e.insn, e.relocation);
 * }
 * ```
 */
export class CoreRelocationError extends BTFError {
  /** The instruction index the relocation is for. */
  readonly insn: number;
  /** The relocation, described: kind, local type and access resolved to field names. */
  readonly relocation: string;

  constructor(reason: string, insn: number, relocation: string, options?: { cause?: unknown }) {
    super(`CO-RE relocation ${relocation} at insn ${insn}: ${reason}`);
    this.name = "CoreRelocationError";
    this.insn = insn;
    this.relocation = relocation;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
