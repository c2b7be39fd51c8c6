import assert from "node:assert/strict";
import { test } from "node:test";
import { describeSection } from "./attach-descriptor.ts";

test("SEC() names become attach descriptors: hook, target, auto-attach, sleepable", () => {
  const cases: [string, object, boolean][] = [
    [
      "tracepoint/syscalls/sys_enter_openat",
      { kind: "tracepoint", group: "syscalls", name: "sys_enter_openat" },
      true,
    ],
    ["tp/sched/sched_switch", { kind: "tracepoint", group: "sched", name: "sched_switch" }, true],
    ["raw_tp/sys_enter", { kind: "raw_tracepoint", name: "sys_enter" }, true],
    [
      "kprobe/do_sys_openat2+0x10",
      { kind: "kprobe", retprobe: false, symbol: "do_sys_openat2", offset: 16 },
      true,
    ],
    [
      "kretprobe/do_sys_openat2",
      { kind: "kprobe", retprobe: true, symbol: "do_sys_openat2", offset: 0 },
      true,
    ],
    ["kprobe.multi/vfs_*", { kind: "kprobe_multi", retprobe: false, pattern: "vfs_*" }, true],
    ["kretsyscall/openat", { kind: "ksyscall", retprobe: true, syscall: "openat" }, true],
    [
      "uretprobe/libc.so.6:malloc",
      { kind: "uprobe", retprobe: true, binary: "libc.so.6", func: "malloc", offset: 0n },
      true,
    ],
    [
      "usdt/libc.so.6:libc:setjmp",
      { kind: "usdt", binary: "libc.so.6", provider: "libc", name: "setjmp" },
      true,
    ],
    ["fentry/do_unlinkat", { kind: "tracing", target: "do_unlinkat" }, true],
    ["lsm/file_open", { kind: "lsm", hook: "file_open" }, true],
    ["iter/task", { kind: "iter", target: "task" }, true],
    ["cgroup_skb/egress", { kind: "cgroup" }, false],
    ["xdp", { kind: "xdp" }, false],
    ["tcx/ingress", { kind: "tcx", direction: "ingress" }, false],
    ["tc", { kind: "tc" }, false],
    ["sk_lookup", { kind: "netns" }, false],
    ["flow_dissector", { kind: "netns" }, false],
    ["sk_msg", { kind: "sockmap" }, false],
    ["sk_skb/stream_verdict", { kind: "sockmap" }, false],
    ["socket", { kind: "socket" }, false],
    ["netfilter", { kind: "netfilter" }, false],
  ];
  for (const [section, hook, auto] of cases) {
    const d = describeSection(section);
    assert.deepEqual(d.hook, hook, section);
    assert.equal(d.autoAttach, auto, section);
    assert.equal(d.section, section);
  }
  assert.equal(describeSection("fentry.s/do_unlinkat").sleepable, true);
  assert.equal(describeSection("kprobe/x").form, "kprobe+");
});

test("what cannot be attached by itself says why", () => {
  assert.deepEqual(describeSection("kprobe").hook, {
    kind: "manual",
    reason: 'no function named (SEC("kprobe/FUNC"))',
  });
  assert.match(
    (describeSection("kprobe/a b").hook as { reason: string }).reason,
    /is not FUNC or FUNC\+OFFSET/,
  );
  assert.match((describeSection("perf_event").hook as { reason: string }).reason, /own function/);
  assert.match(
    (describeSection("usdt/python:gc__start").hook as { reason: string }).reason,
    /USDT target "python:gc__start" is not BINARY:PROVIDER:NAME/,
  );
  assert.deepEqual(describeSection("usdt//usr/bin/python3:python:line").hook, {
    kind: "usdt",
    binary: "/usr/bin/python3",
    provider: "python",
    name: "line",
  });
  assert.match(
    (describeSection("mysection").hook as { reason: string }).reason,
    /libbpf does not know/,
  );
  const newer = describeSection("fentry.multi/vfs_*");
  assert.equal(newer.unsupported?.attachType, "BPF_TRACE_FENTRY_MULTI");
  assert.equal(newer.autoAttach, false);
});
