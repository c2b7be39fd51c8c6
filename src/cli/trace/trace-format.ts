/**
 * How the trace tools print: BCC's columns in plain text (opensnoop's
 * `PID COMM FD ERR PATH`, execsnoop's `PCOMM PID PPID RET ARGS`, same widths), and
 * one compact JSON object per line with `-j`. One function per tool and mode, so the
 * two never drift apart.
 *
 * @module
 */

import { type JsonValue, JsonWriter } from "../format/json-writer.ts";
import type { ExecEvent, OpenEvent } from "./trace-events.ts";

/** printf's `%-Ns`: left-aligned, padded to `n`, never cut. */
function left(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

/** printf's `%Nd`: right-aligned, padded to `n`. */
function right(s: string | number, n: number): string {
  return String(s).padStart(n);
}

/** One JSON value on its own line (compact, as `-j`). */
export function jsonLine(value: JsonValue): string {
  let text = "";
  new JsonWriter((s) => {
    text += s;
  }, false).value(value);
  return `${text}\n`;
}

/** opensnoop's header: `%-6s %-16s %4s %3s PATH`. */
export const OPEN_HEADER = `${left("PID", 6)} ${left("COMM", 16)} ${right("FD", 4)} ${right("ERR", 3)} PATH\n`;

/** An opensnoop row: `%-6d %-16s %4d %3d %s`. */
export function formatOpenRow(e: OpenEvent): string {
  return `${left(e.pid, 6)} ${left(e.comm, 16)} ${right(e.fd, 4)} ${right(e.err, 3)} ${e.path}\n`;
}

/** The JSON line of an open event: pid, tid, uid, comm, fd, err, flags, path, ts (ns since boot). */
export function openJson(e: OpenEvent): string {
  return jsonLine({
    pid: e.pid,
    tid: e.tid,
    uid: e.uid,
    comm: e.comm,
    fd: e.fd,
    err: e.err,
    flags: e.flags,
    path: e.path,
    ts: e.ts,
  });
}

/** execsnoop's header: `%-16s %-7s %-7s %3s ARGS`. */
export const EXEC_HEADER = `${left("PCOMM", 16)} ${left("PID", 7)} ${left("PPID", 7)} ${right("RET", 3)} ARGS\n`;

/**
 * execsnoop's ARGS: the arguments joined by spaces, newlines written as `\n`, and
 * ` ...` when there were more than were copied.
 */
export function execArgsText(e: ExecEvent): string {
  const text = e.args.join(" ").replace(/\n/g, "\\n");
  return e.truncated ? `${text} ...` : text;
}

/** An execsnoop row: `%-16s %-7d %-7d %3d %s`. */
export function formatExecRow(e: ExecEvent): string {
  return `${left(e.comm, 16)} ${left(e.pid, 7)} ${left(e.ppid, 7)} ${right(e.ret, 3)} ${execArgsText(e)}\n`;
}

/** The JSON line of an exec event: pid, ppid, uid, comm, ret, args, truncated, ts. */
export function execJson(e: ExecEvent): string {
  return jsonLine({
    pid: e.pid,
    ppid: e.ppid,
    uid: e.uid,
    comm: e.comm,
    ret: e.ret,
    args: e.args,
    truncated: e.truncated,
    ts: e.ts,
  });
}
