/**
 * The tracing hooks this project's own machine lacks (no kprobes; fentry, LSM and
 * tp_btf refused with EPERM), run for real where the kernel has them — Debian's 6.1 and
 * 6.12 under qemu (scripts/test-kernels.mjs). Each test loads one program of
 * test/testdata/hooks/hooks.bpf.o (counting the events of this process in its slot of
 * `counts`), attaches it the way its SEC() says, makes the event happen (opens a file,
 * which enters openat, do_sys_openat2 and security_file_open), and checks the count
 * grew. kprobes go through the kprobe PMU and, separately, tracefs kprobe_events.
 *
 * Where the kernel lacks the hook, loading or attaching must fail with a
 * NotSupportedError whose message names what is missing; the test checks that and
 * then skips with that message. Nothing passes without the event having been seen.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { NotSupportedError } from "../src/kernel/features/not-supported-error.ts";
import { attachKprobe, attachProgram } from "../src/kernel/links/index.ts";
import type { Link } from "../src/kernel/links/link.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

const OBJ = join(import.meta.dirname, "testdata/hooks/hooks.bpf.o");
const spec = loadCollectionSpec(new Uint8Array(readFileSync(OBJ)));

/** What a kernel without the hook must say, per program. */
const MISSING: Record<string, RegExp> = {
  kprobe: /kprobes are not available on this kernel/,
  multi: /kprobe\.multi|kprobe_multi|fprobe/,
  btf: /tracing programs is not supported|lsm programs is not supported|EPERM|BPF LSM|not supported/,
};

/** Loads program `name` alone, counting events of this process. */
function load(name: string): Collection {
  return Collection.load(spec, { programs: [name], constants: { target_tgid: process.pid } });
}

function count(c: Collection, slot: number): bigint {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, slot, true);
  const v = c.map("counts").lookup(key);
  assert.ok(v, `counts[${slot}] is there`);
  return new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
}

/** Opens and closes a file `n` times: openat -> do_sys_openat2 -> security_file_open. */
function openFiles(n: number): void {
  for (let i = 0; i < n; i++) closeSync(openSync("/proc/self/stat", "r"));
}

/**
 * Runs `step`; a NotSupportedError matching `missing` ends the test as a skip with the
 * kernel's reason, any other error fails it. Returns undefined after a skip.
 */
function orSkip<T>(t: TestContext, missing: RegExp, step: () => T): T | undefined {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
    assert.match(e.message, missing, `the error names the missing feature: ${e.message}`);
    t.skip(e.message.split("\n")[0]);
    return undefined;
  }
}

/**
 * Loads `name`, attaches it with `attach` (default: as its SEC() says), opens files and
 * checks slot `slot` counted them (at least `want`).
 */
function hook(
  t: TestContext,
  name: string,
  slot: number,
  missing: RegExp,
  attach?: (c: Collection) => Link,
  event: () => void = () => openFiles(3),
  want = 3n,
): void {
  const c = orSkip(t, missing, () => load(name));
  if (!c) return;
  try {
    const link = orSkip(t, missing, () =>
      attach ? attach(c) : attachProgram(c.program(name), spec.programs[name]!),
    );
    if (!link) return;
    try {
      const before = count(c, slot);
      event();
      const seen = count(c, slot) - before;
      assert.ok(seen >= want, `${name} saw ${seen} events, expected at least ${want}`);
    } finally {
      link.close();
    }
  } finally {
    c.close();
  }
}

const skip = kernelSkip;

test("kprobe through the kprobe PMU (perf_event_open type kprobe)", { skip }, (t) =>
  hook(t, "kprobe_open", 0, MISSING.kprobe!, (c) =>
    attachKprobe(c.program("kprobe_open"), "do_sys_openat2"),
  ),
);

test("kprobe through tracefs kprobe_events (the legacy path)", { skip }, (t) =>
  hook(t, "kprobe_open", 0, MISSING.kprobe!, (c) => {
    const link = attachKprobe(c.program("kprobe_open"), "do_sys_openat2", { mode: "legacy" });
    // The probe event exists while the link does.
    const events = "/sys/kernel/tracing/kprobe_events";
    if (existsSync(events)) {
      assert.match(readFileSync(events, "utf8"), /do_sys_openat2/);
    }
    return link;
  }),
);

test("kretprobe (PMU)", { skip }, (t) => hook(t, "kretprobe_open", 1, MISSING.kprobe!));

test("kretprobe through tracefs kprobe_events", { skip }, (t) =>
  hook(t, "kretprobe_open", 1, MISSING.kprobe!, (c) =>
    attachKprobe(c.program("kretprobe_open"), "do_sys_openat2", {
      retprobe: true,
      mode: "legacy",
    }),
  ),
);

test("ksyscall/openat and kretsyscall/openat", { skip }, (t) => {
  hook(t, "ksyscall_openat", 2, MISSING.kprobe!);
  hook(t, "kretsyscall_openat", 10, MISSING.kprobe!);
});

test("kprobe.multi (fprobe: 6.12 has it, Debian's 6.1 cloud kernel does not)", { skip }, (t) =>
  hook(t, "kprobe_multi_open", 3, new RegExp(`${MISSING.multi!.source}|${MISSING.kprobe!.source}`)),
);

test("fentry", { skip }, (t) => hook(t, "fentry_open", 4, MISSING.btf!));

test("fexit", { skip }, (t) => hook(t, "fexit_open", 5, MISSING.btf!));

test("LSM file_open (the kernel booted with lsm=...,bpf)", { skip }, (t) =>
  hook(t, "lsm_file_open", 6, MISSING.btf!),
);

test("tp_btf/sys_enter", { skip }, (t) =>
  // Every system call of this process counts: opening 3 files makes at least 6.
  hook(t, "tp_btf_sys_enter", 7, MISSING.btf!, undefined, () => openFiles(3), 6n),
);

test("fmod_ret on security_file_open (returning 0: the open proceeds)", { skip }, (t) =>
  hook(t, "fmod_ret_file_open", 8, MISSING.btf!),
);

test("fentry on a module function (veth_open, in the veth module's split BTF)", {
  skip: needs(skip, toolSkip("ip", "-V")),
}, (t) => {
  if (!existsSync("/sys/kernel/btf/veth")) {
    t.skip("the veth module is not loaded (no /sys/kernel/btf/veth)");
    return;
  }
  const a = `tsh${process.pid % 100000}`;
  const ip = (...args: string[]) => {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    assert.equal(r.status, 0, `ip ${args.join(" ")}: ${r.stderr}`);
  };
  hook(
    t,
    "fentry_veth_open",
    9,
    MISSING.btf!,
    undefined,
    () => {
      ip("link", "add", a, "type", "veth", "peer", "name", `${a}b`);
      try {
        ip("link", "set", a, "up");
      } finally {
        ip("link", "del", a);
      }
    },
    1n,
  );
});
