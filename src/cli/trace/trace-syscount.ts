/**
 * `tsbpf trace syscount [-L] [-m] [-P] [-x] [-T N] [--pid PID] [-i SECONDS]
 * [--duration SECONDS] [-l] [-j]`: BCC's syscount on raw_syscalls. System calls counted
 * in the kernel by syscall number (by process with -P), with their total time (-L);
 * the top N are printed every interval (-i) or at the end.
 *
 * @module
 */

import { errnoName, errnoNumber } from "../../uapi/errno.ts";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { decodeSyscallCount, defaultSyscallNames, syscountReport } from "./syscount-report.ts";
import { parseToolArgs, reportSchedule, wholeNumber } from "./tool-options.ts";
import { SYSCOUNT_OPTIONS } from "./tool-tables.ts";
import { runSummaryTool } from "./trace-summary.ts";

/**
 * The errno `-e` names: a name the kernel's errno-base.h/errno.h define (`EPERM`) or a
 * number from 1 to 4095 (the range a syscall's -errno return takes).
 * @throws UsageError for anything else
 */
export function errnoOption(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : errnoNumber(text.toUpperCase());
  if (n === undefined || n < 1 || n > 4095) {
    throw new UsageError(
      `-e takes an errno name (EPERM, ENOENT, ...) or a number from 1 to 4095, not '${text}'`,
    );
  }
  return n;
}

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
  const errno = v.errno !== undefined ? errnoOption(v.errno) : 0;
  const top = v.top !== undefined ? wholeNumber(v.top, "-T") : 10;
  const latency = v.latency === true;
  const json = v.json === true || ctx.opts.json;
  await runSummaryTool(ctx, {
    tracing: `Tracing ${v.failures ? "failed " : ""}syscalls${v.errno !== undefined ? ` failing with ${errnoName(errno) ?? errno}` : ""}, printing top ${top}... Ctrl+C to quit.`,
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
        targ_errno: errno,
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
