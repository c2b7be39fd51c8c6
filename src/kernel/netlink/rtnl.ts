/**
 * rtnetlink (NETLINK_ROUTE) messages tsbpf sends: links and their XDP programs, qdiscs
 * (clsact) and tc filters (cls_bpf). Pure: each function builds a request or decodes an
 * answer; src/kernel/netlink/socket.ts carries them. Layouts and numbers are the
 * kernel's <linux/rtnetlink.h>, <linux/if_link.h>, <linux/pkt_sched.h> and
 * <linux/pkt_cls.h>.
 *
 * @module
 */
import {
  Attrs,
  MessageWriter,
  NetlinkFormatError,
  type NetlinkMessage,
  NlmFlags,
} from "./message.ts";

/** rtnetlink message types. */
export const Rtm = {
  NEWLINK: 16,
  GETLINK: 18,
  SETLINK: 19,
  NEWQDISC: 36,
  DELQDISC: 37,
  GETQDISC: 38,
  NEWTCLASS: 40,
  GETTCLASS: 42,
  NEWTFILTER: 44,
  DELTFILTER: 45,
  GETTFILTER: 46,
} as const;

/** Link attributes (`IFLA_*`) tsbpf reads or writes. */
const IFLA_IFNAME = 3;
const IFLA_XDP = 43;
/** Attributes nested in IFLA_XDP. */
export const IflaXdp = {
  FD: 1,
  ATTACHED: 2,
  FLAGS: 3,
  PROG_ID: 4,
  DRV_PROG_ID: 5,
  SKB_PROG_ID: 6,
  HW_PROG_ID: 7,
  EXPECTED_FD: 8,
} as const;

/** `IFLA_XDP_ATTACHED`: how XDP programs sit on a device. */
export const XdpAttached = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

const AF_UNSPEC = 0;
const IFINFOMSG_LEN = 16;
const TCMSG_LEN = 20;

// ---------------------------------------------------------------- links

/** One network device as RTM_GETLINK describes it, with its XDP programs. */
export interface LinkXdp {
  readonly ifindex: number;
  readonly name: string;
  /** Program ids by mode; absent modes have none. */
  readonly xdp: { readonly generic?: number; readonly driver?: number; readonly offload?: number };
}

/** RTM_GETLINK for every device (a dump). */
export function getLinksRequest(): MessageWriter {
  return ifinfomsg(new MessageWriter(Rtm.GETLINK, NlmFlags.REQUEST | NlmFlags.DUMP), 0);
}

/** RTM_GETLINK for one device, by ifindex or by name. */
export function getLinkRequest(device: number | string): MessageWriter {
  const w = new MessageWriter(Rtm.GETLINK, NlmFlags.REQUEST | NlmFlags.ACK);
  if (typeof device === "number") return ifinfomsg(w, device);
  return ifinfomsg(w, 0).attrString(IFLA_IFNAME, device);
}

function ifinfomsg(w: MessageWriter, ifindex: number): MessageWriter {
  // family, pad, type, index, flags, change
  return w.u8(AF_UNSPEC).u8(0).u16(0).i32(ifindex).u32(0).u32(0);
}

/** Decodes an RTM_NEWLINK answer: the device and its XDP programs. */
export function parseLink(m: NetlinkMessage): LinkXdp {
  if (m.payload.length < IFINFOMSG_LEN)
    throw new NetlinkFormatError(
      `link message of ${m.payload.length} bytes; needs ${IFINFOMSG_LEN}`,
    );
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const ifindex = v.getInt32(4, true);
  const a = new Attrs(m.payload.subarray(IFINFOMSG_LEN), `link ${ifindex}`);
  const name = a.string(IFLA_IFNAME) ?? `if${ifindex}`;
  const x = a.nested(IFLA_XDP, "IFLA_XDP");
  const xdp: { generic?: number; driver?: number; offload?: number } = {};
  const attached = x?.u8(IflaXdp.ATTACHED) ?? XdpAttached.NONE;
  if (x && attached !== XdpAttached.NONE) {
    // One mode: its id is PROG_ID; several (MULTI): one attribute per mode.
    const one = x.u32(IflaXdp.PROG_ID);
    if (attached === XdpAttached.SKB && one) xdp.generic = one;
    else if (attached === XdpAttached.DRV && one) xdp.driver = one;
    else if (attached === XdpAttached.HW && one) xdp.offload = one;
    else {
      const skb = x.u32(IflaXdp.SKB_PROG_ID);
      const drv = x.u32(IflaXdp.DRV_PROG_ID);
      const hw = x.u32(IflaXdp.HW_PROG_ID);
      if (skb) xdp.generic = skb;
      if (drv) xdp.driver = drv;
      if (hw) xdp.offload = hw;
    }
  }
  return { ifindex, name, xdp };
}

/**
 * RTM_SETLINK with IFLA_XDP: attaches program `fd` (or detaches, with fd -1) in the
 * mode `flags` selects (XdpFlags), replacing only `expectedFd` when given.
 */
export function setXdpRequest(
  ifindex: number,
  fd: number,
  flags: number,
  expectedFd?: number,
): MessageWriter {
  const w = ifinfomsg(new MessageWriter(Rtm.SETLINK, NlmFlags.REQUEST | NlmFlags.ACK), ifindex);
  return w.nest(IFLA_XDP, (n) => {
    n.attrI32(IflaXdp.FD, fd);
    if (flags) n.attrU32(IflaXdp.FLAGS, flags);
    if (expectedFd !== undefined) n.attrI32(IflaXdp.EXPECTED_FD, expectedFd);
  });
}

// ---------------------------------------------------------------- tc

/** tc handles (<linux/pkt_sched.h>). */
export const TcHandle = {
  /** The clsact (and ingress) qdisc's parent. */
  CLSACT: 0xfffffff1,
  /** The ingress and egress hooks under clsact (minor numbers). */
  MIN_INGRESS: 0xfff2,
  MIN_EGRESS: 0xfff3,
} as const;

/** `TC_H_MAKE(major, minor)`. */
export function tcHandle(major: number, minor: number): number {
  return ((major & 0xffff0000) | (minor & 0xffff)) >>> 0;
}

const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_CHAIN = 11;
/** cls_bpf's options (`TCA_BPF_*`). */
export const TcaBpf = {
  ACT: 1,
  CLASSID: 3,
  FD: 6,
  NAME: 7,
  FLAGS: 8,
  FLAGS_GEN: 9,
  TAG: 10,
  ID: 11,
} as const;
/** Attributes of one tc action (`TCA_ACT_*`). */
export const TcaAct = { KIND: 1, OPTIONS: 2 } as const;
/** act_bpf's options (`TCA_ACT_BPF_*`). */
export const TcaActBpf = { PARMS: 2, NAME: 6, ID: 9 } as const;
/** The highest action priority a filter's action list holds (`TCA_ACT_MAX_PRIO`). */
export const TCA_ACT_MAX_PRIO = 32;

/** TCA_BPF_FLAG_ACT_DIRECT: the program's return value is the tc action ("da"). */
export const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** ETH_P_ALL in network byte order, as tc filters store it. */
export const ETH_P_ALL_BE = 0x0300;

function tcmsg(
  w: MessageWriter,
  ifindex: number,
  handle: number,
  parent: number,
  info: number,
): MessageWriter {
  // family, pad1, pad2, ifindex, handle, parent, info
  return w.u8(AF_UNSPEC).u8(0).u16(0).i32(ifindex).u32(handle).u32(parent).u32(info);
}

/** RTM_NEWQDISC clsact on a device; fails with EEXIST when it already has one. */
export function addClsactRequest(ifindex: number): MessageWriter {
  const w = new MessageWriter(
    Rtm.NEWQDISC,
    NlmFlags.REQUEST | NlmFlags.ACK | NlmFlags.CREATE | NlmFlags.EXCL,
  );
  return tcmsg(w, ifindex, tcHandle(TcHandle.CLSACT, 0), TcHandle.CLSACT, 0).attrString(
    TCA_KIND,
    "clsact",
  );
}

/** RTM_DELQDISC of a device's clsact qdisc (and every filter under it). */
export function deleteClsactRequest(ifindex: number): MessageWriter {
  const w = new MessageWriter(Rtm.DELQDISC, NlmFlags.REQUEST | NlmFlags.ACK);
  return tcmsg(w, ifindex, tcHandle(TcHandle.CLSACT, 0), TcHandle.CLSACT, 0);
}

/**
 * RTM_GETQDISC dump. The kernel lists every device's qdiscs whatever `ifindex` says
 * (tc_dump_qdisc walks all devices); bpftool sends its device's ifindex all the same.
 */
export function getQdiscsRequest(ifindex = 0): MessageWriter {
  return tcmsg(new MessageWriter(Rtm.GETQDISC, NlmFlags.REQUEST | NlmFlags.DUMP), ifindex, 0, 0, 0);
}

/** RTM_GETTCLASS dump of the classes of device `ifindex` (this one the kernel filters). */
export function getClassesRequest(ifindex: number): MessageWriter {
  return tcmsg(
    new MessageWriter(Rtm.GETTCLASS, NlmFlags.REQUEST | NlmFlags.DUMP),
    ifindex,
    0,
    0,
    0,
  );
}

/** One qdisc (or class: the same `tcmsg` and `TCA_KIND`) from a dump. */
export interface Qdisc {
  readonly ifindex: number;
  readonly handle: number;
  readonly parent: number;
  /** The qdisc's kind (for a class, its qdisc's); "" when the kernel gave none. */
  readonly kind: string;
  /** False when the message had no TCA_KIND at all. */
  readonly hasKind: boolean;
}

/** Decodes an RTM_NEWQDISC (or RTM_NEWTCLASS) of a dump. */
export function parseQdisc(m: NetlinkMessage): Qdisc {
  const { ifindex, handle, parent, attrs } = parseTcmsg(
    m,
    m.type === Rtm.NEWTCLASS ? "class" : "qdisc",
  );
  const kind = attrs.string(TCA_KIND);
  return { ifindex, handle, parent, kind: kind ?? "", hasKind: kind !== undefined };
}

/** What identifies a tc filter on a hook: priority, handle, chain. */
export interface TcFilterId {
  /** 1..65535 (tc's `pref`); 0 asks the kernel to choose when adding. */
  readonly priority: number;
  /** The filter's handle within its priority; 0 asks the kernel to choose. */
  readonly handle: number;
  /** Filter chain (default 0). */
  readonly chain?: number;
}

/** The parent of a clsact hook. */
export function clsactParent(direction: "ingress" | "egress"): number {
  return tcHandle(
    TcHandle.CLSACT,
    direction === "ingress" ? TcHandle.MIN_INGRESS : TcHandle.MIN_EGRESS,
  );
}

/**
 * RTM_NEWTFILTER of a cls_bpf filter running program `fd` in direct-action mode on a
 * clsact hook; `replace` overwrites a filter with the same priority and handle.
 */
export function addBpfFilterRequest(
  ifindex: number,
  direction: "ingress" | "egress",
  id: TcFilterId,
  fd: number,
  name: string,
  replace: boolean,
): MessageWriter {
  const flags =
    NlmFlags.REQUEST |
    NlmFlags.ACK |
    NlmFlags.CREATE |
    (replace ? NlmFlags.REPLACE : NlmFlags.EXCL);
  const w = tcmsg(
    new MessageWriter(Rtm.NEWTFILTER, flags),
    ifindex,
    id.handle,
    clsactParent(direction),
    tcHandle(id.priority << 16, ETH_P_ALL_BE),
  ).attrString(TCA_KIND, "bpf");
  if (id.chain) w.attrU32(TCA_CHAIN, id.chain);
  return w.nest(TCA_OPTIONS, (o) => {
    o.attrU32(TcaBpf.FD, fd);
    o.attrString(TcaBpf.NAME, name);
    o.attrU32(TcaBpf.FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  });
}

/** RTM_DELTFILTER of the filter `id` on a clsact hook. */
export function deleteFilterRequest(
  ifindex: number,
  direction: "ingress" | "egress",
  id: TcFilterId,
): MessageWriter {
  const w = tcmsg(
    new MessageWriter(Rtm.DELTFILTER, NlmFlags.REQUEST | NlmFlags.ACK),
    ifindex,
    id.handle,
    clsactParent(direction),
    tcHandle(id.priority << 16, ETH_P_ALL_BE),
  ).attrString(TCA_KIND, "bpf");
  if (id.chain) w.attrU32(TCA_CHAIN, id.chain);
  return w;
}

/** RTM_GETTFILTER dump of the filters under `parent` on a device. */
export function getFiltersRequest(ifindex: number, parent: number): MessageWriter {
  return tcmsg(
    new MessageWriter(Rtm.GETTFILTER, NlmFlags.REQUEST | NlmFlags.DUMP),
    ifindex,
    0,
    parent,
    0,
  );
}

/** A tc filter from a dump; `bpf` is set for cls_bpf filters. */
export interface TcFilter extends TcFilterId {
  readonly ifindex: number;
  readonly parent: number;
  readonly kind: string;
  readonly chain: number;
  /** ETH_P_* in host order (0x0003 is ETH_P_ALL). */
  readonly protocol: number;
  readonly bpf?: {
    readonly id?: number;
    readonly name?: string;
    readonly tag?: string;
    readonly directAction: boolean;
    /** The filter's actions (TCA_BPF_ACT), when it has an action list. */
    readonly actions?: readonly TcAction[];
  };
}

/** One action of a filter's action list. */
export interface TcAction {
  /** Its place in the list (the attribute's type, 0..TCA_ACT_MAX_PRIO). */
  readonly prio: number;
  /** `bpf`, `gact`, `mirred`... ("" when the kernel gave none). */
  readonly kind: string;
  /** For a `bpf` action: its program's name and id, when given. */
  readonly bpf?: {
    readonly name?: string;
    readonly id?: number;
    /** False when the action came without its TCA_ACT_BPF_PARMS (a malformed answer). */
    readonly hasParms: boolean;
  };
}

/**
 * The actions nested in a TCA_BPF_ACT attribute, in priority order; an action listed
 * twice keeps its last entry, priorities past TCA_ACT_MAX_PRIO are left out (as
 * libbpf's attribute parser does for bpftool).
 */
function parseActions(list: Attrs): TcAction[] {
  const out: TcAction[] = [];
  for (let prio = 0; prio <= TCA_ACT_MAX_PRIO; prio++) {
    const act = list.nested(prio, `action ${prio}`);
    if (!act) continue;
    const kind = act.string(TcaAct.KIND) ?? "";
    const opts = kind === "bpf" ? act.nested(TcaAct.OPTIONS, "TCA_ACT_OPTIONS") : undefined;
    if (!opts) {
      out.push({ prio, kind });
      continue;
    }
    const name = opts.string(TcaActBpf.NAME);
    const id = opts.u32(TcaActBpf.ID);
    out.push({
      prio,
      kind,
      bpf: {
        ...(name !== undefined && { name }),
        ...(id !== undefined && { id }),
        hasParms: opts.has(TcaActBpf.PARMS),
      },
    });
  }
  return out;
}

/**
 * Decodes one RTM_NEWTFILTER of a dump. A dump lists, per priority, a header entry
 * (no handle, no options) before the filters themselves; both decode here.
 */
export function parseFilter(m: NetlinkMessage): TcFilter {
  const { ifindex, handle, parent, info, attrs } = parseTcmsg(m, "filter");
  const kind = attrs.string(TCA_KIND) ?? "";
  const protocolBe = info & 0xffff;
  const filter = {
    ifindex,
    parent,
    handle,
    kind,
    priority: info >>> 16,
    protocol: ((protocolBe & 0xff) << 8) | (protocolBe >> 8),
    chain: attrs.u32(TCA_CHAIN) ?? 0,
  };
  const opts = kind === "bpf" ? attrs.nested(TCA_OPTIONS, "TCA_OPTIONS") : undefined;
  if (!opts) return filter;
  const id = opts.u32(TcaBpf.ID);
  const name = opts.string(TcaBpf.NAME);
  const tagBytes = opts.bytes(TcaBpf.TAG);
  const tag = tagBytes && Array.from(tagBytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const actions = opts.nested(TcaBpf.ACT, "TCA_BPF_ACT");
  return {
    ...filter,
    bpf: {
      ...(id !== undefined && { id }),
      ...(name !== undefined && { name }),
      ...(tag !== undefined && { tag }),
      directAction: ((opts.u32(TcaBpf.FLAGS) ?? 0) & TCA_BPF_FLAG_ACT_DIRECT) !== 0,
      ...(actions && { actions: parseActions(actions) }),
    },
  };
}

function parseTcmsg(m: NetlinkMessage, what: string) {
  if (m.payload.length < TCMSG_LEN)
    throw new NetlinkFormatError(
      `${what} message of ${m.payload.length} bytes; needs ${TCMSG_LEN}`,
    );
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const ifindex = v.getInt32(4, true);
  return {
    ifindex,
    handle: v.getUint32(8, true),
    parent: v.getUint32(12, true),
    info: v.getUint32(16, true),
    attrs: new Attrs(m.payload.subarray(TCMSG_LEN), `${what} on ifindex ${ifindex}`),
  };
}
