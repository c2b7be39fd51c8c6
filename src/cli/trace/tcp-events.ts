/**
 * What the TCP tools (tcpconnect, tcplife, tcpretrans) share: their address-family
 * options (`-4`, `-6`), the TCP state names the kernel's tcp_states.h numbers, and
 * `ADDR:PORT` text.
 *
 * @module
 */

import { UsageError } from "../format/output.ts";
import { AF_INET, AF_INET6 } from "./event-text.ts";
import type { OptionValues } from "./snoop-tool.ts";

/**
 * The family `-4`/`-6` select: AF_INET, AF_INET6, or 0 for both.
 * @throws UsageError when both are given
 */
export function familyOption(v: OptionValues): number {
  if (v.ipv4 === true && v.ipv6 === true) throw new UsageError("-4 and -6 exclude each other");
  return v.ipv4 === true ? AF_INET : v.ipv6 === true ? AF_INET6 : 0;
}

/** TCP states by number (include/net/tcp_states.h), as BCC's tools name them. */
const TCP_STATES = [
  "",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "CLOSING",
  "NEW_SYN_RECV",
];

/** The name of TCP state `n`, else `UNKNOWN(n)`. */
export function tcpStateName(n: number): string {
  return TCP_STATES[n] || `UNKNOWN(${n})`;
}

/** `addr:port` (IPv6 too, as BCC's tcpretrans prints it: no brackets). */
export function addrPort(addr: string, port: number): string {
  return `${addr}:${port}`;
}
