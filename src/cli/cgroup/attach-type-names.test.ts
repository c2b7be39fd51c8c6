import assert from "node:assert/strict";
import { test } from "node:test";
import { AttachType } from "../../uapi/index.ts";
import { parseAttachType } from "./attach-type-names.ts";

test("ATTACH_TYPE: full names exactly, short names by any prefix, in the kernel's order", () => {
  const cases: [string, number | undefined][] = [
    ["cgroup_inet_egress", AttachType.CGROUP_INET_EGRESS],
    ["egress", AttachType.CGROUP_INET_EGRESS],
    ["eg", AttachType.CGROUP_INET_EGRESS],
    // "" abbreviates every name: the first type wins, as in bpftool
    ["", AttachType.CGROUP_INET_INGRESS],
    ["i", AttachType.CGROUP_INET_INGRESS],
    ["sock", AttachType.CGROUP_INET_SOCK_CREATE],
    ["sock_o", AttachType.CGROUP_SOCK_OPS],
    ["device", AttachType.CGROUP_DEVICE],
    ["cgroup_device", AttachType.CGROUP_DEVICE],
    ["bind4", AttachType.CGROUP_INET4_BIND],
    ["post_bind6", AttachType.CGROUP_INET6_POST_BIND],
    ["sock_release", AttachType.CGROUP_INET_SOCK_RELEASE],
    ["connect_unix", AttachType.CGROUP_UNIX_CONNECT],
    ["cgroup_unix_sendmsg", AttachType.CGROUP_UNIX_SENDMSG],
    ["sk_skb_stream_p", AttachType.SK_SKB_STREAM_PARSER],
    ["xdp", AttachType.XDP],
    // a full name is not abbreviated where a short name exists
    ["cgroup_inet_e", undefined],
    ["egressx", undefined],
    ["nonsense", undefined],
  ];
  for (const [word, want] of cases) assert.equal(parseAttachType(word), want, `'${word}'`);
});
