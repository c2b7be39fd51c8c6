/**
 * Tracepoints (`SEC("tracepoint/GROUP/NAME")`): a perf event of PERF_TYPE_TRACEPOINT
 * opened on the event's tracefs id, with the program attached to it.
 *
 * @module
 */

import { ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import type { Link } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { attachToPerfEvent, type PerfAttachOptions } from "./perf-attach.ts";
import { PERF_SAMPLE_RAW, PerfType, perfEventOpen } from "./perf-event.ts";
import { tracepointId } from "./tracefs.ts";

/**
 * Attaches a tracepoint program to trace event `group`/`name`
 * (e.g. "syscalls", "sys_enter_openat"). Mounts tracefs if needed to read the id.
 *
 * @throws Error naming the event when tracefs has no such event; NotSupportedError
 * without tracefs; SyscallError from perf_event_open or the attachment.
 * @example
 * ```ts
 * using link = attachTracepoint(prog, "syscalls", "sys_enter_openat");
 * ```
 */
export function attachTracepoint(
  prog: Program,
  group: string,
  name: string,
  opts: PerfAttachOptions = {},
): Link {
  const what = `tracepoint ${group}:${name}`;
  expectProgType(prog, [ProgType.TRACEPOINT], what);
  const id = tracepointId(group, name);
  const event = perfEventOpen(
    {
      type: PerfType.TRACEPOINT,
      config: BigInt(id),
      samplePeriod: 1n,
      sampleType: PERF_SAMPLE_RAW,
      wakeupEvents: 1,
    },
    { pid: -1, cpu: 0 },
    what,
  );
  return attachToPerfEvent(prog, event, what, opts);
}

// The target text parser is pure and shared with the ELF loader.
export { splitTracepoint } from "../../spec/attach.ts";
