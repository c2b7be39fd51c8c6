/**
 * `tsbpf trace open [--pid PID] [-n NAME] [-x] [--duration SECONDS] [-j]`: BCC opensnoop on
 * tracepoints. syscalls:sys_enter_openat (and sys_enter_open where the architecture
 * has it) remember each thread's file name pointer; the exit tracepoints read the name
 * and emit PID COMM FD ERR PATH. `--pid` and `-x` filter in the kernel (`.rodata`
 * constants, as libbpf-tools' opensnoop does); `-n` filters in user space on a
 * substring of the command name, as opensnoop does.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { decodeOpenEvent } from "./trace-events.ts";
import { formatOpenRow, OPEN_HEADER, openJson } from "./trace-format.ts";
import { parseOpenOptions } from "./trace-options.ts";
import { runTraceTool } from "./trace-run.ts";

/** Runs `tsbpf trace open ...`. */
export async function traceOpen(ctx: Context, args: Args): Promise<void> {
  const o = parseOpenOptions(args.rest());
  if (o.help) return printHelp(ctx, ctx.usage());
  const json = o.json || ctx.opts.json;
  await runTraceTool(ctx, {
    what: "open() and openat() calls",
    header: OPEN_HEADER,
    json,
    ...(o.durationSeconds !== undefined && { durationSeconds: o.durationSeconds }),
    session: {
      tool: "trace open",
      object: "opensnoop.bpf.o",
      perfBuffer: o.perfBuffer,
      constants: { targ_tgid: o.pid ?? 0, targ_failed: o.failedOnly ? 1 : 0 },
      attachments: [
        { program: "enter_openat", group: "syscalls", event: "sys_enter_openat" },
        { program: "exit_openat", group: "syscalls", event: "sys_exit_openat" },
        { program: "enter_open", group: "syscalls", event: "sys_enter_open", optional: true },
        { program: "exit_open", group: "syscalls", event: "sys_exit_open", optional: true },
      ],
    },
    render: (bytes) => {
      const e = decodeOpenEvent(bytes);
      if (o.name !== undefined && !e.comm.includes(o.name)) return "";
      return json ? openJson(e) : formatOpenRow(e);
    },
  });
}
