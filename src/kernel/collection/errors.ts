/**
 * Errors of loading a collection that say which part of the object is at fault.
 *
 * @module
 */

import type { CoreResolution } from "../../btf/core.ts";
import { VerifierError } from "../programs/verifier-error.ts";

/**
 * The verifier reached an instruction that a CO-RE relocation had poisoned because
 * the running kernel cannot satisfy it (a field, type or enumerator the kernel's BTF
 * does not have). The message names the relocation — kind, type, access resolved to
 * field names, instruction — and why the kernel cannot satisfy it; the verifier's
 * error stays available as `cause` (and its log as `log`).
 *
 * @example
 * ```ts
 * try {
 *   Collection.load(spec);
 * } catch (e) {
 *   if (e instanceof CoreRelocationUnsatisfiedError) console.error(e.relocation, e.reason);
 * }
 * ```
 */
export class CoreRelocationUnsatisfiedError extends VerifierError {
  override readonly name: string = "CoreRelocationUnsatisfiedError";
  /** The relocation, described: `field_byte_offset struct task_struct___missing.no_such_field (0:3)`. */
  readonly relocation: string;
  /** Why the kernel cannot satisfy it. */
  readonly reason: string;
  /** The poisoned instruction's index. */
  readonly insn: number;
  /** The program's name. */
  readonly programName: string;

  constructor(cause: VerifierError, programName: string, insn: number, res: CoreResolution) {
    super({
      errno: cause.errno,
      log: cause.log,
      program: cause.program,
      truncated: cause.truncated,
    });
    this.relocation = res.description;
    this.reason = res.reason ?? "the kernel's BTF cannot satisfy it";
    this.insn = insn;
    this.programName = programName;
    this.cause = cause;
    this.message = [
      `program "${programName}": instruction ${insn} uses CO-RE relocation ${res.description}, which this kernel cannot satisfy: ${this.reason}.`,
      "The verifier reached it (invalid func unknown#195896080): guard the access with bpf_core_field_exists() / bpf_core_type_exists() / bpf_core_enum_value_exists(), or fix the type.",
      cause.message,
    ].join("\n");
  }
}
