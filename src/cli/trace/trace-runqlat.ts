/**
 * `tsbpf trace runqlat [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]`: BCC's
 * runqlat on raw tracepoints. How long runnable tasks waited on a run queue before they
 * ran: from sched_wakeup / sched_wakeup_new (or from being switched out while still
 * runnable) to sched_switch onto the CPU, as log2 histograms.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { runSchedHistTool } from "./sched-hist.ts";

/** Runs `tsbpf trace runqlat ...`. */
export async function traceRunqlat(ctx: Context, args: Args): Promise<void> {
  await runSchedHistTool(ctx, args, {
    name: "runqlat",
    tracing: () => "Tracing run queue latency... Hit Ctrl-C to end.",
    attachments: [
      { program: "wakeup", group: "sched", event: "sched_wakeup", raw: true },
      { program: "wakeup_new", group: "sched", event: "sched_wakeup_new", raw: true },
      { program: "switch_task", group: "sched", event: "sched_switch", raw: true },
    ],
  });
}
