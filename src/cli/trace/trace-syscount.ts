/**
 * `tsbpf trace syscount [-L] [-m] [-P] [-x] [-T N] [--pid PID] [-i SECONDS]
 * [--duration SECONDS] [-l] [-j]`: BCC's syscount on raw_syscalls. System calls counted
 * in the kernel by syscall number (by process with -P), with their total time (-L);
 * the top N are printed every interval (-i) or at the end.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { decodeSyscallCount, defaultSyscallNames, syscountReport } from "./syscount-report.ts";
import { parseToolArgs, reportSchedule, wholeNumber } from "./tool-options.ts";
import { SYSCOUNT_OPTIONS } from "./tool-tables.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** Runs `tsbpf trace syscount ...`. */
export async function traceSyscount(ctx: Context, args: Args): Promise<void> {
  const { values: v } = parseToolArgs(args.rest(), SYSCOUNT_OPTIONS, "syscount", false);
  if (v.help) return printHelp(ctx, ctx.usage());
  const names = defaultSyscallNames();
  if (v.list) {
    if (names.size === 0)
      throw new UsageError(`trace syscount: no syscall names for ${process.arch}`);
    ctx.out.write([...names.values()].map((n) => `${n}\n`).join(""));
    return;
  }
  const schedule = reportSchedule(
    v.interval !== undefined ? [v.interval] : [],
    "syscount",
    v.duration,
  );
  const top = v.top !== undefined ? wholeNumber(v.top, "-T") : 10;
  const latency = v.latency === true;
  const json = v.json === true || ctx.opts.json;
  await runSummaryTool(ctx, {
    tracing: `Tracing ${v.failures ? "failed " : ""}syscalls, printing top ${top}... Ctrl+C to quit.`,
    schedule,
    resetMaps: ["counts"],
    session: {
      tool: "trace syscount",
      object: "syscount.bpf.o",
      constants: {
        targ_tgid: v.pid !== undefined ? wholeNumber(v.pid, "--pid") : 0,
        targ_latency: latency ? 1 : 0,
        targ_per_process: v.process ? 1 : 0,
        targ_failures: v.failures ? 1 : 0,
      },
      attachments: [
        ...(latency ? [{ program: "sys_enter", group: "raw_syscalls", event: "sys_enter" }] : []),
        { program: "sys_exit", group: "raw_syscalls", event: "sys_exit" },
      ],
    },
    report: (coll) =>
      syscountReport(
        [...coll.map("counts").entries()].map(([k, val]) => decodeSyscallCount(k, val)),
        {
          top,
          latency,
          milliseconds: v.milliseconds === true,
          perProcess: v.process === true,
          json,
          names,
        },
      ),
  });
}
