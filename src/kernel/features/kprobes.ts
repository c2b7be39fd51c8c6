/**
 * Whether this kernel can attach kprobes: it has the kprobe PMU
 * (/sys/bus/event_source/devices/kprobe, Linux >= 4.17) or tracefs `kprobe_events`.
 * Neither exists when the kernel was built without CONFIG_KPROBES (or without
 * CONFIG_KPROBE_EVENTS), and then a tool that needs a kprobe says so before it loads
 * anything.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { tracefsHas } from "../links/tracefs.ts";
import { available, type FeatureStatus, unavailable } from "./status.ts";

/** The sentence of a kernel without kprobes. */
export const NO_KPROBES =
  "this kernel was built without CONFIG_KPROBES (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)";

let cached: FeatureStatus | undefined;

/** kprobes: the kprobe PMU or tracefs kprobe_events (cached). */
export function haveKprobes(): FeatureStatus {
  cached ??=
    existsSync("/sys/bus/event_source/devices/kprobe/type") || tracefsHas("kprobe_events")
      ? available("kprobes")
      : unavailable("kprobes", NO_KPROBES);
  return cached;
}
