/**
 * `tsbpf trace offcputime`: BCC's offcputime on the sched_switch raw tracepoint. A
 * thread switching out has its stacks (where it blocked) saved with the time; when it
 * switches back in, the microseconds it was off the CPU are added to the sum of its
 * thread, command name and stacks. At the end each stack is printed with its total, or
 * folded for flamegraph.pl. BCC's kprobe on finish_task_switch is not needed: the raw
 * tracepoint sees both tasks.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { intOption, type OptionValues } from "./snoop-tool.ts";
import { exclusive, headerEnd, runStackTool, type StackTool, stackWhat } from "./stack-tool.ts";
import { OFFCPUTIME_OPTIONS } from "./tool-tables.ts";

/** The largest block time a filter takes, in microseconds (2^53 - 1, exact in a double). */
const MAX_US = Number.MAX_SAFE_INTEGER;

const THREAD_FILTERS = ["pid", "tid", "user-threads-only", "kernel-threads-only"] as const;

function threadWhat(v: OptionValues): string {
  if (typeof v.pid === "string") return `PID ${v.pid}`;
  if (typeof v.tid === "string") return `TID ${v.tid}`;
  if (v["user-threads-only"]) return "user threads";
  if (v["kernel-threads-only"]) return "kernel threads";
  return "all threads";
}

/** The offcputime tool. */
export const OFFCPUTIME: StackTool = {
  name: "offcputime",
  summary: "off-CPU time summed by stack trace, as BCC's offcputime",
  options: OFFCPUTIME_OPTIONS,
  header: (v, s) =>
    `Tracing off-CPU time (us) of ${threadWhat(v)} by ${stackWhat(s)} stack${headerEnd(s)}`,
  check: (v) => exclusive("offcputime", v, THREAD_FILTERS),
  object: "offcputime.bpf.o",
  constants: (v, s) => {
    const min =
      typeof v["min-block-time"] === "string" ? intOption(v["min-block-time"], "-m", 1, MAX_US) : 1;
    const max =
      typeof v["max-block-time"] === "string"
        ? intOption(v["max-block-time"], "-M", 1, MAX_US)
        : undefined;
    if (max !== undefined && max < min) {
      throw new UsageError(`trace offcputime: -M ${max} is below -m ${min}: no block would count`);
    }
    return {
      targ_tgid: s.pid,
      targ_tid: typeof v.tid === "string" ? intOption(v.tid, "-t") : 0,
      user_threads_only: v["user-threads-only"] ? 1 : 0,
      kernel_threads_only: v["kernel-threads-only"] ? 1 : 0,
      min_block_us: min,
      ...(max !== undefined && { max_block_us: max }),
      ...(typeof v.state === "string" && {
        targ_state: intOption(v.state, "--state", 0, 0xffffffff),
      }),
    };
  },
  attachments: () => [{ program: "switch_task", group: "sched", event: "sched_switch", raw: true }],
  valueName: "total_us",
  // The raw tracepoint's stack starts in the program and the code that ran it
  // (bpf_trace_run4, __traceiter_sched_switch or, before 5.15, __bpf_trace_sched_switch):
  // BCC's stacks start at the scheduler.
  hideLeaf: (name) => /^(bpf_prog_|bpf_trace_run|__traceiter_|__bpf_trace_)/.test(name),
};

/** Runs `tsbpf trace offcputime ...`. */
export function traceOffcputime(ctx: Context, args: Args): Promise<void> {
  return runStackTool(ctx, args, OFFCPUTIME);
}
