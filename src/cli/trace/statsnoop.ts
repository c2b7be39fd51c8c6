/**
 * `tsbpf trace statsnoop`: stat-family calls (statx, newfstatat, stat, lstat, statfs),
 * as BCC's statsnoop prints them (`PID COMM RET ERR PATH`), on their syscall
 * tracepoints. `--pid` and `-x` filter in the kernel; `-t` adds seconds since the first
 * event, `-s` the syscall's name (from its number, this machine's table).
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { left, right } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { STATSNOOP_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";
import type { TraceAttachment } from "./trace-session.ts";

/** One stat-family call. */
export interface StatEvent {
  /** When the call returned: nanoseconds since boot. */
  readonly ts: bigint;
  readonly pid: number;
  readonly comm: string;
  /** The call's return value: 0, or -errno. */
  readonly ret: number;
  /** The syscall's number on this architecture. */
  readonly syscallNr: number;
  /** The path as the caller passed it (255 bytes at most). */
  readonly path: string;
}

/** `tsbpf trace statsnoop` options. */
export interface StatOptions {
  readonly pid: number;
  readonly failed: boolean;
  readonly timestamp: boolean;
  readonly sysname: boolean;
}

/** `struct stat_event` (statsnoop.bpf.c). */
const REC = { ts: 0, pid: 8, ret: 12, nr: 16, comm: 20, path: 36, size: 296 } as const;
const PATH_LEN = 256;

/** Syscall numbers of the traced calls, per architecture (asm/unistd_64.h, asm-generic). */
const SYSCALL_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  x64: { 4: "stat", 6: "lstat", 137: "statfs", 262: "newfstatat", 332: "statx" },
  arm64: { 43: "statfs", 79: "newfstatat", 291: "statx" },
};

/** The name of a traced syscall's number on this machine, else `syscall N`. */
export function statSyscallName(nr: number, arch: string = process.arch): string {
  return SYSCALL_NAMES[arch]?.[nr] ?? `syscall ${nr}`;
}

/**
 * Decodes a `struct stat_event` record.
 * @throws RangeError when the record is short
 */
export function decodeStatEvent(bytes: Uint8Array): StatEvent {
  const v = viewOf(bytes, REC.size, "stat event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    ret: v.getInt32(REC.ret, true),
    syscallNr: v.getInt32(REC.nr, true),
    path: cString(bytes, REC.path, PATH_LEN),
  };
}

/** statsnoop's header: `%-6s %-16s %4s %3s PATH`, after TIME(s) and SYSCALL when asked. */
export function statHeader(o: StatOptions): string {
  const t = o.timestamp ? `${left("TIME(s)", 14)} ` : "";
  const s = o.sysname ? `${left("SYSCALL", 12)} ` : "";
  return `${t}${s}${left("PID", 6)} ${left("COMM", 16)} ${right("RET", 4)} ${right("ERR", 3)} PATH\n`;
}

/** A statsnoop row: `%-6d %-16s %4d %3d %s` (RET -1 and ERR the errno on failure). */
export function formatStatRow(e: StatEvent, o: StatOptions, firstTs: bigint): string {
  const t = o.timestamp ? `${left((Number(e.ts - firstTs) / 1e9).toFixed(9), 14)} ` : "";
  const s = o.sysname ? `${left(statSyscallName(e.syscallNr), 12)} ` : "";
  const ret = e.ret >= 0 ? e.ret : -1;
  const err = e.ret >= 0 ? 0 : -e.ret;
  return `${t}${s}${left(e.pid, 6)} ${left(e.comm, 16)} ${right(ret, 4)} ${right(err, 3)} ${e.path}\n`;
}

/** Entry programs by where the path is; one exit program for all. */
const CALLS: readonly [string, "enter_at" | "enter_path"][] = [
  ["statx", "enter_at"],
  ["newfstatat", "enter_at"],
  ["newstat", "enter_path"],
  ["newlstat", "enter_path"],
  ["statfs", "enter_path"],
];

const ATTACHMENTS: readonly TraceAttachment[] = CALLS.flatMap(([call, enter]) => [
  { program: enter, group: "syscalls", event: `sys_enter_${call}`, optional: call !== "statx" },
  {
    program: "exit_stat",
    group: "syscalls",
    event: `sys_exit_${call}`,
    optional: call !== "statx",
  },
]);

/** The statsnoop tool (the first event's time kept for `-t`). */
function statsnoop(): SnoopTool<StatEvent, StatOptions> {
  let firstTs: bigint | undefined;
  return {
    name: "statsnoop",
    options: STATSNOOP_OPTIONS,
    parse: (v) => ({
      pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
      failed: v.failed === true,
      timestamp: v.timestamp === true,
      sysname: v.sysname === true,
    }),
    what: "stat() calls",
    object: "statsnoop.bpf.o",
    attachments: ATTACHMENTS,
    constants: (o) => ({ targ_tgid: o.pid, targ_failed: o.failed ? 1 : 0 }),
    header: statHeader,
    decode: decodeStatEvent,
    row: (e, o) => {
      firstTs ??= e.ts;
      return formatStatRow(e, o, firstTs);
    },
    json: (e) => ({
      pid: e.pid,
      comm: e.comm,
      syscall: statSyscallName(e.syscallNr),
      ret: e.ret >= 0 ? e.ret : -1,
      err: e.ret >= 0 ? 0 : -e.ret,
      path: e.path,
      ts: e.ts,
    }),
  };
}

/** Runs `tsbpf trace statsnoop ...`. */
export function traceStatsnoop(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, statsnoop());
}
