/**
 * What `tsbpf trace syscount` prints from its `counts` map (`struct syscall_count` in
 * bpf/syscount.bpf.c: u64 count, u64 total_ns, char comm[16], keyed by a u32 syscall
 * number or process id): BCC's syscount tables — `[HH:MM:SS]`, then
 * `SYSCALL COUNT [TIME (us)]` or `PID COMM COUNT [TIME (us)]`, the top N rows by count
 * (by time with -L), an empty line — or one JSON object per report.
 *
 * @module
 */

import { clockTime } from "./event-text.ts";
import { SYSCALL_NAMES_X86_64 } from "./syscall-names-x86_64.generated.ts";
import { jsonLine } from "./trace-format.ts";

/** One row: a syscall or a process, with its calls and their total time. */
export interface SyscallCount {
  /** The syscall number, or the process id with -P. */
  readonly key: number;
  readonly count: bigint;
  /** Nanoseconds spent in the calls (0 without -L). */
  readonly totalNs: bigint;
  /** The process's command name (with -P). */
  readonly comm: string;
}

/** How the report is shaped. */
export interface SyscountReportOptions {
  readonly top: number;
  readonly latency: boolean;
  readonly milliseconds: boolean;
  readonly perProcess: boolean;
  readonly json: boolean;
  /** Syscall names by number (default: x86-64's on x64, none elsewhere). */
  readonly names?: ReadonlyMap<number, string>;
  readonly now?: Date;
}

const utf8 = new TextDecoder("utf-8");

/** Decodes one `counts` entry. */
export function decodeSyscallCount(key: Uint8Array, value: Uint8Array): SyscallCount {
  if (key.length < 4 || value.length < 32) {
    throw new RangeError(`syscount: entry of ${key.length}+${value.length} bytes, expected 4+32`);
  }
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let end = 16;
  while (end < 32 && value[end] !== 0) end++;
  return {
    key: new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true),
    count: v.getBigUint64(0, true),
    totalNs: v.getBigUint64(8, true),
    comm: utf8.decode(value.subarray(16, end)),
  };
}

/** The name tables this machine's syscall numbers follow. */
export function defaultSyscallNames(): ReadonlyMap<number, string> {
  return process.arch === "x64" ? SYSCALL_NAMES_X86_64 : new Map();
}

/** A syscall's name, or BCC's `[unknown: NR]`. */
export function syscallName(nr: number, names: ReadonlyMap<number, string>): string {
  return names.get(nr) ?? `[unknown: ${nr}]`;
}

/** The report of `rows` (any order; the top N are picked here). */
export function syscountReport(rows: readonly SyscallCount[], opts: SyscountReportOptions): string {
  const names = opts.names ?? defaultSyscallNames();
  const by = (r: SyscallCount) => (opts.latency ? r.totalNs : r.count);
  const top = [...rows]
    .sort((a, b) => (by(b) > by(a) ? 1 : by(b) < by(a) ? -1 : a.key - b.key))
    .slice(0, opts.top);
  const unit = opts.milliseconds ? "ms" : "us";
  const time = (ns: bigint) => Number(ns) / (opts.milliseconds ? 1e6 : 1e3);
  const now = opts.now ?? new Date();
  if (opts.json) {
    return jsonLine({
      time: clockTime(now),
      [opts.perProcess ? "processes" : "syscalls"]: top.map((r) => ({
        ...(opts.perProcess
          ? { pid: r.key, comm: r.comm }
          : { syscall: syscallName(r.key, names), nr: r.key }),
        count: Number(r.count),
        ...(opts.latency && { total_ns: Number(r.totalNs) }),
      })),
    });
  }
  const first = (label: string, comm: string) =>
    opts.perProcess ? `${label.padEnd(6)} ${comm.padEnd(15)}` : label.padEnd(22);
  let out = `[${clockTime(now)}]\n${first(opts.perProcess ? "PID" : "SYSCALL", "COMM")} ${"COUNT".padStart(8)}`;
  out += opts.latency ? ` ${`TIME (${unit})`.padStart(16)}\n` : "\n";
  for (const r of top) {
    const label = opts.perProcess ? String(r.key) : syscallName(r.key, names);
    out += `${first(label, r.comm)} ${String(r.count).padStart(8)}`;
    out += opts.latency ? ` ${time(r.totalNs).toFixed(3).padStart(16)}\n` : "\n";
  }
  return `${out}\n`;
}
