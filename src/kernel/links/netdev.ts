/**
 * Network-device attachments: XDP (a bpf_link, or netlink the way `ip link set ... xdp`
 * does it: xdp-netlink.ts) and tcx (ingress/egress, Linux >= 6.6; tc's clsact is in
 * tc-clsact.ts).
 *
 * @module
 */

import { AttachType, ProgType } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { getLinkRequest, parseLink } from "../netlink/rtnl.ts";
import { NetlinkError, NetlinkSocket } from "../netlink/socket.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";
import { attachClsact, type ClsactOptions, type TcDirection } from "./tc-clsact.ts";
import { attachXdpNetlink, type XdpMode, xdpModeFlag } from "./xdp-netlink.ts";

/**
 * The ifindex of interface `name`, asked of the kernel through netlink: the answer is
 * the calling thread's network namespace (sysfs shows the namespace it was mounted in).
 */
export function ifindexOf(iface: string | number): number {
  if (typeof iface === "number") return iface;
  if (iface === "" || iface.length >= 16 || iface.includes("\0"))
    throw new Error(`"${iface}" is not a network interface name (1 to 15 bytes)`);
  using nl = new NetlinkSocket();
  try {
    const link = nl.request(getLinkRequest(iface), `find interface ${iface}`, parseLink)[0];
    if (link) return link.ifindex;
  } catch (e) {
    if (!(e instanceof NetlinkError && e.code === "ENODEV")) throw e;
  }
  throw new Error(`no network interface named ${iface} (in this network namespace)`);
}

/**
 * The name of interface `ifindex` in the calling thread's network namespace (what
 * if_indextoname(3) answers), or undefined when there is none.
 */
export function interfaceNameOf(ifindex: number): string | undefined {
  using nl = new NetlinkSocket();
  try {
    return nl.request(getLinkRequest(ifindex), `find interface ${ifindex}`, parseLink)[0]?.name;
  } catch (e) {
    if (e instanceof NetlinkError && e.code === "ENODEV") return undefined;
    throw e;
  }
}

/** Options of {@link attachXdp}. */
export interface XdpOptions {
  /**
   * Where the program runs: `generic` (any device, in the skb path), `driver` (the
   * driver's own hook) or `offload` (on the NIC). Default: the driver's hook when it
   * has one, else generic — the kernel's choice.
   */
  readonly mode?: XdpMode;
  /**
   * `link` makes a bpf_link (detached when its last descriptor closes: when the
   * process exits too); `netlink` attaches as `ip link set dev X xdp...` does (stays
   * until detached). Default: a link where the kernel has XDP links (Linux 5.9), else
   * netlink; with `replace`, netlink.
   */
  readonly via?: "link" | "netlink";
  /**
   * Netlink only: swap out a program already attached in that mode (bpftool's
   * `overwrite`). Without it the kernel refuses with EBUSY. A link never replaces a
   * program attached through netlink.
   */
  readonly replace?: boolean;
  /** Raw `XdpFlags` (SKB_MODE, DRV_MODE, HW_MODE...), for the mode bits `mode` sets. */
  readonly flags?: number;
}

/** `lo (ifindex 1)` or `ifindex 1`. */
function ifaceName(iface: string | number, ifindex: number): string {
  return typeof iface === "string" ? `${iface} (ifindex ${ifindex})` : `ifindex ${ifindex}`;
}

/**
 * Attaches an XDP program to interface `iface` (name or ifindex): a bpf_link, or through
 * netlink (see {@link XdpOptions}). Closing the returned link detaches the program.
 *
 * @example
 * ```ts
 * using link = attachXdp(prog, "veth0", { mode: "generic", via: "netlink" });
 * ```
 */
export function attachXdp(prog: Program, iface: string | number, opts: XdpOptions = {}): Link {
  const ifindex = ifindexOf(iface);
  const modeFlag = xdpModeFlag(opts.mode) | (opts.flags ?? 0);
  const mode = opts.mode ? ` (${opts.mode})` : "";
  const what = `xdp${mode} on ${ifaceName(iface, ifindex)}`;
  const netlink = () => attachXdpNetlink(prog, ifindex, what, modeFlag, opts.replace ?? false);
  if (opts.via === "netlink") return netlink();
  if (opts.replace) {
    if (opts.via === "link")
      throw new Error(
        `attach ${prog} to ${what}: replace is for netlink attachments (via: "netlink")`,
      );
    return netlink();
  }
  expectProgType(prog, [ProgType.XDP], what);
  try {
    const fd = linkCreate(prog, ifindex, AttachType.XDP, what, undefined, modeFlag);
    return newLink({ fd, description: what });
  } catch (e) {
    // A kernel without XDP links (before 5.9): netlink, unless a link was asked for.
    if (e instanceof NotSupportedError && opts.via === undefined) return netlink();
    throw e;
  }
}

/**
 * Attaches a sched_cls program to interface `iface`'s tcx `direction` hook (Linux
 * >= 6.6), after the programs already there.
 */
export function attachTcx(
  prog: Program,
  iface: string | number,
  direction: "ingress" | "egress",
): Link {
  const ifindex = ifindexOf(iface);
  const what = `tcx ${direction} on ${typeof iface === "string" ? iface : `ifindex ${ifindex}`}`;
  expectProgType(prog, [ProgType.SCHED_CLS], what);
  const type = direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
  return newLink({ fd: linkCreate(prog, ifindex, type, what), description: what });
}

/** Options of {@link attachTc}. */
export interface TcOptions extends ClsactOptions {
  /**
   * `tcx` makes a tcx bpf_link (Linux 6.6; detached when its last descriptor closes);
   * `clsact` adds a direct-action cls_bpf filter under the clsact qdisc, as `tc filter
   * add ... bpf da` does (stays until deleted). Default: tcx where the kernel has it,
   * else clsact; clsact when a priority, handle, chain or replace is given.
   */
  readonly via?: "tcx" | "clsact";
}

/**
 * Attaches a sched_cls program to interface `iface`'s `direction` hook: a tcx link or a
 * clsact filter (see {@link TcOptions}). Closing the returned link detaches it.
 *
 * @example
 * ```ts
 * using link = attachTc(prog, "veth0", "ingress", { via: "clsact" });
 * ```
 */
export function attachTc(
  prog: Program,
  iface: string | number,
  direction: TcDirection,
  opts: TcOptions = {},
): Link {
  const ifindex = ifindexOf(iface);
  const what = `tc ${direction} on ${ifaceName(iface, ifindex)}`;
  const clsactOnly =
    opts.priority !== undefined ||
    opts.handle !== undefined ||
    opts.chain !== undefined ||
    opts.replace !== undefined ||
    opts.name !== undefined;
  if (opts.via === "tcx" && clsactOnly)
    throw new Error(
      `${what}: priority, handle, chain, name and replace are clsact options (via: "clsact")`,
    );
  const clsact = () => attachClsact(prog, ifindex, direction, what, opts);
  if (opts.via === "clsact" || clsactOnly) return clsact();
  try {
    return attachTcx(prog, ifindex, direction);
  } catch (e) {
    // A kernel without tcx (before 6.6): clsact, unless tcx was asked for.
    if (e instanceof NotSupportedError && opts.via === undefined) return clsact();
    throw e;
  }
}
