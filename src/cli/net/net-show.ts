/**
 * `tsbpf net show|list [dev NAME]`: the XDP programs, tc filters and flow dissector of
 * this network namespace, found the way bpftool 7.1 finds them so the output is the
 * same byte for byte:
 *
 * - one RTM_GETLINK dump gives the devices (in the kernel's order) and their XDP
 *   programs;
 * - per device: its classes (RTM_GETTCLASS), then every qdisc the kernel lists (it lists
 *   all devices' qdiscs; clsact and handle-0 qdiscs left out), and one RTM_GETTFILTER
 *   dump per class and qdisc handle, then for `root`, `clsact/ingress` and
 *   `clsact/egress`; each cls_bpf filter found is a line. A dump the kernel refuses ends
 *   that device's lines, as in bpftool;
 * - BPF_PROG_QUERY on /proc/self/ns/net for the flow dissector.
 *
 * tsbpf adds, before a device's filters, the programs on its tcx and netkit hooks
 * (BPF_PROG_QUERY by ifindex; none on kernels before 6.6), as later bpftool versions do.
 */
import { closeSync, openSync } from "node:fs";
import { progQuery } from "../../kernel/links/prog-attach.ts";
import {
  getClassesRequest,
  getFiltersRequest,
  getLinksRequest,
  getQdiscsRequest,
  parseFilter,
  parseLink,
  parseQdisc,
  Rtm,
  type TcFilter,
  TcHandle,
  tcHandle,
} from "../../kernel/netlink/rtnl.ts";
import { NetlinkError, NetlinkSocket } from "../../kernel/netlink/socket.ts";
import { objectFdById } from "../../kernel/objects/objects.ts";
import { programInfoByFd } from "../../kernel/programs/prog-info.ts";
import { AttachType } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, EXIT_FAILURE, UsageError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";
import { progFullName } from "../prog/prog-btf.ts";
import {
  type NetView,
  printNet,
  type TcEntry,
  type TcFilterEntry,
  type XdpEntry,
  type XdpModeName,
} from "./format-net.ts";
import { parseDev } from "./net-devices.ts";

/** `net show|list [dev NAME]`. */
export async function showNet(ctx: Context, args: Args): Promise<void> {
  let only = -1;
  if (args.count === 2) only = parseDev(args, EXIT_FAILURE);
  else if (args.count !== 0) throw new UsageError();

  const flowDissector = queryFlowDissector();
  using nl = new NetlinkSocket();
  const devices: { ifindex: number; name: string }[] = [];
  const xdp: XdpEntry[] = [];
  let failure: unknown;
  try {
    for (const m of nl.dump(getLinksRequest(), "list network devices")) {
      if (m.type !== Rtm.NEWLINK) continue;
      const link = parseLink(m);
      if (only > 0 && link.ifindex !== only) continue;
      devices.push({ ifindex: link.ifindex, name: link.name });
      const progs: { mode: XdpModeName; id: number }[] = [];
      if (link.xdp.generic) progs.push({ mode: "generic", id: link.xdp.generic });
      if (link.xdp.driver) progs.push({ mode: "driver", id: link.xdp.driver });
      if (link.xdp.offload) progs.push({ mode: "offload", id: link.xdp.offload });
      if (progs.length > 0) xdp.push({ devname: link.name, ifindex: link.ifindex, progs });
    }
  } catch (e) {
    failure = e;
  }
  let tc: TcEntry[] | undefined;
  if (failure === undefined) {
    tc = [];
    for (const dev of devices) {
      tc.push(...mprogEntries(dev));
      tc.push(...filterEntries(nl, dev));
    }
  }
  printNet(ctx.out, { xdp, tc, flowDissector } satisfies NetView);
  if (failure !== undefined) {
    if (ctx.out.json) ctx.out.value(null);
    throw new CliError(reason(failure));
  }
}

/** The flow dissector program of this network namespace (bpftool's query_flow_dissector). */
function queryFlowDissector(): number | undefined {
  let fd: number;
  try {
    fd = openSync("/proc/self/ns/net", "r");
  } catch (e) {
    throw new CliError(`can't open /proc/self/ns/net: ${reason(e)}`);
  }
  try {
    const q = progQuery(fd, AttachType.FLOW_DISSECTOR, "this network namespace");
    return q.progIds.length === 1 ? q.progIds[0] : undefined;
  } catch (e) {
    // Kernels before 5.? cannot query flow dissectors: nothing to show.
    if ((e as { code?: string }).code === "EINVAL") return undefined;
    throw new CliError(`can't query prog: ${reason(e)}`);
  } finally {
    closeSync(fd);
  }
}

const MPROG_HOOKS: readonly { type: number; kind: string }[] = [
  { type: AttachType.TCX_INGRESS, kind: "tcx/ingress" },
  { type: AttachType.TCX_EGRESS, kind: "tcx/egress" },
  { type: AttachType.NETKIT_PRIMARY, kind: "netkit/primary" },
  { type: AttachType.NETKIT_PEER, kind: "netkit/peer" },
];

/** tsbpf's own lines: the programs on the device's tcx and netkit hooks. */
function mprogEntries(dev: { ifindex: number; name: string }): TcEntry[] {
  const out: TcEntry[] = [];
  for (const hook of MPROG_HOOKS) {
    let q: ReturnType<typeof progQuery>;
    try {
      q = progQuery(dev.ifindex, hook.type, `${dev.name}`);
    } catch {
      continue; // no such hook here (not a netkit device, a kernel before 6.6)
    }
    q.progIds.forEach((progId, i) => {
      const name = programName(progId);
      const flags = q.progAttachFlags[i] ?? 0;
      out.push({
        type: "mprog",
        devname: dev.name,
        ifindex: dev.ifindex,
        kind: hook.kind,
        ...(name !== undefined && { name }),
        progId,
        progFlags: bits(flags),
        linkId: q.linkIds[i] ?? 0,
        linkFlags: [],
      });
    });
  }
  return out;
}

function bits(flags: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < 32; j++) if (flags & (1 << j)) out.push((1 << j) >>> 0);
  return out;
}

/** A program's full name, or undefined when it has none (or is gone). */
function programName(id: number): string | undefined {
  let fd: ReturnType<typeof objectFdById>;
  try {
    fd = objectFdById("prog", id);
  } catch {
    return undefined;
  }
  if (!fd) return undefined;
  try {
    const info = programInfoByFd(fd.value);
    return info.name ? progFullName(info) : undefined;
  } catch {
    return undefined;
  } finally {
    fd.close();
  }
}

/** The cls_bpf filters of a device, in bpftool's order (see the module comment). */
function filterEntries(nl: NetlinkSocket, dev: { ifindex: number; name: string }): TcEntry[] {
  const out: TcEntry[] = [];
  try {
    const parents: { handle: number; kind: string }[] = [];
    for (const m of nl.dump(getClassesRequest(dev.ifindex), `list classes of ${dev.name}`)) {
      if (m.type !== Rtm.NEWTCLASS) continue;
      const c = parseQdisc(m);
      parents.push({ handle: c.handle, kind: c.hasKind ? c.kind : "unknown" });
    }
    for (const m of nl.dump(getQdiscsRequest(dev.ifindex), "list qdiscs")) {
      if (m.type !== Rtm.NEWQDISC) continue;
      const q = parseQdisc(m);
      if (q.kind === "clsact" || q.handle === 0) continue;
      parents.push({ handle: q.handle, kind: q.hasKind ? q.kind : "unknown" });
    }
    parents.push(
      { handle: 0xffffffff, kind: "root" },
      { handle: tcHandle(TcHandle.CLSACT, TcHandle.MIN_INGRESS), kind: "clsact/ingress" },
      { handle: tcHandle(TcHandle.CLSACT, TcHandle.MIN_EGRESS), kind: "clsact/egress" },
    );
    for (const p of parents) {
      const what = `list tc filters of ${dev.name} under ${p.kind}`;
      for (const m of nl.dump(getFiltersRequest(dev.ifindex, p.handle), what)) {
        if (m.type !== Rtm.NEWTFILTER) continue;
        const entry = filterEntry(parseFilter(m), dev, p.kind);
        if (!entry) continue;
        out.push(entry.line);
        if (entry.broken) return out;
      }
    }
  } catch (e) {
    // bpftool stops listing the device at a dump the kernel refuses.
    if (!(e instanceof NetlinkError)) throw e;
  }
  return out;
}

/**
 * The line of one filter, if it is a cls_bpf one with options. `broken` when a bpf
 * action came without its parameters: bpftool prints the line so far and stops there.
 */
function filterEntry(
  f: TcFilter,
  dev: { name: string; ifindex: number },
  kind: string,
): { line: TcFilterEntry; broken: boolean } | undefined {
  if (f.kind !== "bpf" || !f.bpf) return undefined;
  const b = f.bpf;
  let broken = false;
  let actions: { name?: string; id?: number }[] | undefined;
  if (b.actions) {
    actions = [];
    for (const a of b.actions) {
      if (!a.bpf) continue;
      if (!a.bpf.hasParms) {
        broken = true;
        break;
      }
      actions.push({
        ...(a.bpf.name !== undefined && { name: a.bpf.name }),
        ...(a.bpf.id !== undefined && { id: a.bpf.id }),
      });
    }
  }
  return {
    line: {
      type: "filter",
      devname: dev.name,
      ifindex: dev.ifindex,
      kind,
      ...(b.name !== undefined && { name: b.name }),
      ...(b.id !== undefined && { id: b.id }),
      ...(actions && { actions }),
    },
    broken,
  };
}
