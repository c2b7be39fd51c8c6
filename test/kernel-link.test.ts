/**
 * Links against the real kernel: programs assembled here count their calls into an
 * array map (lookup + atomic add), are attached to a tracepoint, a raw tracepoint, a
 * uprobe in a C program compiled for the test and a cpu-clock sampling event, and the
 * counts are read back; closing stops them and leaves no link behind. Link info is
 * compared with bpftool's `link show -j`; pins, fromPin/fromId, update and detach run
 * on cgroup links; kprobes give this kernel's plain NotSupportedError.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { describeSection } from "../src/elf/index.ts";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { vmlinuxBTF } from "../src/kernel/btf/kernel-btf.ts";
import { NotSupportedError } from "../src/kernel/features/not-supported-error.ts";
import {
  attachCgroup,
  attachKprobe,
  attachPerfEventPerCpu,
  attachProgram,
  attachRawTracepoint,
  attachTracepoint,
  attachUprobe,
  attachUprobeMulti,
  attachXdp,
  KPROBES_UNAVAILABLE,
} from "../src/kernel/links/index.ts";
import { Link } from "../src/kernel/links/link.ts";
import {
  type LinkInfo,
  PERF_EVENT_UNSPEC,
  type PerfEventLinkInfo,
} from "../src/kernel/links/link-info.ts";
import { encodePerfEventAttr, PERF_EVENT_ATTR } from "../src/kernel/links/perf-event.ts";
import { tracefsDir } from "../src/kernel/links/tracefs.ts";
import { functionOffset } from "../src/kernel/links/uprobe-symbols.ts";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { linkIds, progIds } from "../src/kernel/objects/objects.ts";
import { ensureBpffs } from "../src/kernel/objects/pin.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { syscall5 } from "../src/kernel/sys/index.ts";
import type { ProgramSpec } from "../src/spec/program-spec.ts";
import { AttachType, MapType, ProgType, XdpFlags } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import {
  cgroupSkip,
  kernelSkip,
  kernelStructHas,
  needs,
  scaled,
  testCgroupPath,
} from "./support/kernel.ts";

const root = !kernelSkip;
const skip = kernelSkip;
const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const hasCc = spawnSync("cc", ["--version"]).status === 0;

/**
 * Waits up to a second for `cond`: a link whose last holder was a pin is freed by a
 * kernel work item after the pin is removed, not at once.
 */
function waitFor(cond: () => boolean): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 100 && !cond(); i++) Atomics.wait(cell, 0, 0, 10);
}

/**
 * Whether the kernel reports a perf_event link's event (bpf_link_info's perf_event
 * member, Linux 6.6): probed in its BTF.
 */
const perfLinkEvents = root && kernelStructHas("bpf_link_info", "perf_event");

/**
 * The event of a perf_event link's info; undefined on a kernel that does not report it
 * (before 6.6), after checking that the info says so rather than inventing an event.
 */
function perfEventOf(info: LinkInfo | undefined): PerfEventLinkInfo | undefined {
  assert.equal(info?.typeName, "perf_event");
  assert.equal(info?.detail.kind, "perf_event");
  if (info?.detail.kind !== "perf_event") return undefined;
  if (perfLinkEvents) return info.detail.event;
  assert.deepEqual(info.detail.event, { type: "unspec", reason: PERF_EVENT_UNSPEC });
  return undefined;
}

/** Ids of the programs this file loaded: a link to one of them is this file's link. */
const ownPrograms = new Set<number>();

/** Program.load, remembering the program's id as this file's. */
function loadOwn(spec: ProgramSpec): Program {
  const prog = Program.load(spec);
  ownPrograms.add(prog.id);
  return prog;
}

/**
 * Ids of the links on the machine that attach a program of this file (other tests,
 * run at the same time by others, create and drop links of their own: those are not
 * counted). A link that vanishes while it is read is skipped.
 */
function ownLinks(): number[] {
  const out: number[] = [];
  for (const id of linkIds()) {
    let link: Link | undefined;
    try {
      link = Link.fromId(id);
      if (ownPrograms.has(link.info().progId)) out.push(id);
    } catch {
      // gone meanwhile
    } finally {
      link?.close();
    }
  }
  return out;
}

/**
 * Runs `fn` and checks that it leaves no descriptor behind, and no link to a program
 * this file loaded (by program id, so other people's links never count).
 */
async function clean(fn: () => void | Promise<void>): Promise<void> {
  const before = fdCounts();
  const linksBefore = new Set(ownLinks());
  await fn();
  assertFdCounts(before);
  const left = () => ownLinks().filter((id) => !linksBefore.has(id));
  waitFor(() => left().length === 0);
  assert.deepEqual(left(), [], "links left behind");
}

/** An array map of one u64 and a program of `type` that adds 1 to it per call. */
function counter(type: ProgType, extra: Partial<ProgramSpec> = {}) {
  const map = BpfMap.create({
    name: "count",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
  });
  try {
    const text = `
      r1 = 0
      *(u32 *)(r10 -4) = r1
      r2 = r10
      r2 += -4
      r1 = map_fd(${map.fd})
      call bpf_map_lookup_elem
      if r0 == 0 goto out
      r1 = 1
      lock *(u64 *)(r0 +0) += r1
    out:
      r0 = 0
      exit`;
    const prog = loadOwn({
      name: "count",
      type,
      license: "GPL",
      instructions: encodeProgram(assemble(text)),
      ...extra,
    });
    return {
      prog,
      map,
      count: (): bigint => {
        const v = map.lookup(new Uint8Array(4));
        assert.ok(v);
        return new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
      },
      close: () => {
        prog.close();
        map.close();
      },
    };
  } catch (e) {
    map.close();
    throw e;
  }
}

function getpid(times: number): void {
  for (let i = 0; i < times; i++) syscall5(39, 0, 0, 0, 0, 0);
}

function bpftoolLink(id: number): Record<string, unknown> {
  const r = spawnSync("bpftool", ["-j", "link", "show", "id", String(id)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const R0 = (v: number) => encodeProgram(assemble(`r0 = ${v}\nexit`));

describe("perf_event_attr", () => {
  test("offsets match struct perf_event_attr in vmlinux BTF", { skip }, () => {
    const t = vmlinuxBTF()
      .findAllByName("perf_event_attr")
      .find((x) => x.kind === "STRUCT") as unknown as {
      size: number;
      members: { name: string; bitOffset: number }[];
    };
    assert.ok(t, "perf_event_attr in vmlinux BTF");
    assert.ok(t.size >= PERF_EVENT_ATTR.sizeof);
    const byName = new Map(t.members.map((m) => [m.name, m.bitOffset / 8]));
    for (const f of ["type", "size", "config", "sample_type", "read_format", "bp_type"] as const) {
      assert.equal(byName.get(f), PERF_EVENT_ATTR[f], f);
    }
    // sample_period, wakeup_events, config1 and config2 are in anonymous unions.
    const anon = t.members.filter((m) => m.name === "").map((m) => m.bitOffset / 8);
    for (const f of ["sample_period", "wakeup_events", "config1", "config2"] as const) {
      assert.ok(anon.includes(PERF_EVENT_ATTR[f]), f);
    }
    const bytes = encodePerfEventAttr({ type: 2, config: 7n, disabled: true, freq: true });
    const v = new DataView(bytes.buffer);
    assert.equal(v.getUint32(4, true), PERF_EVENT_ATTR.sizeof);
    assert.equal(v.getBigUint64(40, true), 1n | (1n << 10n));
  });
});

describe("tracepoint links", { skip }, () => {
  test("syscalls:sys_enter_getpid counts real getpid calls; closing stops it", () =>
    clean(() => {
      const c = counter(ProgType.TRACEPOINT);
      try {
        const link = attachTracepoint(c.prog, "syscalls", "sys_enter_getpid");
        let id: number;
        try {
          assert.ok(link.isBpfLink);
          const info = link.info();
          id = info.id;
          assert.equal(info.typeName, "perf_event");
          assert.equal(info.progId, c.prog.id);
          const event = perfEventOf(info);
          if (perfLinkEvents) {
            assert.deepEqual(event, { type: "tracepoint", tpName: "sys_enter_getpid", cookie: 0n });
          }
          assert.ok([...linkIds()].includes(id));
          const before = c.count();
          getpid(1000);
          const during = c.count();
          // Other processes may call getpid too: at least ours are counted.
          assert.ok(during - before >= 1000n, `counted ${during - before}`);
          if (hasBpftool) {
            assert.deepEqual(bpftoolLink(id), { id, type: "perf_event", prog_id: c.prog.id });
          }
        } finally {
          link.close();
        }
        assert.equal(link.closed, true);
        assert.ok(![...linkIds()].includes(id));
        const after = c.count();
        getpid(1000);
        assert.ok(c.count() - after < 1000n, "still counting after close");
      } finally {
        c.close();
      }
    }));

  test('mode "perf": PERF_EVENT_IOC_SET_BPF, as kernels before 5.15 attach', () =>
    clean(() => {
      const c = counter(ProgType.TRACEPOINT);
      try {
        const link = attachTracepoint(c.prog, "syscalls", "sys_enter_getpid", { mode: "perf" });
        try {
          assert.equal(link.isBpfLink, false);
          assert.ok(link.perfEvent);
          assert.throws(() => link.info(), NotSupportedError);
          assert.throws(() => link.pin("/sys/fs/bpf/x"), /has no bpf_link/);
          const before = c.count();
          getpid(100);
          assert.ok(c.count() - before >= 100n);
        } finally {
          link.close();
        }
        const after = c.count();
        getpid(100);
        assert.ok(c.count() - after < 100n, "still counting after close");
      } finally {
        c.close();
      }
    }));

  test("attachProgram picks the tracepoint from attachTo", () =>
    clean(() => {
      const c = counter(ProgType.TRACEPOINT);
      try {
        const spec: ProgramSpec = {
          name: "count",
          type: ProgType.TRACEPOINT,
          license: "GPL",
          instructions: R0(0),
          attachTo: "syscalls/sys_enter_openat",
          section: "tracepoint/syscalls/sys_enter_openat",
          attach: describeSection("tracepoint/syscalls/sys_enter_openat"),
        };
        using link = attachProgram(c.prog, spec);
        const before = c.count();
        for (let i = 0; i < 20; i++) closeSync(openSync("/dev/null", "r"));
        assert.ok(c.count() - before >= 20n);
        const event = perfEventOf(link.info());
        if (perfLinkEvents) assert.equal(event?.type, "tracepoint");
      } finally {
        c.close();
      }
    }));

  test("unknown events and wrong program types are named", () =>
    clean(() => {
      const c = counter(ProgType.TRACEPOINT);
      try {
        assert.throws(
          () => attachTracepoint(c.prog, "syscalls", "sys_enter_nope"),
          /no tracepoint syscalls:sys_enter_nope: .*events\/syscalls has no event sys_enter_nope/,
        );
        assert.throws(
          () => attachTracepoint(c.prog, "nogroup", "x"),
          /events has no group nogroup/,
        );
        assert.throws(
          () => attachRawTracepoint(c.prog, "sys_enter"),
          /tracepoint program "count" cannot attach to raw tracepoint sys_enter: that needs a raw_tracepoint or raw_tracepoint_writable program/,
        );
      } finally {
        c.close();
      }
    }));
});

describe("raw tracepoint links", { skip }, () => {
  test("sys_enter counts syscalls; info and bpftool agree; pin, fromPin, fromId", () =>
    clean(() => {
      const c = counter(ProgType.RAW_TRACEPOINT);
      const dir = `/sys/fs/bpf/tsbpf-link-${process.pid}`;
      ensureBpffs();
      mkdirSync(dir, { recursive: true });
      try {
        const link = attachRawTracepoint(c.prog, "sys_enter");
        let id = 0;
        try {
          const before = c.count();
          getpid(100);
          assert.ok(c.count() - before >= 100n);
          const info = link.info();
          id = info.id;
          assert.deepEqual(info.detail, {
            kind: "raw_tracepoint",
            tpName: "sys_enter",
            cookie: 0n,
          });
          if (hasBpftool) {
            assert.deepEqual(bpftoolLink(id), {
              id,
              type: "raw_tracepoint",
              prog_id: c.prog.id,
              tp_name: "sys_enter",
            });
          }
          link.pin(`${dir}/rawtp`);
          assert.throws(() => link.detach(), NotSupportedError);
        } finally {
          link.close();
        }
        // The pin keeps it attached.
        assert.ok([...linkIds()].includes(id));
        const mid = c.count();
        getpid(100);
        assert.ok(c.count() - mid >= 100n, "pinned link stopped counting");
        {
          using pinned = Link.fromPin(`${dir}/rawtp`);
          assert.equal(pinned.info().id, id);
          using byId = Link.fromId(id);
          assert.equal(byId.info().progId, c.prog.id);
        }
        rmSync(`${dir}/rawtp`);
        waitFor(() => ![...linkIds()].includes(id));
        assert.ok(![...linkIds()].includes(id), "unpinned and closed: gone");
        assert.throws(() => Link.fromId(id), /no BPF link has id/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        c.close();
      }
    }));
});

describe("uprobe links", {
  skip: skip || (!hasCc && "needs cc to build the probed program"),
}, () => {
  const work = mkdtempSync(join(tmpdir(), "tsbpf-uprobe-"));
  const exe = join(work, "target");
  writeFileSync(
    join(work, "target.c"),
    `#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) int tsbpf_target(int x) { __asm__ volatile(""); return x + 1; }
int main(int argc, char **argv) {
  char go[8];
  if (!fgets(go, sizeof go, stdin)) return 1;
  int n = atoi(argv[1]), s = 0;
  for (int i = 0; i < n; i++) s += tsbpf_target(i);
  printf("%d\\n", s);
  return 0;
}
`,
  );
  if (hasCc) {
    const r = spawnSync("cc", ["-O1", "-o", exe, join(work, "target.c")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }

  /** Starts the target, lets `attach` see its pid, then lets it call tsbpf_target n times. */
  async function runTarget(n: number, attach: (pid: number) => void): Promise<void> {
    const child = spawn(exe, [String(n)], { stdio: ["pipe", "pipe", "inherit"] });
    // "close": the exit status and every stdio pipe closed (no descriptor left open).
    const done = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    attach(child.pid as number);
    child.stdin.end("go\n");
    assert.equal(await done, 0);
  }

  test("the symbol's file offset is what nm and the program headers give", () => {
    const nm = spawnSync("nm", [exe], { encoding: "utf8" }).stdout;
    const m = /^([0-9a-f]+) T tsbpf_target$/m.exec(nm);
    assert.ok(m);
    // A PIE maps its first segment at 0, so the file offset is the address here.
    assert.equal(functionOffset(exe, "tsbpf_target"), BigInt(`0x${m[1]}`));
    assert.throws(() => functionOffset(exe, "nope"), /has no function named nope/);
  });

  test("uprobe and uretprobe count calls, filtered by pid", () =>
    clean(async () => {
      const c = counter(ProgType.KPROBE);
      const links: Link[] = [];
      try {
        await runTarget(500, (pid) => {
          links.push(attachUprobe(c.prog, exe, "tsbpf_target", { pid }));
          links.push(attachUprobe(c.prog, exe, "tsbpf_target", { pid, retprobe: true }));
          // Filtered to this process, which never runs the target.
          links.push(attachUprobe(c.prog, exe, "tsbpf_target", { pid: process.pid }));
        });
        assert.equal(c.count(), 1000n);
        const event = perfEventOf(links[1]?.info());
        if (perfLinkEvents) {
          assert.equal(event?.type, "uretprobe");
          if (event?.type === "uretprobe") {
            assert.equal(event.fileName, exe);
            assert.equal(BigInt(event.offset), functionOffset(exe, "tsbpf_target"));
          }
        }
      } finally {
        for (const l of links) l.close();
        c.close();
      }
      await runTarget(10, () => {});
    }));

  test("uprobe.multi: one link for two functions, filtered by pid; its info says path, offsets, cookies", (t) =>
    clean(async () => {
      const c = counter(ProgType.KPROBE, { expectedAttachType: AttachType.TRACE_UPROBE_MULTI });
      const links: Link[] = [];
      try {
        await runTarget(300, (pid) => {
          try {
            const opts = { symbols: ["tsbpf_target", "main"], cookies: [7n, 9n] };
            links.push(attachUprobeMulti(c.prog, exe, { ...opts, pid }));
            // Filtered to this process, which runs neither.
            links.push(attachUprobeMulti(c.prog, exe, { ...opts, pid: process.pid }));
          } catch (e) {
            if (!(e instanceof NotSupportedError)) throw e;
            t.skip(e.message);
          }
        });
        if (links.length === 0) return;
        // The target already waits inside main() when the link comes: only tsbpf_target counts.
        assert.equal(c.count(), 300n);
        const info = links[0]?.info();
        assert.equal(info?.detail.kind, "uprobe_multi");
        if (info?.detail.kind === "uprobe_multi") {
          assert.equal(info.detail.path, exe);
          assert.deepEqual(info.detail.offsets, [
            functionOffset(exe, "tsbpf_target"),
            functionOffset(exe, "main"),
          ]);
          assert.deepEqual(info.detail.cookies, [7n, 9n]);
          assert.equal(info.detail.retprobe, false);
        }
      } finally {
        for (const l of links) l.close();
        c.close();
      }
      assert.throws(
        () => attachUprobeMulti(c.prog, exe, { symbols: ["main"], cookies: [1n, 2n] }),
        /2 cookies for 1 functions/,
      );
      assert.throws(() => attachUprobeMulti(c.prog, exe, {}), /give either symbols or offsets/);
    }));

  test('mode "legacy": a tracefs uprobe_events probe, removed on close', () =>
    clean(async () => {
      const c = counter(ProgType.KPROBE);
      let link: Link | undefined;
      try {
        await runTarget(50, (pid) => {
          link = attachUprobe(c.prog, exe, "tsbpf_target", { pid, mode: "legacy" });
        });
        assert.equal(c.count(), 50n);
        assert.match(readFileSync(join(tracefsDir(), "uprobe_events"), "utf8"), /tsbpf_\d+_\d+/);
        assert.ok(link?.isBpfLink);
      } finally {
        link?.close();
        c.close();
      }
      const events = readFileSync(join(tracefsDir(), "uprobe_events"), "utf8");
      assert.doesNotMatch(events, new RegExp(`tsbpf_${process.pid}_`));
    }));

  test("libc by name: getpid in libc.so.6 through ld.so.cache", () =>
    clean(() => {
      const c = counter(ProgType.KPROBE);
      try {
        using link = attachProgram(c.prog, {
          name: "count",
          type: ProgType.KPROBE,
          license: "GPL",
          instructions: R0(0),
          section: "uprobe/libc.so.6:getpid",
          attach: describeSection("uprobe/libc.so.6:getpid"),
          attachTo: "libc.so.6:getpid",
        });
        const event = perfEventOf(link.info());
        if (perfLinkEvents) {
          assert.ok(event?.type === "uprobe");
          assert.match(event.fileName, /libc\.so\.6$/);
        }
        // /bin/sh's $$ does not call getpid; a child that does:
        spawnSync("python3", ["-c", "import os; [os.getpid() for _ in range(10)]"]);
        assert.ok(c.count() >= 10n, `counted ${c.count()}`);
      } finally {
        c.close();
      }
    }));

  test("cleanup", () => rmSync(work, { recursive: true, force: true }));
});

describe("kprobes", { skip }, () => {
  test("this kernel has none: a plain NotSupportedError", () =>
    clean(() => {
      const c = counter(ProgType.KPROBE);
      try {
        let err: unknown;
        try {
          attachKprobe(c.prog, "do_sys_openat2").close();
        } catch (e) {
          err = e;
        }
        if (err === undefined) return; // a kernel with kprobes: attached and closed
        assert.ok(err instanceof NotSupportedError, String(err));
        assert.match(err.message, new RegExp(KPROBES_UNAVAILABLE.replace(/[()]/g, "\\$&")));
        assert.throws(
          () =>
            attachProgram(c.prog, {
              name: "k",
              type: ProgType.KPROBE,
              license: "GPL",
              instructions: R0(0),
              section: "kretprobe/do_sys_openat2",
              attach: describeSection("kretprobe/do_sys_openat2"),
              attachTo: "do_sys_openat2",
            }),
          /kretprobe do_sys_openat2 is not supported: kprobes are not available on this kernel/,
        );
      } finally {
        c.close();
      }
    }));
});

describe("BTF-attached programs", { skip }, () => {
  test("fentry: loads and attaches where the kernel allows, else a NotSupportedError", (t) =>
    clean(() => {
      const spec: ProgramSpec = {
        name: "fe",
        type: ProgType.TRACING,
        expectedAttachType: AttachType.TRACE_FENTRY,
        attachTo: "do_sys_openat2",
        section: "fentry/do_sys_openat2",
        attach: describeSection("fentry/do_sys_openat2"),
        license: "GPL",
        instructions: R0(0),
      };
      let prog: Program;
      try {
        prog = loadOwn(spec);
      } catch (e) {
        assert.ok(e instanceof NotSupportedError, String(e));
        assert.match(
          e.message,
          /tracing programs is not supported: the kernel refused .* with EPERM/,
        );
        t.skip(`this kernel cannot load fentry programs: ${e.message}`);
        return;
      }
      try {
        using link = attachProgram(prog, spec);
        assert.equal(link.info().typeName, "tracing");
      } finally {
        prog.close();
      }
    }));

  test("SEC() forms newer than this uapi: a NotSupportedError naming the form, before any syscall", () =>
    clean(() => {
      for (const [section, attachType] of [
        ["fentry.multi/vfs_*", "BPF_TRACE_FENTRY_MULTI"],
        ["fexit.multi.s/vfs_read", "BPF_TRACE_FEXIT_MULTI"],
        ["fsession/do_sys_openat2", "BPF_TRACE_FSESSION"],
        ["fsession.multi/vfs_*", "BPF_TRACE_FSESSION_MULTI"],
      ] as const) {
        const spec: ProgramSpec = {
          name: "newer",
          type: ProgType.TRACING,
          attachTo: section.slice(section.indexOf("/") + 1),
          section,
          attach: describeSection(section),
          license: "GPL",
          instructions: R0(0),
        };
        const form = new RegExp(
          `SEC\\("${section.replace(/[.*]/g, "\\$&")}"\\) \\(libbpf form [a-z.]+\\+, attach type ${attachType}\\)`,
        );
        assert.throws(
          () => loadOwn(spec),
          (e) =>
            e instanceof NotSupportedError &&
            /^loading program "newer"/.test(e.feature) &&
            form.test(e.message) &&
            // Here (Linux 6.18): "the running kernel's uapi has no attach type X (59 in
            // libbpf's uapi) for it (its BTF's enum bpf_attach_type ends at ... = 57)".
            e.message.includes(`uapi has no attach type ${attachType}`),
          section,
        );
        // attachProgram refuses it the same way (with any program: nothing is attached).
        using prog = loadOwn({
          ...spec,
          type: ProgType.SOCKET_FILTER,
          section: "socket",
          attach: describeSection("socket"),
        });
        assert.throws(
          () => attachProgram(prog, spec),
          (e) => e instanceof NotSupportedError && /^attaching program "newer"/.test(e.feature),
        );
      }
    }));
});

describe("perf event sampling", { skip }, () => {
  test("cpu-clock attached on every CPU fires (on the CPU this thread spins on, at least)", () =>
    clean(() => {
      const c = counter(ProgType.PERF_EVENT);
      const links = attachPerfEventPerCpu(c.prog, { period: 100_000n }); // every 0.1 ms
      try {
        // This thread spins on some CPU, whose clock fires every 0.1 ms: 50 ms is plenty
        // on a real CPU; an emulated one (qemu's TCG) may take far longer to deliver the
        // first timer interrupt, so spin until a sample came, up to a scaled deadline.
        const start = Date.now();
        const until = start + scaled(50);
        while (Date.now() < until || (c.count() === 0n && Date.now() < start + scaled(1000))) {
          // spin
        }
        assert.ok(c.count() > 0n, `no sample in ${Date.now() - start} ms`);
        const event = perfEventOf(links[0]?.info());
        // The kernel reports the PMU that took the event: on Linux >= 6.x cpu-clock
        // has a dynamic PMU type of its own, so event.eventType need not be 1.
        if (perfLinkEvents) {
          assert.ok(event?.type === "event");
          assert.equal(event.config, 0n);
        }
      } finally {
        for (const l of links) l.close();
        c.close();
      }
    }));
});

describe("cgroup links", { skip: needs(skip, cgroupSkip()) }, () => {
  test("info, bpftool, update, pin, detach", () =>
    clean(() => {
      const cg = testCgroupPath("tsbpf-link");
      mkdirSync(cg);
      const skb = (v: number) =>
        loadOwn({
          name: `allow${v}`,
          type: ProgType.CGROUP_SKB,
          expectedAttachType: AttachType.CGROUP_INET_EGRESS,
          license: "GPL",
          instructions: R0(v),
        });
      const a = skb(1);
      const b = skb(1);
      const dir = `/sys/fs/bpf/tsbpf-link-cg-${process.pid}`;
      ensureBpffs();
      mkdirSync(dir, { recursive: true });
      try {
        using link = attachCgroup(a, cg, AttachType.CGROUP_INET_EGRESS);
        const info = link.info();
        assert.equal(info.detail.kind, "cgroup");
        if (info.detail.kind !== "cgroup") return;
        assert.equal(info.detail.attachType, AttachType.CGROUP_INET_EGRESS);
        assert.ok(info.detail.cgroupId > 0n);
        if (hasBpftool) {
          assert.deepEqual(bpftoolLink(info.id), {
            id: info.id,
            type: "cgroup",
            prog_id: a.id,
            cgroup_id: Number(info.detail.cgroupId),
            attach_type: "cgroup_inet_egress",
          });
        }
        link.update(b);
        assert.equal(link.info().progId, b.id);
        assert.throws(() => link.update(a, a), /Operation not permitted|EPERM/);
        link.pin(`${dir}/cg`);
        using pinned = Link.fromPin(`${dir}/cg`);
        pinned.detach();
        const after = link.info();
        assert.equal(after.detail.kind === "cgroup" && after.detail.cgroupId, 0n);
        rmSync(`${dir}/cg`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        a.close();
        b.close();
        rmdirSync(cg);
      }
    }));
});

describe("xdp links", { skip }, () => {
  const a = `tsbpfl${process.pid % 10000}a`;
  const ok =
    root &&
    spawnSync("ip", ["link", "add", a, "type", "veth", "peer", "name", `${a}b`]).status === 0;
  test("generic XDP on a veth", { skip: !ok && "cannot create a veth pair" }, () =>
    clean(() => {
      try {
        using prog = loadOwn({
          name: "pass",
          type: ProgType.XDP,
          license: "GPL",
          instructions: R0(2),
        });
        using link = attachXdp(prog, a, { flags: XdpFlags.SKB_MODE });
        const info = link.info();
        assert.equal(info.typeName, "xdp");
        assert.ok(info.detail.kind === "xdp" && info.detail.ifindex > 0);
        assert.ok([...progIds()].includes(prog.id));
      } finally {
        spawnSync("ip", ["link", "del", a]);
      }
    }),
  );
});
