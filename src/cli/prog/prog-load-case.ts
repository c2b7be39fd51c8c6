/**
 * `tsbpf prog load CASE.json [log_level N]`: one program as data (issue 11's CASE.json,
 * src/verifier/case.ts) loaded into the kernel with its maps, for the kernel's verdict
 * beside `tsbpf vm verify CASE.json`. Prints `verified` (exit 0) or the verifier's error
 * line with its instruction (`insn 7: R0 invalid mem access 'map_value_or_null'`,
 * exit 1). `log_level N` (1, 2, or with 4 for statistics) prints the verifier's log
 * before the verdict; `-d` is `log_level 2`. With `-j` the verdict is a JSON object
 * (`accepted`, `error`, `insn`, `errno`, `stats`, and `log` when asked).
 * Nothing is pinned or left open.
 */
import { kernelVerdict } from "../../kernel/programs/verdict.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import { errnoName } from "../../uapi/index.ts";
import { CaseError, parseCase, verdictLine } from "../../verifier/case.ts";
import { type Args, parseU32 } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { errnoOf, reason } from "../objects/selectors.ts";

/** True when `prog load`'s first word names a case file. */
export function isCaseFile(word: string | undefined): boolean {
  return word?.toLowerCase().endsWith(".json") === true;
}

/** `prog load CASE.json [log_level N]`. */
export async function loadCase(ctx: Context, args: Args): Promise<void> {
  args.require(1);
  const file = args.next();
  let logLevel: number | undefined;
  while (args.count > 0) {
    if (args.is("log_level")) {
      args.skip();
      args.require(1);
      const word = args.next();
      const n = parseU32(word);
      if (n === undefined || n === 0 || n > 7) {
        throw new CliError(`log_level ${word}: expected 1, 2 or 4 (or a sum of them, up to 7)`);
      }
      logLevel = n;
    } else {
      throw new CliError(
        `'${args.peek()}' is not an option of 'prog load CASE.json': only log_level N`,
      );
    }
  }
  if (logLevel === undefined && ctx.opts.debug) logLevel = 2;
  let text: string;
  try {
    text = new TextDecoder().decode(readInputFile(file, MAX_OBJECT_BYTES, "case file"));
  } catch (e) {
    throw new CliError(`failed to open case file ${file}: ${reason(e)}`);
  }
  let c: ReturnType<typeof parseCase>;
  try {
    c = parseCase(text, { source: file });
  } catch (e) {
    if (e instanceof CaseError) throw new CliError(e.message);
    throw e;
  }
  let v: ReturnType<typeof kernelVerdict>;
  try {
    v = kernelVerdict(c, { logLevel: logLevel ?? 1 });
  } catch (e) {
    throw new CliError(`${file}: cannot be judged: ${reason(e)}`, exitForErrno(errnoOf(e)));
  }
  if (ctx.out.json) {
    ctx.out.value({
      accepted: v.accepted,
      ...(v.errorLine !== undefined ? { error: v.errorLine } : {}),
      ...(v.errorLines && v.errorLines.length > 1 ? { error_lines: [...v.errorLines] } : {}),
      ...(v.insn !== undefined ? { insn: v.insn } : {}),
      ...(v.errno !== undefined ? { errno: errnoName(v.errno) ?? v.errno } : {}),
      ...(v.stats
        ? {
            stats: {
              processed: v.stats.processed,
              max_states_per_insn: v.stats.maxStatesPerInsn,
              total_states: v.stats.totalStates,
              peak_states: v.stats.peakStates,
              mark_read: v.stats.markRead,
              ...(v.stats.verificationTimeUs !== undefined
                ? { verification_time_us: v.stats.verificationTimeUs }
                : {}),
            },
          }
        : {}),
      ...(logLevel !== undefined ? { log: v.log } : {}),
    });
  } else {
    if (logLevel !== undefined && v.log) ctx.out.write(v.log.endsWith("\n") ? v.log : `${v.log}\n`);
    ctx.out.write(`${verdictLine(v)}\n`);
  }
  if (!v.accepted) throw new CliError("", 1);
}
