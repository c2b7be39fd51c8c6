/**
 * The one formatter for `link show`: a {@link LinkView} printed as bpftool's plain text
 * or as its JSON object, so the two never drift apart.
 *
 * Raw tracepoint, tracing, cgroup, iter and netns links print exactly as bpftool 7.1
 * prints them. bpftool 7.1 prints only the header for the other types; tsbpf adds
 * what later bpftool versions (7.3-7.5) print for them: the tracepoint, probed function
 * or file and offset, or sampled event of a perf_event link, the interface of xdp and
 * tcx links, netfilter hooks, the functions of kprobe/uprobe multi links.
 */
import type { LinkDetail, LinkInfo, PerfEventLinkInfo } from "../../kernel/links/link-info.ts";
import { attachTypeName, progTypeName } from "../../uapi/index.ts";
import type { JsonWriter } from "../format/json-writer.ts";

/** Everything `link show` prints about one link. */
export interface LinkView {
  readonly info: LinkInfo;
  /** For tracing links: the attached program's type. */
  readonly progType?: number;
  /** Interface name for an ifindex (xdp, tcx, netkit), when it exists. */
  readonly ifname?: string;
  /** Pinned paths, when `-f` asked for them. */
  readonly pinned: readonly string[] | undefined;
}

const PERF_TYPES = ["hardware", "software", "tracepoint", "hw-cache", "raw", "breakpoint"];
const SW_EVENTS = [
  "cpu-clock",
  "task-clock",
  "page-faults",
  "context-switches",
  "cpu-migrations",
  "minor-faults",
  "major-faults",
  "alignment-faults",
  "emulation-faults",
  "dummy",
  "bpf-output",
  "cgroup-switches",
];
const HW_EVENTS = [
  "cpu-cycles",
  "instructions",
  "cache-references",
  "cache-misses",
  "branch-instructions",
  "branch-misses",
  "bus-cycles",
  "stalled-cycles-frontend",
  "stalled-cycles-backend",
  "ref-cycles",
];
const CGROUP_ORDER = [
  "order_unspec",
  "self_only",
  "descendants_pre",
  "descendants_post",
  "ancestors_up",
];
const PF_NAMES: Record<number, string> = {
  1: "inet",
  2: "ip",
  3: "arp",
  5: "netdev",
  7: "bridge",
  10: "ip6",
};
const INET_HOOKS = ["prerouting", "input", "forward", "output", "postrouting"];

function attachText(t: number): string {
  return attachTypeName(t) ?? String(t);
}

function isIterMap(name: string): boolean {
  return name === "bpf_map_elem" || name === "bpf_sk_storage_map";
}

function isIterTask(name: string): boolean {
  return name === "task" || name === "task_file" || name === "task_vma";
}

function perfConfigText(type: number, config: bigint): string | undefined {
  const n = Number(config);
  if (type === 0) return HW_EVENTS[n];
  if (type === 1) return SW_EVENTS[n];
  return undefined;
}

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

function devname(v: LinkView, ifindex: number): string {
  if (!ifindex) return "(detached)";
  return v.ifname ? `${v.ifname}(${ifindex})` : "(unknown)";
}

/** The header bpftool prints: `ID: TYPE  prog N  ` (struct_ops: `map N`). */
function headerPlain(info: LinkInfo): string {
  let s = `${info.id}: ${info.typeName ?? `type ${info.type}`}  `;
  if (info.detail.kind === "struct_ops") s += `map ${info.detail.mapId}  `;
  else s += `prog ${info.progId}  `;
  return s;
}

function perfEventPlain(e: PerfEventLinkInfo): string {
  switch (e.type) {
    case "tracepoint":
      if (!e.tpName) return "";
      return `\n\ttracepoint ${e.tpName}  ${e.cookie ? `cookie ${e.cookie}  ` : ""}`;
    case "kprobe":
    case "kretprobe": {
      if (!e.funcName && !e.addr) return "";
      let s = `\n\t${e.type} `;
      if (e.addr) s += `${e.addr.toString(16).padStart(16, "0")} `;
      s += e.funcName;
      if (e.offset) s += `+${hex(e.offset)}`;
      s += "  ";
      if (e.missed) s += `missed ${e.missed}  `;
      if (e.cookie) s += `cookie ${e.cookie}  `;
      return s;
    }
    case "uprobe":
    case "uretprobe":
      if (!e.fileName) return "";
      return `\n\t${e.type} ${e.fileName}+${hex(e.offset)}  ${e.cookie ? `cookie ${e.cookie}  ` : ""}`;
    case "event": {
      const t = PERF_TYPES[e.eventType];
      const c = perfConfigText(e.eventType, e.config);
      return `\n\tevent ${t ? `${t}:` : `${e.eventType} :`}${c ?? e.config}  ${e.cookie ? `cookie ${e.cookie}  ` : ""}`;
    }
    default:
      return "";
  }
}

function detailPlain(v: LinkView, d: LinkDetail): string {
  switch (d.kind) {
    case "raw_tracepoint":
      return `\n\ttp '${d.tpName}'  `;
    case "tracing": {
      let s = `\n\tprog_type ${progTypeName(v.progType ?? -1) ?? v.progType ?? 0}  `;
      s += `attach_type ${attachText(d.attachType)}  `;
      if (d.targetObjId || d.targetBtfId) {
        s += `\n\ttarget_obj_id ${d.targetObjId}  target_btf_id ${d.targetBtfId}  `;
      }
      return s;
    }
    case "cgroup":
      return `\n\tcgroup_id ${d.cgroupId}  attach_type ${attachText(d.attachType)}  `;
    case "iter": {
      let s = `target_name ${d.targetName}  `;
      if (isIterMap(d.targetName)) s += `map_id ${d.mapId}  `;
      else if (isIterTask(d.targetName)) {
        if (d.tid) s += `tid ${d.tid} `;
        else if (d.pid) s += `pid ${d.pid} `;
      }
      if (d.targetName === "cgroup") {
        s += `cgroup_id ${d.cgroupId}  order ${CGROUP_ORDER[d.order] ?? "unknown"}  `;
      }
      return s;
    }
    case "netns":
      return `\n\tnetns_ino ${d.netnsIno}  attach_type ${attachText(d.attachType)}  `;
    case "xdp":
      return `\n\tifindex ${devname(v, d.ifindex)}  `;
    case "tcx":
    case "netkit":
      return `\n\tifindex ${devname(v, d.ifindex)}  attach_type ${attachText(d.attachType)}  `;
    case "sockmap":
      return `\n\tmap_id ${d.mapId}  attach_type ${attachText(d.attachType)}  `;
    case "netfilter": {
      const pf = PF_NAMES[d.pf];
      const hook = [1, 2, 7, 10].includes(d.pf) ? INET_HOOKS[d.hooknum] : undefined;
      let s = pf ? `\n\t${pf}` : `\n\tpf: ${d.pf}`;
      s += hook ? ` ${hook}` : `, hook ${d.hooknum},`;
      s += ` prio ${d.priority}`;
      if (d.flags) s += ` flags ${hex(d.flags)}`;
      return s;
    }
    case "kprobe_multi":
      if (!d.addrs.length) return "";
      return (
        `\n\t${d.retprobe ? "kretprobe.multi" : "kprobe.multi"}  func_cnt ${d.addrs.length}  ` +
        (d.missed ? `missed ${d.missed}  ` : "")
      );
    case "uprobe_multi": {
      if (!d.offsets.length) return "";
      let s = `\n\t${d.retprobe ? "uretprobe.multi" : "uprobe.multi"}  path ${d.path}  func_cnt ${d.offsets.length}  `;
      if (d.pid) s += `pid ${d.pid}  `;
      s += `\n\t${"offset".padEnd(16)}   ${"ref_ctr_offset".padEnd(16)}   ${"cookies".padEnd(16)}`;
      d.offsets.forEach((o, i) => {
        s += `\n\t0x${o.toString(16).padEnd(16)} 0x${(d.refCtrOffsets[i] ?? 0n).toString(16).padEnd(16)} 0x${(d.cookies[i] ?? 0n).toString(16).padEnd(16)}`;
      });
      return s;
    }
    case "perf_event":
      return perfEventPlain(d.event);
    default:
      return "";
  }
}

/** One link as bpftool's `link show` prints it. */
export function linkPlain(v: LinkView): string {
  let s = headerPlain(v.info) + detailPlain(v, v.info.detail);
  for (const p of v.pinned ?? []) s += `\n\tpinned ${p}`;
  return `${s}\n`;
}

function attachJson(w: JsonWriter, t: number): void {
  const name = attachTypeName(t);
  w.field("attach_type", name ?? t);
}

function ifindexJson(w: JsonWriter, v: LinkView, ifindex: number): void {
  w.field("devname", ifindex ? (v.ifname ?? "(unknown)") : "(detached)");
  w.field("ifindex", ifindex);
}

function perfEventJson(w: JsonWriter, e: PerfEventLinkInfo): void {
  switch (e.type) {
    case "tracepoint":
      w.field("tracepoint", e.tpName).field("cookie", e.cookie);
      return;
    case "kprobe":
    case "kretprobe":
      w.field("retprobe", e.type === "kretprobe")
        .field("addr", e.addr)
        .field("func", e.funcName)
        .field("offset", e.offset)
        .field("missed", e.missed)
        .field("cookie", e.cookie);
      return;
    case "uprobe":
    case "uretprobe":
      w.field("retprobe", e.type === "uretprobe")
        .field("file", e.fileName)
        .field("offset", e.offset)
        .field("cookie", e.cookie);
      return;
    case "event": {
      const t = PERF_TYPES[e.eventType];
      w.field("event_type", t ?? e.eventType);
      w.field("event_config", perfConfigText(e.eventType, e.config) ?? e.config);
      w.field("cookie", e.cookie);
      return;
    }
    default:
      return;
  }
}

function detailJson(w: JsonWriter, v: LinkView, d: LinkDetail): void {
  switch (d.kind) {
    case "raw_tracepoint":
      w.field("tp_name", d.tpName);
      return;
    case "tracing":
      w.field("prog_type", progTypeName(v.progType ?? -1) ?? v.progType ?? 0);
      attachJson(w, d.attachType);
      w.field("target_obj_id", d.targetObjId).field("target_btf_id", d.targetBtfId);
      return;
    case "cgroup":
      w.field("cgroup_id", d.cgroupId);
      attachJson(w, d.attachType);
      return;
    case "iter":
      w.field("target_name", d.targetName);
      if (isIterMap(d.targetName)) w.field("map_id", d.mapId);
      else if (isIterTask(d.targetName)) {
        if (d.tid) w.field("tid", d.tid);
        else if (d.pid) w.field("pid", d.pid);
      }
      if (d.targetName === "cgroup") {
        w.field("cgroup_id", d.cgroupId).field("order", CGROUP_ORDER[d.order] ?? "unknown");
      }
      return;
    case "netns":
      w.field("netns_ino", d.netnsIno);
      attachJson(w, d.attachType);
      return;
    case "xdp":
      ifindexJson(w, v, d.ifindex);
      return;
    case "tcx":
    case "netkit":
      ifindexJson(w, v, d.ifindex);
      attachJson(w, d.attachType);
      return;
    case "sockmap":
      w.field("map_id", d.mapId);
      attachJson(w, d.attachType);
      return;
    case "struct_ops":
      w.field("map_id", d.mapId);
      return;
    case "netfilter":
      w.field("pf", d.pf)
        .field("hook", d.hooknum)
        .field("prio", d.priority)
        .field("flags", d.flags);
      return;
    case "kprobe_multi":
      w.field("retprobe", d.retprobe).field("func_cnt", d.addrs.length).field("missed", d.missed);
      w.field(
        "funcs",
        d.addrs.map((a, i) => ({ addr: a, cookie: d.cookies[i] ?? 0n })),
      );
      return;
    case "uprobe_multi":
      w.field("retprobe", d.retprobe)
        .field("path", d.path)
        .field("func_cnt", d.offsets.length)
        .field("pid", d.pid);
      w.field(
        "funcs",
        d.offsets.map((o, i) => ({
          offset: o,
          ref_ctr_offset: d.refCtrOffsets[i] ?? 0n,
          cookie: d.cookies[i] ?? 0n,
        })),
      );
      return;
    case "perf_event":
      perfEventJson(w, d.event);
      return;
    default:
      return;
  }
}

/** One link as bpftool's `link show -j` prints it. */
export function linkJson(w: JsonWriter, v: LinkView): void {
  const info = v.info;
  w.startObject();
  w.field("id", info.id);
  w.field("type", info.typeName ?? info.type);
  w.field("prog_id", info.progId);
  detailJson(w, v, info.detail);
  if (v.pinned) w.field("pinned", v.pinned);
  w.endObject();
}
