/**
 * `tsbpf trace cpudist [-O] [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]`:
 * BCC's cpudist on the sched_switch raw tracepoint. How long tasks ran each time they
 * were on a CPU (with -O: how long they were off it), as log2 histograms.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { runSchedHistTool } from "./sched-hist.ts";

/** Runs `tsbpf trace cpudist ...`. */
export async function traceCpudist(ctx: Context, args: Args): Promise<void> {
  await runSchedHistTool(ctx, args, {
    name: "cpudist",
    tracing: (v) => `Tracing ${v.offcpu ? "off" : "on"}-CPU time... Hit Ctrl-C to end.`,
    constants: (v) => ({ targ_offcpu: v.offcpu ? 1 : 0 }),
    attachments: [{ program: "switch_task", group: "sched", event: "sched_switch", raw: true }],
  });
}
