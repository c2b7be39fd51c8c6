/**
 * `prog load ... type TYPE`: the program type (and expected attach type) a name
 * selects. bpftool accepts libbpf's ELF section names (`socket`, `xdp`, `classifier`,
 * `cgroup/skb`, `kprobe/...`); tsbpf accepts those and the kernel's type names
 * (`socket_filter`, `sched_cls`, ...).
 */
import { AttachType, ProgType, progTypeName } from "../uapi/index.ts";

type Entry = readonly [ProgType, AttachType?];

const P = ProgType;
const A = AttachType;

/** libbpf's section names (the part before any `/argument`), facts from libbpf's section_defs. */
const SECTIONS: Readonly<Record<string, Entry>> = {
  socket: [P.SOCKET_FILTER],
  sk_reuseport: [P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT],
  "sk_reuseport/migrate": [P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE],
  kprobe: [P.KPROBE],
  uprobe: [P.KPROBE],
  kretprobe: [P.KPROBE],
  uretprobe: [P.KPROBE],
  ksyscall: [P.KPROBE],
  kretsyscall: [P.KPROBE],
  usdt: [P.KPROBE],
  "kprobe.multi": [P.KPROBE, A.TRACE_KPROBE_MULTI],
  "kretprobe.multi": [P.KPROBE, A.TRACE_KPROBE_MULTI],
  "uprobe.multi": [P.KPROBE, A.TRACE_UPROBE_MULTI],
  "uretprobe.multi": [P.KPROBE, A.TRACE_UPROBE_MULTI],
  tc: [P.SCHED_CLS],
  "tc/ingress": [P.SCHED_CLS, A.TCX_INGRESS],
  "tc/egress": [P.SCHED_CLS, A.TCX_EGRESS],
  tcx: [P.SCHED_CLS],
  "tcx/ingress": [P.SCHED_CLS, A.TCX_INGRESS],
  "tcx/egress": [P.SCHED_CLS, A.TCX_EGRESS],
  classifier: [P.SCHED_CLS],
  action: [P.SCHED_ACT],
  tracepoint: [P.TRACEPOINT],
  tp: [P.TRACEPOINT],
  raw_tracepoint: [P.RAW_TRACEPOINT],
  raw_tp: [P.RAW_TRACEPOINT],
  "raw_tracepoint.w": [P.RAW_TRACEPOINT_WRITABLE],
  "raw_tp.w": [P.RAW_TRACEPOINT_WRITABLE],
  tp_btf: [P.TRACING, A.TRACE_RAW_TP],
  fentry: [P.TRACING, A.TRACE_FENTRY],
  fmod_ret: [P.TRACING, A.MODIFY_RETURN],
  fexit: [P.TRACING, A.TRACE_FEXIT],
  "fentry.s": [P.TRACING, A.TRACE_FENTRY],
  "fmod_ret.s": [P.TRACING, A.MODIFY_RETURN],
  "fexit.s": [P.TRACING, A.TRACE_FEXIT],
  freplace: [P.EXT],
  lsm: [P.LSM, A.LSM_MAC],
  "lsm.s": [P.LSM, A.LSM_MAC],
  lsm_cgroup: [P.LSM, A.LSM_CGROUP],
  iter: [P.TRACING, A.TRACE_ITER],
  "iter.s": [P.TRACING, A.TRACE_ITER],
  syscall: [P.SYSCALL],
  "xdp.frags/devmap": [P.XDP, A.XDP_DEVMAP],
  "xdp/devmap": [P.XDP, A.XDP_DEVMAP],
  "xdp.frags/cpumap": [P.XDP, A.XDP_CPUMAP],
  "xdp/cpumap": [P.XDP, A.XDP_CPUMAP],
  "xdp.frags": [P.XDP, A.XDP],
  xdp: [P.XDP, A.XDP],
  perf_event: [P.PERF_EVENT],
  lwt_in: [P.LWT_IN],
  lwt_out: [P.LWT_OUT],
  lwt_xmit: [P.LWT_XMIT],
  lwt_seg6local: [P.LWT_SEG6LOCAL],
  sockops: [P.SOCK_OPS, A.CGROUP_SOCK_OPS],
  "sk_skb/stream_parser": [P.SK_SKB, A.SK_SKB_STREAM_PARSER],
  "sk_skb/stream_verdict": [P.SK_SKB, A.SK_SKB_STREAM_VERDICT],
  "sk_skb/verdict": [P.SK_SKB, A.SK_SKB_VERDICT],
  sk_skb: [P.SK_SKB],
  sk_msg: [P.SK_MSG, A.SK_MSG_VERDICT],
  lirc_mode2: [P.LIRC_MODE2, A.LIRC_MODE2],
  flow_dissector: [P.FLOW_DISSECTOR, A.FLOW_DISSECTOR],
  "cgroup_skb/ingress": [P.CGROUP_SKB, A.CGROUP_INET_INGRESS],
  "cgroup_skb/egress": [P.CGROUP_SKB, A.CGROUP_INET_EGRESS],
  "cgroup/skb": [P.CGROUP_SKB],
  "cgroup/sock_create": [P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE],
  "cgroup/sock_release": [P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE],
  "cgroup/sock": [P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE],
  "cgroup/post_bind4": [P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND],
  "cgroup/post_bind6": [P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND],
  "cgroup/bind4": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND],
  "cgroup/bind6": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND],
  "cgroup/connect4": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT],
  "cgroup/connect6": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT],
  "cgroup/connect_unix": [P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT],
  "cgroup/sendmsg4": [P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG],
  "cgroup/sendmsg6": [P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG],
  "cgroup/sendmsg_unix": [P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG],
  "cgroup/recvmsg4": [P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG],
  "cgroup/recvmsg6": [P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG],
  "cgroup/recvmsg_unix": [P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG],
  "cgroup/getpeername4": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME],
  "cgroup/getpeername6": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME],
  "cgroup/getpeername_unix": [P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME],
  "cgroup/getsockname4": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME],
  "cgroup/getsockname6": [P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME],
  "cgroup/getsockname_unix": [P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME],
  "cgroup/sysctl": [P.CGROUP_SYSCTL, A.CGROUP_SYSCTL],
  "cgroup/getsockopt": [P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT],
  "cgroup/setsockopt": [P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT],
  "cgroup/dev": [P.CGROUP_DEVICE, A.CGROUP_DEVICE],
  struct_ops: [P.STRUCT_OPS],
  "struct_ops.s": [P.STRUCT_OPS],
  sk_lookup: [P.SK_LOOKUP, A.SK_LOOKUP],
  netfilter: [P.NETFILTER, A.NETFILTER],
};

/** What a `type` name selects. */
export interface ProgTypeChoice {
  readonly type: ProgType;
  readonly expectedAttachType: AttachType | undefined;
}

/**
 * The program type a section-style name (`xdp`, `cgroup/connect4`, `kprobe/do_exit`)
 * or kernel type name (`sched_cls`) selects, or undefined.
 */
export function progTypeByName(name: string): ProgTypeChoice | undefined {
  for (let n = name; n !== ""; n = n.includes("/") ? n.slice(0, n.lastIndexOf("/")) : "") {
    const e = SECTIONS[n];
    if (e) return { type: e[0], expectedAttachType: e[1] };
  }
  for (const t of Object.values(ProgType)) {
    if (t !== 0 && progTypeName(t) === name) return { type: t, expectedAttachType: undefined };
  }
  return undefined;
}
