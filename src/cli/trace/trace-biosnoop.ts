/**
 * `tsbpf trace biosnoop [-Q] [--disk NAME] [--duration SECONDS] [-j] [--perf-buffer]`:
 * BCC's biosnoop on the block tracepoints. One line per completed request: who was on
 * the CPU when it was issued (or queued, with -Q), the disk, direction, sector, size,
 * the time queued in the kernel (-Q) and the latency from issue to completion.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import {
  biosnoopHeader,
  biosnoopJson,
  decodeBioEvent,
  formatBiosnoopRow,
} from "./biosnoop-event.ts";
import { BlockDeviceNames } from "./block-devices.ts";
import { blockOffsets } from "./block-format.ts";
import { parseToolArgs, seconds } from "./tool-options.ts";
import { BIOSNOOP_OPTIONS } from "./tool-tables.ts";
import { runTraceTool } from "./trace-run.ts";

/** Runs `tsbpf trace biosnoop ...`. */
export async function traceBiosnoop(ctx: Context, args: Args): Promise<void> {
  const { values: v } = parseToolArgs(args.rest(), BIOSNOOP_OPTIONS, "biosnoop", false);
  if (v.help) return printHelp(ctx, ctx.usage());
  const disks = new BlockDeviceNames();
  const dev = v.disk !== undefined ? disks.require(v.disk, "biosnoop") : 0;
  const json = v.json === true || ctx.opts.json;
  const queued = v.queue === true;
  let first: bigint | undefined;
  await runTraceTool(ctx, {
    what: "block I/O",
    header: biosnoopHeader(queued),
    json,
    ...(v.duration !== undefined && { durationSeconds: seconds(v.duration, "--duration") }),
    session: {
      tool: "trace biosnoop",
      object: "biosnoop.bpf.o",
      perfBuffer: v["perf-buffer"] === true,
      constants: { ...blockOffsets("biosnoop"), targ_dev: dev },
      attachments: [
        ...(queued ? [{ program: "rq_insert", group: "block", event: "block_rq_insert" }] : []),
        { program: "rq_issue", group: "block", event: "block_rq_issue" },
        { program: "rq_complete", group: "block", event: "block_rq_complete" },
      ],
    },
    render: (bytes) => {
      const e = decodeBioEvent(bytes);
      const disk = disks.name(e.dev);
      if (json) return biosnoopJson(e, disk);
      first ??= e.ts;
      return formatBiosnoopRow(e, Number(e.ts - first) / 1e9, disk, queued);
    },
  });
}
