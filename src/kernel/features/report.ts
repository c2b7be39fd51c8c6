/**
 * The whole `feature probe kernel`: every section bpftool prints, as data, plus what
 * bpftool does not know (newer program and map types, ISA v4) and reasons for
 * everything missing.
 * @module
 */

import { BpfCmd, Errno } from "../../uapi/index.ts";
import { type HelperScan, scanHelpers } from "./helpers.ts";
import { haveMapType, knownMapTypes, mapTypeLabel } from "./map-types.ts";
import { probeMiscFeatures } from "./misc.ts";
import { probeBareCommand } from "./probe-load.ts";
import { haveProgType, knownProgTypes, progTypeLabel } from "./prog-types.ts";
import { available, cached, type FeatureStatus, unavailable } from "./status.ts";
import { probeSystemConfig, type SystemConfig } from "./system-config.ts";

/** Is there a bpf(2) system call at all? (Everything but ENOSYS says yes.) Cached. */
export function haveBpfSyscall(): FeatureStatus {
  return cached("bpf-syscall", () => {
    const r = probeBareCommand(BpfCmd.PROG_LOAD);
    return r.errno === Errno.ENOSYS
      ? unavailable("bpf() syscall", "the kernel has no bpf() system call (ENOSYS)", Errno.ENOSYS)
      : available("bpf() syscall");
  });
}

/** One program or map type and whether it is there. */
export interface TypeStatus extends FeatureStatus {
  readonly type: number;
  /** bpftool's name ("sched_cls"), or `type N`. */
  readonly name: string;
}

/** Everything `feature probe kernel` reports. */
export interface FeatureReport {
  readonly systemConfig: SystemConfig;
  readonly syscall: FeatureStatus;
  readonly programTypes: readonly TypeStatus[];
  readonly mapTypes: readonly TypeStatus[];
  /** One scan per program type, when helpers were probed. */
  readonly helpers: readonly HelperScan[];
  readonly misc: readonly FeatureStatus[];
  /** Milliseconds each section took. */
  readonly timings: Readonly<Record<string, number>>;
}

/** What to probe. */
export interface ProbeOptions {
  /** Probe helpers (the slow part: one load per type and helper). Default true. */
  readonly helpers?: boolean;
  /** Also probe the helpers that make the kernel log warnings (bpftool's `full`). */
  readonly full?: boolean;
}

/**
 * Runs every probe (each is cached, so a second call costs nothing).
 * Without bpf(2), only the system configuration is filled in.
 */
export function probeKernelFeatures(opts: ProbeOptions = {}): FeatureReport {
  const timings: Record<string, number> = {};
  const timed = <T>(name: string, fn: () => T): T => {
    const t0 = performance.now();
    const v = fn();
    timings[name] = performance.now() - t0;
    return v;
  };
  const systemConfig = timed("systemConfig", probeSystemConfig);
  const syscall = timed("syscall", haveBpfSyscall);
  if (!syscall.available) {
    return {
      systemConfig,
      syscall,
      programTypes: [],
      mapTypes: [],
      helpers: [],
      misc: [],
      timings,
    };
  }
  const programTypes = timed("programTypes", () =>
    knownProgTypes().map((type) => ({ ...haveProgType(type), type, name: progTypeLabel(type) })),
  );
  const mapTypes = timed("mapTypes", () =>
    knownMapTypes().map((type) => ({ ...haveMapType(type), type, name: mapTypeLabel(type) })),
  );
  const helpers =
    opts.helpers === false
      ? []
      : timed("helpers", () =>
          knownProgTypes().map((t) => scanHelpers(t, { full: opts.full ?? false })),
        );
  const misc = timed("misc", probeMiscFeatures);
  return { systemConfig, syscall, programTypes, mapTypes, helpers, misc, timings };
}
