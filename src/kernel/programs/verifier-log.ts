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
const CONTEXT = [
  /^(cur|old) state: /,
  /^mark_precise: /,
  /^\d+: (R\d|frame\d|fp-?\d)/,
  // a source line from BTF line_info, printed before the instructions it covers
  /^; /,
  // level 2: the state a branch's other path starts from
  /^from \d+ to \d+: /,
  // subprogram boundaries, printed (level 1 and up) before the walk
  /^func#\d+ @\d+$/,
];

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
  while (msgEnd > 0 && CONTEXT.some((re) => re.test(lines[msgEnd - 1] as string))) msgEnd--;
  if (msgEnd === 0 && end > 0) {
    // nothing but state and summary: the kernel refused without a reason
    const processed = PROCESSED.exec(log);
    return {
      message: undefined,
      instruction: undefined,
      instructionText: undefined,
      processedInsns: processed ? Number(processed[1]) : undefined,
    };
  }
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

/** Where a rejected program's log says it failed: see {@link kernelErrorLine}. */
export interface KernelErrorLine {
  /** The error line: the first line of {@link lines}, e.g. `R0 !read_ok`. */
  readonly message: string | undefined;
  /**
   * Every line of the message, in order. Usually one; some failures print a second line
   * from the check's caller after the specific one: `invalid access to map value,
   * value_size=16 off=12 size=8` then `R0 min value is outside of the allowed memory
   * range`, `Unreleased reference id=2 alloc_insn=5` then `BPF_EXIT instruction in main
   * prog would lead to reference leak`.
   */
  readonly lines: readonly string[];
  /** The index of the instruction it is about, when the log names one. */
  readonly insn: number | undefined;
}

/**
 * The error line of a rejected program's log: what a userspace verifier must print to
 * agree with the kernel. The rule:
 *
 * 1. drop the summary and statistics lines at the end (`processed N insns ...`,
 *    `verification time`, `stack depth`, `max_states_per_insn`, `mark_read`);
 * 2. drop the lines that describe state rather than the failure, which the verifier
 *    prints after its message: `cur state:`/`old state:` (infinite loops),
 *    `mark_precise:`, `N: R1=... R10=fp0` state dumps, `from N to M:` branch states,
 *    `; source` lines and `func#N @M` subprogram lines;
 * 3. if what is left ends with an instruction (`N: (xx) ...`) or nothing is left, the
 *    kernel gave no reason (a log cut mid-walk, or a refusal such as a struct_ops
 *    program without its attach BTF id);
 * 4. otherwise the message is the block of lines back to the previous instruction,
 *    state or header line, and the error line is its FIRST line: the specific check
 *    that failed; a second line, when there is one, is its caller's general consequence;
 * 5. the instruction is the last `N: (xx) ...` line before the block, or, for checks
 *    that run before the walk (`unreachable insn 2`, `back-edge from insn 3 to 1`),
 *    the first `insn N` the message names; some pre-walk checks name none (`the call
 *    stack of 8 frames is too deep !`, `fd 1 is not pointing to valid bpf_map`).
 *
 * Measured on the kernel selftests' verifier programs (scripts/verifier-corpus.ts,
 * Linux 6.18, 503 rejected, 69 of them with a two-line message): of the 501 whose last
 * `__msg` is plain text, the error line holds it in 434 and the block's other line in
 * 50 (tests quote either); the 17 others are 6.12 wordings this kernel changed
 * (`invalid indirect access to stack` is now `invalid write to stack`).
 */
export function kernelErrorLine(log: string): KernelErrorLine {
  const v = parseVerifierLog(log);
  if (v.message === undefined) return { message: undefined, lines: [], insn: v.instruction };
  const all = logLines(log);
  let end = all.lastIndexOf(v.message);
  const lines = [v.message];
  while (end > 0) {
    const prev = all[--end] as string;
    if (INSN_LINE.test(prev) || CONTEXT.some((re) => re.test(prev)) || /^\s/.test(prev)) break;
    if (/^(Live regs before insn:|Validating |Func#\d+ )/.test(prev)) break;
    lines.unshift(prev);
  }
  return { message: lines[0], lines, insn: v.instruction };
}

/** The figures of the verifier's summary (`processed N insns ...`) and level-4 lines. */
export interface VerifierStats {
  /** Instructions processed (`processed N insns`). */
  readonly processed: number;
  /** `max_states_per_insn`. */
  readonly maxStatesPerInsn: number;
  /** `total_states`. */
  readonly totalStates: number;
  /** `peak_states`. */
  readonly peakStates: number;
  /** `mark_read` (0 on kernels whose liveness no longer marks reads). */
  readonly markRead: number;
  /** `verification time N usec` (log level 4 only). */
  readonly verificationTimeUs?: number;
  /** `stack depth` per subprogram (log level 4 only), e.g. [8, 0]. */
  readonly stackDepth?: readonly number[];
}

const SUMMARY_FIGURES =
  /^processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+) mark_read (\d+)/m;

/**
 * The summary's figures, or undefined when the log has no summary (no log level, or a
 * rejection before the walk on an old kernel).
 *
 * @example
 * ```ts
 * verifierStats("processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n");
 * // { processed: 2, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0, markRead: 0 }
 * ```
 */
export function verifierStats(log: string): VerifierStats | undefined {
  const m = SUMMARY_FIGURES.exec(log);
  if (!m) return undefined;
  const time = /^verification time (\d+) usec/m.exec(log);
  const depth = /^stack depth ([\d+]+)/m.exec(log);
  return {
    processed: Number(m[1]),
    maxStatesPerInsn: Number(m[2]),
    totalStates: Number(m[3]),
    peakStates: Number(m[4]),
    markRead: Number(m[5]),
    ...(time ? { verificationTimeUs: Number(time[1]) } : {}),
    ...(depth ? { stackDepth: (depth[1] as string).split("+").map(Number) } : {}),
  };
}
