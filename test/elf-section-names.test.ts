/**
 * libbpf's SEC() table: every form of the generated table is recognised with and
 * without a target as its matching rule says, and hand-checked facts from libbpf's
 * section_defs[] (program type, expected attach type, flags, first-match order).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAttachTypes, parseSectionDefs, render } from "../scripts/gen-section-defs.ts";
import { parseSectionName, SECTION_DEFS, sectionMatches } from "../src/elf/index.ts";
import { AttachType, ProgLoadFlags, ProgType } from "../src/uapi/index.ts";

/** libbpf f7081a6's section_defs[] has 116 entries; a form cannot go missing unnoticed. */
const LIBBPF_FORMS = 116;

/** The forms whose attach type Linux 6.18's uapi lacks, with libbpf's number for it. */
const NEWER_FORMS: Record<string, [string, number]> = {
  "fsession+": ["BPF_TRACE_FSESSION", 58],
  "fsession.s+": ["BPF_TRACE_FSESSION", 58],
  "fsession.multi+": ["BPF_TRACE_FSESSION_MULTI", 61],
  "fsession.multi.s+": ["BPF_TRACE_FSESSION_MULTI", 61],
  "fentry.multi+": ["BPF_TRACE_FENTRY_MULTI", 59],
  "fexit.multi+": ["BPF_TRACE_FEXIT_MULTI", 60],
  "fentry.multi.s+": ["BPF_TRACE_FENTRY_MULTI", 59],
  "fexit.multi.s+": ["BPF_TRACE_FEXIT_MULTI", 60],
};

test("the table has all of libbpf's forms, the newer ones marked with what they need", () => {
  assert.equal(SECTION_DEFS.length, LIBBPF_FORMS);
  const newer: Record<string, [string, number]> = {};
  for (const d of SECTION_DEFS) {
    if (!d.requires) continue;
    const key = `${d.prefix}${d.target === "optional" ? "+" : ""}`;
    newer[key] = [d.requires.attachType, d.requires.value ?? -1];
    assert.equal(d.expectedAttachType, undefined, key);
    assert.equal(d.type, ProgType.TRACING, key);
    assert.ok(!(d.requires.attachType.replace(/^BPF_/, "") in AttachType), key);
  }
  assert.deepEqual(newer, NEWER_FORMS);
  const s = parseSectionName("fentry.multi.s/vfs_*");
  assert.equal(s?.def.requires?.attachType, "BPF_TRACE_FENTRY_MULTI");
  assert.equal(s.attachTo, "vfs_*");
  assert.equal(s.flags, ProgLoadFlags.SLEEPABLE);
  assert.equal(s.expectedAttachType, undefined);
});

test("every form of the table parses to itself", () => {
  for (const def of SECTION_DEFS) {
    const bare = parseSectionName(def.prefix);
    // A bare name matches its own entry unless an earlier entry takes it (none does).
    assert.equal(bare?.def, def, `"${def.prefix}" matched ${bare?.def.prefix}`);
    assert.equal(bare.type, def.type);
    assert.equal(bare.expectedAttachType, def.expectedAttachType);
    assert.equal(bare.attachTo, undefined);
    const flags =
      (def.sleepable ? ProgLoadFlags.SLEEPABLE : 0) |
      (def.xdpFrags ? ProgLoadFlags.XDP_HAS_FRAGS : 0);
    assert.equal(bare.flags, flags, def.prefix);
    const withTarget = parseSectionName(`${def.prefix}/some_target`);
    if (def.target === "optional") {
      assert.equal(withTarget?.def, def, `${def.prefix}/some_target`);
      assert.equal(withTarget.attachTo, "some_target");
    } else {
      // Exact forms refuse a target, unless a longer exact form exists (xdp/devmap...).
      assert.ok(withTarget === undefined || withTarget.def !== def, `${def.prefix}/some_target`);
    }
    // Gluing characters to a prefix never matches that entry.
    assert.notEqual(parseSectionName(`${def.prefix}x`)?.def, def, `${def.prefix}x`);
  }
});

test("no form is listed twice", () => {
  const seen = new Set<string>();
  for (const d of SECTION_DEFS) {
    const key = `${d.prefix}${d.target === "optional" ? "+" : ""}`;
    assert.ok(!seen.has(key), key);
    seen.add(key);
  }
});

/** [section, type, expected attach type or undefined, attachTo, flags] checked by hand. */
const FACTS: [string, number, number | undefined, string | undefined, number][] = [
  ["socket", ProgType.SOCKET_FILTER, undefined, undefined, 0],
  [
    "sk_reuseport/migrate",
    ProgType.SK_REUSEPORT,
    AttachType.SK_REUSEPORT_SELECT_OR_MIGRATE,
    undefined,
    0,
  ],
  ["sk_reuseport", ProgType.SK_REUSEPORT, AttachType.SK_REUSEPORT_SELECT, undefined, 0],
  ["kprobe/do_sys_openat2", ProgType.KPROBE, undefined, "do_sys_openat2", 0],
  ["kretprobe/do_sys_openat2+0x10", ProgType.KPROBE, undefined, "do_sys_openat2+0x10", 0],
  ["kprobe.multi/vfs_*", ProgType.KPROBE, AttachType.TRACE_KPROBE_MULTI, "vfs_*", 0],
  ["kretprobe.multi/vfs_*", ProgType.KPROBE, AttachType.TRACE_KPROBE_MULTI, "vfs_*", 0],
  ["kprobe.session/x", ProgType.KPROBE, AttachType.TRACE_KPROBE_SESSION, "x", 0],
  ["uprobe//bin/bash:readline", ProgType.KPROBE, undefined, "/bin/bash:readline", 0],
  [
    "uprobe.s//bin/bash:readline",
    ProgType.KPROBE,
    undefined,
    "/bin/bash:readline",
    ProgLoadFlags.SLEEPABLE,
  ],
  ["uretprobe.s/x", ProgType.KPROBE, undefined, "x", ProgLoadFlags.SLEEPABLE],
  ["uprobe.multi/x", ProgType.KPROBE, AttachType.TRACE_UPROBE_MULTI, "x", 0],
  [
    "uprobe.multi.s/x",
    ProgType.KPROBE,
    AttachType.TRACE_UPROBE_MULTI,
    "x",
    ProgLoadFlags.SLEEPABLE,
  ],
  ["uprobe.session/x", ProgType.KPROBE, AttachType.TRACE_UPROBE_SESSION, "x", 0],
  ["ksyscall/openat", ProgType.KPROBE, undefined, "openat", 0],
  ["kretsyscall/openat", ProgType.KPROBE, undefined, "openat", 0],
  ["usdt/libc.so.6:libc:setjmp", ProgType.KPROBE, undefined, "libc.so.6:libc:setjmp", 0],
  ["usdt.s/a:b:c", ProgType.KPROBE, undefined, "a:b:c", ProgLoadFlags.SLEEPABLE],
  ["tc/ingress", ProgType.SCHED_CLS, AttachType.TCX_INGRESS, undefined, 0],
  ["tc/egress", ProgType.SCHED_CLS, AttachType.TCX_EGRESS, undefined, 0],
  ["tcx/ingress", ProgType.SCHED_CLS, AttachType.TCX_INGRESS, undefined, 0],
  ["tcx/egress", ProgType.SCHED_CLS, AttachType.TCX_EGRESS, undefined, 0],
  ["tc", ProgType.SCHED_CLS, undefined, undefined, 0],
  ["classifier", ProgType.SCHED_CLS, undefined, undefined, 0],
  ["action", ProgType.SCHED_ACT, undefined, undefined, 0],
  ["netkit/primary", ProgType.SCHED_CLS, AttachType.NETKIT_PRIMARY, undefined, 0],
  ["netkit/peer", ProgType.SCHED_CLS, AttachType.NETKIT_PEER, undefined, 0],
  [
    "tracepoint/syscalls/sys_enter_openat",
    ProgType.TRACEPOINT,
    undefined,
    "syscalls/sys_enter_openat",
    0,
  ],
  ["tp/sched/sched_switch", ProgType.TRACEPOINT, undefined, "sched/sched_switch", 0],
  [
    "tp.s/syscalls/sys_enter_openat",
    ProgType.TRACEPOINT,
    undefined,
    "syscalls/sys_enter_openat",
    ProgLoadFlags.SLEEPABLE,
  ],
  ["raw_tracepoint/sys_enter", ProgType.RAW_TRACEPOINT, undefined, "sys_enter", 0],
  ["raw_tp/sys_enter", ProgType.RAW_TRACEPOINT, undefined, "sys_enter", 0],
  ["raw_tp.w/bpf_test_finish", ProgType.RAW_TRACEPOINT_WRITABLE, undefined, "bpf_test_finish", 0],
  ["raw_tracepoint.w/x", ProgType.RAW_TRACEPOINT_WRITABLE, undefined, "x", 0],
  ["tp_btf/sched_switch", ProgType.TRACING, AttachType.TRACE_RAW_TP, "sched_switch", 0],
  ["fentry/do_unlinkat", ProgType.TRACING, AttachType.TRACE_FENTRY, "do_unlinkat", 0],
  ["fexit/do_unlinkat", ProgType.TRACING, AttachType.TRACE_FEXIT, "do_unlinkat", 0],
  ["fmod_ret/x", ProgType.TRACING, AttachType.MODIFY_RETURN, "x", 0],
  ["fentry.s/x", ProgType.TRACING, AttachType.TRACE_FENTRY, "x", ProgLoadFlags.SLEEPABLE],
  ["fexit.s/x", ProgType.TRACING, AttachType.TRACE_FEXIT, "x", ProgLoadFlags.SLEEPABLE],
  ["fmod_ret.s/x", ProgType.TRACING, AttachType.MODIFY_RETURN, "x", ProgLoadFlags.SLEEPABLE],
  ["freplace/handler", ProgType.EXT, undefined, "handler", 0],
  ["lsm/file_open", ProgType.LSM, AttachType.LSM_MAC, "file_open", 0],
  ["lsm.s/file_open", ProgType.LSM, AttachType.LSM_MAC, "file_open", ProgLoadFlags.SLEEPABLE],
  ["lsm_cgroup/socket_bind", ProgType.LSM, AttachType.LSM_CGROUP, "socket_bind", 0],
  ["iter/task", ProgType.TRACING, AttachType.TRACE_ITER, "task", 0],
  ["iter.s/task", ProgType.TRACING, AttachType.TRACE_ITER, "task", ProgLoadFlags.SLEEPABLE],
  ["syscall", ProgType.SYSCALL, undefined, undefined, ProgLoadFlags.SLEEPABLE],
  ["xdp.frags/devmap", ProgType.XDP, AttachType.XDP_DEVMAP, undefined, ProgLoadFlags.XDP_HAS_FRAGS],
  ["xdp/devmap", ProgType.XDP, AttachType.XDP_DEVMAP, undefined, 0],
  ["xdp.frags/cpumap", ProgType.XDP, AttachType.XDP_CPUMAP, undefined, ProgLoadFlags.XDP_HAS_FRAGS],
  ["xdp/cpumap", ProgType.XDP, AttachType.XDP_CPUMAP, undefined, 0],
  ["xdp.frags", ProgType.XDP, AttachType.XDP, undefined, ProgLoadFlags.XDP_HAS_FRAGS],
  ["xdp", ProgType.XDP, AttachType.XDP, undefined, 0],
  ["perf_event", ProgType.PERF_EVENT, undefined, undefined, 0],
  ["lwt_in", ProgType.LWT_IN, undefined, undefined, 0],
  ["lwt_out", ProgType.LWT_OUT, undefined, undefined, 0],
  ["lwt_xmit", ProgType.LWT_XMIT, undefined, undefined, 0],
  ["lwt_seg6local", ProgType.LWT_SEG6LOCAL, undefined, undefined, 0],
  ["sockops", ProgType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS, undefined, 0],
  ["sk_skb/stream_parser", ProgType.SK_SKB, AttachType.SK_SKB_STREAM_PARSER, undefined, 0],
  ["sk_skb/stream_verdict", ProgType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT, undefined, 0],
  ["sk_skb/verdict", ProgType.SK_SKB, AttachType.SK_SKB_VERDICT, undefined, 0],
  ["sk_skb", ProgType.SK_SKB, undefined, undefined, 0],
  ["sk_msg", ProgType.SK_MSG, AttachType.SK_MSG_VERDICT, undefined, 0],
  ["lirc_mode2", ProgType.LIRC_MODE2, AttachType.LIRC_MODE2, undefined, 0],
  ["flow_dissector", ProgType.FLOW_DISSECTOR, AttachType.FLOW_DISSECTOR, undefined, 0],
  ["cgroup_skb/ingress", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, undefined, 0],
  ["cgroup_skb/egress", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, undefined, 0],
  ["cgroup/skb", ProgType.CGROUP_SKB, undefined, undefined, 0],
  ["cgroup/sock_create", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, undefined, 0],
  ["cgroup/sock_release", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_RELEASE, undefined, 0],
  ["cgroup/sock", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, undefined, 0],
  ["cgroup/post_bind4", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, undefined, 0],
  ["cgroup/post_bind6", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET6_POST_BIND, undefined, 0],
  ["cgroup/bind4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, undefined, 0],
  ["cgroup/bind6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND, undefined, 0],
  ["cgroup/connect4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, undefined, 0],
  ["cgroup/connect6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, undefined, 0],
  ["cgroup/connect_unix", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_CONNECT, undefined, 0],
  ["cgroup/sendmsg4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG, undefined, 0],
  ["cgroup/sendmsg6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG, undefined, 0],
  ["cgroup/sendmsg_unix", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_SENDMSG, undefined, 0],
  ["cgroup/recvmsg4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_RECVMSG, undefined, 0],
  ["cgroup/recvmsg6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_RECVMSG, undefined, 0],
  ["cgroup/recvmsg_unix", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_RECVMSG, undefined, 0],
  [
    "cgroup/getpeername4",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_INET4_GETPEERNAME,
    undefined,
    0,
  ],
  [
    "cgroup/getpeername6",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_INET6_GETPEERNAME,
    undefined,
    0,
  ],
  [
    "cgroup/getpeername_unix",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_UNIX_GETPEERNAME,
    undefined,
    0,
  ],
  [
    "cgroup/getsockname4",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_INET4_GETSOCKNAME,
    undefined,
    0,
  ],
  [
    "cgroup/getsockname6",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_INET6_GETSOCKNAME,
    undefined,
    0,
  ],
  [
    "cgroup/getsockname_unix",
    ProgType.CGROUP_SOCK_ADDR,
    AttachType.CGROUP_UNIX_GETSOCKNAME,
    undefined,
    0,
  ],
  ["cgroup/sysctl", ProgType.CGROUP_SYSCTL, AttachType.CGROUP_SYSCTL, undefined, 0],
  ["cgroup/getsockopt", ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT, undefined, 0],
  ["cgroup/setsockopt", ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT, undefined, 0],
  ["cgroup/dev", ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE, undefined, 0],
  ["struct_ops/tcp_init", ProgType.STRUCT_OPS, undefined, "tcp_init", 0],
  ["struct_ops.s/x", ProgType.STRUCT_OPS, undefined, "x", ProgLoadFlags.SLEEPABLE],
  ["struct_ops", ProgType.STRUCT_OPS, undefined, undefined, 0],
  ["sk_lookup", ProgType.SK_LOOKUP, AttachType.SK_LOOKUP, undefined, 0],
  ["netfilter", ProgType.NETFILTER, AttachType.NETFILTER, undefined, 0],
];

test("hand-checked forms from libbpf's section_defs[]", () => {
  for (const [sec, type, attach, attachTo, flags] of FACTS) {
    const s = parseSectionName(sec);
    assert.ok(s, `${sec} not recognised`);
    assert.equal(s.type, type, `${sec}: type`);
    assert.equal(s.expectedAttachType, attach, `${sec}: expected attach type`);
    assert.equal(s.attachTo, attachTo, `${sec}: attach target`);
    assert.equal(s.flags, flags, `${sec}: flags`);
  }
});

test("target rules: exact forms take no target, + forms need a slash", () => {
  for (const sec of [
    "xdp/foo",
    "socket/x",
    "sk_msg/x",
    "kprobex",
    "tracepointy/a",
    "cgroup/connect",
    "cgroup_skb/sideways",
    "tc/other",
    ".text",
    "",
    "license",
    "fentry.multix/x",
  ]) {
    assert.equal(parseSectionName(sec), undefined, sec);
  }
  // libbpf's first match wins: kprobe.multi is not kprobe with target ".multi".
  assert.equal(parseSectionName("kprobe.multi/x")?.def.prefix, "kprobe.multi");
  assert.equal(parseSectionName("kprobe")?.attachTo, undefined);
  assert.equal(parseSectionName("fentry")?.def.attachBtf, true);
  assert.equal(parseSectionName("tp")?.def.attach, "tp");
  assert.equal(parseSectionName("usdt")?.def.usdt, true);
  assert.ok(sectionMatches({ prefix: "a", target: "optional", type: ProgType.KPROBE }, "a/"));
});

test("the generator reads SEC_DEF lines and leaves out unknown attach types", () => {
  const src = `static const struct bpf_sec_def section_defs[] = {
	SEC_DEF("socket",		SOCKET_FILTER, 0, SEC_NONE),
	SEC_DEF("uprobe.s+",		KPROBE,	0, SEC_SLEEPABLE, attach_uprobe),
	SEC_DEF("xdp.frags/devmap",	XDP, BPF_XDP_DEVMAP, SEC_XDP_FRAGS),
	SEC_DEF("usdt.s+",		KPROBE,	0, SEC_USDT | SEC_SLEEPABLE, attach_usdt),
	SEC_DEF("future+",		TRACING, BPF_TRACE_FUTURE, SEC_ATTACH_BTF, attach_trace),
};`;
  const defs = parseSectionDefs(src);
  assert.equal(defs.length, 5);
  assert.deepEqual(defs[3]!.flags, ["SEC_USDT", "SEC_SLEEPABLE"]);
  const out = render(defs, "test");
  assert.match(
    out,
    /prefix: "uprobe.s", target: "optional", type: ProgType.KPROBE, sleepable: true, attach: "uprobe"/,
  );
  assert.match(
    out,
    /prefix: "xdp.frags\/devmap", target: "none", type: ProgType.XDP, expectedAttachType: AttachType.XDP_DEVMAP, xdpFrags: true/,
  );
  // An attach type this uapi lacks: kept, with a note and libbpf's number for it.
  assert.match(
    out,
    /prefix: "future", target: "optional", type: ProgType.TRACING, attachBtf: true, attach: "trace", requires: \{ attachType: "BPF_TRACE_FUTURE" \}/,
  );
  assert.match(out, /5 forms. Newer than this uapi .*: future\+\./);
  const numbered = render(defs, "test", new Map([["TRACE_FUTURE", 99]]));
  assert.match(numbered, /requires: \{ attachType: "BPF_TRACE_FUTURE", value: 99 \}/);
  // An unknown program type is left out and listed.
  const unknownType = render(
    parseSectionDefs(`static const struct bpf_sec_def section_defs[] = {
	SEC_DEF("newtype+",		NEWTYPE, 0, SEC_NONE),
};`),
    "test",
  );
  assert.match(
    unknownType,
    /Left out \(unknown program type\): newtype\+ \(program type NEWTYPE\)/,
  );
  assert.doesNotMatch(unknownType, /"newtype"/);
});

test("the generator numbers enum bpf_attach_type as C does", () => {
  const header = `enum bpf_attach_type {
	BPF_CGROUP_INET_INGRESS,
	BPF_CGROUP_INET_EGRESS, /* a comment, with a comma */
	BPF_LATER = 10,
	// another comment
	BPF_NEXT,
	__MAX_BPF_ATTACH_TYPE
};`;
  assert.deepEqual(
    [...parseAttachTypes(header)],
    [
      ["CGROUP_INET_INGRESS", 0],
      ["CGROUP_INET_EGRESS", 1],
      ["LATER", 10],
      ["NEXT", 11],
      ["__MAX_BPF_ATTACH_TYPE", 12],
    ],
  );
});
