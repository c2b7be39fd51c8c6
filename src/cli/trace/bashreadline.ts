/**
 * `tsbpf trace bashreadline [-s PATH]`: the lines typed into interactive bash shells,
 * as BCC's bashreadline prints them (`TIME PID COMMAND`), from a uretprobe on
 * readline(): bash's own (exported from /bin/bash on Debian), or a libreadline's with
 * `-s/--shared` (shells that link it, as BCC's libbpf tool does).
 *
 * @module
 */

import { attachUprobe } from "../../kernel/links/uprobe.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { clockTime, left } from "./event-text.ts";
import { runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { BASHREADLINE_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One line read by readline(). */
export interface ReadlineEvent {
  /** When readline() returned: nanoseconds since boot. */
  readonly ts: bigint;
  /** The shell's process id. */
  readonly pid: number;
  /** The shell's command name. */
  readonly comm: string;
  /** The line, without its newline (cut at 79 bytes, as BCC's). */
  readonly line: string;
}

/** `tsbpf trace bashreadline` options. */
export interface ReadlineOptions {
  /** The binary or library whose readline() is probed. */
  readonly binary: string;
}

/** The binary probed when -s is not given. */
export const DEFAULT_SHELL = "/bin/bash";

/** `struct readline_event` (bashreadline.bpf.c). */
const REC = { ts: 0, pid: 8, comm: 16, line: 32, lineLen: 80, size: 112 } as const;

/**
 * Decodes a `struct readline_event` record.
 * @throws RangeError when the record is short
 */
export function decodeReadlineEvent(bytes: Uint8Array): ReadlineEvent {
  const v = viewOf(bytes, REC.size, "readline event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    line: cString(bytes, REC.line, REC.lineLen),
  };
}

/** bashreadline's header: `%-9s %-6s %s`. */
export const READLINE_HEADER = `${left("TIME", 9)} ${left("PID", 6)} COMMAND\n`;

/** A bashreadline row: `%-9s %-6d %s`, TIME the local time printed. */
export function formatReadlineRow(e: ReadlineEvent, now: Date = new Date()): string {
  return `${left(clockTime(now), 9)} ${left(e.pid, 6)} ${e.line}\n`;
}

/** The bashreadline tool. */
export const BASHREADLINE: SnoopTool<ReadlineEvent, ReadlineOptions> = {
  name: "bashreadline",
  options: BASHREADLINE_OPTIONS,
  parse: (v) => ({ binary: typeof v.shared === "string" ? v.shared : DEFAULT_SHELL }),
  what: "bash commands",
  object: "bashreadline.bpf.o",
  attachments: (o) => [
    {
      program: "readline_return",
      label: `uretprobe:${o.binary}:readline`,
      attach: (prog) => attachUprobe(prog, o.binary, "readline", { retprobe: true }),
    },
  ],
  constants: () => ({}),
  header: () => READLINE_HEADER,
  decode: decodeReadlineEvent,
  row: (e) => formatReadlineRow(e),
  json: (e) => ({ time: clockTime(), pid: e.pid, comm: e.comm, command: e.line, ts: e.ts }),
};

/** Runs `tsbpf trace bashreadline ...`. */
export function traceBashreadline(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, BASHREADLINE);
}
