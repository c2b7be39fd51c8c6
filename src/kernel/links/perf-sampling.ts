/**
 * Sampling perf events for `SEC("perf_event")` programs: a software or hardware
 * counter per CPU (cpu-clock by default) that runs the program every `period` events
 * or `frequency` times a second.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { parseCpuList } from "../system/cpus.ts";
import type { Link } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { attachToPerfEvent, type PerfAttachOptions } from "./perf-attach.ts";
import { PerfSoftwareConfig, PerfType, perfEventOpen } from "./perf-event.ts";

/** What to sample. */
export interface SamplingOptions extends PerfAttachOptions {
  /** `PerfType` (default SOFTWARE). */
  readonly type?: number;
  /** The counter (default `PerfSoftwareConfig.CPU_CLOCK`). */
  readonly config?: bigint;
  /** Run the program every `period` events (for cpu-clock: nanoseconds). */
  readonly period?: bigint;
  /** Or this many times a second (default 99 when no period is given). */
  readonly frequency?: number;
  /** Only this process (default: all). */
  readonly pid?: number;
}

/** The CPUs that are online now, from /sys/devices/system/cpu/online. */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
}

const NAMES: Record<number, string> = { 0: "hardware", 1: "software" };
const SW: Record<number, string> = { 0: "cpu-clock", 1: "task-clock" };

/**
 * Attaches a perf_event program to a sampling event on `cpu`.
 * @throws SyscallError from perf_event_open (ENOENT: the counter does not exist here).
 */
export function attachPerfEvent(prog: Program, cpu: number, opts: SamplingOptions = {}): Link {
  const type = opts.type ?? PerfType.SOFTWARE;
  const config = opts.config ?? BigInt(PerfSoftwareConfig.CPU_CLOCK);
  const name =
    type === PerfType.SOFTWARE && SW[Number(config)]
      ? SW[Number(config)]
      : `${NAMES[type] ?? `type ${type}`}:${config}`;
  const what = `perf event ${name} on cpu ${cpu}`;
  expectProgType(prog, [ProgType.PERF_EVENT], what);
  const freq = opts.period === undefined;
  const event = perfEventOpen(
    {
      type,
      config,
      samplePeriod: opts.period ?? BigInt(opts.frequency ?? 99),
      freq,
    },
    { pid: opts.pid ?? -1, cpu },
    what,
  );
  return attachToPerfEvent(prog, event, what, opts);
}

/**
 * Attaches a perf_event program to a sampling event on every online CPU; one link per
 * CPU. On failure, the links made so far are closed.
 */
export function attachPerfEventPerCpu(prog: Program, opts: SamplingOptions = {}): Link[] {
  const links: Link[] = [];
  try {
    for (const cpu of onlineCpus()) links.push(attachPerfEvent(prog, cpu, opts));
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  return links;
}
