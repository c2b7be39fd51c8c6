/**
 * What runqlat and cpudist share: both time tasks between two scheduler events
 * (sched.bpf.h) into log2 histograms, take the same options (-T, -m, -P per process,
 * -L per thread, --pid, interval and count) and print the same way.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { histogramReport } from "./hist-report.ts";
import { parseToolArgs, reportSchedule, wholeNumber } from "./tool-options.ts";
import { CPUDIST_OPTIONS, RUNQLAT_OPTIONS } from "./tool-tables.ts";
import type { TraceAttachment } from "./trace-session.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** The values of a scheduler tool's options (cpudist's table has runqlat's and -O). */
export type SchedValues = ReturnType<typeof parseToolArgs<typeof CPUDIST_OPTIONS>>["values"];

/** One scheduler histogram tool. */
export interface SchedHistTool {
  /** "runqlat" or "cpudist". */
  readonly name: "runqlat" | "cpudist";
  /** The stderr line once attached; may depend on the options. */
  readonly tracing: (values: SchedValues) => string;
  /** Its own `.rodata` constants. */
  readonly constants?: (values: SchedValues) => Record<string, number>;
  /** Its raw tracepoints. */
  readonly attachments: readonly TraceAttachment[];
}

/** Parses the tool's words and runs it. */
export async function runSchedHistTool(
  ctx: Context,
  args: Args,
  tool: SchedHistTool,
): Promise<void> {
  const table = tool.name === "cpudist" ? CPUDIST_OPTIONS : RUNQLAT_OPTIONS;
  const { values: v, positionals } = parseToolArgs(args.rest(), table, tool.name) as {
    values: SchedValues;
    positionals: readonly string[];
  };
  if (v.help) return printHelp(ctx, ctx.usage());
  if (v.pids && v.tids) throw new UsageError(`trace ${tool.name}: -P and -L exclude each other`);
  const schedule = reportSchedule(positionals, tool.name);
  const pid = typeof v.pid === "string" ? wholeNumber(v.pid, "--pid") : 0;
  const per = v.pids ? 1 : v.tids ? 2 : 0;
  await runSummaryTool(ctx, {
    tracing: tool.tracing(v),
    schedule,
    resetMaps: ["hists"],
    session: {
      tool: `trace ${tool.name}`,
      object: `${tool.name}.bpf.o`,
      constants: {
        targ_tgid: pid,
        targ_per: per,
        targ_ms: v.milliseconds ? 1 : 0,
        ...tool.constants?.(v),
      },
      attachments: tool.attachments,
    },
    report: (coll) =>
      histogramReport(coll, {
        unit: v.milliseconds ? "msecs" : "usecs",
        timestamp: v.timestamp === true,
        json: v.json === true || ctx.opts.json,
        ...(per !== 0 && {
          section: { header: per === 1 ? "pid" : "tid", name: (id: number) => id },
        }),
      }),
  });
}
