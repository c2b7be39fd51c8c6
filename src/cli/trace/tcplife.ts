/**
 * `tsbpf trace tcplife`: TCP sessions as they close, with their lifespan and traffic,
 * as BCC's tcplife prints them (`PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS`),
 * from sock:inet_sock_set_state alone; the bytes are struct tcp_sock's bytes_acked and
 * bytes_received, read with CO-RE. `--pid`, `-L`, `-D`, `-4`/`-6` filter in the
 * kernel; `-w` widens the columns (and adds IP), `-T`/`-t` add time columns.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { clockTime, inetAddress, ipVersion, left, right } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { familyOption } from "./tcp-events.ts";
import { TCPLIFE_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One closed TCP session. */
export interface LifeEvent {
  /** When it closed: nanoseconds since boot. */
  readonly ts: bigint;
  readonly pid: number;
  readonly comm: string;
  /** 4 or 6. */
  readonly ip: number;
  readonly laddr: string;
  readonly lport: number;
  readonly raddr: string;
  readonly rport: number;
  /** Bytes sent and acknowledged (tcp_sock.bytes_acked). */
  readonly txBytes: bigint;
  /** Bytes received (tcp_sock.bytes_received). */
  readonly rxBytes: bigint;
  /** From its last state before FIN_WAIT1 (usually ESTABLISHED) to CLOSE, microseconds. */
  readonly spanUs: bigint;
}

/** `tsbpf trace tcplife` options. */
export interface LifeOptions {
  readonly pid: number;
  readonly lport: number;
  readonly rport: number;
  readonly family: number;
  readonly wide: boolean;
  readonly time: boolean;
  readonly timestamp: boolean;
}

/** `struct life_event` (tcplife.bpf.c). */
const REC = {
  ts: 0,
  span: 8,
  rx: 16,
  tx: 24,
  pid: 32,
  family: 36,
  lport: 38,
  rport: 40,
  saddr: 44,
  daddr: 60,
  comm: 76,
  size: 96,
} as const;

/**
 * Decodes a `struct life_event` record.
 * @throws RangeError when the record is short
 */
export function decodeLifeEvent(bytes: Uint8Array): LifeEvent {
  const v = viewOf(bytes, REC.size, "tcplife event");
  const family = v.getUint16(REC.family, true);
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    ip: ipVersion(family),
    laddr: inetAddress(family, bytes, REC.saddr),
    lport: v.getUint16(REC.lport, true),
    raddr: inetAddress(family, bytes, REC.daddr),
    rport: v.getUint16(REC.rport, true),
    txBytes: v.getBigUint64(REC.tx, true),
    rxBytes: v.getBigUint64(REC.rx, true),
    spanUs: v.getBigUint64(REC.span, true),
  };
}

/** The columns after the time ones: BCC's default or `-w` widths. */
function widths(o: LifeOptions) {
  return o.wide ? { comm: 16, addr: 26, kb: 6 } : { comm: 10, addr: 15, kb: 5 };
}

function timeHeads(o: LifeOptions): string {
  return (o.time ? `${left("TIME", 8)} ` : "") + (o.timestamp ? `${left("TIME(s)", 9)} ` : "");
}

/** tcplife's header: `%-5s %-10.10s %-15s %-5s %-15s %-5s %5s %5s %s` (or the `-w` one). */
export function lifeHeader(o: LifeOptions): string {
  const w = widths(o);
  const ip = o.wide ? `${left("IP", 2)} ` : "";
  return `${timeHeads(o)}${left("PID", 5)} ${left("COMM", w.comm)} ${ip}${left("LADDR", w.addr)} ${left("LPORT", 5)} ${left("RADDR", w.addr)} ${left("RPORT", 5)} ${right("TX_KB", w.kb)} ${right("RX_KB", w.kb)} MS\n`;
}

/** A tcplife row: `%-5d %-10.10s %-15s %-5d %-15s %-5d %5d %5d %.2f` (KB = bytes / 1024). */
export function formatLifeRow(
  e: LifeEvent,
  o: LifeOptions,
  firstTs: bigint,
  now: Date = new Date(),
): string {
  const w = widths(o);
  const t =
    (o.time ? `${left(clockTime(now), 8)} ` : "") +
    (o.timestamp ? `${left((Number(e.ts - firstTs) / 1e9).toFixed(6), 9)} ` : "");
  const ip = o.wide ? `${left(e.ip, 2)} ` : "";
  const ms = (Number(e.spanUs) / 1000).toFixed(2);
  return `${t}${left(e.pid, 5)} ${left(e.comm.slice(0, w.comm), w.comm)} ${ip}${left(e.laddr, w.addr)} ${left(e.lport, 5)} ${left(e.raddr, w.addr)} ${left(e.rport, 5)} ${right(e.txBytes / 1024n, w.kb)} ${right(e.rxBytes / 1024n, w.kb)} ${ms}\n`;
}

/** The tcplife tool (the first event's time kept for `-t`). */
function tcplife(): SnoopTool<LifeEvent, LifeOptions> {
  let firstTs: bigint | undefined;
  return {
    name: "tcplife",
    options: TCPLIFE_OPTIONS,
    parse: (v) => ({
      pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
      lport: typeof v.localport === "string" ? intOption(v.localport, "-L", 1, 65535) : 0,
      rport: typeof v.remoteport === "string" ? intOption(v.remoteport, "-D", 1, 65535) : 0,
      family: familyOption(v),
      wide: v.wide === true,
      time: v.time === true,
      timestamp: v.timestamp === true,
    }),
    what: "TCP sessions",
    object: "tcplife.bpf.o",
    attachments: [{ program: "set_state_life", group: "sock", event: "inet_sock_set_state" }],
    constants: (o) => ({
      targ_tgid: o.pid,
      targ_lport: o.lport,
      targ_rport: o.rport,
      targ_family: o.family,
    }),
    header: lifeHeader,
    decode: decodeLifeEvent,
    row: (e, o) => {
      firstTs ??= e.ts;
      return formatLifeRow(e, o, firstTs);
    },
    json: (e) => ({
      pid: e.pid,
      comm: e.comm,
      ip: e.ip,
      laddr: e.laddr,
      lport: e.lport,
      raddr: e.raddr,
      rport: e.rport,
      tx_bytes: e.txBytes,
      rx_bytes: e.rxBytes,
      ms: Number(e.spanUs) / 1000,
      ts: e.ts,
    }),
  };
}

/** Runs `tsbpf trace tcplife ...`. */
export function traceTcplife(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, tcplife());
}
