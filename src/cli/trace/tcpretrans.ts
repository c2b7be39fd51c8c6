/**
 * `tsbpf trace tcpretrans`: TCP retransmissions, as BCC's tcpretrans prints them
 * (`TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE`), on the tcp:tcp_retransmit_skb
 * tracepoint: no kprobe needed. BCC's `-l` (tail loss probes, `L>`) adds a kprobe on
 * tcp_send_loss_probe, which has no tracepoint: a kernel without kprobes is told so.
 * `-c` counts retransmits per address pair in the kernel and prints BCC's count table
 * at the end (`LADDR:LPORT <-> RADDR:RPORT RETRANSMITS`).
 *
 * @module
 */

import { haveKprobes } from "../../kernel/features/kprobes.ts";
import { attachKprobe } from "../../kernel/links/kprobe.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { clockTime, inetAddress, ipVersion, left } from "./event-text.ts";
import { runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { addrPort, familyOption, tcpStateName } from "./tcp-events.ts";
import { parseToolArgs, reportSchedule } from "./tool-options.ts";
import { TCPRETRANS_OPTIONS } from "./tool-tables.ts";
import { viewOf } from "./trace-events.ts";
import { jsonLine } from "./trace-format.ts";
import { TRACE_EXIT_FAILURE, type TraceAttachment } from "./trace-session.ts";
import { runSummaryTool } from "./trace-summary.ts";

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
  /** `-l`: tail loss probes too. */
  readonly lossProbe: boolean;
}

/**
 * What tcpretrans attaches: the tracepoint, and with -l the kprobe.
 * @throws CliError (exit status 1) for -l on a kernel without kprobes, saying so
 */
function retransAttachments(o: RetransOptions): readonly TraceAttachment[] {
  const tracepoint = { program: "retransmit_skb", group: "tcp", event: "tcp_retransmit_skb" };
  if (!o.lossProbe) return [tracepoint];
  // Said before anything loads: tail loss probes have no tracepoint to fall back on.
  const kprobes = haveKprobes();
  if (!kprobes.available) {
    throw new CliError(
      `trace tcpretrans -l (tail loss probes) needs a kprobe on tcp_send_loss_probe (no tracepoint shows it), and kprobes are missing: ${kprobes.reason}`,
      TRACE_EXIT_FAILURE,
    );
  }
  return [
    tracepoint,
    {
      program: "loss_probe",
      label: "kprobe:tcp_send_loss_probe",
      attach: (prog) => attachKprobe(prog, "tcp_send_loss_probe"),
    },
  ];
}

/** One address pair's retransmits (tcpretrans.bpf.c's `struct flow_key` and its count). */
export interface FlowCount {
  readonly ip: number;
  readonly laddr: string;
  readonly lport: number;
  readonly raddr: string;
  readonly rport: number;
  readonly count: number;
}

/** `struct flow_key` (tcpretrans.bpf.c). */
const FLOW = { saddr: 0, daddr: 16, family: 32, lport: 34, rport: 36, size: 40 } as const;

/**
 * Decodes a `counts` entry.
 * @throws RangeError when the key or value is short
 */
export function decodeFlowCount(key: Uint8Array, value: Uint8Array): FlowCount {
  const k = viewOf(key, FLOW.size, "tcpretrans flow key");
  const family = k.getUint16(FLOW.family, true);
  return {
    ip: ipVersion(family),
    laddr: inetAddress(family, key, FLOW.saddr),
    lport: k.getUint16(FLOW.lport, true),
    raddr: inetAddress(family, key, FLOW.daddr),
    rport: k.getUint16(FLOW.rport, true),
    count: Number(viewOf(value, 8, "tcpretrans count").getBigUint64(0, true)),
  };
}

/** The header of `-c`, as BCC's example prints it. */
export const COUNT_HEADER = `${left("LADDR:LPORT", 24)} ${left("RADDR:RPORT", 23)} RETRANSMITS\n`;

/**
 * BCC's `-c` table: a blank line, the header, then a row per address pair (`%-20s <->
 * %-20s %9d`), the most retransmitting first; with `json` one object per pair.
 */
export function formatFlowCounts(flows: readonly FlowCount[], json: boolean): string {
  const sorted = [...flows].sort((a, b) => b.count - a.count);
  if (json) {
    return sorted.map((f) => jsonLine({ ...f })).join("");
  }
  const rows = sorted.map(
    (f) =>
      `${left(addrPort(f.laddr, f.lport), 20)} <-> ${left(addrPort(f.raddr, f.rport), 20)} ${String(f.count).padStart(9)}\n`,
  );
  return `\n${COUNT_HEADER}${rows.join("")}`;
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
  parse: (v) => ({ family: familyOption(v), lossProbe: v.lossprobe === true }),
  what: "TCP retransmits",
  object: "tcpretrans.bpf.o",
  attachments: retransAttachments,
  constants: (o) => ({ targ_family: o.family, targ_count: 0 }),
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

/** Runs `tsbpf trace tcpretrans ...`: the event tool, or with -c the count table. */
export async function traceTcpretrans(ctx: Context, args: Args): Promise<void> {
  const v = parseToolArgs(args.rest(), TCPRETRANS_OPTIONS, "tcpretrans", false).values;
  if (!v.count || v.help) return runSnoopTool(ctx, args, TCPRETRANS);
  const o = TCPRETRANS.parse(v);
  if (v["perf-buffer"])
    throw new UsageError("trace tcpretrans: -c prints no events: --perf-buffer has no use there");
  const json = v.json === true || ctx.opts.json;
  await runSummaryTool(ctx, {
    tracing: "Tracing retransmits ... Hit Ctrl-C to end",
    schedule: reportSchedule([], "tcpretrans", v.duration),
    resetMaps: ["counts"],
    session: {
      tool: "trace tcpretrans",
      object: "tcpretrans.bpf.o",
      constants: { targ_family: o.family, targ_count: 1 },
      attachments: retransAttachments(o),
    },
    report: (coll) =>
      formatFlowCounts(
        [...coll.map("counts").entries()].map(([k, val]) => decodeFlowCount(k, val)),
        json,
      ),
  });
}
