/**
 * Helper prototypes as the verifier checks calls: each argument's kind and the return
 * type (the kernel's `struct bpf_func_proto`: ARG_* and RET_* values). The kernel keeps
 * them in C, not in BTF, so they are written here; the set grows with the program
 * types this verifier models, and tests compare each with the kernel's verdicts.
 * @module
 */
import { HelperId, MapType, ProgType } from "../uapi/index.ts";
import { HELPER_AVAILABILITY } from "./helper-availability.generated.ts";

/** What an argument register must hold (`enum bpf_arg_type`, flags folded in). */
export type ArgKind =
  /** ARG_ANYTHING: any initialised value. */
  | "anything"
  /** ARG_CONST_MAP_PTR. */
  | "map_ptr"
  /** ARG_PTR_TO_MAP_KEY: key_size readable bytes. */
  | "map_key"
  /** ARG_PTR_TO_MAP_VALUE: value_size readable bytes. */
  | "map_value"
  /** ARG_PTR_TO_MEM | MEM_RDONLY: readable memory, sized by the next argument. */
  | "mem"
  /** The same, or NULL (PTR_MAYBE_NULL). */
  | "mem_or_null"
  /** ARG_PTR_TO_UNINIT_MEM: writable memory, sized by the next argument. */
  | "uninit_mem"
  /** ARG_CONST_SIZE: the size of the memory argument before it, > 0. */
  | "const_size"
  /** ARG_CONST_SIZE_OR_ZERO. */
  | "const_size_or_zero"
  /** ARG_CONST_ALLOC_SIZE_OR_ZERO: a constant size to allocate. */
  | "alloc_size"
  /** ARG_PTR_TO_CTX. */
  | "ctx"
  /** ARG_PTR_TO_FUNC: a callback (`ld_imm64` of a subprogram). */
  | "func"
  /** ARG_PTR_TO_STACK_OR_NULL: a callback's context. */
  | "stack_or_null"
  /** ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE: memory reserved in a ring buffer, released. */
  | "ringbuf_mem_release"
  /** ARG_PTR_TO_CTX_OR_NULL. */
  | "ctx_or_null"
  /** ARG_PTR_TO_MEM without MEM_RDONLY: initialised memory the helper may also write. */
  | "mem_rw"
  /** ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED, 8 bytes: an aligned u64 out-parameter. */
  | "u64_out"
  /** The same, 4 bytes: an aligned u32 in/out-parameter (bpf_check_mtu's mtu_len). */
  | "u32_out"
  /** ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE: value_size bytes the helper fills. */
  | "map_value_out"
  /** ARG_PTR_TO_BTF_ID_SOCK_COMMON: a socket pointer (any flavour). */
  | "btf_sock_common"
  /** ARG_PTR_TO_SPIN_LOCK: a map value pointer at the value's `struct bpf_spin_lock`. */
  | "spin_lock"
  /** ARG_PTR_TO_SOCK_COMMON: any socket pointer, not NULL. */
  | "sock_common"
  /** ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE: a socket reference, released. */
  | "sock_release";

/** What a helper returns (`enum bpf_return_type`, flags folded in). */
export type ReturnKind =
  | "integer"
  /** RET_PTR_TO_MAP_VALUE: never NULL (bpf_get_local_storage). */
  | "map_value"
  | "void"
  | "map_value_or_null"
  /** RET_PTR_TO_MEM | MEM_RINGBUF | PTR_MAYBE_NULL, with a reference to release. */
  | "ringbuf_mem_or_null"
  /** RET_PTR_TO_SOCKET_OR_NULL. */
  | "sock_or_null"
  /** RET_PTR_TO_SOCK_COMMON_OR_NULL. */
  | "sock_common_or_null"
  /** RET_PTR_TO_TCP_SOCK_OR_NULL. */
  | "tcp_sock_or_null";

export interface HelperProto {
  readonly name: string;
  /** `enum bpf_func_id`. */
  readonly id: number;
  readonly args: readonly ArgKind[];
  readonly ret: ReturnKind;
  /** Callable only from GPL-compatible programs. */
  readonly gplOnly?: boolean;
  /** May take packet pointers as memory arguments (`pkt_access`). */
  readonly pktAccess?: boolean;
  /** Moves or resizes packet data: every packet pointer is invalid after the call. */
  readonly changesPacket?: boolean;
  /** Map types the map argument may be (any when absent). */
  readonly mapTypes?: readonly number[];
  /**
   * What the returned pointer owes (the kernel's is_acquire_function and
   * is_ptr_cast_function): "acquire" — a new reference the program must release;
   * "cast" — a view of the argument's object, sharing its reference.
   */
  readonly ref?: "acquire" | "cast";
  /** The callback's frame: what r1..r5 hold when the callback runs. */
  readonly callback?: "loop" | "for_each_map_elem";
}

const RINGBUF = [MapType.RINGBUF];
const SKB_TYPES = [
  ProgType.SOCKET_FILTER,
  ProgType.SCHED_CLS,
  ProgType.SCHED_ACT,
  ProgType.CGROUP_SKB,
];
const TC_TYPES = [ProgType.SCHED_CLS, ProgType.SCHED_ACT];

const TRACING_TYPES = [
  ProgType.KPROBE,
  ProgType.TRACEPOINT,
  ProgType.PERF_EVENT,
  ProgType.RAW_TRACEPOINT,
  ProgType.RAW_TRACEPOINT_WRITABLE,
  ProgType.TRACING,
];
const PROBE_READ = {
  args: ["uninit_mem", "const_size_or_zero", "anything"],
  ret: "integer",
  gplOnly: true,
} as const satisfies Omit<HelperProto, "name" | "id">;

const SK_LOOKUP = {
  args: ["ctx", "mem", "const_size_or_zero", "anything", "anything"],
  ret: "sock_or_null",
  ref: "acquire",
  pktAccess: true,
} as const satisfies Omit<HelperProto, "name" | "id">;

const SOCK_REDIRECT = {
  args: ["ctx", "map_ptr", "anything", "anything"],
  ret: "integer",
} as const satisfies Omit<HelperProto, "name" | "id">;
const SOCK_REDIRECT_KEY = {
  args: ["ctx", "map_ptr", "map_key", "anything"],
  ret: "integer",
} as const satisfies Omit<HelperProto, "name" | "id">;

interface Entry extends Omit<HelperProto, "id"> {
  /**
   * Program types that may call it (every type when absent), for types the probed
   * availability table does not cover.
   */
  readonly progTypes?: readonly number[];
  /**
   * Prototypes that differ by program type (the kernel's per-type func_proto picks
   * another `bpf_func_proto`): the first variant naming the type replaces the fields it sets.
   */
  readonly variants?: readonly (Partial<Omit<Entry, "variants" | "name">> & {
    readonly for: readonly number[];
  })[];
}

const TABLE: Readonly<Partial<Record<keyof typeof HelperId, Omit<Entry, "name">>>> = {
  map_lookup_elem: { args: ["map_ptr", "map_key"], ret: "map_value_or_null", pktAccess: true },
  map_update_elem: {
    args: ["map_ptr", "map_key", "map_value", "anything"],
    ret: "integer",
    pktAccess: true,
  },
  map_delete_elem: { args: ["map_ptr", "map_key"], ret: "integer", pktAccess: true },
  ktime_get_ns: { args: [], ret: "integer" },
  ktime_get_boot_ns: { args: [], ret: "integer" },
  trace_printk: { args: ["mem", "const_size"], ret: "integer", gplOnly: true },
  get_prandom_u32: { args: [], ret: "integer" },
  get_smp_processor_id: { args: [], ret: "integer" },
  get_current_pid_tgid: { args: [], ret: "integer" },
  get_current_uid_gid: { args: [], ret: "integer" },
  get_current_comm: { args: ["uninit_mem", "const_size"], ret: "integer" },
  skb_store_bytes: {
    args: ["ctx", "anything", "mem", "const_size", "anything"],
    ret: "integer",
    changesPacket: true,
    progTypes: TC_TYPES,
  },
  skb_load_bytes: {
    args: ["ctx", "anything", "uninit_mem", "const_size"],
    ret: "integer",
    progTypes: SKB_TYPES,
  },
  csum_diff: {
    args: ["mem_or_null", "const_size_or_zero", "mem_or_null", "const_size_or_zero", "anything"],
    ret: "integer",
    pktAccess: true,
  },
  xdp_adjust_head: {
    args: ["ctx", "anything"],
    ret: "integer",
    changesPacket: true,
    progTypes: [ProgType.XDP],
  },
  xdp_adjust_meta: {
    args: ["ctx", "anything"],
    ret: "integer",
    changesPacket: true,
    progTypes: [ProgType.XDP],
  },
  xdp_adjust_tail: {
    args: ["ctx", "anything"],
    ret: "integer",
    changesPacket: true,
    progTypes: [ProgType.XDP],
  },
  ringbuf_output: {
    args: ["map_ptr", "mem", "const_size_or_zero", "anything"],
    ret: "integer",
    mapTypes: RINGBUF,
  },
  ringbuf_reserve: {
    args: ["map_ptr", "alloc_size", "anything"],
    ret: "ringbuf_mem_or_null",
    ref: "acquire",
    mapTypes: RINGBUF,
  },
  ringbuf_submit: { args: ["ringbuf_mem_release", "anything"], ret: "void" },
  ringbuf_discard: { args: ["ringbuf_mem_release", "anything"], ret: "void" },
  ringbuf_query: { args: ["map_ptr", "anything"], ret: "integer", mapTypes: RINGBUF },
  // The probe_read family: any program type of a root loader (bpf_base_func_proto, CAP_PERFMON).
  probe_read_user: PROBE_READ,
  probe_read_kernel: PROBE_READ,
  probe_read_user_str: PROBE_READ,
  probe_read_kernel_str: PROBE_READ,
  probe_read: { ...PROBE_READ, progTypes: TRACING_TYPES },
  probe_read_str: { ...PROBE_READ, progTypes: TRACING_TYPES },
  // A tail call that fails returns with the packet possibly changed by the callee's attempt.
  tail_call: {
    args: ["ctx", "map_ptr", "anything"],
    ret: "void",
    mapTypes: [MapType.PROG_ARRAY],
    changesPacket: true,
  },
  perf_event_output: {
    args: ["ctx", "map_ptr", "anything", "mem", "const_size_or_zero"],
    ret: "integer",
    gplOnly: true,
    mapTypes: [MapType.PERF_EVENT_ARRAY],
  },
  get_cgroup_classid: { args: ["ctx"], ret: "integer", progTypes: TC_TYPES },
  skb_vlan_push: {
    args: ["ctx", "anything", "anything"],
    ret: "integer",
    changesPacket: true,
    progTypes: TC_TYPES,
  },
  // Socket lookups (skb, xdp, sock_addr flavours share their prototype) and references.
  sk_lookup_tcp: SK_LOOKUP,
  sk_lookup_udp: SK_LOOKUP,
  skc_lookup_tcp: { ...SK_LOOKUP, ret: "sock_common_or_null" },
  sk_release: { args: ["sock_release"], ret: "integer" },
  sk_fullsock: { args: ["sock_common"], ret: "sock_or_null", ref: "cast" },
  tcp_sock: { args: ["sock_common"], ret: "tcp_sock_or_null", ref: "cast" },
  get_listener_sock: { args: ["sock_common"], ret: "sock_or_null" },
  jiffies64: { args: [], ret: "integer" },
  spin_lock: { args: ["spin_lock"], ret: "void" },
  spin_unlock: { args: ["spin_lock"], ret: "void" },
  get_numa_node_id: { args: [], ret: "integer" },
  ktime_get_coarse_ns: { args: [], ret: "integer" },
  ktime_get_tai_ns: { args: [], ret: "integer" },
  get_current_cgroup_id: { args: [], ret: "integer" },
  get_current_ancestor_cgroup_id: { args: ["anything"], ret: "integer" },
  get_current_task: { args: [], ret: "integer", gplOnly: true },
  send_signal: { args: ["anything"], ret: "integer" },
  send_signal_thread: { args: ["anything"], ret: "integer" },
  probe_write_user: { args: ["anything", "mem", "const_size"], ret: "integer", gplOnly: true },
  strtol: { args: ["mem", "const_size", "anything", "u64_out"], ret: "integer" },
  strtoul: { args: ["mem", "const_size", "anything", "u64_out"], ret: "integer" },
  get_stack: {
    args: ["ctx", "uninit_mem", "const_size_or_zero", "anything"],
    ret: "integer",
    gplOnly: true,
    variants: [
      {
        for: [ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE],
        args: ["ctx", "mem", "const_size_or_zero", "anything"],
      },
    ],
  },
  get_stackid: {
    args: ["ctx", "map_ptr", "anything"],
    ret: "integer",
    gplOnly: true,
    mapTypes: [MapType.STACK_TRACE],
    variants: [{ for: [ProgType.PERF_EVENT], gplOnly: false }],
  },
  perf_event_read: {
    args: ["map_ptr", "anything"],
    ret: "integer",
    gplOnly: true,
    mapTypes: [MapType.PERF_EVENT_ARRAY],
  },
  perf_event_read_value: {
    args: ["map_ptr", "anything", "uninit_mem", "const_size"],
    ret: "integer",
    gplOnly: true,
    mapTypes: [MapType.PERF_EVENT_ARRAY],
  },
  get_func_ip: { args: ["ctx"], ret: "integer", gplOnly: true },
  get_attach_cookie: { args: ["ctx"], ret: "integer" },
  current_task_under_cgroup: {
    args: ["map_ptr", "anything"],
    ret: "integer",
    mapTypes: [MapType.CGROUP_ARRAY],
  },
  get_local_storage: {
    args: ["map_ptr", "anything"],
    ret: "map_value",
    mapTypes: [MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE],
  },
  map_push_elem: {
    args: ["map_ptr", "map_value", "anything"],
    ret: "integer",
    pktAccess: true,
    mapTypes: [MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER],
  },
  map_pop_elem: {
    args: ["map_ptr", "map_value_out"],
    ret: "integer",
    mapTypes: [MapType.QUEUE, MapType.STACK],
  },
  map_peek_elem: {
    args: ["map_ptr", "map_value_out"],
    ret: "integer",
    mapTypes: [MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER],
  },
  // Socket buffers (tc, socket filters, lwt, sk_skb: the availability table says which).
  csum_update: { args: ["ctx", "anything"], ret: "integer" },
  get_hash_recalc: { args: ["ctx"], ret: "integer" },
  set_hash: { args: ["ctx", "anything"], ret: "integer" },
  get_route_realm: { args: ["ctx"], ret: "integer" },
  skb_cgroup_id: { args: ["ctx"], ret: "integer" },
  skb_ecn_set_ce: { args: ["ctx"], ret: "integer" },
  skb_under_cgroup: {
    args: ["ctx", "map_ptr", "anything"],
    ret: "integer",
    mapTypes: [MapType.CGROUP_ARRAY],
  },
  skb_pull_data: { args: ["ctx", "anything"], ret: "integer", changesPacket: true },
  skb_change_head: { args: ["ctx", "anything", "anything"], ret: "integer", changesPacket: true },
  skb_change_tail: { args: ["ctx", "anything", "anything"], ret: "integer", changesPacket: true },
  skb_change_proto: { args: ["ctx", "anything", "anything"], ret: "integer", changesPacket: true },
  skb_change_type: { args: ["ctx", "anything"], ret: "integer" },
  skb_adjust_room: {
    args: ["ctx", "anything", "anything", "anything"],
    ret: "integer",
    changesPacket: true,
  },
  skb_vlan_pop: { args: ["ctx"], ret: "integer", changesPacket: true },
  l3_csum_replace: {
    args: ["ctx", "anything", "anything", "anything", "anything"],
    ret: "integer",
    changesPacket: true,
  },
  l4_csum_replace: {
    args: ["ctx", "anything", "anything", "anything", "anything"],
    ret: "integer",
    changesPacket: true,
  },
  clone_redirect: {
    args: ["ctx", "anything", "anything"],
    ret: "integer",
    changesPacket: true,
  },
  skb_load_bytes_relative: {
    args: ["ctx", "anything", "uninit_mem", "const_size", "anything"],
    ret: "integer",
  },
  skb_get_tunnel_key: {
    args: ["ctx", "uninit_mem", "const_size", "anything"],
    ret: "integer",
  },
  skb_set_tunnel_key: { args: ["ctx", "mem", "const_size", "anything"], ret: "integer" },
  redirect: { args: ["anything", "anything"], ret: "integer" },
  redirect_peer: { args: ["anything", "anything"], ret: "integer" },
  redirect_neigh: {
    args: ["anything", "mem_or_null", "const_size_or_zero", "anything"],
    ret: "integer",
  },
  redirect_map: {
    args: ["map_ptr", "anything", "anything"],
    ret: "integer",
    mapTypes: [MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP],
  },
  check_mtu: {
    args: ["ctx", "anything", "u32_out", "anything", "anything"],
    ret: "integer",
    gplOnly: true,
  },
  fib_lookup: { args: ["ctx", "mem_rw", "const_size", "anything"], ret: "integer", gplOnly: true },
  xdp_load_bytes: { args: ["ctx", "anything", "uninit_mem", "const_size"], ret: "integer" },
  xdp_store_bytes: { args: ["ctx", "anything", "mem", "const_size"], ret: "integer" },
  xdp_get_buff_len: { args: ["ctx"], ret: "integer" },
  // Sockets and socket maps.
  get_socket_cookie: { args: ["ctx"], ret: "integer" },
  get_netns_cookie: { args: ["ctx_or_null"], ret: "integer" },
  sock_map_update: {
    args: ["ctx", "map_ptr", "map_key", "anything"],
    ret: "integer",
    pktAccess: true,
    mapTypes: [MapType.SOCKMAP],
  },
  sock_hash_update: {
    args: ["ctx", "map_ptr", "map_key", "anything"],
    ret: "integer",
    pktAccess: true,
    mapTypes: [MapType.SOCKHASH],
  },
  sk_redirect_map: { ...SOCK_REDIRECT, mapTypes: [MapType.SOCKMAP] },
  msg_redirect_map: { ...SOCK_REDIRECT, mapTypes: [MapType.SOCKMAP] },
  sk_redirect_hash: { ...SOCK_REDIRECT_KEY, mapTypes: [MapType.SOCKHASH] },
  msg_redirect_hash: { ...SOCK_REDIRECT_KEY, mapTypes: [MapType.SOCKHASH] },
  sk_select_reuseport: {
    ...SOCK_REDIRECT_KEY,
    mapTypes: [MapType.REUSEPORT_SOCKARRAY, MapType.SOCKMAP, MapType.SOCKHASH],
  },
  sock_ops_cb_flags_set: { args: ["ctx", "anything"], ret: "integer" },
  bind: { args: ["ctx", "mem", "const_size"], ret: "integer" },
  getsockopt: {
    args: ["btf_sock_common", "anything", "anything", "uninit_mem", "const_size"],
    ret: "integer",
    variants: [
      {
        for: [ProgType.CGROUP_SOCK_ADDR, ProgType.SOCK_OPS],
        args: ["ctx", "anything", "anything", "uninit_mem", "const_size"],
      },
    ],
  },
  setsockopt: {
    args: ["btf_sock_common", "anything", "anything", "mem", "const_size"],
    ret: "integer",
    variants: [
      {
        for: [ProgType.CGROUP_SOCK_ADDR, ProgType.SOCK_OPS],
        args: ["ctx", "anything", "anything", "mem", "const_size"],
      },
    ],
  },
  tcp_check_syncookie: {
    args: ["btf_sock_common", "mem", "const_size", "mem", "const_size"],
    ret: "integer",
    gplOnly: true,
    pktAccess: true,
  },
  sk_assign: { args: ["ctx", "btf_sock_common", "anything"], ret: "integer" },
  loop: {
    args: ["anything", "func", "stack_or_null", "anything"],
    ret: "integer",
    callback: "loop",
  },
};

const NAMES = new Map(
  Object.entries(HelperId).map(([k, v]) => [v as number, k as keyof typeof HelperId]),
);

/**
 * The prototype of helper `id` as `progType` may call it, or why not: `unknown` (no
 * such helper), `notAllowed` (the kernel refuses it for this program type, per the
 * probed availability table), `unmodelled` (allowed, but this verifier has no prototype
 * for it yet, so it cannot judge the call).
 */
export function helperProto(
  id: number,
  progType: number,
): { proto: HelperProto } | { unknown: true } | { notAllowed: string } | { unmodelled: string } {
  const name = NAMES.get(id);
  if (name === undefined || name === "unspec") return { unknown: true };
  const probed = HELPER_AVAILABILITY.get(progType);
  if (probed && !probed.includes(id)) return { notAllowed: `bpf_${name}` };
  const e = TABLE[name];
  if (!e) return probed ? { unmodelled: `bpf_${name}` } : { notAllowed: `bpf_${name}` };
  if (!probed && e.progTypes && !e.progTypes.includes(progType))
    return { notAllowed: `bpf_${name}` };
  const variant = e.variants?.find((v) => v.for.includes(progType));
  return { proto: { ...e, ...variant, name: `bpf_${name}`, id } };
}

/** How many argument registers helper `id` reads (5 when it is unknown: any may be). */
export function helperArgCount(id: number): number {
  const name = NAMES.get(id);
  const e = name && TABLE[name];
  return e ? e.args.length : 5;
}

/** Whether helper `id` runs a callback (bpf_loop...). */
export function helperCallsBack(id: number): boolean {
  const name = NAMES.get(id);
  return !!(name && TABLE[name]?.callback);
}

/**
 * Map types only some helpers may take (the map side of the kernel's
 * check_map_func_compatibility); other map types go to any helper that takes a map.
 */
const MAP_ONLY: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [MapType.PROG_ARRAY, ["tail_call"]],
  [
    MapType.PERF_EVENT_ARRAY,
    ["perf_event_read", "perf_event_output", "skb_output", "perf_event_read_value", "xdp_output"],
  ],
  [
    MapType.RINGBUF,
    ["ringbuf_output", "ringbuf_reserve", "ringbuf_query", "ringbuf_reserve_dynptr"],
  ],
  [MapType.USER_RINGBUF, ["user_ringbuf_drain"]],
  [MapType.STACK_TRACE, ["get_stackid"]],
  [MapType.CGROUP_ARRAY, ["skb_under_cgroup", "current_task_under_cgroup"]],
  [MapType.CGROUP_STORAGE, ["get_local_storage"]],
  [MapType.PERCPU_CGROUP_STORAGE, ["get_local_storage"]],
  [MapType.DEVMAP, ["redirect_map", "map_lookup_elem"]],
  [MapType.DEVMAP_HASH, ["redirect_map", "map_lookup_elem"]],
  [MapType.CPUMAP, ["redirect_map"]],
  [MapType.XSKMAP, ["redirect_map", "map_lookup_elem"]],
  [MapType.ARRAY_OF_MAPS, ["map_lookup_elem"]],
  [MapType.HASH_OF_MAPS, ["map_lookup_elem"]],
  [MapType.REUSEPORT_SOCKARRAY, ["sk_select_reuseport"]],
  [MapType.QUEUE, ["map_peek_elem", "map_pop_elem", "map_push_elem"]],
  [MapType.STACK, ["map_peek_elem", "map_pop_elem", "map_push_elem"]],
  [MapType.BLOOM_FILTER, ["map_peek_elem", "map_push_elem"]],
  [MapType.SK_STORAGE, ["sk_storage_get", "sk_storage_delete", "kptr_xchg"]],
  [MapType.INODE_STORAGE, ["inode_storage_get", "inode_storage_delete", "kptr_xchg"]],
  [MapType.TASK_STORAGE, ["task_storage_get", "task_storage_delete", "kptr_xchg"]],
  [MapType.CGRP_STORAGE, ["cgrp_storage_get", "cgrp_storage_delete", "kptr_xchg"]],
]);

/** Whether a map of `mapType` may be passed to helper `name` (`bpf_` prefixed). */
export function mapAllowsHelper(mapType: number, name: string): boolean {
  const only = MAP_ONLY.get(mapType);
  return !only || only.includes(name.replace(/^bpf_/, ""));
}
