/**
 * `VerifierError`: the kernel's verifier rejected a program. It carries the whole log,
 * the errno, the failing instruction and the verifier's own words for the failure.
 * @module
 */

import { Errno, errnoMessage } from "../../uapi/index.ts";
import { SyscallError } from "../sys/index.ts";
import { logLines, logTail, parseVerifierLog } from "./verifier-log.ts";

/** Lines of the log's end quoted in the error message (the whole log is in `log`). */
const QUOTED_LINES = 12;

/** What {@link VerifierError} is built from. */
export interface VerifierErrorInit {
  /** The errno of BPF_PROG_LOAD (EACCES for most rejections, EINVAL for malformed programs). */
  readonly errno: number;
  /** The complete verifier log. */
  readonly log: string;
  /** A label for the program, e.g. `socket_filter program "ret2"`. */
  readonly program: string;
  /** True when the log did not fit even in the largest buffer (its start is lost). */
  readonly truncated?: boolean;
}

/**
 * The verifier rejected a program. `message`'s first line is the verifier's last
 * error line and where it happened, e.g.
 * `R0 !read_ok (insn 0: (95) exit) in socket_filter program "bad"`; the lines after it
 * quote the end of the log. `log` holds all of it.
 *
 * A subclass of {@link SyscallError}, so `errno`, `code` and `operation` are there too.
 *
 * @example
 * ```ts
 * try {
 *   Program.load(spec);
 * } catch (e) {
 *   if (e instanceof VerifierError) console.error(e.verifierMessage, "at", e.instruction);
 * }
 * ```
 */
export class VerifierError extends SyscallError {
  override readonly name: string = "VerifierError";
  /** The complete verifier log. */
  readonly log: string;
  /** The verifier's own last error line (`R0 !read_ok`), if the log has one. */
  readonly verifierMessage: string | undefined;
  /** Index of the failing instruction, if the log names it. */
  readonly instruction: number | undefined;
  /** The failing instruction as the verifier printed it (`(95) exit`). */
  readonly instructionText: string | undefined;
  /** The program, as a label: `socket_filter program "bad"`. */
  readonly program: string;
  /** True when the log was cut: the kernel kept only its end. */
  readonly truncated: boolean;

  constructor(init: VerifierErrorInit) {
    super(init.errno, `program load (${init.program})`);
    const verdict = parseVerifierLog(init.log);
    this.log = init.log;
    this.verifierMessage = verdict.message;
    this.instruction = verdict.instruction;
    this.instructionText = verdict.instructionText;
    this.program = init.program;
    this.truncated = init.truncated ?? false;

    const where =
      verdict.instruction === undefined || verdict.instructionText === undefined
        ? ""
        : ` (insn ${verdict.instruction}: ${verdict.instructionText})`;
    // The verifier gives up with EAGAIN when a signal is pending (a profiler's, a
    // timer's): the program was not judged, and the load was already retried.
    const first =
      init.errno === Errno.EAGAIN && verdict.message === undefined
        ? `the verifier was interrupted by signals${where} in ${init.program} and gave up after retries: the program was not judged (load it again, or block the signal while loading)`
        : `${verdict.message ?? "the verifier rejected the program"}${where} in ${init.program}`;
    const lines = [
      first,
      `verifier: ${this.code} (${errnoMessage(init.errno) ?? `errno ${init.errno}`}); ${
        this.truncated ? "log truncated, its start is lost; " : ""
      }the full log (${logLines(init.log).length} lines) is in error.log`,
    ];
    const tail = logTail(init.log, QUOTED_LINES);
    if (tail.length > 0) lines.push(...tail.map((l) => `  | ${l}`));
    this.message = lines.join("\n");
  }
}
