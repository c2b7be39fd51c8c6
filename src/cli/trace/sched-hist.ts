/**
 * What runqlat and cpudist share: both time tasks between two scheduler events
 * (sched.bpf.h) into log2 histograms, take the same options (-T, -m, -P per process,
 * -L per thread, --pid, interval and count) and print the same way.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { histogramReport } from "./hist-report.ts";
import {
  type OptionSpec,
  parseToolArgs,
  reportSchedule,
  TOOL_COMMON,
  wholeNumber,
} from "./tool-options.ts";
import type { TraceAttachment } from "./trace-session.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** The options both tools take. */
export const SCHED_OPTIONS = {
  ...TOOL_COMMON,
  timestamp: { type: "boolean", short: "T" },
  milliseconds: { type: "boolean", short: "m" },
  pids: { type: "boolean", short: "P" },
  tids: { type: "boolean", short: "L" },
  pid: { type: "string" },
} as const satisfies OptionSpec;

/** One scheduler histogram tool. */
export interface SchedHistTool {
  /** "runqlat" or "cpudist". */
  readonly name: string;
  /** Its `--help` text. */
  readonly help: string;
  /** Its own options beyond {@link SCHED_OPTIONS}. */
  readonly extraOptions?: OptionSpec;
  /** The stderr line once attached; may depend on the options. */
  readonly tracing: (values: Record<string, unknown>) => string;
  /** Its own `.rodata` constants. */
  readonly constants?: (values: Record<string, unknown>) => Record<string, number>;
  /** Its raw tracepoints. */
  readonly attachments: readonly TraceAttachment[];
}

/** Parses the tool's words and runs it. */
export async function runSchedHistTool(
  ctx: Context,
  args: Args,
  tool: SchedHistTool,
): Promise<void> {
  const { values: v, positionals } = parseToolArgs(
    args.rest(),
    { ...SCHED_OPTIONS, ...tool.extraOptions },
    tool.name,
  );
  if (v.help) {
    ctx.out.write(tool.help);
    return;
  }
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
