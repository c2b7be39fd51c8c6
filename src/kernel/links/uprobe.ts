/**
 * uprobes and uretprobes (`SEC("uprobe/BINARY:FUNC")`): a perf event on the uprobe PMU
 * (`config1` = the file's path, `config2` = the offset of the instruction in the
 * file, `config` bits 32-63 = a USDT semaphore's offset), or on kernels without that
 * PMU a probe event written to tracefs `uprobe_events`. The function's offset comes
 * from the binary's ELF symbol table and program headers.
 *
 * @module
 */

import { ProgType } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import type { Program } from "../programs/program.ts";
import type { Link } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { attachToPerfEvent, type PerfAttachOptions } from "./perf-attach.ts";
import { PerfType, perfEventOpen, pmuFormatField, pmuRetprobeBit, pmuType } from "./perf-event.ts";
import { addProbeEvent, tracefsHas } from "./tracefs.ts";
import { resolveBinary } from "./uprobe-library.ts";
import { functionOffset } from "./uprobe-symbols.ts";

/** Options of {@link attachUprobe}. */
export interface UprobeOptions extends PerfAttachOptions {
  /** Probe the function's return (a uretprobe). */
  readonly retprobe?: boolean;
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /**
   * Bytes added to the function's offset; with no function, the file offset itself.
   */
  readonly offset?: bigint;
  /** File offset of a USDT semaphore the kernel increments while attached. */
  readonly refCtrOffset?: bigint;
}

// The target text parser is pure and shared with the ELF loader.
export { parseUprobeTarget } from "../../spec/attach.ts";

/**
 * Attaches a uprobe program to function `func` of `binary` (a path, a library name
 * such as "libc.so.6" or "c", or a program in $PATH). Without `func`, `opts.offset`
 * is the file offset to probe.
 *
 * @throws Error when the binary or the function cannot be found; NotSupportedError
 * when the kernel has neither the uprobe PMU nor tracefs uprobe_events; SyscallError
 * from perf_event_open (ESRCH: no such pid).
 * @example
 * ```ts
 * using link = attachUprobe(prog, "libc.so.6", "getpid", { pid: process.pid });
 * ```
 */
export function attachUprobe(
  prog: Program,
  binary: string,
  func: string | undefined,
  opts: UprobeOptions = {},
): Link {
  const path = resolveBinary(binary);
  const kind = opts.retprobe ? "uretprobe" : "uprobe";
  const base = func === undefined ? 0n : functionOffset(path, func);
  const offset = base + (opts.offset ?? 0n);
  const what = `${kind} ${path}:${func ?? ""}${func === undefined ? `0x${offset.toString(16)}` : opts.offset ? `+0x${opts.offset.toString(16)}` : ""}`;
  expectProgType(prog, [ProgType.KPROBE], what);
  const pid = opts.pid ?? -1;
  const target = { pid, cpu: pid === -1 ? 0 : -1 };
  const pmu = opts.mode === "legacy" ? undefined : pmuType("uprobe");
  if (pmu !== undefined) {
    let config = 0n;
    if (opts.refCtrOffset) {
      // Linux >= 4.20 (uprobe reference counters) names the field, `config:32-63`.
      const field = pmuFormatField("uprobe", "ref_ctr_offset");
      if (field?.word !== "config") {
        throw new NotSupportedError(
          `${what} with a semaphore (reference counter at file offset 0x${opts.refCtrOffset.toString(16)})`,
          "the uprobe PMU has no ref_ctr_offset field (Linux >= 4.20 has it): the kernel cannot set USDT semaphores",
        );
      }
      config |=
        BigInt.asUintN(field.end - field.start + 1, opts.refCtrOffset) << BigInt(field.start);
    }
    if (opts.retprobe) {
      const bit = pmuRetprobeBit("uprobe");
      if (bit === undefined)
        throw new NotSupportedError(what, "the uprobe PMU has no retprobe bit");
      config |= 1n << BigInt(bit);
    }
    const event = perfEventOpen(
      { type: pmu, config, config1String: path, config2: offset },
      target,
      what,
    );
    return attachToPerfEvent(prog, event, what, opts);
  }
  if (!tracefsHas("uprobe_events")) {
    throw new NotSupportedError(
      `attaching ${what}`,
      "uprobes are not available on this kernel (no uprobe PMU, no uprobe_events in tracefs)",
    );
  }
  const probe = addProbeEvent(
    "uprobe",
    opts.retprobe === true,
    `${path}:0x${offset.toString(16)}${opts.refCtrOffset ? `(0x${opts.refCtrOffset.toString(16)})` : ""}`,
  );
  let event: ReturnType<typeof perfEventOpen>;
  try {
    event = perfEventOpen(
      { type: PerfType.TRACEPOINT, config: BigInt(probe.id), samplePeriod: 1n, wakeupEvents: 1 },
      target,
      what,
    );
  } catch (e) {
    probe.remove();
    throw e;
  }
  return attachToPerfEvent(prog, event, what, opts, probe.remove);
}
