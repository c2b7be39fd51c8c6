/**
 * `tsbpf trace profile`: BCC's profile. A cpu-clock perf event on every online CPU
 * runs a BPF program 49 times a second (-F HZ, or every -c N nanoseconds of CPU
 * time); it counts samples per process, command name and pair of user and kernel
 * stacks in the kernel. At the end each stack is printed with its count, or folded
 * for flamegraph.pl.
 *
 * @module
 */

import { PerfSoftwareConfig, PerfType } from "../../kernel/links/perf-event.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { intOption } from "./snoop-tool.ts";
import { exclusive, headerEnd, runStackTool, type StackTool, stackWhat } from "./stack-tool.ts";
import { PROFILE_OPTIONS } from "./tool-tables.ts";

/** BCC's default sampling frequency, Hertz (not 50 or 100, to avoid lockstep with timers). */
const DEFAULT_HZ = 49;

/** The profile tool. */
export const PROFILE: StackTool = {
  name: "profile",
  summary: "CPU stack traces sampled at a timed interval, counted, as BCC's profile",
  options: PROFILE_OPTIONS,
  check: (v) => exclusive("profile", v, ["frequency", "count"]),
  header: (v, s) => {
    const rate =
      typeof v.count === "string"
        ? `every ${intOption(v.count, "-c")} events`
        : `${typeof v.frequency === "string" ? intOption(v.frequency, "-F") : DEFAULT_HZ} Hertz`;
    const who = s.pid ? `PID ${s.pid}` : "all threads";
    return `Sampling at ${rate} of ${who} by ${stackWhat(s)} stack${headerEnd(s)}`;
  },
  object: "profile.bpf.o",
  constants: (_v, s) => ({ targ_tgid: s.pid }),
  attachments: (v) => [
    {
      program: "do_sample",
      sampling: {
        type: PerfType.SOFTWARE,
        config: BigInt(PerfSoftwareConfig.CPU_CLOCK),
        ...(typeof v.count === "string"
          ? { period: BigInt(intOption(v.count, "-c")) }
          : {
              frequency:
                typeof v.frequency === "string" ? intOption(v.frequency, "-F") : DEFAULT_HZ,
            }),
      },
    },
  ],
  valueName: "samples",
  annotations: (v) => v.annotations === true,
};

/** Runs `tsbpf trace profile ...`. */
export function traceProfile(ctx: Context, args: Args): Promise<void> {
  return runStackTool(ctx, args, PROFILE);
}
