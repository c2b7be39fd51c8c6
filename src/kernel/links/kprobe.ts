/**
 * kprobes and kretprobes (`SEC("kprobe/FUNC")`, `kretprobe`, `ksyscall`): a perf event
 * on the kprobe PMU (`config1` = the function's name, `config2` = the offset), or on
 * kernels without that PMU a probe event written to tracefs `kprobe_events`.
 *
 * @module
 */

import { ProgType } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import type { Program } from "../programs/program.ts";
import type { Link } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { attachToPerfEvent, type PerfAttachOptions } from "./perf-attach.ts";
import { PerfType, perfEventOpen, pmuRetprobeBit, pmuType } from "./perf-event.ts";
import { addProbeEvent, tracefsHas } from "./tracefs.ts";

/** The sentence a kernel without kprobes gets. */
export const KPROBES_UNAVAILABLE =
  "kprobes are not available on this kernel (no kprobe PMU, no kprobe_events in tracefs)";

/** Options of {@link attachKprobe}. */
export interface KprobeOptions extends PerfAttachOptions {
  /** Probe the function's return (a kretprobe). */
  readonly retprobe?: boolean;
  /** Bytes into the function (kprobes only). */
  readonly offset?: number;
}

// The target text parser is pure and shared with the ELF loader.
export { parseKprobeTarget } from "../../spec/attach.ts";

/**
 * Attaches a kprobe program to kernel function `symbol` (at `opts.offset`), or to its
 * return with `retprobe`.
 *
 * @throws NotSupportedError "kprobes are not available on this kernel (...)" when the
 * kernel has neither the kprobe PMU nor tracefs kprobe_events (CONFIG_KPROBES off);
 * SyscallError when the kernel refuses the probe (ENOENT: no such function).
 * @example
 * ```ts
 * using link = attachKprobe(prog, "do_sys_openat2");
 * ```
 */
export function attachKprobe(prog: Program, symbol: string, opts: KprobeOptions = {}): Link {
  const kind = opts.retprobe ? "kretprobe" : "kprobe";
  const offset = opts.offset ?? 0;
  const what = `${kind} ${symbol}${offset ? `+0x${offset.toString(16)}` : ""}`;
  expectProgType(prog, [ProgType.KPROBE], what);
  if (opts.retprobe && offset) throw new Error(`${what}: a kretprobe cannot have an offset`);
  const pmu = opts.mode === "legacy" ? undefined : pmuType("kprobe");
  if (pmu !== undefined) {
    const bit = opts.retprobe ? pmuRetprobeBit("kprobe") : undefined;
    if (opts.retprobe && bit === undefined) {
      throw new NotSupportedError(what, "the kprobe PMU has no retprobe format bit");
    }
    const event = perfEventOpen(
      {
        type: pmu,
        config: bit === undefined ? 0n : 1n << BigInt(bit),
        config1String: symbol,
        config2: BigInt(offset),
      },
      { pid: -1, cpu: 0 },
      what,
    );
    return attachToPerfEvent(prog, event, what, opts);
  }
  if (!tracefsHas("kprobe_events")) {
    throw new NotSupportedError(`attaching ${what}`, KPROBES_UNAVAILABLE);
  }
  const probe = addProbeEvent("kprobe", opts.retprobe === true, `${symbol}+${offset}`);
  let event: ReturnType<typeof perfEventOpen>;
  try {
    event = perfEventOpen(
      { type: PerfType.TRACEPOINT, config: BigInt(probe.id), samplePeriod: 1n, wakeupEvents: 1 },
      { pid: -1, cpu: 0 },
      what,
    );
  } catch (e) {
    probe.remove();
    throw e;
  }
  return attachToPerfEvent(prog, event, what, opts, probe.remove);
}

/** Options of {@link attachKsyscall}. */
export interface KsyscallOptions extends PerfAttachOptions {
  /** Probe the system call's return. */
  readonly retprobe?: boolean;
}

/** The kernel's entry-point prefix for system calls on this architecture. */
export function syscallPrefix(): string {
  return process.arch === "arm64" ? "__arm64_sys_" : "__x64_sys_";
}

/**
 * Attaches a kprobe program to system call `name` ("openat") through its
 * architecture-specific entry point, as libbpf's ksyscall does.
 */
export function attachKsyscall(prog: Program, name: string, opts: KsyscallOptions = {}): Link {
  return attachKprobe(prog, `${syscallPrefix()}${name}`, opts);
}
