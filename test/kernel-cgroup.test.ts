/**
 * cgroup programs through tsbpf's API, with real packets: examples/cgroup-firewall run
 * as its header says (a process in a test cgroup sends UDP; datagrams to the blocked
 * port and address fail with EPERM, the rest arrive), through a bpf_link and through
 * BPF_PROG_ATTACH; examples/cgroup-device (reading /dev/null fails in the cgroup). attachCgroup's modes and what close() detaches (only its own
 * program, also after someone else replaced or detached it), queryCgroup (effective
 * included), and the kernel's refusals explained.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, rmdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import {
  attachCgroup,
  attachCgroupPersistent,
  detachCgroup,
  queryCgroup,
} from "../src/kernel/links/cgroup.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { SyscallError } from "../src/kernel/sys/index.ts";
import { AttachFlags, AttachType, ProgType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { cgroup2Root, cgroupSkip, kernelSkip, needs, testCgroupPath } from "./support/kernel.ts";

const skip = needs(kernelSkip, cgroupSkip());
const E = AttachType.CGROUP_INET_EGRESS;

describe("examples/cgroup-firewall", { skip }, () => {
  for (const mode of ["link", "attach"]) {
    test(`drops egress UDP to the blocked port and address for the cgroup only (${mode})`, () => {
      const before = readdirSync(cgroup2Root() ?? "/");
      const out = execFileSync(
        process.execPath,
        [...FROM_SOURCE, "examples/cgroup-firewall/cgroup-firewall.ts", mode],
        { encoding: "utf8" },
      );
      const lines = out.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^cgroup \S+ \(cgroup_inet_egress(, multi)?\): programs \d+$/);
      const port = /^blocking udp port (\d+) and address 127\.0\.0\.2$/.exec(lines[1] ?? "")?.[1];
      assert.ok(port, lines[1]);
      assert.match(lines[2] ?? "", /^from +to +send +received$/);
      assert.match(lines[3] ?? "", /^cgroup +127\.0\.0\.1:\d+ +ok +1$/);
      assert.match(lines[4] ?? "", new RegExp(`^cgroup +127\\.0\\.0\\.1:${port} +EPERM +0$`));
      assert.match(lines[5] ?? "", /^cgroup +127\.0\.0\.2:\d+ +EPERM +0$/);
      assert.match(lines[6] ?? "", new RegExp(`^outside +127\\.0\\.0\\.1:${port} +ok +1$`));
      // the sender's own packet passed; nothing else from the cgroup went out
      assert.equal(lines[7], "dropped 2 passed 1");
      assert.equal(lines[8], "after close: 0 program(s) on the cgroup");
      assert.deepEqual(readdirSync(cgroup2Root() ?? "/"), before, "the example's cgroup is gone");
    });
  }
});

describe("examples/cgroup-device", { skip }, () => {
  test("a process in the cgroup cannot read /dev/null; writes, /dev/zero and outsiders can", () => {
    const before = readdirSync(cgroup2Root() ?? "/");
    const out = execFileSync(
      process.execPath,
      [...FROM_SOURCE, "examples/cgroup-device/cgroup-device.ts"],
      { encoding: "utf8" },
    );
    const lines = out.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /^cgroup \S+ \(cgroup_device, exclusive\): denying reads of char device 1:3$/,
    );
    assert.deepEqual(lines.slice(1, 5), [
      "cgroup   read  /dev/null  EPERM",
      "cgroup   write /dev/null  ok",
      "cgroup   read  /dev/zero  ok",
      "outside  read  /dev/null  ok",
    ]);
    // the kernel may ask more than once per open (a denied open is asked again)
    const [, denied, allowed] = /^denied (\d+) allowed (\d+)$/.exec(lines[5] ?? "") ?? [];
    assert.ok(Number(denied) >= 1 && Number(allowed) >= 2, lines[5]);
    assert.deepEqual(readdirSync(cgroup2Root() ?? "/"), before, "the example's cgroup is gone");
  });
});

describe("attachCgroup, detachCgroup, queryCgroup", { skip }, () => {
  const root = cgroup2Root() ? testCgroupPath("tsbpf-kernel-cgroup") : "";
  const child = `${root}/child`;
  const progs: Program[] = [];
  const ret = (v: number) => encodeProgram(assemble(`r0 = ${v}\nexit`));
  const load = (name: string, type: ProgType = ProgType.CGROUP_SKB) => {
    const p = Program.load({
      name,
      type,
      license: "GPL",
      instructions: ret(1),
      expectedAttachType: E,
    });
    progs.push(p);
    return p;
  };
  let a: Program;
  let b: Program;
  let c: Program;
  let filter: Program;
  let sock: Program;
  const ids = (dir: string, effective = false) =>
    queryCgroup(dir, E, { effective }).programs.map((p) => p.id);

  before(() => {
    mkdirSync(child, { recursive: true });
    a = load("a");
    b = load("b");
    c = load("c");
    filter = load("filter", ProgType.SOCKET_FILTER);
    sock = Program.load({
      name: "sock",
      type: ProgType.CGROUP_SOCK,
      license: "GPL",
      instructions: ret(1),
      expectedAttachType: AttachType.CGROUP_INET_SOCK_CREATE,
    });
    progs.push(sock);
  });
  after(() => {
    for (const p of progs) p.close();
    for (const dir of [child, root]) {
      try {
        rmdirSync(dir);
      } catch {
        // not made
      }
    }
  });

  test("the default is still a bpf_link; modes and replace go through BPF_PROG_ATTACH", () => {
    const fds = fdCounts();
    {
      using link = attachCgroup(a, root, E);
      assert.ok(link.isBpfLink);
      assert.deepEqual(ids(root), [a.id]);
      // a link runs in multi mode beside programs attached in multi mode
      using multi = attachCgroup(b, root, E, { mode: "multi" });
      assert.equal(multi.isBpfLink, false);
      assert.deepEqual(ids(root), [a.id, b.id]);
      assert.deepEqual(
        queryCgroup(root, E).programs.map((p) => p.attachFlags),
        [AttachFlags.ALLOW_MULTI, AttachFlags.ALLOW_MULTI],
      );
      // replace swaps b for a new one in place
      using swapped = attachCgroup(c, root, E, { mode: "multi", replace: b });
      assert.deepEqual(ids(root), [a.id, c.id]);
      swapped.close();
      // b's attachment is gone (replaced): its close has nothing to do and says nothing
      multi.close();
      assert.deepEqual(ids(root), [a.id]);
    }
    assert.deepEqual(ids(root), []);
    assertFdCounts(fds);
  });

  test("close detaches only its own program: a replacement made by someone else stays", () => {
    const fds = fdCounts();
    const mine = attachCgroup(a, root, E, { via: "attach" });
    assert.deepEqual(ids(root), [a.id]);
    assert.deepEqual(ids(child, true), [a.id], "inherited below");
    // exclusive over exclusive: the kernel replaces the program
    attachCgroupPersistent(b, root, E);
    mine.close();
    assert.deepEqual(ids(root), [b.id], "b stays");
    detachCgroup(b, root, E);
    // detached by someone else before close: close is quiet
    const again = attachCgroup(a, root, E, { via: "attach", mode: "override" });
    detachCgroup(a, root, E);
    again.close();
    assert.deepEqual(ids(root), []);
    assertFdCounts(fds);
  });

  test("a cgroup given as a descriptor stays the caller's", () => {
    const fd = openSync(root, "r");
    try {
      const link = attachCgroup(a, fd, E, { via: "attach", mode: "multi" });
      assert.deepEqual(ids(root), [a.id]);
      assert.deepEqual(
        queryCgroup(fd, E).programs.map((p) => p.id),
        [a.id],
      );
      link.close();
      assert.deepEqual(ids(root), []);
    } finally {
      closeSync(fd);
    }
  });

  test("override below override: the child's own program runs there instead", () => {
    using parent = attachCgroup(a, root, E, { mode: "override" });
    using below = attachCgroup(b, child, E, { mode: "override" });
    assert.deepEqual(ids(child, true), [b.id]);
    below.close();
    assert.deepEqual(ids(child, true), [a.id]);
    parent.close();
    assert.deepEqual(ids(child, true), []);
  });

  /** The SyscallError `fn` throws, with its errno name and message checked. */
  function refused(fn: () => unknown, code: string, message: RegExp): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof SyscallError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  }

  test("refusals name the cgroup and attach type, and say why", () => {
    const fds = fdCounts();
    {
      using excl = attachCgroup(a, root, E, { via: "attach" });
      assert.ok(excl);
      for (const mode of ["exclusive", "override", "multi"] as const) {
        refused(
          () => attachCgroup(b, child, E, { via: "attach", mode }),
          "EPERM",
          new RegExp(
            `cgroup ${child} \\(cgroup_inet_egress\\): Operation not permitted \\(parent cgroup ${root} has program ${a.id} attached in exclusive mode`,
          ),
        );
      }
      refused(() => attachCgroup(b, child, E), "EPERM", /parent cgroup .* exclusive mode/);
      refused(
        () => attachCgroup(b, root, E, { mode: "multi" }),
        "EPERM",
        /program \d+ is attached there in exclusive mode, and a cgroup holds programs of one mode/,
      );
    }
    {
      using m = attachCgroup(a, root, E, { mode: "multi" });
      assert.ok(m);
      refused(
        () => attachCgroup(a, root, E, { mode: "multi" }),
        "EINVAL",
        /this program is already attached there/,
      );
      refused(
        () => attachCgroup(b, root, E, { mode: "multi", replace: b }),
        "ENOENT",
        /\(the one to replace\) is not attached there/,
      );
    }
    refused(
      () => attachCgroup(filter, root, E, { mode: "multi" }),
      "EINVAL",
      /a socket_filter program cannot attach to cgroup_inet_egress: that needs a cgroup_skb program/,
    );
    refused(
      () => attachCgroup(sock, root, AttachType.CGROUP_INET4_POST_BIND, { mode: "multi" }),
      "EINVAL",
      /\(cgroup_inet4_post_bind\): Invalid argument \(a cgroup_sock program attaches only to the attach type it was loaded for, cgroup_inet_sock_create\)/,
    );
    refused(
      () => attachCgroup(a, "/proc", E, { mode: "multi" }),
      "EBADF",
      /\/proc is not a cgroup v2 directory/,
    );
    refused(() => detachCgroup(a, root, E), "ENOENT", /it is not attached there/);
    assert.throws(() => attachCgroup(a, `${root}/none`, E), /cannot open cgroup .*none/);
    assert.throws(
      () => attachCgroup(a, root, E, { via: "link", mode: "exclusive" }),
      /a cgroup link always runs beside others .* needs via: "attach"/,
    );
    assert.throws(
      () => attachCgroup(a, root, E, { mode: "override", replace: b }),
      /replace works in multi mode only/,
    );
    assert.deepEqual([ids(root), ids(child)], [[], []]);
    assertFdCounts(fds);
  });
});
