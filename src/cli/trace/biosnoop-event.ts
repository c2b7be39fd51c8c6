/**
 * `tsbpf trace biosnoop`'s record (`struct bio_event` in bpf/biosnoop.bpf.c, whose
 * `_Static_assert`s pin these offsets) and its two outputs: BCC's biosnoop columns
 * (`TIME(s) COMM PID DISK T SECTOR BYTES [QUE(ms)] LAT(ms)`, widths as its documented
 * example output) and one JSON object per line.
 *
 * @module
 */

import { jsonLine } from "./trace-format.ts";

const BIO = {
  ts: 0,
  latNs: 8,
  queueNs: 16,
  sector: 24,
  dev: 32,
  pid: 36,
  bytes: 40,
  comm: 44,
  rwbs: 60,
} as const;
/** Bytes of `struct bio_event`. */
export const BIO_EVENT_SIZE = 72;

/** One completed block I/O request. */
export interface BioEvent {
  /** Completion time, nanoseconds since boot. */
  readonly ts: bigint;
  /** Nanoseconds from issue to completion. */
  readonly latNs: bigint;
  /** Nanoseconds from insertion to issue (0 when it was not queued, or without -Q). */
  readonly queueNs: bigint;
  /** First sector (512 bytes). */
  readonly sector: bigint;
  /** The device, as the kernel's dev_t. */
  readonly dev: number;
  /** The process on the CPU when the request was queued or issued. */
  readonly pid: number;
  /** Its command name. */
  readonly comm: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** The kernel's rwbs flags ("W", "RA", "WS", "FF", ...). */
  readonly rwbs: string;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");

function cString(
  bytes: Uint8Array,
  off: number,
  max: number,
  dec: { decode(b: Uint8Array): string },
): string {
  let end = off;
  while (end < off + max && bytes[end] !== 0) end++;
  return dec.decode(bytes.subarray(off, end));
}

/**
 * Decodes a `struct bio_event` record.
 * @throws RangeError when the record is shorter than the struct
 */
export function decodeBioEvent(bytes: Uint8Array): BioEvent {
  if (bytes.length < BIO_EVENT_SIZE) {
    throw new RangeError(`bio event: record of ${bytes.length} bytes, expected ${BIO_EVENT_SIZE}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    ts: v.getBigUint64(BIO.ts, true),
    latNs: v.getBigUint64(BIO.latNs, true),
    queueNs: v.getBigUint64(BIO.queueNs, true),
    sector: v.getBigUint64(BIO.sector, true),
    dev: v.getUint32(BIO.dev, true),
    pid: v.getUint32(BIO.pid, true),
    bytes: v.getUint32(BIO.bytes, true),
    comm: cString(bytes, BIO.comm, 16, utf8),
    rwbs: cString(bytes, BIO.rwbs, 12, latin1),
  };
}

/** BCC's T column: W for writes (and discards, which its test treats alike), else R. */
export function bioDirection(rwbs: string): "R" | "W" {
  return /[WD]/.test(rwbs) ? "W" : "R";
}

/** biosnoop's header; -Q adds QUE(ms) right after BYTES, as BCC prints it. */
export function biosnoopHeader(queued: boolean): string {
  const head = `${"TIME(s)".padEnd(11)} ${"COMM".padEnd(14)} ${"PID".padEnd(6)} ${"DISK".padEnd(7)} T ${"SECTOR".padEnd(10)} ${"BYTES".padEnd(7)}`;
  return queued
    ? `${head}${"QUE(ms)".padStart(7)} ${"LAT(ms)".padStart(7)}\n`
    : `${head} ${"LAT(ms)".padStart(7)}\n`;
}

const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(2).padStart(7);

/**
 * One biosnoop row. `seconds` is the time since the first event; the command name is
 * cut at 14 characters as BCC's `%-14.14s`.
 */
export function formatBiosnoopRow(
  e: BioEvent,
  seconds: number,
  disk: string,
  queued: boolean,
): string {
  const head = `${seconds.toFixed(6).padEnd(11)} ${e.comm.slice(0, 14).padEnd(14)} ${String(e.pid).padEnd(6)} ${disk.padEnd(7)} ${bioDirection(e.rwbs)} ${String(e.sector).padEnd(10)} ${String(e.bytes).padEnd(7)}`;
  return queued ? `${head}${ms(e.queueNs)} ${ms(e.latNs)}\n` : `${head} ${ms(e.latNs)}\n`;
}

/** The JSON line of an I/O: ts, comm, pid, disk, rwbs, T, sector, bytes, lat_ns, queue_ns. */
export function biosnoopJson(e: BioEvent, disk: string): string {
  return jsonLine({
    ts: Number(e.ts),
    comm: e.comm,
    pid: e.pid,
    disk,
    rwbs: e.rwbs,
    t: bioDirection(e.rwbs),
    sector: Number(e.sector),
    bytes: e.bytes,
    lat_ns: Number(e.latNs),
    queue_ns: Number(e.queueNs),
  });
}
