/**
 * netfilter links (Linux 6.4): a netfilter program on a hook of the IPv4 or IPv6
 * stack (prerouting, local in, forward, local out, postrouting) at a priority, in the
 * network namespace tsbpf runs in. The program returns NF_DROP (0) or NF_ACCEPT (1).
 *
 * @module
 */
import { AttachType, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";

/** The protocol families netfilter links take (`NFPROTO_*`). */
export const NetfilterFamily = { ipv4: 2, ipv6: 10 } as const;

/** Netfilter hooks (`enum nf_inet_hooks`). */
export const NetfilterHook = {
  prerouting: 0,
  local_in: 1,
  forward: 2,
  local_out: 3,
  postrouting: 4,
} as const;

/** BPF_F_NETFILTER_IP_DEFRAG: the program sees reassembled IP packets (Linux 6.6). */
export const NETFILTER_IP_DEFRAG = 1;

/** Where a netfilter program goes. */
export interface NetfilterOptions {
  readonly family: keyof typeof NetfilterFamily;
  readonly hook: keyof typeof NetfilterHook;
  /**
   * Order among the hook's functions (lower runs first). The kernel refuses the
   * extremes (INT_MIN, INT_MAX) and, with `defrag`, priorities at or before defrag's.
   */
  readonly priority: number;
  /** Reassemble fragments before the program runs (Linux 6.6). */
  readonly defrag?: boolean;
}

/**
 * Attaches a netfilter program as a netfilter link.
 *
 * @example
 * ```ts
 * using link = attachNetfilter(prog, { family: "ipv4", hook: "local_in", priority: -128 });
 * ```
 */
export function attachNetfilter(prog: Program, opts: NetfilterOptions): Link {
  const what = `netfilter ${opts.family} ${opts.hook} priority ${opts.priority}`;
  const pf = NetfilterFamily[opts.family];
  const hooknum = NetfilterHook[opts.hook];
  if (pf === undefined) throw new RangeError(`${what}: the family is ipv4 or ipv6`);
  if (hooknum === undefined)
    throw new RangeError(`${what}: the hook is one of ${Object.keys(NetfilterHook).join(", ")}`);
  if (!Number.isInteger(opts.priority) || opts.priority < -0x80000000 || opts.priority > 0x7fffffff)
    throw new RangeError(`${what}: the priority is a 32-bit signed integer`);
  expectProgType(prog, [ProgType.NETFILTER], what);
  const fd = linkCreate(prog, 0, AttachType.NETFILTER, what, (call) => {
    call
      .u32("netfilter.pf", pf)
      .u32("netfilter.hooknum", hooknum)
      .set("netfilter.priority", opts.priority >>> 0)
      .u32("netfilter.flags", opts.defrag ? NETFILTER_IP_DEFRAG : 0);
  });
  return newLink({ fd, description: what });
}
