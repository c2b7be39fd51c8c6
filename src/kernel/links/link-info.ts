/**
 * `bpf_link_info`, decoded per link type: the kernel answers BPF_OBJ_GET_INFO_BY_FD on
 * a link with its type, id and program, and a union member for the type (the
 * tracepoint's name, the cgroup, the interface, the probed file and offset...). Names
 * and arrays come back only into buffers we hand in, so types that have some are asked
 * twice: once to learn the type and lengths, once with buffers.
 *
 * @module
 */

import {
  attachTypeName,
  bpfLinkInfo,
  LinkType,
  linkTypeName,
  PerfEventType,
} from "../../uapi/index.ts";
import { type InfoRequest, objInfoByFd } from "../objects/obj-info.ts";

/** The part of a link's info that depends on its type. */
export type LinkDetail =
  | { readonly kind: "raw_tracepoint"; readonly tpName: string; readonly cookie: bigint }
  | {
      readonly kind: "tracing";
      readonly attachType: number;
      readonly targetObjId: number;
      readonly targetBtfId: number;
      readonly cookie: bigint;
    }
  | { readonly kind: "cgroup"; readonly cgroupId: bigint; readonly attachType: number }
  | {
      readonly kind: "iter";
      readonly targetName: string;
      readonly mapId: number;
      readonly cgroupId: bigint;
      readonly order: number;
      readonly tid: number;
      readonly pid: number;
    }
  | { readonly kind: "netns"; readonly netnsIno: number; readonly attachType: number }
  | { readonly kind: "xdp"; readonly ifindex: number }
  | { readonly kind: "struct_ops"; readonly mapId: number }
  | {
      readonly kind: "netfilter";
      readonly pf: number;
      readonly hooknum: number;
      readonly priority: number;
      readonly flags: number;
    }
  | {
      readonly kind: "kprobe_multi";
      readonly retprobe: boolean;
      readonly flags: number;
      readonly missed: bigint;
      /** Kernel addresses of the probed functions. */
      readonly addrs: readonly bigint[];
      readonly cookies: readonly bigint[];
    }
  | {
      readonly kind: "uprobe_multi";
      readonly retprobe: boolean;
      readonly path: string;
      readonly flags: number;
      readonly pid: number;
      readonly offsets: readonly bigint[];
      readonly refCtrOffsets: readonly bigint[];
      readonly cookies: readonly bigint[];
    }
  | { readonly kind: "perf_event"; readonly event: PerfEventLinkInfo }
  | { readonly kind: "tcx" | "netkit"; readonly ifindex: number; readonly attachType: number }
  | { readonly kind: "sockmap"; readonly mapId: number; readonly attachType: number }
  | { readonly kind: "unknown" };

/** What a perf-event link (tracepoint, kprobe, uprobe, sampling event) is attached to. */
export type PerfEventLinkInfo =
  | { readonly type: "tracepoint"; readonly tpName: string; readonly cookie: bigint }
  | {
      readonly type: "kprobe" | "kretprobe";
      readonly funcName: string;
      readonly offset: number;
      readonly addr: bigint;
      readonly missed: bigint;
      readonly cookie: bigint;
    }
  | {
      readonly type: "uprobe" | "uretprobe";
      readonly fileName: string;
      readonly offset: number;
      readonly refCtrOffset: bigint;
      readonly cookie: bigint;
    }
  | {
      readonly type: "event";
      /** perf_event_attr.type (`PerfType`). */
      readonly eventType: number;
      readonly config: bigint;
      readonly cookie: bigint;
    }
  | {
      /**
       * The kernel did not say: before Linux 6.6 it gives a perf_event link's type, id
       * and program but not its event (`reason` says so).
       */
      readonly type: "unspec";
      readonly reason: string;
    };

/** A link's `bpf_link_info`, decoded. */
export interface LinkInfo {
  /** `enum bpf_link_type`. */
  readonly type: number;
  /** bpftool's name for the type ("perf_event"), undefined when unknown. */
  readonly typeName: string | undefined;
  readonly id: number;
  /** The attached program's id (0 once the link is detached). */
  readonly progId: number;
  /** The type-specific part. */
  readonly detail: LinkDetail;
}

const F = bpfLinkInfo.fields;
const NAME_BUF = 4096;
const decoder = new TextDecoder();

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return decoder.decode(end < 0 ? buf : buf.subarray(0, end));
}

function u64s(buf: Uint8Array, count: number): bigint[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < count && (i + 1) * 8 <= buf.length; i++)
    out.push(v.getBigUint64(i * 8, true));
  return out;
}

/** @returns the attach-type name for messages, e.g. "cgroup_inet_ingress". */
export function linkAttachTypeName(t: number): string {
  return attachTypeName(t) ?? `attach type ${t}`;
}

/**
 * Reads and decodes the `bpf_link_info` of the link behind `fd`.
 *
 * @throws SyscallError naming the fd when it is not a link.
 * @example
 * ```ts
 * const info = linkInfoByFd(link.fd.value);
 * if (info.detail.kind === "raw_tracepoint") console.log(info.detail.tpName);
 * ```
 */
export function linkInfoByFd(fd: number): LinkInfo {
  const first = objInfoByFd(fd, bpfLinkInfo);
  const type = first.getUint32(F.type.offset, true);
  const u32 = (v: DataView, f: { offset: number }) => v.getUint32(f.offset, true);
  const u64 = (v: DataView, f: { offset: number }) => v.getBigUint64(f.offset, true);

  let buffers: Record<string, Uint8Array> = {};
  const again = (fill: (req: InfoRequest) => void): DataView => {
    buffers = {};
    return objInfoByFd(fd, bpfLinkInfo, fill);
  };
  const name = (req: InfoRequest, ptr: string, len: string, key = ptr) => {
    buffers[key] = req.output(ptr, NAME_BUF);
    req.set(len, NAME_BUF);
  };

  let v = first;
  let detail: LinkDetail;
  switch (type) {
    case LinkType.RAW_TRACEPOINT:
      v = again((r) => name(r, "raw_tracepoint.tp_name", "raw_tracepoint.tp_name_len"));
      detail = {
        kind: "raw_tracepoint",
        tpName: cString(buffers["raw_tracepoint.tp_name"] ?? new Uint8Array()),
        cookie: u64(v, F["raw_tracepoint.cookie"]),
      };
      break;
    case LinkType.TRACING:
      detail = {
        kind: "tracing",
        attachType: u32(v, F["tracing.attach_type"]),
        targetObjId: u32(v, F["tracing.target_obj_id"]),
        targetBtfId: u32(v, F["tracing.target_btf_id"]),
        cookie: u64(v, F["tracing.cookie"]),
      };
      break;
    case LinkType.CGROUP:
      detail = {
        kind: "cgroup",
        cgroupId: u64(v, F["cgroup.cgroup_id"]),
        attachType: u32(v, F["cgroup.attach_type"]),
      };
      break;
    case LinkType.ITER:
      v = again((r) => name(r, "iter.target_name", "iter.target_name_len"));
      detail = {
        kind: "iter",
        targetName: cString(buffers["iter.target_name"] ?? new Uint8Array()),
        mapId: u32(v, F["iter.map.map_id"]),
        cgroupId: u64(v, F["iter.cgroup.cgroup_id"]),
        order: u32(v, F["iter.cgroup.order"]),
        tid: u32(v, F["iter.task.tid"]),
        pid: u32(v, F["iter.task.pid"]),
      };
      break;
    case LinkType.NETNS:
      detail = {
        kind: "netns",
        netnsIno: u32(v, F["netns.netns_ino"]),
        attachType: u32(v, F["netns.attach_type"]),
      };
      break;
    case LinkType.XDP:
      detail = { kind: "xdp", ifindex: u32(v, F["xdp.ifindex"]) };
      break;
    case LinkType.STRUCT_OPS:
      detail = { kind: "struct_ops", mapId: u32(v, F["struct_ops.map_id"]) };
      break;
    case LinkType.NETFILTER:
      detail = {
        kind: "netfilter",
        pf: u32(v, F["netfilter.pf"]),
        hooknum: u32(v, F["netfilter.hooknum"]),
        priority: v.getInt32(F["netfilter.priority"].offset, true),
        flags: u32(v, F["netfilter.flags"]),
      };
      break;
    case LinkType.KPROBE_MULTI: {
      const count = u32(first, F["kprobe_multi.count"]);
      v = again((r) => {
        r.set("kprobe_multi.count", count);
        if (count === 0) return;
        buffers.addrs = r.output("kprobe_multi.addrs", count * 8);
        buffers.cookies = r.output("kprobe_multi.cookies", count * 8);
      });
      const flags = u32(v, F["kprobe_multi.flags"]);
      detail = {
        kind: "kprobe_multi",
        retprobe: (flags & 1) !== 0,
        flags,
        missed: u64(v, F["kprobe_multi.missed"]),
        addrs: u64s(buffers.addrs ?? new Uint8Array(), count),
        cookies: u64s(buffers.cookies ?? new Uint8Array(), count),
      };
      break;
    }
    case LinkType.UPROBE_MULTI: {
      const count = u32(first, F["uprobe_multi.count"]);
      v = again((r) => {
        r.set("uprobe_multi.count", count);
        name(r, "uprobe_multi.path", "uprobe_multi.path_size");
        if (count === 0) return;
        buffers.offsets = r.output("uprobe_multi.offsets", count * 8);
        buffers.refs = r.output("uprobe_multi.ref_ctr_offsets", count * 8);
        buffers.cookies = r.output("uprobe_multi.cookies", count * 8);
      });
      const flags = u32(v, F["uprobe_multi.flags"]);
      detail = {
        kind: "uprobe_multi",
        retprobe: (flags & 1) !== 0,
        path: cString(buffers["uprobe_multi.path"] ?? new Uint8Array()),
        flags,
        pid: v.getInt32(F["uprobe_multi.pid"].offset, true),
        offsets: u64s(buffers.offsets ?? new Uint8Array(), count),
        refCtrOffsets: u64s(buffers.refs ?? new Uint8Array(), count),
        cookies: u64s(buffers.cookies ?? new Uint8Array(), count),
      };
      break;
    }
    case LinkType.PERF_EVENT:
      detail = { kind: "perf_event", event: perfEventInfo(fd, first) };
      break;
    case LinkType.TCX:
    case LinkType.NETKIT: {
      const k = type === LinkType.TCX ? "tcx" : "netkit";
      detail = {
        kind: k,
        ifindex: u32(v, F[`${k}.ifindex`]),
        attachType: u32(v, F[`${k}.attach_type`]),
      };
      break;
    }
    case LinkType.SOCKMAP:
      detail = {
        kind: "sockmap",
        mapId: u32(v, F["sockmap.map_id"]),
        attachType: u32(v, F["sockmap.attach_type"]),
      };
      break;
    default:
      detail = { kind: "unknown" };
  }
  return {
    type,
    typeName: linkTypeName(type),
    id: u32(v, F.id),
    progId: u32(v, F.prog_id),
    detail,
  };
}

/** Why a perf_event link's info has no event: the kernel predates its report. */
export const PERF_EVENT_UNSPEC = "the kernel reports a perf_event link's event since Linux 6.6";

function perfEventInfo(fd: number, first: DataView): PerfEventLinkInfo {
  const pt = first.getUint32(F["perf_event.type"].offset, true);
  let buf: Uint8Array = new Uint8Array();
  const withName = (ptr: string, len: string): DataView =>
    objInfoByFd(fd, bpfLinkInfo, (r) => {
      buf = r.output(ptr, NAME_BUF);
      r.set(len, NAME_BUF);
    });
  switch (pt) {
    case PerfEventType.TRACEPOINT: {
      const v = withName("perf_event.tracepoint.tp_name", "perf_event.tracepoint.name_len");
      return {
        type: "tracepoint",
        tpName: cString(buf),
        cookie: v.getBigUint64(F["perf_event.tracepoint.cookie"].offset, true),
      };
    }
    case PerfEventType.KPROBE:
    case PerfEventType.KRETPROBE: {
      const v = withName("perf_event.kprobe.func_name", "perf_event.kprobe.name_len");
      return {
        type: pt === PerfEventType.KPROBE ? "kprobe" : "kretprobe",
        funcName: cString(buf),
        offset: v.getUint32(F["perf_event.kprobe.offset"].offset, true),
        addr: v.getBigUint64(F["perf_event.kprobe.addr"].offset, true),
        missed: v.getBigUint64(F["perf_event.kprobe.missed"].offset, true),
        cookie: v.getBigUint64(F["perf_event.kprobe.cookie"].offset, true),
      };
    }
    case PerfEventType.UPROBE:
    case PerfEventType.URETPROBE: {
      const v = withName("perf_event.uprobe.file_name", "perf_event.uprobe.name_len");
      return {
        type: pt === PerfEventType.UPROBE ? "uprobe" : "uretprobe",
        fileName: cString(buf),
        offset: v.getUint32(F["perf_event.uprobe.offset"].offset, true),
        refCtrOffset: v.getBigUint64(F["perf_event.uprobe.ref_ctr_offset"].offset, true),
        cookie: v.getBigUint64(F["perf_event.uprobe.cookie"].offset, true),
      };
    }
    case PerfEventType.EVENT:
      return {
        type: "event",
        eventType: first.getUint32(F["perf_event.event.type"].offset, true),
        config: first.getBigUint64(F["perf_event.event.config"].offset, true),
        cookie: first.getBigUint64(F["perf_event.event.cookie"].offset, true),
      };
    default:
      return { type: "unspec", reason: PERF_EVENT_UNSPEC };
  }
}
