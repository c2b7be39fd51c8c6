/**
 * `tsbpf trace tcpretrans`: TCP retransmissions, as BCC's tcpretrans prints them
 * (`TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE`), on the tcp:tcp_retransmit_skb
 * tracepoint: no kprobe needed. BCC's `-l` (tail loss probes) needs a kprobe on
 * tcp_send_loss_probe, which has no tracepoint, so it is not offered.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { clockTime, inetAddress, ipVersion, left } from "./event-text.ts";
import { runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { addrPort, familyOption, tcpStateName } from "./tcp-events.ts";
import { TCPRETRANS_OPTIONS } from "./tool-tables.ts";
import { viewOf } from "./trace-events.ts";

/** One retransmission. */
export interface RetransEvent {
  readonly ts: bigint;
  /** The task on the CPU when it happened: 0 (the kernel) for timer retransmits. */
  readonly pid: number;
  /** 4 or 6. */
  readonly ip: number;
  readonly laddr: string;
  readonly lport: number;
  readonly raddr: string;
  readonly rport: number;
  /** The socket's TCP state, by name. */
  readonly state: string;
  /** "R": a retransmission. */
  readonly type: "R" | "L";
}

/** `tsbpf trace tcpretrans` options. */
export interface RetransOptions {
  readonly family: number;
}

/** `struct retrans_event` (tcpretrans.bpf.c). */
const REC = {
  ts: 0,
  pid: 8,
  state: 12,
  family: 16,
  lport: 18,
  rport: 20,
  type: 22,
  saddr: 24,
  daddr: 40,
  size: 56,
} as const;

/**
 * Decodes a `struct retrans_event` record.
 * @throws RangeError when the record is short
 */
export function decodeRetransEvent(bytes: Uint8Array): RetransEvent {
  const v = viewOf(bytes, REC.size, "tcpretrans event");
  const family = v.getUint16(REC.family, true);
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    ip: ipVersion(family),
    laddr: inetAddress(family, bytes, REC.saddr),
    lport: v.getUint16(REC.lport, true),
    raddr: inetAddress(family, bytes, REC.daddr),
    rport: v.getUint16(REC.rport, true),
    state: tcpStateName(v.getUint32(REC.state, true)),
    type: v.getUint16(REC.type, true) === 2 ? "L" : "R",
  };
}

/** tcpretrans's header: `%-8s %-6s %-2s %-20s %1s> %-20s %s`. */
export const RETRANS_HEADER = `${left("TIME", 8)} ${left("PID", 6)} ${left("IP", 2)} ${left("LADDR:LPORT", 20)} T> ${left("RADDR:RPORT", 20)} STATE\n`;

/** A tcpretrans row: `%-8s %-6d %-2d %-20s %1s> %-20s %s`. */
export function formatRetransRow(e: RetransEvent, now: Date = new Date()): string {
  return `${left(clockTime(now), 8)} ${left(e.pid, 6)} ${left(e.ip, 2)} ${left(addrPort(e.laddr, e.lport), 20)} ${e.type}> ${left(addrPort(e.raddr, e.rport), 20)} ${e.state}\n`;
}

/** The tcpretrans tool. */
export const TCPRETRANS: SnoopTool<RetransEvent, RetransOptions> = {
  name: "tcpretrans",
  options: TCPRETRANS_OPTIONS,
  parse: (v) => ({ family: familyOption(v) }),
  what: "TCP retransmits",
  object: "tcpretrans.bpf.o",
  attachments: [{ program: "retransmit_skb", group: "tcp", event: "tcp_retransmit_skb" }],
  constants: (o) => ({ targ_family: o.family }),
  header: () => RETRANS_HEADER,
  decode: decodeRetransEvent,
  row: (e) => formatRetransRow(e),
  json: (e) => ({
    pid: e.pid,
    ip: e.ip,
    laddr: e.laddr,
    lport: e.lport,
    raddr: e.raddr,
    rport: e.rport,
    type: e.type,
    state: e.state,
    ts: e.ts,
  }),
};

/** Runs `tsbpf trace tcpretrans ...`. */
export function traceTcpretrans(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, TCPRETRANS);
}
