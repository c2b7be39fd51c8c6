/**
 * Reading the kernel verifier's log: where it stopped and why.
 *
 * The log is text the verifier writes as it walks the program. At level 1 it prints
 * each instruction it checks on a path (`12: (85) call bpf_map_lookup_elem#1`), at
 * level 2 also the register state; when it rejects the program it prints the reason
 * (`R0 !read_ok`, `invalid func unknown#5000`) and finally a summary
 * (`processed 3 insns (limit 1000000) ...`). With BPF_LOG_STATS (level 4) it adds
 * `verification time ...` and `stack depth ...` lines.
 *
 * Since Linux 6.4 a log that does not fit keeps its end (the kernel rotates it), so the
 * reason survives truncation; older kernels keep the beginning.
 *
 * Pure functions over strings: no kernel needed.
 * @module
 */

/** What a rejected program's log says about the rejection. */
export interface VerifierVerdict {
  /** The verifier's own words for the failure: the last line before the summary. */
  readonly message: string | undefined;
  /** Index of the instruction the verifier was checking when it stopped. */
  readonly instruction: number | undefined;
  /** That instruction as the verifier printed it, e.g. `(95) exit`. */
  readonly instructionText: string | undefined;
  /** The summary's instruction count (`processed N insns`), if present. */
  readonly processedInsns: number | undefined;
}

/** `12: (85) call bpf_map_lookup_elem#1` or, at level 2, with `; R0=...` state after it. */
const INSN_LINE = /^(\d+): (\([0-9a-f]{2}\).*)$/;
/** Summary and statistics lines that follow the verdict. */
const TRAILER = [
  /^processed \d+ insns/,
  /^verification time \d+ usec/,
  /^stack depth /,
  /^max_states_per_insn /,
  /^mark_read /,
];
const PROCESSED = /^processed (\d+) insns/m;
/**
 * Lines some verdicts are followed by, which describe state rather than the failure:
 * `infinite loop detected at insn 1` comes with `cur state: ...` and `old state: ...`.
 */
const CONTEXT = [/^(cur|old) state: /, /^mark_precise: /, /^\d+: (R\d|frame\d|fp-?\d)/];

/** The log's lines, without blank ones (and without a NUL tail, if any slipped in). */
export function logLines(log: string): string[] {
  const end = log.indexOf("\0");
  const text = end >= 0 ? log.slice(0, end) : log;
  return text.split("\n").filter((l) => l.trim().length > 0);
}

/**
 * Finds the verdict in a verifier log: the failure message, and the instruction the
 * verifier was on (the last `N: (xx) ...` line before the message). When the log names
 * no instruction line (structural checks such as `unreachable insn 2` or
 * `back-edge from insn 1 to 0` run before the walk), the first `insn N` in the message
 * gives the index.
 *
 * @example
 * ```ts
 * parseVerifierLog("0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n");
 * // { message: "R0 !read_ok", instruction: 0, instructionText: "(95) exit", processedInsns: 1 }
 * ```
 */
export function parseVerifierLog(log: string): VerifierVerdict {
  const lines = logLines(log);
  let end = lines.length;
  while (end > 0 && TRAILER.some((re) => re.test(lines[end - 1] as string))) end--;
  let msgEnd = end;
  while (msgEnd > 1 && CONTEXT.some((re) => re.test(lines[msgEnd - 1] as string))) msgEnd--;
  if (msgEnd > 0 && !INSN_LINE.test(lines[msgEnd - 1] as string)) end = msgEnd;
  const processed = PROCESSED.exec(log);
  const processedInsns = processed ? Number(processed[1]) : undefined;
  if (end === 0) {
    return {
      message: undefined,
      instruction: undefined,
      instructionText: undefined,
      processedInsns,
    };
  }
  const last = lines[end - 1] as string;
  // The last line is an instruction (the log ends mid-walk): no message of its own.
  const lastInsn = INSN_LINE.exec(last);
  const message = lastInsn ? undefined : last;
  let instruction: number | undefined;
  let instructionText: string | undefined;
  for (let i = lastInsn ? end - 1 : end - 2; i >= 0; i--) {
    const m = INSN_LINE.exec(lines[i] as string);
    if (m) {
      instruction = Number(m[1]);
      instructionText = stripState(m[2] as string);
      break;
    }
  }
  if (instruction === undefined && message !== undefined) {
    const m = /\binsn (\d+)/.exec(message);
    if (m) instruction = Number(m[1]);
  }
  return { message, instruction, instructionText, processedInsns };
}

/** Level-2 lines carry the register state after `;`: keep the instruction only. */
function stripState(text: string): string {
  const semi = text.indexOf(" ; ");
  return (semi >= 0 ? text.slice(0, semi) : text).trimEnd();
}

/** The last `count` lines of a log (for error messages). */
export function logTail(log: string, count: number): string[] {
  const lines = logLines(log);
  return lines.slice(Math.max(0, lines.length - count));
}
