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
import { existsSync } from "node:fs";
import { hasCapability } from "../../src/kernel/capabilities.ts";

export { Capability } from "../../src/kernel/capabilities.ts";

import type { FeatureStatus } from "../../src/kernel/features/status.ts";
import { BpfMap } from "../../src/kernel/map.ts";
import { MapType } from "../../src/uapi/index.ts";

/** True when this process runs as root. */
export const isRoot = process.getuid?.() === 0;

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
