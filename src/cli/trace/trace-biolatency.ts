/**
 * `tsbpf trace biolatency [-T] [-Q] [-m] [-D] [--disk NAME] [-j] [interval [count]]`:
 * BCC's biolatency on the block tracepoints. Each request's latency, from issue to
 * completion (from insertion into the kernel's queue with -Q), goes into a log2
 * histogram in the kernel (per disk with -D); user space prints it every interval or
 * at the end.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { BlockDeviceNames } from "./block-devices.ts";
import { blockOffsets } from "./block-format.ts";
import { histogramReport } from "./hist-report.ts";
import { parseToolArgs, reportSchedule } from "./tool-options.ts";
import { BIOLATENCY_OPTIONS } from "./tool-tables.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** Runs `tsbpf trace biolatency ...`. */
export async function traceBiolatency(ctx: Context, args: Args): Promise<void> {
  const { values: v, positionals } = parseToolArgs(args.rest(), BIOLATENCY_OPTIONS, "biolatency");
  if (v.help) return printHelp(ctx, ctx.usage());
  const schedule = reportSchedule(positionals, "biolatency");
  const disks = new BlockDeviceNames();
  const dev = v.disk !== undefined ? disks.require(v.disk, "biolatency") : 0;
  const json = v.json === true || ctx.opts.json;
  const queued = v.queued === true;
  const { off_dev, off_sector, off_nr_sector } = blockOffsets("biolatency");
  await runSummaryTool(ctx, {
    tracing: "Tracing block device I/O... Hit Ctrl-C to end.",
    schedule,
    resetMaps: ["hists"],
    session: {
      tool: "trace biolatency",
      object: "biolatency.bpf.o",
      constants: {
        off_dev,
        off_sector,
        off_nr_sector,
        targ_dev: dev,
        targ_queued: queued ? 1 : 0,
        targ_per_disk: v.disks ? 1 : 0,
        targ_ms: v.milliseconds ? 1 : 0,
      },
      attachments: [
        ...(queued ? [{ program: "rq_insert", group: "block", event: "block_rq_insert" }] : []),
        { program: "rq_issue", group: "block", event: "block_rq_issue" },
        { program: "rq_complete", group: "block", event: "block_rq_complete" },
      ],
    },
    report: (coll) =>
      histogramReport(coll, {
        unit: v.milliseconds ? "msecs" : "usecs",
        timestamp: v.timestamp === true,
        json,
        ...(v.disks && { section: { header: "disk", name: (d: number) => disks.name(d) } }),
      }),
  });
}
