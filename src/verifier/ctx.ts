/**
 * What a program may read and write in its context (`ctx`, r1 at entry), per program
 * type: the kernel's `is_valid_access` callbacks as tables. An access is an offset and a
 * size; the answer is whether it is allowed and, for the fields that hold pointers
 * (`data`, `data_end`...), the type of the loaded register.
 * @module
 */
import { AttachType, ProgType } from "../uapi/index.ts";
import type { BaseType, TypeFlags } from "./types.ts";

/** An allowed context access: what a load gives (scalar unless it is a pointer field). */
export interface CtxAccess {
  readonly type: BaseType;
  readonly flags?: TypeFlags;
}

/** `(offset, size, write)` → the access, or undefined when the kernel refuses it. */
export type CtxRule = (off: number, size: number, write: boolean) => CtxAccess | undefined;

const SCALAR: CtxAccess = { type: "scalar" };
const within = (off: number, start: number, end: number) => off >= start && off < end;

// ------------------------------------------------------------------ struct __sk_buff
/** Field offsets of `struct __sk_buff` (<linux/bpf.h>); [start, end). */
const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  priority: 32,
  tc_index: 44,
  cb: [48, 68],
  tc_classid: 72,
  data: 76,
  data_end: 80,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: [100, 116],
  local_ip6: [116, 132],
  local_port: 136,
  data_meta: 140,
  flow_keys: [144, 152],
  tstamp: [152, 160],
  wire_len: 160,
  sk: 168,
  tstamp_type: 180,
  hwtstamp: [184, 192],
  size: 192,
} as const;

const u32Field = (off: number, at: number) => within(off, at, at + 4);

/** bpf_skb_is_valid_access: the rules every __sk_buff program type shares. */
function skbCommon(off: number, size: number, write: boolean, pkt: boolean): CtxAccess | undefined {
  if (off < 0 || off >= SKB.size || off % size !== 0) return undefined;
  if (within(off, SKB.cb[0], SKB.cb[1])) return off + size <= SKB.cb[1] ? SCALAR : undefined;
  if (
    within(off, SKB.remote_ip6[0], SKB.local_ip6[1]) ||
    u32Field(off, SKB.remote_ip4) ||
    u32Field(off, SKB.local_ip4) ||
    u32Field(off, SKB.data) ||
    u32Field(off, SKB.data_meta) ||
    u32Field(off, SKB.data_end)
  ) {
    if (size !== 4) return undefined;
    if (!pkt) return SCALAR;
    if (off === SKB.data) return { type: "pkt" };
    if (off === SKB.data_end) return { type: "pkt_end" };
    if (off === SKB.data_meta) return { type: "pkt_meta" };
    return SCALAR;
  }
  if (within(off, SKB.flow_keys[0], SKB.flow_keys[1])) return undefined;
  if (within(off, SKB.hwtstamp[0], SKB.hwtstamp[1]))
    return write || size !== 8 ? undefined : SCALAR;
  if (within(off, SKB.tstamp[0], SKB.tstamp[1])) return size !== 8 ? undefined : SCALAR;
  if (off === SKB.sk) {
    if (write || size !== 8) return undefined;
    return { type: "sock_common", flags: { maybeNull: true } };
  }
  if (within(off, SKB.sk, SKB.sk + 8)) return undefined;
  if (within(off, SKB.tstamp_type, SKB.hwtstamp[0])) return undefined;
  // Narrow reads (1, 2 or 4 bytes) of a u32 field; writes are whole.
  if (write) return size === 4 ? SCALAR : undefined;
  return size <= 4 && (size & (size - 1)) === 0 ? SCALAR : undefined;
}

const socketFilter: CtxRule = (off, size, write) => {
  if (
    u32Field(off, SKB.tc_classid) ||
    u32Field(off, SKB.data) ||
    u32Field(off, SKB.data_meta) ||
    u32Field(off, SKB.data_end) ||
    within(off, SKB.family, SKB.local_port + 4) ||
    within(off, SKB.tstamp[0], SKB.tstamp[1]) ||
    u32Field(off, SKB.wire_len) ||
    within(off, SKB.hwtstamp[0], SKB.hwtstamp[1])
  )
    return undefined;
  if (write && !within(off, SKB.cb[0], SKB.cb[1])) return undefined;
  return skbCommon(off, size, write, false);
};

const TC_WRITABLE: readonly (readonly [number, number])[] = [
  [SKB.mark, SKB.mark + 4],
  [SKB.tc_index, SKB.tc_index + 4],
  [SKB.priority, SKB.priority + 4],
  [SKB.tc_classid, SKB.tc_classid + 4],
  [SKB.cb[0], SKB.cb[1]],
  [SKB.tstamp[0], SKB.tstamp[1]],
  [SKB.queue_mapping, SKB.queue_mapping + 4],
];

const tcClsAct: CtxRule = (off, size, write) => {
  if (write && !TC_WRITABLE.some(([a, b]) => within(off, a, b))) return undefined;
  if (within(off, SKB.family, SKB.local_port + 4)) return undefined;
  return skbCommon(off, size, write, true);
};

const CGROUP_SKB_WRITABLE: readonly (readonly [number, number])[] = [
  [SKB.mark, SKB.mark + 4],
  [SKB.priority, SKB.priority + 4],
  [SKB.cb[0], SKB.cb[1]],
  [SKB.tstamp[0], SKB.tstamp[1]],
];

const cgroupSkb: CtxRule = (off, size, write) => {
  if (u32Field(off, SKB.tc_classid) || u32Field(off, SKB.data_meta) || u32Field(off, SKB.wire_len))
    return undefined;
  if (write && !CGROUP_SKB_WRITABLE.some(([a, b]) => within(off, a, b))) return undefined;
  return skbCommon(off, size, write, true);
};

/** sk_skb_is_valid_access: stream parser/verdict programs see data, not mark. */
const skSkb: CtxRule = (off, size, write) => {
  if (
    u32Field(off, SKB.tc_classid) ||
    u32Field(off, SKB.data_meta) ||
    within(off, SKB.tstamp[0], SKB.tstamp[1]) ||
    u32Field(off, SKB.wire_len) ||
    within(off, SKB.hwtstamp[0], SKB.hwtstamp[1]) ||
    u32Field(off, SKB.mark)
  )
    return undefined;
  if (write && !u32Field(off, SKB.tc_index) && !u32Field(off, SKB.priority)) return undefined;
  return skbCommon(off, size, write, true);
};

// ------------------------------------------------------------------ struct xdp_md
/** xdp_md: data 0, data_end 4, data_meta 8, ingress_ifindex 12, rx_queue_index 16, egress_ifindex 20. */
function xdpRule(devmap: boolean): CtxRule {
  return (off, size, write) => {
    if (write) return undefined;
    if (off === 20 && !devmap) return undefined;
    if (off < 0 || off >= 24 || off % size !== 0 || size !== 4) return undefined;
    if (off === 0) return { type: "pkt" };
    if (off === 4) return { type: "pkt_end" };
    if (off === 8) return { type: "pkt_meta" };
    return SCALAR;
  };
}

// ------------------------------------------------------------------ tracing
/** Read-only contexts of a fixed size, any aligned read (pt_regs, perf event data...). */
function readOnly(size: number): CtxRule {
  return (off, n, write) =>
    !write && off >= 0 && off + n <= size && off % n === 0 ? SCALAR : undefined;
}
/** sizeof(struct pt_regs) on x86-64. */
const PT_REGS_SIZE = 168;
const PERF_MAX_TRACE_SIZE = 8192;

/**
 * struct bpf_perf_event_data { pt_regs regs; u64 sample_period; u64 addr; }: read only;
 * the registers as whole u64s, the two u64 fields narrow too.
 */
const perfEvent: CtxRule = (off, size, write) => {
  if (write || off < 0 || off >= PT_REGS_SIZE + 16 || off % size !== 0) return undefined;
  if (off >= PT_REGS_SIZE) return (size & (size - 1)) === 0 ? SCALAR : undefined;
  return size === 8 ? SCALAR : undefined;
};

// ------------------------------------------------------------------ socket-level contexts
/** bpf_ctx_narrow_access_ok: a power-of-two read no wider than the field. */
const narrowOk = (size: number, field: number) => size <= field && (size & (size - 1)) === 0;
/** bpf_ctx_wide_access_ok: an aligned 8-byte access inside an array field [start, end). */
const wideOk = (off: number, size: number, start: number, end: number) =>
  size === 8 && off >= start && off + 8 <= end && off % 8 === 0;
const SOCK_PTR: CtxAccess = { type: "sock" };
const PKT: CtxAccess = { type: "pkt" };
const PKT_END: CtxAccess = { type: "pkt_end" };
const ok = (cond: boolean, a: CtxAccess = SCALAR) => (cond ? a : undefined);

/**
 * bpf_sock_is_valid_access: struct bpf_sock (80 bytes), the view of a socket through a
 * `sock` pointer or a cgroup_sock program's context. Reads only through pointers; the
 * context adds writes by attach type.
 */
export function bpfSockAccess(off: number, size: number): boolean {
  if (off < 0 || off >= 80 || off % size !== 0) return false;
  if (
    off === 72 || // state
    off === 4 || // family
    off === 8 || // type
    off === 12 || // protocol
    off === 44 || // src_port
    off === 76 || // rx_queue_mapping
    within(off, 24, 44) || // src_ip4, src_ip6
    within(off, 52, 72) // dst_ip4, dst_ip6
  )
    return narrowOk(size, 4);
  if (within(off, 48, 50)) return narrowOk(size, size === 4 ? 4 : 2); // dst_port
  if (within(off, 50, 52)) return false;
  return size === 4;
}

/** bpf_sock_common_is_valid_access: a sock_common pointer sees no type..priority. */
export function sockCommonAccess(off: number, size: number): boolean {
  return !within(off, 8, 24) && bpfSockAccess(off, size);
}

/** bpf_tcp_sock_is_valid_access: struct bpf_tcp_sock up to icsk_retransmits. */
export function tcpSockAccess(off: number, size: number): boolean {
  if (off < 0 || off >= 112 || off % size !== 0) return false;
  return off === 80 || off === 88 ? size === 8 : size === 4;
}

/** bpf_xdp_sock_is_valid_access: queue_id only. */
export function xdpSockAccess(off: number, size: number): boolean {
  return off === 0 && size === 4;
}

/** sock_filter_is_valid_access: cgroup_sock programs read struct bpf_sock; a few hooks write. */
function cgroupSock(attach: number | undefined): CtxRule {
  const create =
    attach === AttachType.CGROUP_INET_SOCK_CREATE || attach === AttachType.CGROUP_INET_SOCK_RELEASE;
  return (off, size, write) => {
    if (!bpfSockAccess(off, size)) return undefined;
    if (off === 0 || off === 16 || off === 20) return ok(create); // bound_dev_if, mark, priority
    if (within(off, 24, 28)) return ok(attach === AttachType.CGROUP_INET4_POST_BIND && !write);
    if (within(off, 28, 44)) return ok(attach === AttachType.CGROUP_INET6_POST_BIND && !write);
    if (within(off, 44, 48))
      return ok(
        (attach === AttachType.CGROUP_INET4_POST_BIND ||
          attach === AttachType.CGROUP_INET6_POST_BIND) &&
          !write,
      );
    return ok(!write);
  };
}

const INET4_ADDR = new Set<number>([
  AttachType.CGROUP_INET4_BIND,
  AttachType.CGROUP_INET4_CONNECT,
  AttachType.CGROUP_INET4_GETPEERNAME,
  AttachType.CGROUP_INET4_GETSOCKNAME,
  AttachType.CGROUP_UDP4_SENDMSG,
  AttachType.CGROUP_UDP4_RECVMSG,
]);
const INET6_ADDR = new Set<number>([
  AttachType.CGROUP_INET6_BIND,
  AttachType.CGROUP_INET6_CONNECT,
  AttachType.CGROUP_INET6_GETPEERNAME,
  AttachType.CGROUP_INET6_GETSOCKNAME,
  AttachType.CGROUP_UDP6_SENDMSG,
  AttachType.CGROUP_UDP6_RECVMSG,
]);

/**
 * sock_addr_is_valid_access: struct bpf_sock_addr (72 bytes). Address fields exist only
 * for the attach type's family; user_ip6/msg_src_ip6 also take aligned 8-byte accesses.
 */
function sockAddr(attach: number | undefined): CtxRule {
  const a = attach ?? -1;
  return (off, size, write) => {
    if (off < 0 || off >= 72 || off % size !== 0) return undefined;
    if (within(off, 4, 8) && !INET4_ADDR.has(a)) return undefined; // user_ip4
    if (within(off, 8, 24) && !INET6_ADDR.has(a)) return undefined; // user_ip6
    if (within(off, 40, 44) && a !== AttachType.CGROUP_UDP4_SENDMSG) return undefined;
    if (within(off, 44, 60) && a !== AttachType.CGROUP_UDP6_SENDMSG) return undefined;
    if (within(off, 4, 28) || within(off, 40, 60)) {
      // user_ip4, user_ip6, user_port, msg_src_ip4, msg_src_ip6
      if (wideOk(off, size, 8, 24) || wideOk(off, size, 44, 60)) return SCALAR;
      return ok(write ? size === 4 : narrowOk(size, 4));
    }
    if (within(off, 64, 72)) return ok(!write && size === 8, SOCK_PTR); // sk
    if (within(off, 0, 4) || within(off, 28, 40)) return ok(!write && size === 4);
    return undefined;
  };
}

/** sk_msg_is_valid_access: struct sk_msg_md (80 bytes), read only. */
const skMsg: CtxRule = (off, size, write) => {
  if (write || off % size !== 0) return undefined;
  if (within(off, 0, 8)) return ok(size === 8, PKT);
  if (within(off, 8, 16)) return ok(size === 8, PKT_END);
  if (within(off, 72, 80)) return ok(size === 8, SOCK_PTR);
  if (within(off, 16, 72)) return ok(size === 4);
  return undefined;
};

/** sk_lookup_is_valid_access: struct bpf_sk_lookup (72 bytes), read only. */
const skLookup: CtxRule = (off, size, write) => {
  if (off < 0 || off >= 72 || off % size !== 0 || write) return undefined;
  if (within(off, 0, 8)) return ok(size === 8, { type: "sock", flags: { maybeNull: true } }); // sk
  if (within(off, 8, 36) || within(off, 40, 68)) return ok(narrowOk(size, 4));
  if (within(off, 36, 38)) return ok(size === 4 || narrowOk(size, 2)); // remote_port
  if (within(off, 38, 40)) return ok(narrowOk(size, 2)); // its zero padding
  return undefined;
};

/** cg_sockopt_is_valid_access: struct bpf_sockopt (40 bytes). */
function cgroupSockopt(attach: number | undefined): CtxRule {
  const get = attach === AttachType.CGROUP_GETSOCKOPT;
  const set = attach === AttachType.CGROUP_SETSOCKOPT;
  return (off, size, write) => {
    if (off < 0 || off >= 40 || off % size !== 0) return undefined;
    if (write) {
      if (off === 36) return ok(size === 4 && get); // retval
      if (off === 28 || off === 24) return ok(size === 4 && set); // optname, level
      if (off === 32) return ok(size === 4); // optlen
      return undefined;
    }
    if (within(off, 0, 8)) return ok(size === 8, SOCK_PTR);
    if (within(off, 8, 16)) return ok(size === 8, PKT); // optval
    if (within(off, 16, 24)) return ok(size === 8, PKT_END); // optval_end
    if (within(off, 36, 40)) return ok(size === 4 && get);
    return ok(size === 4);
  };
}

/** sock_ops_is_valid_access: struct bpf_sock_ops (224 bytes). */
const sockOps: CtxRule = (off, size, write) => {
  if (off < 0 || off >= 224 || off % size !== 0) return undefined;
  if (write) return ok((off === 4 || off === 164) && size === 4); // reply, sk_txhash
  if (within(off, 168, 184)) return ok(size === 8); // bytes_received, bytes_acked
  if (within(off, 184, 192)) return ok(size === 8, { type: "sock", flags: { maybeNull: true } });
  if (within(off, 192, 200)) return ok(size === 8, PKT); // skb_data
  if (within(off, 200, 208)) return ok(size === 8, PKT_END); // skb_data_end
  if (off === 212) return ok(narrowOk(size, 4)); // skb_tcp_flags
  if (within(off, 216, 224)) return ok(size === 8); // skb_hwtstamp
  return ok(size === 4);
};

/** sk_reuseport_is_valid_access: struct sk_reuseport_md (56 bytes), read only. */
const skReuseport: CtxRule = (off, size, write) => {
  if (off < 0 || off >= 56 || off % size !== 0 || write) return undefined;
  switch (off) {
    case 0:
      return ok(size === 8, PKT);
    case 8:
      return ok(size === 8, PKT_END);
    case 32: // hash
      return ok(size === 4);
    case 40:
      return ok(size === 8, SOCK_PTR);
    case 48: // migrating_sk
      return ok(size === 8, { type: "sock_common", flags: { maybeNull: true } });
  }
  if (within(off, 20, 24) && size < 2) return undefined; // eth_protocol: no byte reads
  if (within(off, 16, 32)) return ok(narrowOk(size, 4)); // len, eth/ip_protocol, bind_inany
  return undefined;
};

/** lwt_is_valid_access: __sk_buff without the tc and socket fields; writes to mark/priority/cb. */
const lwt: CtxRule = (off, size, write) => {
  if (
    u32Field(off, SKB.tc_classid) ||
    within(off, SKB.family, SKB.local_port + 4) ||
    u32Field(off, SKB.data_meta) ||
    within(off, SKB.tstamp[0], SKB.tstamp[1]) ||
    u32Field(off, SKB.wire_len) ||
    within(off, SKB.hwtstamp[0], SKB.hwtstamp[1])
  )
    return undefined;
  if (
    write &&
    !u32Field(off, SKB.mark) &&
    !u32Field(off, SKB.priority) &&
    !within(off, SKB.cb[0], SKB.cb[1])
  )
    return undefined;
  return skbCommon(off, size, write, true);
};

/** flow_dissector_is_valid_access: data, data_end and flow_keys of __sk_buff, read only. */
const flowDissector: CtxRule = (off, size, write) => {
  if (off < 0 || off >= SKB.size || off % size !== 0 || write) return undefined;
  if (u32Field(off, SKB.data)) return ok(size === 4, PKT);
  if (u32Field(off, SKB.data_end)) return ok(size === 4, PKT_END);
  if (within(off, SKB.flow_keys[0], SKB.flow_keys[1])) return ok(size === 8, { type: "flow_keys" });
  return undefined;
};

/** cgroup_dev_is_valid_access: struct bpf_cgroup_dev_ctx { access_type, major, minor }. */
const cgroupDevice: CtxRule = (off, size, write) => {
  if (write || off < 0 || off + size > 12 || off % size !== 0) return undefined;
  return ok(within(off, 0, 4) ? narrowOk(size, 4) : size === 4);
};

/** sysctl_is_valid_access: struct bpf_sysctl { write, file_pos }; file_pos writable. */
const cgroupSysctl: CtxRule = (off, size, write) => {
  if (off < 0 || off + size > 8 || off % size !== 0) return undefined;
  if (within(off, 0, 4)) return ok(!write && narrowOk(size, 4));
  return ok(write ? size === 4 : narrowOk(size, 4));
};

/** nf_is_valid_access: struct bpf_nf_ctx { state, skb }: trusted BTF pointers, read only. */
const netfilter: CtxRule = (off, size, write) => {
  if (off < 0 || off >= 16 || off % size !== 0 || write || size !== 8) return undefined;
  return { type: "btf_id", flags: { trusted: true } };
};

/** The context rule of a program type, or undefined for types this verifier does not model yet. */
export function ctxRule(progType: number, attachType?: number): CtxRule | undefined {
  switch (progType) {
    case ProgType.SOCKET_FILTER:
      return socketFilter;
    case ProgType.SCHED_CLS:
    case ProgType.SCHED_ACT:
      return tcClsAct;
    case ProgType.CGROUP_SKB:
      return cgroupSkb;
    case ProgType.XDP:
      return xdpRule(attachType === AttachType.XDP_DEVMAP);
    case ProgType.KPROBE:
      return readOnly(PT_REGS_SIZE);
    case ProgType.TRACEPOINT:
      // The record's first 8 bytes (common fields) are off limits; its size is known only
      // to the kernel, so any aligned read below PERF_MAX_TRACE_SIZE passes.
      return (off, n, write) =>
        !write && off >= 8 && off < PERF_MAX_TRACE_SIZE && off % n === 0 ? SCALAR : undefined;
    case ProgType.RAW_TRACEPOINT:
    case ProgType.RAW_TRACEPOINT_WRITABLE:
      // Up to MAX_BPF_FUNC_ARGS (12) u64 arguments.
      return (off, n, write) =>
        !write && off >= 0 && off < 96 && off % n === 0 ? SCALAR : undefined;
    case ProgType.PERF_EVENT:
      return perfEvent;
    case ProgType.SK_SKB:
      return skSkb;
    case ProgType.CGROUP_SOCK:
      return cgroupSock(attachType);
    case ProgType.CGROUP_SOCK_ADDR:
      return sockAddr(attachType);
    case ProgType.SK_MSG:
      return skMsg;
    case ProgType.SK_LOOKUP:
      return skLookup;
    case ProgType.CGROUP_SOCKOPT:
      return cgroupSockopt(attachType);
    case ProgType.SOCK_OPS:
      return sockOps;
    case ProgType.SK_REUSEPORT:
      return skReuseport;
    case ProgType.LWT_IN:
    case ProgType.LWT_OUT:
    case ProgType.LWT_XMIT:
    case ProgType.LWT_SEG6LOCAL:
      return lwt;
    case ProgType.FLOW_DISSECTOR:
      return flowDissector;
    case ProgType.CGROUP_DEVICE:
      return cgroupDevice;
    case ProgType.CGROUP_SYSCTL:
      return cgroupSysctl;
    case ProgType.NETFILTER:
      return netfilter;
    default:
      return undefined;
  }
}

/** Program types whose programs may write packet data directly. */
export function mayWritePacket(progType: number): boolean {
  return (
    progType === ProgType.SCHED_CLS ||
    progType === ProgType.SCHED_ACT ||
    progType === ProgType.XDP ||
    progType === ProgType.LWT_XMIT ||
    progType === ProgType.SK_SKB ||
    progType === ProgType.SK_MSG
  );
}
