/**
 * `tsbpf trace biolatency [-T] [-Q] [-m] [-D] [-F] [-e] [--disk NAME] [-j]
 * [interval [count]]`: BCC's biolatency on the block tracepoints. Each request's
 * latency, from issue to completion (from insertion into the kernel's queue with -Q),
 * goes into a log2 histogram in the kernel (per disk with -D, per set of I/O flags
 * with -F); user space prints it every interval or at the end, with -e followed by
 * BCC's `avg = ..., total: ..., count: ...` line.
 *
 * @module
 */

import type { Collection } from "../../kernel/collection/collection.ts";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { BlockDeviceNames } from "./block-devices.ts";
import { blockFlagsName } from "./block-flags.ts";
import { blockOffsets } from "./block-format.ts";
import { histogramReport } from "./hist-report.ts";
import { parseToolArgs, reportSchedule } from "./tool-options.ts";
import { BIOLATENCY_OPTIONS } from "./tool-tables.ts";
import { jsonLine } from "./trace-format.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** The sum and count of latencies -e adds up (biolatency.bpf.c's `struct ext_val`). */
export interface LatencySum {
  /** Nanoseconds. */
  readonly totalNs: bigint;
  readonly count: bigint;
}

/** What the `extension` map holds (nothing before the first I/O). */
function latencySum(coll: Collection): LatencySum {
  for (const [, v] of coll.map("extension").entries()) {
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return { totalNs: view.getBigUint64(0, true), count: view.getBigUint64(8, true) };
  }
  return { totalNs: 0n, count: 0n };
}

/**
 * BCC's -e line, `\navg = A UNIT, total: T UNIT, count: N\n` (whole numbers, as its
 * `%ld` prints them), or with `json` one object; nothing when no I/O completed.
 */
export function formatLatencySum(s: LatencySum, unit: "usecs" | "msecs", json: boolean): string {
  if (s.count === 0n) return "";
  const total = s.totalNs / (unit === "msecs" ? 1_000_000n : 1000n);
  const avg = total / s.count;
  if (json) {
    return jsonLine({
      val_type: unit,
      avg: Number(avg),
      total: Number(total),
      count: Number(s.count),
    });
  }
  return `\navg = ${avg} ${unit}, total: ${total} ${unit}, count: ${s.count}\n`;
}

/** Runs `tsbpf trace biolatency ...`. */
export async function traceBiolatency(ctx: Context, args: Args): Promise<void> {
  const { values: v, positionals } = parseToolArgs(args.rest(), BIOLATENCY_OPTIONS, "biolatency");
  if (v.help) return printHelp(ctx, ctx.usage());
  const schedule = reportSchedule(positionals, "biolatency");
  const disks = new BlockDeviceNames();
  const dev = v.disk !== undefined ? disks.require(v.disk, "biolatency") : 0;
  const json = v.json === true || ctx.opts.json;
  const queued = v.queued === true;
  if (v.disks && v.flags) throw new UsageError("trace biolatency: -D and -F exclude each other");
  const unit = v.milliseconds ? "msecs" : "usecs";
  const { off_dev, off_sector, off_nr_sector, off_rwbs, rwbs_size } = blockOffsets("biolatency");
  await runSummaryTool(ctx, {
    tracing: "Tracing block device I/O... Hit Ctrl-C to end.",
    schedule,
    resetMaps: ["hists", "extension"],
    session: {
      tool: "trace biolatency",
      object: "biolatency.bpf.o",
      constants: {
        off_dev,
        off_sector,
        off_nr_sector,
        targ_dev: dev,
        targ_queued: queued ? 1 : 0,
        off_rwbs,
        rwbs_size,
        targ_per_disk: v.disks ? 1 : 0,
        targ_per_flags: v.flags ? 1 : 0,
        targ_extended: v.extended ? 1 : 0,
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
        unit,
        timestamp: v.timestamp === true,
        json,
        ...(v.disks && { section: { header: "disk", name: (d: number) => disks.name(d) } }),
        ...(v.flags && { section: { header: "flags", name: blockFlagsName } }),
      }) + (v.extended ? formatLatencySum(latencySum(coll), unit, json) : ""),
  });
}
