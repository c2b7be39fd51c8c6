/**
 * `tsbpf trace killsnoop`: kill(2) calls, as BCC's killsnoop prints them
 * (`TIME PID COMM SIG TPID RESULT`), on syscalls:sys_enter_kill/sys_exit_kill. The
 * sender (`--pid`), target (`-T`), signal (`-s`) and failed-only (`-x`) filters run in
 * the kernel as `.rodata` constants.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { clockTime, left } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { KILLSNOOP_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One kill(2) call. */
export interface KillEvent {
  /** When the call returned: nanoseconds since boot. */
  readonly ts: bigint;
  /** The sender's process id. */
  readonly pid: number;
  /** The sender's command name. */
  readonly comm: string;
  /** The signal sent (0 probes for existence). */
  readonly sig: number;
  /** The target: a pid, 0 or a negated process group, -1 for every process. */
  readonly tpid: number;
  /** The call's result: 0 or -errno. */
  readonly ret: number;
}

/** `tsbpf trace killsnoop` options. */
export interface KillOptions {
  readonly pid: number;
  readonly tpid: number;
  readonly signal: number;
  readonly failed: boolean;
}

/** `struct kill_event` (killsnoop.bpf.c). */
const REC = { ts: 0, pid: 8, tpid: 12, sig: 16, ret: 20, comm: 24, size: 40 } as const;

/**
 * Decodes a `struct kill_event` record.
 * @throws RangeError when the record is short
 */
export function decodeKillEvent(bytes: Uint8Array): KillEvent {
  const v = viewOf(bytes, REC.size, "kill event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    sig: v.getInt32(REC.sig, true),
    tpid: v.getInt32(REC.tpid, true),
    ret: v.getInt32(REC.ret, true),
  };
}

/** killsnoop's header: `%-9s %-6s %-16s %-4s %-6s %s`. */
export const KILL_HEADER = `${left("TIME", 9)} ${left("PID", 6)} ${left("COMM", 16)} ${left("SIG", 4)} ${left("TPID", 6)} RESULT\n`;

/** A killsnoop row: `%-9s %-6d %-16s %-4d %-6d %d`, TIME the local time printed. */
export function formatKillRow(e: KillEvent, now: Date = new Date()): string {
  return `${left(clockTime(now), 9)} ${left(e.pid, 6)} ${left(e.comm, 16)} ${left(e.sig, 4)} ${left(e.tpid, 6)} ${e.ret}\n`;
}

/** The killsnoop tool. */
export const KILLSNOOP: SnoopTool<KillEvent, KillOptions> = {
  name: "killsnoop",
  options: KILLSNOOP_OPTIONS,
  parse: (v) => ({
    failed: v.failed === true,
    pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
    tpid: typeof v.tpid === "string" ? intOption(v.tpid, "-T", -0x7fffffff) : 0,
    signal: typeof v.signal === "string" ? intOption(v.signal, "-s", 1, 64) : 0,
  }),
  what: "kill() calls",
  object: "killsnoop.bpf.o",
  attachments: [
    { program: "enter_kill", group: "syscalls", event: "sys_enter_kill" },
    { program: "exit_kill", group: "syscalls", event: "sys_exit_kill" },
  ],
  constants: (o) => ({
    targ_tgid: o.pid,
    targ_tpid: o.tpid,
    targ_sig: o.signal,
    targ_failed: o.failed ? 1 : 0,
  }),
  header: () => KILL_HEADER,
  decode: decodeKillEvent,
  row: (e) => formatKillRow(e),
  json: (e) => ({ pid: e.pid, comm: e.comm, sig: e.sig, tpid: e.tpid, ret: e.ret, ts: e.ts }),
};

/** Runs `tsbpf trace killsnoop ...`. */
export function traceKillsnoop(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, KILLSNOOP);
}
