import assert from "node:assert/strict";
import { test } from "node:test";
import { parseKprobeTarget } from "./kprobe.ts";
import { splitTracepoint } from "./tracepoint.ts";
import { parseUprobeTarget } from "./uprobe.ts";

test("tracepoint targets: GROUP/NAME and GROUP:NAME", () => {
  assert.deepEqual(splitTracepoint("syscalls/sys_enter_openat"), {
    group: "syscalls",
    name: "sys_enter_openat",
  });
  assert.deepEqual(splitTracepoint("sched:sched_switch"), { group: "sched", name: "sched_switch" });
  assert.throws(() => splitTracepoint("sys_enter_openat"), /is not GROUP\/NAME/);
  assert.throws(() => splitTracepoint("syscalls/"), /is not GROUP\/NAME/);
});

test("kprobe targets: FUNC and FUNC+OFFSET", () => {
  assert.deepEqual(parseKprobeTarget("do_sys_openat2"), { symbol: "do_sys_openat2", offset: 0 });
  assert.deepEqual(parseKprobeTarget("tcp_v4_connect+0x10"), {
    symbol: "tcp_v4_connect",
    offset: 16,
  });
  assert.deepEqual(parseKprobeTarget("f.isra.0+8"), { symbol: "f.isra.0", offset: 8 });
  assert.throws(() => parseKprobeTarget("a b"), /is not FUNC or FUNC\+OFFSET/);
});

test("uprobe targets: BINARY:FUNC[+OFFSET] and BINARY:OFFSET", () => {
  assert.deepEqual(parseUprobeTarget("libc.so.6:malloc"), {
    binary: "libc.so.6",
    func: "malloc",
    offset: 0n,
  });
  assert.deepEqual(parseUprobeTarget("/usr/bin/bash:readline+0x4"), {
    binary: "/usr/bin/bash",
    func: "readline",
    offset: 4n,
  });
  assert.deepEqual(parseUprobeTarget("/proc/self/exe:0x1234"), {
    binary: "/proc/self/exe",
    func: undefined,
    offset: 0x1234n,
  });
  assert.throws(() => parseUprobeTarget("malloc"), /is not BINARY:FUNCTION/);
});
