/**
 * ATTACH_TYPE words as bpftool's cgroup commands read them: libbpf's full name
 * (`cgroup_inet_egress`), exactly, or any prefix of the short name bpftool has long
 * accepted (`egress`, `eg`, `sock_create`); other types by a prefix of their full name.
 */
import { AttachType, attachTypeName } from "../../uapi/index.ts";
import { isPrefix } from "../args.ts";

/** bpftool's traditional names (bpf_attach_type_input_str), and later bpftool's unix ones. */
const SHORT: ReadonlyMap<number, string> = new Map([
  [AttachType.CGROUP_INET_INGRESS, "ingress"],
  [AttachType.CGROUP_INET_EGRESS, "egress"],
  [AttachType.CGROUP_INET_SOCK_CREATE, "sock_create"],
  [AttachType.CGROUP_INET_SOCK_RELEASE, "sock_release"],
  [AttachType.CGROUP_SOCK_OPS, "sock_ops"],
  [AttachType.CGROUP_DEVICE, "device"],
  [AttachType.CGROUP_INET4_BIND, "bind4"],
  [AttachType.CGROUP_INET6_BIND, "bind6"],
  [AttachType.CGROUP_INET4_CONNECT, "connect4"],
  [AttachType.CGROUP_INET6_CONNECT, "connect6"],
  [AttachType.CGROUP_UNIX_CONNECT, "connect_unix"],
  [AttachType.CGROUP_INET4_POST_BIND, "post_bind4"],
  [AttachType.CGROUP_INET6_POST_BIND, "post_bind6"],
  [AttachType.CGROUP_INET4_GETPEERNAME, "getpeername4"],
  [AttachType.CGROUP_INET6_GETPEERNAME, "getpeername6"],
  [AttachType.CGROUP_UNIX_GETPEERNAME, "getpeername_unix"],
  [AttachType.CGROUP_INET4_GETSOCKNAME, "getsockname4"],
  [AttachType.CGROUP_INET6_GETSOCKNAME, "getsockname6"],
  [AttachType.CGROUP_UNIX_GETSOCKNAME, "getsockname_unix"],
  [AttachType.CGROUP_UDP4_SENDMSG, "sendmsg4"],
  [AttachType.CGROUP_UDP6_SENDMSG, "sendmsg6"],
  [AttachType.CGROUP_UNIX_SENDMSG, "sendmsg_unix"],
  [AttachType.CGROUP_SYSCTL, "sysctl"],
  [AttachType.CGROUP_UDP4_RECVMSG, "recvmsg4"],
  [AttachType.CGROUP_UDP6_RECVMSG, "recvmsg6"],
  [AttachType.CGROUP_UNIX_RECVMSG, "recvmsg_unix"],
  [AttachType.CGROUP_GETSOCKOPT, "getsockopt"],
  [AttachType.CGROUP_SETSOCKOPT, "setsockopt"],
  [AttachType.TRACE_RAW_TP, "raw_tp"],
  [AttachType.TRACE_FENTRY, "fentry"],
  [AttachType.TRACE_FEXIT, "fexit"],
  [AttachType.MODIFY_RETURN, "mod_ret"],
  [AttachType.SK_REUSEPORT_SELECT, "sk_skb_reuseport_select"],
  [AttachType.SK_REUSEPORT_SELECT_OR_MIGRATE, "sk_skb_reuseport_select_or_migrate"],
]);

/** Every attach type tsbpf knows, in the kernel's numbering. */
const TYPES: readonly number[] = [...new Set(Object.values(AttachType))].sort((a, b) => a - b);

/** The attach type `word` names, or undefined (bpftool's parse_attach_type). */
export function parseAttachType(word: string): number | undefined {
  const exact = TYPES.find((t) => attachTypeName(t) === word);
  if (exact !== undefined) return exact;
  return TYPES.find((t) => {
    const input = SHORT.get(t) ?? attachTypeName(t);
    return input !== undefined && isPrefix(word, input);
  });
}
