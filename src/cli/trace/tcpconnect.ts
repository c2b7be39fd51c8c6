/**
 * `tsbpf trace tcpconnect`: active TCP connections, as BCC's tcpconnect prints them
 * (`PID COMM IP SADDR DADDR DPORT`), from sock:inet_sock_set_state's moves to
 * SYN_SENT: no kprobe on tcp_v4_connect needed. `--pid`, `-u`, `-4`/`-6` filter in
 * the kernel, `-P` (destination ports) in user space; `-t` and `-U` add columns.
 *
 * No kprobe variant: BCC's kretprobe on tcp_v4_connect/tcp_v6_connect prints a connect
 * when the function returns 0, and that is when it has moved the socket to SYN_SENT, in
 * the caller's context; the tracepoint sees the same connects with the same pid and comm
 * on every kernel, so a `--probe kprobe` would show nothing more.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { inetAddress, ipVersion, left } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { familyOption } from "./tcp-events.ts";
import { TCPCONNECT_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One connect(). */
export interface ConnectEvent {
  readonly ts: bigint;
  readonly pid: number;
  readonly uid: number;
  readonly comm: string;
  /** 4 or 6. */
  readonly ip: number;
  readonly saddr: string;
  readonly daddr: string;
  readonly dport: number;
}

/** `tsbpf trace tcpconnect` options. */
export interface ConnectOptions {
  readonly pid: number;
  /** -1 for any user. */
  readonly uid: number;
  readonly family: number;
  readonly ports: ReadonlySet<number>;
  readonly timestamp: boolean;
  readonly printUid: boolean;
}

/** `struct connect_event` (tcpconnect.bpf.c). */
const REC = {
  ts: 0,
  pid: 8,
  uid: 12,
  family: 16,
  dport: 18,
  saddr: 20,
  daddr: 36,
  comm: 52,
  size: 72,
} as const;

/**
 * Decodes a `struct connect_event` record.
 * @throws RangeError when the record is short
 */
export function decodeConnectEvent(bytes: Uint8Array): ConnectEvent {
  const v = viewOf(bytes, REC.size, "connect event");
  const family = v.getUint16(REC.family, true);
  return {
    ts: v.getBigUint64(REC.ts, true),
    pid: v.getUint32(REC.pid, true),
    uid: v.getUint32(REC.uid, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    ip: ipVersion(family),
    saddr: inetAddress(family, bytes, REC.saddr),
    daddr: inetAddress(family, bytes, REC.daddr),
    dport: v.getUint16(REC.dport, true),
  };
}

/** tcpconnect's header: `%-6s %-12s %-2s %-16s %-16s %-4s`, after TIME(s) and UID when asked. */
export function connectHeader(o: ConnectOptions): string {
  const t = o.timestamp ? `${left("TIME(s)", 9)} ` : "";
  const u = o.printUid ? `${left("UID", 6)} ` : "";
  return `${t}${u}${left("PID", 6)} ${left("COMM", 12)} ${left("IP", 2)} ${left("SADDR", 16)} ${left("DADDR", 16)} DPORT\n`;
}

/** A tcpconnect row: `%-6d %-12.12s %-2d %-16s %-16s %-4d`. */
export function formatConnectRow(e: ConnectEvent, o: ConnectOptions, firstTs: bigint): string {
  const t = o.timestamp ? `${left((Number(e.ts - firstTs) / 1e9).toFixed(3), 9)} ` : "";
  const u = o.printUid ? `${left(e.uid, 6)} ` : "";
  return `${t}${u}${left(e.pid, 6)} ${left(e.comm.slice(0, 12), 12)} ${left(e.ip, 2)} ${left(e.saddr, 16)} ${left(e.daddr, 16)} ${e.dport}\n`;
}

function portList(text: string, option: string): Set<number> {
  return new Set(text.split(",").map((p) => intOption(p.trim(), option, 1, 65535)));
}

/** The tcpconnect tool (the first event's time kept for `-t`). */
function tcpconnect(): SnoopTool<ConnectEvent, ConnectOptions> {
  let firstTs: bigint | undefined;
  return {
    name: "tcpconnect",
    options: TCPCONNECT_OPTIONS,
    parse: (v) => ({
      pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
      uid: typeof v.uid === "string" ? intOption(v.uid, "-u", 0, 0xfffffffe) : -1,
      family: familyOption(v),
      ports: typeof v.port === "string" ? portList(v.port, "-P") : new Set(),
      timestamp: v.timestamp === true,
      printUid: v["print-uid"] === true,
    }),
    what: "connect()s",
    object: "tcpconnect.bpf.o",
    attachments: [{ program: "set_state_connect", group: "sock", event: "inet_sock_set_state" }],
    constants: (o) => ({
      targ_tgid: o.pid,
      targ_uid: o.uid < 0 ? 0xffffffff : o.uid,
      targ_family: o.family,
    }),
    header: connectHeader,
    decode: decodeConnectEvent,
    keep: (e, o) => o.ports.size === 0 || o.ports.has(e.dport),
    row: (e, o) => {
      firstTs ??= e.ts;
      return formatConnectRow(e, o, firstTs);
    },
    json: (e) => ({
      pid: e.pid,
      uid: e.uid,
      comm: e.comm,
      ip: e.ip,
      saddr: e.saddr,
      daddr: e.daddr,
      dport: e.dport,
      ts: e.ts,
    }),
  };
}

/** Runs `tsbpf trace tcpconnect ...`. */
export function traceTcpconnect(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, tcpconnect());
}
