/**
 * Register types as the kernel's verifier tracks them (`enum bpf_reg_type` and its
 * flag bits), and their names as its log prints them (`reg_type_str`): a message such as
 * `R0 invalid mem access 'map_value_or_null'` names the type this way.
 * @module
 */

/** The base type of a register's value. */
export type BaseType =
  | "not_init"
  | "scalar"
  | "ctx"
  | "map_ptr"
  | "map_value"
  | "map_key"
  | "stack"
  | "pkt"
  | "pkt_meta"
  | "pkt_end"
  | "flow_keys"
  | "sock"
  | "sock_common"
  | "tcp_sock"
  | "xdp_sock"
  | "tp_buffer"
  | "btf_id"
  | "mem"
  | "buf"
  | "func";

/** How the kernel spells each base type in its log. */
const BASE_NAMES: Readonly<Record<BaseType, string>> = {
  not_init: "?",
  scalar: "scalar",
  ctx: "ctx",
  map_ptr: "map_ptr",
  map_value: "map_value",
  map_key: "map_key",
  stack: "fp",
  pkt: "pkt",
  pkt_meta: "pkt_meta",
  pkt_end: "pkt_end",
  flow_keys: "flow_keys",
  sock: "sock",
  sock_common: "sock_common",
  tcp_sock: "tcp_sock",
  xdp_sock: "xdp_sock",
  tp_buffer: "tp_buffer",
  btf_id: "ptr_",
  mem: "mem",
  buf: "buf",
  func: "func",
};

/** Modifier bits of a pointer type (the kernel's type flags that its log shows). */
export interface TypeFlags {
  /** PTR_MAYBE_NULL: must be compared with 0 before use. */
  readonly maybeNull?: boolean;
  /** MEM_RDONLY: may be read, not written. */
  readonly rdonly?: boolean;
  /** MEM_RINGBUF: memory reserved in a ring buffer (a reference to submit or discard). */
  readonly ringbuf?: boolean;
  /** PTR_TRUSTED: a BTF pointer the kernel vouches for (`trusted_ptr_...`). */
  readonly trusted?: boolean;
}

/** `reg_type_str`: e.g. `map_value_or_null`, `rdonly_mem`, `ringbuf_mem_or_null`. */
export function typeName(base: BaseType, flags: TypeFlags = {}): string {
  let prefix = "";
  if (flags.rdonly) prefix += "rdonly_";
  if (flags.ringbuf) prefix += "ringbuf_";
  if (flags.trusted) prefix += "trusted_";
  return `${prefix}${BASE_NAMES[base]}${flags.maybeNull ? "_or_null" : ""}`;
}

/** Pointers into packet data: their bounds are proven by comparing with pkt_end. */
export const isPacketPointer = (t: BaseType): boolean => t === "pkt" || t === "pkt_meta";
