/**
 * The registry of the VM's helper functions: {@link defaultHelpers} gathers the topic
 * modules (maps, callbacks, net, trace, strings, clock, printk, XDP, checksums, locks)
 * into one table by the kernel's ids (`HelperId` in uapi); every helper keeps the
 * kernel's argument conventions and return values (negative errnos on failure).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { callbackHelpers } from "./helpers-callback.ts";
import { clockHelpers, defaultClock } from "./helpers-clock.ts";
import { csumHelpers } from "./helpers-csum.ts";
import { lockHelpers } from "./helpers-lock.ts";
import { mapHelpers } from "./helpers-maps.ts";
import { netHelpers } from "./helpers-net.ts";
import { printkHelpers } from "./helpers-printk.ts";
import { stringHelpers } from "./helpers-string.ts";
import { traceHelpers } from "./helpers-trace.ts";
import { xdpHelpers } from "./helpers-xdp.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";
import { helperInput } from "./run-env.ts";

/** Settings the helpers read: the clock, the random seed, the CPU number. */
export interface HelperSettings {
  /** Nanoseconds for ktime_get_ns and friends (default: a monotonic clock). */
  clock?: () => bigint;
  /** Seed of get_prandom_u32 (default: random). The same seed gives the same sequence. */
  seed?: number;
  /**
   * The CPU programs run on unless a run's input says otherwise (`VmRunInput.cpu`):
   * what get_smp_processor_id answers and whose values per-CPU maps show (default 0).
   */
  cpu?: number;
}

/**
 * The default helpers for `settings`: map lookup/update/delete (per-CPU maps show the
 * running CPU's value; a map of maps gives the inner map), push/pop/peek, ring buffer
 * and perf output, redirect_map, ktime (ns, boot, coarse, tai), jiffies64, prandom,
 * smp_processor_id, trace_printk, trace_vprintk, snprintf, strtol/strtoul, xdp_adjust_head/meta/tail,
 * csum_diff, skb_load/store_bytes, l3/l4_csum_replace, redirect, current
 * pid_tgid/uid_gid/comm/task, probe_read (kernel/user, str), get_stack(id),
 * spin_lock/unlock, loop and for_each_map_elem. tail_call is part of the interpreter.
 */
export function defaultHelpers(settings: HelperSettings = {}): Map<number, HelperFunction> {
  const clock = settings.clock ?? defaultClock();
  const seed = settings.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  const cpu = settings.cpu ?? 0;
  const cpuOf = (m: Machine): number => helperInput(m).cpu ?? cpu;
  const h = new Map<number, HelperFunction>();
  for (const [id, fn] of [
    ...mapHelpers(cpuOf),
    ...clockHelpers(clock, seed, cpuOf),
    ...lockHelpers(),
    ...callbackHelpers(cpuOf),
    ...netHelpers(),
    ...traceHelpers(),
    ...stringHelpers(),
    ...printkHelpers(),
    ...xdpHelpers(),
    ...csumHelpers(),
  ])
    h.set(id, fn);
  return h;
}
