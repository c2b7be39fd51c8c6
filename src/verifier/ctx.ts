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
