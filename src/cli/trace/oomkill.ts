/**
 * `tsbpf trace oomkill`: OOM kills, one line each as BCC's oomkill prints them
 * (`HH:MM:SS Triggered by PID N ("comm"), OOM kill of PID N ("comm"), N pages,
 * loadavg: ...`), on the mark_victim raw tracepoint: no kprobe on oom_kill_process
 * needed. The pages are the victim's total_vm (BCC prints the OOM domain's size, which
 * the tracepoint does not carry); before Linux 6.8 the tracepoint passes only the
 * victim's pid, and its name is then read from /proc while it is still there.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { tracefsDir } from "../../kernel/links/tracefs.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { clockTime } from "./event-text.ts";
import { runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { OOMKILL_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One OOM kill. */
export interface OomEvent {
  readonly ts: bigint;
  /** The process whose allocation made the OOM killer run. */
  readonly triggerPid: number;
  readonly triggerComm: string;
  /** The process chosen and killed. */
  readonly victimPid: number;
  /** Its command name ("" when the kernel passes only its pid and it is gone). */
  readonly victimComm: string;
  /** The victim's virtual memory size in pages (0 when the kernel passes only its pid). */
  readonly pages: bigint;
}

/** `struct oom_event` (oomkill.bpf.c). */
const REC = { ts: 0, pages: 8, trigger: 16, victim: 20, tcomm: 24, vcomm: 40, size: 56 } as const;

/**
 * Decodes a `struct oom_event` record.
 * @throws RangeError when the record is short
 */
export function decodeOomEvent(bytes: Uint8Array): OomEvent {
  const v = viewOf(bytes, REC.size, "oom event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    pages: v.getBigUint64(REC.pages, true),
    triggerPid: v.getUint32(REC.trigger, true),
    victimPid: v.getUint32(REC.victim, true),
    triggerComm: cString(bytes, REC.tcomm, COMM_LEN),
    victimComm: cString(bytes, REC.vcomm, COMM_LEN),
  };
}

/**
 * Whether mark_victim's first argument is the victim's task_struct (Linux >= 6.8, whose
 * trace event gained the victim's comm and memory sizes) rather than its pid.
 */
export function markVictimPassesTask(): boolean {
  try {
    const format = `${tracefsDir()}/events/oom/mark_victim/format`;
    return !existsSync(format) || /\btotal_vm;/.test(readFileSync(format, "utf8"));
  } catch {
    return true;
  }
}

function procComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** /proc/loadavg as oomkill prints it (the whole line). */
function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim();
  } catch {
    return "?";
  }
}

/** An oomkill line. */
export function formatOomLine(e: OomEvent, load: string, now: Date = new Date()): string {
  return `${clockTime(now)} Triggered by PID ${e.triggerPid} ("${e.triggerComm}"), OOM kill of PID ${e.victimPid} ("${e.victimComm}"), ${e.pages} pages, loadavg: ${load}\n`;
}

/** The oomkill tool. */
export const OOMKILL: SnoopTool<OomEvent, Record<string, never>> = {
  name: "oomkill",
  options: OOMKILL_OPTIONS,
  parse: () => ({}),
  what: "OOM kills",
  object: "oomkill.bpf.o",
  attachments: [{ program: "mark_victim", group: "oom", event: "mark_victim", raw: true }],
  constants: () => ({ victim_is_task: markVictimPassesTask() ? 1 : 0 }),
  header: () => "",
  decode: (bytes) => {
    const e = decodeOomEvent(bytes);
    return e.victimComm ? e : { ...e, victimComm: procComm(e.victimPid) };
  },
  row: (e) => formatOomLine(e, loadavg()),
  json: (e) => ({
    trigger_pid: e.triggerPid,
    trigger_comm: e.triggerComm,
    victim_pid: e.victimPid,
    victim_comm: e.victimComm,
    pages: e.pages,
    loadavg: loadavg(),
    ts: e.ts,
  }),
};

/** Runs `tsbpf trace oomkill ...`. */
export function traceOomkill(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, OOMKILL);
}
