/**
 * `tsbpf trace exec [-x] [-n NAME] [--duration SECONDS] [-j] [--max-args N]`: BCC execsnoop
 * on tracepoints. syscalls:sys_enter_execve copies the file name and arguments;
 * sys_exit_execve adds the result, the new command name and the parent's pid (a CO-RE
 * read of task->real_parent->tgid) and emits PCOMM PID PPID RET ARGS. As execsnoop,
 * only successful execs are shown unless `-x`; that filter and the argument limit are
 * `.rodata` constants, `-n` (a substring of the command name) is applied in user space.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { decodeExecEvent } from "./trace-events.ts";
import { EXEC_HEADER, execJson, formatExecRow } from "./trace-format.ts";
import { parseExecOptions } from "./trace-options.ts";
import { runTraceTool } from "./trace-run.ts";

/** Runs `tsbpf trace exec ...`. */
export async function traceExec(ctx: Context, args: Args): Promise<void> {
  const o = parseExecOptions(args.rest());
  if (o.help) return printHelp(ctx, ctx.usage());
  const json = o.json || ctx.opts.json;
  await runTraceTool(ctx, {
    what: "execve() calls",
    header: EXEC_HEADER,
    json,
    ...(o.durationSeconds !== undefined && { durationSeconds: o.durationSeconds }),
    session: {
      tool: "trace exec",
      object: "execsnoop.bpf.o",
      perfBuffer: o.perfBuffer,
      constants: { max_args: o.maxArgs, include_failed: o.includeFailed ? 1 : 0 },
      attachments: [
        { program: "enter_execve", group: "syscalls", event: "sys_enter_execve" },
        { program: "exit_execve", group: "syscalls", event: "sys_exit_execve" },
      ],
    },
    render: (bytes) => {
      const e = decodeExecEvent(bytes);
      if (o.name !== undefined && !e.comm.includes(o.name)) return "";
      return json ? execJson(e) : formatExecRow(e);
    },
  });
}
