/**
 * Network-device links: XDP (BPF_LINK_CREATE with BPF_XDP on an ifindex) and tcx
 * (ingress/egress, Linux >= 6.6). Minimal forms; netlink attachment and tc's
 * clsact are elsewhere.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { AttachType, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";

/** The ifindex of interface `name`, from /sys/class/net/NAME/ifindex. */
export function ifindexOf(iface: string | number): number {
  if (typeof iface === "number") return iface;
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${iface}/ifindex`, "utf8"), 10);
  } catch {
    throw new Error(`no network interface named ${iface} (in this network namespace)`);
  }
}

/** Options of {@link attachXdp}. */
export interface XdpOptions {
  /** `XdpFlags` (SKB_MODE for generic XDP, DRV_MODE...); default: the kernel's choice. */
  readonly flags?: number;
}

/** Attaches an XDP program to interface `iface` (name or ifindex) as an xdp link. */
export function attachXdp(prog: Program, iface: string | number, opts: XdpOptions = {}): Link {
  const ifindex = ifindexOf(iface);
  const what = `xdp on ${typeof iface === "string" ? `${iface} (ifindex ${ifindex})` : `ifindex ${ifindex}`}`;
  expectProgType(prog, [ProgType.XDP], what);
  const fd = linkCreate(prog, ifindex, AttachType.XDP, what, undefined, opts.flags ?? 0);
  return newLink({ fd, description: what });
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
