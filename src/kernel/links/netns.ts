/**
 * Network-namespace hooks: sk_lookup (Linux 5.9: picks the socket a new connection or
 * datagram goes to, before the kernel's own lookup) and flow_dissector (parses packets
 * for the kernel's flow hashing). Both attach as bpf_links on a namespace's fd —
 * `/proc/thread-self/ns/net` by default: the namespace tsbpf's calls run in.
 *
 * @module
 */
import { closeSync, openSync } from "node:fs";
import { AttachType, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";

/** A network namespace: a path (`/proc/PID/ns/net`, `/run/netns/NAME`) or an open fd. */
export type NetnsRef = string | number;

/** The namespace tsbpf runs in (the calling thread's; Node's main thread). */
export const CURRENT_NETNS = "/proc/thread-self/ns/net";

function attachToNetns(
  prog: Program,
  netns: NetnsRef,
  attachType: number,
  hook: string,
  progType: number,
): Link {
  const what = `${hook} in network namespace ${typeof netns === "string" ? netns : `fd ${netns}`}`;
  expectProgType(prog, [progType], what);
  let fd: number;
  if (typeof netns === "number") fd = netns;
  else {
    try {
      fd = openSync(netns, "r");
    } catch (e) {
      throw new Error(`cannot open network namespace ${netns}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  try {
    return newLink({ fd: linkCreate(prog, fd, attachType, what), description: what });
  } finally {
    if (typeof netns === "string") closeSync(fd);
  }
}

/**
 * Attaches an sk_lookup program to a network namespace: for each new TCP connection
 * or UDP datagram there, it may pick the receiving socket (bpf_sk_assign from a
 * sockmap) before the kernel looks up a listener. Several programs run in order.
 */
export function attachSkLookup(prog: Program, netns: NetnsRef = CURRENT_NETNS): Link {
  return attachToNetns(prog, netns, AttachType.SK_LOOKUP, "sk_lookup", ProgType.SK_LOOKUP);
}

/**
 * Attaches a flow_dissector program to a network namespace: it replaces the kernel's
 * own packet parser for flow keys (one program per namespace).
 */
export function attachFlowDissector(prog: Program, netns: NetnsRef = CURRENT_NETNS): Link {
  return attachToNetns(
    prog,
    netns,
    AttachType.FLOW_DISSECTOR,
    "flow_dissector",
    ProgType.FLOW_DISSECTOR,
  );
}
