/**
 * The one place kernel tests decide whether they can run on this machine.
 *
 * Every condition answers `string | false`: a one-line reason to skip, or false when
 * the test can run. node:test takes that as `{ skip }` directly. A test never returns
 * early in silence: it skips with the reason (`t.skip(reason)` inside a test).
 *
 * @example
 * ```ts
 * import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";
 * describe("maps", { skip: kernelSkip }, () => { ... });
 * test("vs bpftool", { skip: needs(kernelSkip, toolSkip("bpftool")) }, () => { ... });
 * ```
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hasCapability } from "../../src/kernel/system/capabilities.ts";

export { Capability } from "../../src/kernel/system/capabilities.ts";
export { scaled, timeScale } from "./time.ts";

import type { BTFType } from "../../src/btf/types.ts";
import {
  asm,
  encodeProgram,
  type Instruction,
  R1,
  R2,
  R3,
  R4,
  R5,
  R10,
} from "../../src/isa/index.ts";
import { vmlinuxBTF } from "../../src/kernel/btf/kernel-btf.ts";
import type { FeatureStatus } from "../../src/kernel/features/status.ts";
import { BpfMap } from "../../src/kernel/maps/map.ts";
import { Program } from "../../src/kernel/programs/program.ts";
import { MapType, ProgType } from "../../src/uapi/index.ts";

/** True when this process runs as root. */
export const isRoot = process.getuid?.() === 0;

/**
 * Why a test whose result cannot depend on the kernel is left to the host, or false:
 * scripts/test-kernels.mjs sets TSBPF_KERNEL_MATRIX in its guests, where such work (a
 * tsc run, dumping files) takes minutes under TCG and shows nothing the host run does
 * not. `what` names the work.
 */
export function hostOnly(what: string): string | false {
  const kernel = process.env.TSBPF_KERNEL_MATRIX;
  return kernel
    ? `${what} does not depend on the kernel: left to the host run (guest ${kernel})`
    : false;
}

/** The first reason among several, or false when none applies. */
export function needs(...reasons: ReadonlyArray<string | false | undefined>): string | false {
  for (const r of reasons) if (r) return r;
  return false;
}

/** Why a test needing capability `cap` (from {@link Capability}) cannot run, or false. */
export function capSkip(cap: number, name: string): string | false {
  return hasCapability(cap) ? false : `the process lacks CAP_${name}`;
}

function probeBpf(): string | false {
  if (!isRoot) return "needs root for bpf(2)";
  try {
    BpfMap.create({
      name: "skip_probe",
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    }).close();
    return false;
  } catch (e) {
    return `bpf(2) does not work here: ${(e as Error).message.split("\n")[0]}`;
  }
}

/**
 * Why kernel tests cannot run here, or false: root, and a BPF_MAP_CREATE that the
 * kernel accepts (bpf(2) present, not blocked by seccomp or unprivileged_bpf_disabled).
 */
export const kernelSkip: string | false = probeBpf();

const tools = new Map<string, string | false>();

/** Why a test needing the command `name` cannot run (not installed), or false. */
export function toolSkip(name: string, versionArg = "--version"): string | false {
  let r = tools.get(name);
  if (r === undefined) {
    const ok = spawnSync(name, [name === "bpftool" ? "version" : versionArg], {
      stdio: "ignore",
    });
    r = ok.error || ok.status !== 0 ? `${name} is not installed` : false;
    tools.set(name, r);
  }
  return r;
}

/** Why a test needing `path` (a file the kernel provides) cannot run, or false. */
export function pathSkip(path: string, what = path): string | false {
  return existsSync(path) ? false : `${what} is missing (${path})`;
}

/** Why a test needing a probed kernel feature cannot run (the probe's reason), or false. */
export function featureSkip(status: FeatureStatus): string | false {
  return status.available ? false : `${status.feature}: ${status.reason ?? "not available"}`;
}

/**
 * Where cgroup2 is mounted (the first cgroup2 line of /proc/mounts: /sys/fs/cgroup on
 * systemd machines, /sys/fs/cgroup/unified on hybrid ones), or undefined.
 */
export function cgroup2Root(): string | undefined {
  try {
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const f = line.split(" ");
      if (f[2] === "cgroup2" && f[1]) return f[1];
    }
  } catch {
    // no /proc: no cgroup2 either
  }
  return undefined;
}

/** Why a test needing a cgroup2 hierarchy cannot run, or false. */
export function cgroupSkip(): string | false {
  return cgroup2Root() ? false : "cgroup2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)";
}

/** A path for a new test cgroup under the cgroup2 mount (to mkdirSync and rmdirSync). */
export function testCgroupPath(name: string): string {
  const root = cgroup2Root();
  if (!root) throw new Error("cgroup2 is not mounted");
  return join(root, `${name}-${process.pid}`);
}

/**
 * Why a test needing the kfunc `name` cannot run (the kernel's BTF has no function of
 * that name: kfuncs are resolved by their BTF id), or false.
 */
export function kfuncSkip(name: string, since?: string): string | false {
  try {
    if (vmlinuxBTF().findByName("FUNC", name)) return false;
  } catch (e) {
    return `no kernel BTF to find kfunc ${name} in: ${(e as Error).message.split("\n")[0]}`;
  }
  return `the kernel has no kfunc ${name}${since ? ` (Linux ${since})` : ""}`;
}

/**
 * Whether the kernel's struct `struct` has a member `member` (looked for through
 * anonymous structs and unions too): a kernel feature that came with a uapi field,
 * probed in the running kernel's BTF. False when there is no kernel BTF.
 */
export function kernelStructHas(struct: string, member: string): boolean {
  let btf: ReturnType<typeof vmlinuxBTF>;
  try {
    btf = vmlinuxBTF();
  } catch {
    return false;
  }
  const s = btf.findByName("STRUCT", struct);
  const has = (t: BTFType, depth: number): boolean =>
    (t.kind === "STRUCT" || t.kind === "UNION") &&
    t.members.some(
      (m) =>
        m.name === member || (m.name === "" && depth < 8 && has(btf.resolve(m.type), depth + 1)),
    );
  return s !== undefined && has(s, 0);
}

/**
 * Why a comparison of tsbpf's VM with this kernel cannot hold, or false. The VM models
 * the semantics of Linux 6.4 and later: map helpers return a `long` (before 6.4 the
 * kernel's map ops returned an `int`, so an inlined delete or update left -EINVAL
 * zero-extended in r0) and BPF_ST stores into the context (6.3). Probed in the kernel's
 * BTF: the return type of `struct bpf_map_ops`'s map_delete_elem.
 */
export function vmModelSkip(): string | false {
  let btf: ReturnType<typeof vmlinuxBTF>;
  try {
    btf = vmlinuxBTF();
  } catch {
    return false; // cannot tell: compare
  }
  const ops = btf.findByName("STRUCT", "bpf_map_ops");
  const m = ops?.members.find((x) => x.name === "map_delete_elem");
  if (!m) return false;
  const ptr = btf.resolve(m.type);
  const proto = ptr.kind === "PTR" ? btf.resolve(ptr.type) : undefined;
  if (proto?.kind !== "FUNC_PROTO" || proto.returnType === 0) return false;
  const ret = btf.resolve(proto.returnType);
  return ret.kind === "INT" && ret.size === 4
    ? "the VM models Linux 6.4 and later (map ops return long, BPF_ST into ctx); this kernel's bpf_map_ops return int"
    : false;
}

let csumDiffReason: string | false | undefined;

/**
 * Why a VM-vs-kernel comparison of bpf_csum_diff cannot hold here, or false. Since
 * Linux 6.13 bpf_csum_diff folds its sum to 16 bits on every architecture, as the VM
 * does; before, x86 returned csum_partial's unfolded 32-bit sum. Asked of the kernel
 * itself (a backport would change the answer, not the version): one XDP run of
 * csum_diff over two words, whose folded result fits in 16 bits.
 */
export function csumDiffSkip(): string | false {
  if (csumDiffReason !== undefined) return csumDiffReason;
  csumDiffReason = false;
  if (kernelSkip) return csumDiffReason;
  using prog = Program.load({
    name: "csum_probe",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(csumDiffOfTwoWords()),
  });
  const r = prog.run({ data: new Uint8Array(64) }).retval;
  if (r > 0xffff) {
    csumDiffReason = `this kernel's bpf_csum_diff returns the unfolded 32-bit sum (${r}; x86 before 6.13), the VM folds it to 16 bits as 6.13 and later do`;
  }
  return csumDiffReason;
}

/** A program returning bpf_csum_diff of two stack words, seeded 0x1234. */
export function csumDiffOfTwoWords(): Instruction[] {
  return [
    asm.st(64, R10, -8, 0x12345678),
    asm.st(64, R10, -16, -0x789abcd),
    asm.mov64(R1, R10),
    asm.add64(R1, -8),
    asm.mov64(R2, 8),
    asm.mov64(R3, R10),
    asm.add64(R3, -16),
    asm.mov64(R4, 8),
    asm.mov64(R5, 0x1234),
    asm.call("csum_diff"),
    asm.exit(),
  ];
}
