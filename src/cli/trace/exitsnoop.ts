/**
 * `tsbpf trace exitsnoop`: process terminations, as BCC's exitsnoop prints them
 * (`PCOMM PID PPID TID AGE(s) EXIT_CODE`), on the sched:sched_process_exit tracepoint.
 * One line per process (its leader's exit) unless `--per-thread`; `--pid`, `-x` and
 * `--per-thread` are kernel-side filters, `-t`/`--utc`/`--label` add BCC's columns.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { left, signalName } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { EXITSNOOP_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One process (or thread) exit. */
export interface ExitEvent {
  /** When it exited: nanoseconds since boot. */
  readonly ts: bigint;
  /** When it started: nanoseconds since boot (task->start_time). */
  readonly startTime: bigint;
  readonly pid: number;
  readonly tid: number;
  /** The parent's process id, which is notified. */
  readonly ppid: number;
  /** task->exit_code: exit status in bits 15..8, else the signal in 6..0, core dump bit 7. */
  readonly exitCode: number;
  readonly comm: string;
}

/** `tsbpf trace exitsnoop` options. */
export interface ExitOptions {
  readonly pid: number;
  readonly failed: boolean;
  readonly perThread: boolean;
  /** "local" or "utc" with `-t`/`--utc`, else undefined. */
  readonly timestamp?: "local" | "utc";
  /** `--label LABEL`: a column with this word on every line. */
  readonly label?: string;
}

/** `struct exit_event` (exitsnoop.bpf.c). */
const REC = { ts: 0, start: 8, pid: 16, tid: 20, ppid: 24, code: 28, comm: 32, size: 48 } as const;

/**
 * Decodes a `struct exit_event` record.
 * @throws RangeError when the record is short
 */
export function decodeExitEvent(bytes: Uint8Array): ExitEvent {
  const v = viewOf(bytes, REC.size, "exit event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    startTime: v.getBigUint64(REC.start, true),
    pid: v.getUint32(REC.pid, true),
    tid: v.getUint32(REC.tid, true),
    ppid: v.getUint32(REC.ppid, true),
    exitCode: v.getInt32(REC.code, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
  };
}

/** How it ended, split out of task->exit_code. */
export function exitReason(code: number): { status?: number; signal?: number; core: boolean } {
  const signal = code & 0x7f;
  if (signal === 0) return { status: (code >> 8) & 0xff, core: false };
  return { signal, core: (code & 0x80) !== 0 };
}

/** BCC's EXIT_CODE text: `0`, `code 65`, `signal 2 (INT)`, `signal 11 (SEGV), core dumped`. */
export function exitCodeText(code: number): string {
  const r = exitReason(code);
  if (r.signal === undefined) return r.status === 0 ? "0" : `code ${r.status}`;
  const name = signalName(r.signal);
  return `signal ${r.signal}${name ? ` (${name})` : ""}${r.core ? ", core dumped" : ""}`;
}

/** The age in seconds, from start to exit. */
export function exitAgeSeconds(e: ExitEvent): number {
  return Number(e.ts - e.startTime) / 1e9;
}

function timeColumn(o: ExitOptions, now: Date): string {
  if (!o.timestamp) return "";
  const iso = o.timestamp === "utc" ? now.toISOString() : localIso(now);
  return `${left(iso.slice(11, 23), 12)} `;
}

function localIso(d: Date): string {
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString();
}

function timeHeader(o: ExitOptions): string {
  if (!o.timestamp) return "";
  const zone =
    o.timestamp === "utc"
      ? "UTC"
      : (new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
          .formatToParts(new Date())
          .find((p) => p.type === "timeZoneName")?.value ?? "LOCAL");
  return `${left(`TIME-${zone}`, 12)} `;
}

/** exitsnoop's header: `%-16s %-6s %-6s %-6s %-7s %s`, after TIME and LABEL when asked. */
export function exitHeader(o: ExitOptions): string {
  const label = o.label !== undefined ? `${left("LABEL", Math.max(5, o.label.length))} ` : "";
  return `${timeHeader(o)}${label}${left("PCOMM", 16)} ${left("PID", 6)} ${left("PPID", 6)} ${left("TID", 6)} ${left("AGE(s)", 7)} EXIT_CODE\n`;
}

/** An exitsnoop row: `%-16s %-6d %-6d %-6d %-7.2f %s`. */
export function formatExitRow(e: ExitEvent, o: ExitOptions, now: Date = new Date()): string {
  const label = o.label !== undefined ? `${left(o.label, Math.max(5, o.label.length))} ` : "";
  const age = exitAgeSeconds(e).toFixed(2);
  return `${timeColumn(o, now)}${label}${left(e.comm, 16)} ${left(e.pid, 6)} ${left(e.ppid, 6)} ${left(e.tid, 6)} ${left(age, 7)} ${exitCodeText(e.exitCode)}\n`;
}

/** The exitsnoop tool. */
export const EXITSNOOP: SnoopTool<ExitEvent, ExitOptions> = {
  name: "exitsnoop",
  options: EXITSNOOP_OPTIONS,
  parse: (v) => {
    const timestamp = v.utc === true ? "utc" : v.timestamp === true ? "local" : undefined;
    return {
      pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
      failed: v.failed === true,
      perThread: v["per-thread"] === true,
      ...(timestamp && { timestamp }),
      ...(typeof v.label === "string" && { label: v.label }),
    };
  },
  what: "process exits",
  object: "exitsnoop.bpf.o",
  attachments: [{ program: "sched_exit", group: "sched", event: "sched_process_exit" }],
  constants: (o) => ({
    targ_tgid: o.pid,
    targ_failed: o.failed ? 1 : 0,
    per_thread: o.perThread ? 1 : 0,
  }),
  header: exitHeader,
  decode: decodeExitEvent,
  row: (e, o) => formatExitRow(e, o),
  json: (e) => {
    const r = exitReason(e.exitCode);
    return {
      pid: e.pid,
      ppid: e.ppid,
      tid: e.tid,
      comm: e.comm,
      age: exitAgeSeconds(e),
      exit_code: e.exitCode,
      ...(r.status !== undefined && { status: r.status }),
      ...(r.signal !== undefined && { signal: r.signal, core: r.core }),
      ts: e.ts,
    };
  },
};

/** Runs `tsbpf trace exitsnoop ...`. */
export function traceExitsnoop(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, EXITSNOOP);
}
