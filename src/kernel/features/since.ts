/**
 * The Linux release that introduced each program type, map type and miscellaneous
 * feature tsbpf probes for (from the kernel's history, as libbpf, bpftool and
 * cilium/ebpf document them). Lets a probe's "missing" be checked against the running
 * kernel's version, and lets errors say which kernel a feature needs.
 * @module
 */

import { MapType, ProgType } from "../../uapi/index.ts";
import { runningKernelRelease } from "../system/kernel-version.ts";

/** A kernel version as [major, minor]. */
export type KernelVersion = readonly [major: number, minor: number];

/** The release each program type appeared in. */
export const PROG_TYPE_SINCE: Readonly<Record<number, KernelVersion>> = {
  [ProgType.SOCKET_FILTER]: [3, 19],
  [ProgType.KPROBE]: [4, 1],
  [ProgType.SCHED_CLS]: [4, 1],
  [ProgType.SCHED_ACT]: [4, 1],
  [ProgType.TRACEPOINT]: [4, 7],
  [ProgType.XDP]: [4, 8],
  [ProgType.PERF_EVENT]: [4, 9],
  [ProgType.CGROUP_SKB]: [4, 10],
  [ProgType.CGROUP_SOCK]: [4, 10],
  [ProgType.LWT_IN]: [4, 10],
  [ProgType.LWT_OUT]: [4, 10],
  [ProgType.LWT_XMIT]: [4, 10],
  [ProgType.SOCK_OPS]: [4, 13],
  [ProgType.SK_SKB]: [4, 14],
  [ProgType.CGROUP_DEVICE]: [4, 15],
  [ProgType.SK_MSG]: [4, 17],
  [ProgType.RAW_TRACEPOINT]: [4, 17],
  [ProgType.CGROUP_SOCK_ADDR]: [4, 17],
  [ProgType.LWT_SEG6LOCAL]: [4, 18],
  [ProgType.LIRC_MODE2]: [4, 18],
  [ProgType.SK_REUSEPORT]: [4, 19],
  [ProgType.FLOW_DISSECTOR]: [4, 20],
  [ProgType.CGROUP_SYSCTL]: [5, 2],
  [ProgType.RAW_TRACEPOINT_WRITABLE]: [5, 2],
  [ProgType.CGROUP_SOCKOPT]: [5, 3],
  [ProgType.TRACING]: [5, 5],
  [ProgType.STRUCT_OPS]: [5, 6],
  [ProgType.EXT]: [5, 6],
  [ProgType.LSM]: [5, 7],
  [ProgType.SK_LOOKUP]: [5, 9],
  [ProgType.SYSCALL]: [5, 14],
  [ProgType.NETFILTER]: [6, 4],
};

/** The release each map type appeared in. */
export const MAP_TYPE_SINCE: Readonly<Record<number, KernelVersion>> = {
  [MapType.HASH]: [3, 19],
  [MapType.ARRAY]: [3, 19],
  [MapType.PROG_ARRAY]: [4, 2],
  [MapType.PERF_EVENT_ARRAY]: [4, 3],
  [MapType.PERCPU_HASH]: [4, 6],
  [MapType.PERCPU_ARRAY]: [4, 6],
  [MapType.STACK_TRACE]: [4, 6],
  [MapType.CGROUP_ARRAY]: [4, 8],
  [MapType.LRU_HASH]: [4, 10],
  [MapType.LRU_PERCPU_HASH]: [4, 10],
  [MapType.LPM_TRIE]: [4, 11],
  [MapType.ARRAY_OF_MAPS]: [4, 12],
  [MapType.HASH_OF_MAPS]: [4, 12],
  [MapType.DEVMAP]: [4, 14],
  [MapType.SOCKMAP]: [4, 14],
  [MapType.CPUMAP]: [4, 15],
  [MapType.XSKMAP]: [4, 18],
  [MapType.SOCKHASH]: [4, 18],
  [MapType.CGROUP_STORAGE]: [4, 19],
  [MapType.REUSEPORT_SOCKARRAY]: [4, 19],
  [MapType.PERCPU_CGROUP_STORAGE]: [4, 20],
  [MapType.QUEUE]: [4, 20],
  [MapType.STACK]: [4, 20],
  [MapType.SK_STORAGE]: [5, 2],
  [MapType.DEVMAP_HASH]: [5, 4],
  [MapType.STRUCT_OPS]: [5, 6],
  [MapType.RINGBUF]: [5, 8],
  [MapType.INODE_STORAGE]: [5, 10],
  [MapType.TASK_STORAGE]: [5, 11],
  [MapType.BLOOM_FILTER]: [5, 16],
  [MapType.USER_RINGBUF]: [6, 1],
  [MapType.CGRP_STORAGE]: [6, 2],
  [MapType.ARENA]: [6, 9],
};

/** The release each miscellaneous feature (by its probe's `feature` name) appeared in. */
export const MISC_SINCE: Readonly<Record<string, KernelVersion>> = {
  "large program size limit": [5, 2],
  "bounded loop support": [5, 3],
  "ISA extension v2": [4, 14],
  "ISA extension v3": [5, 1],
  "ISA extension v4": [6, 6],
};

/** The running kernel's [major, minor]. */
export function runningKernel(): KernelVersion {
  const { major, minor } = runningKernelRelease();
  return [major, minor];
}

/** True when `have` is `want` or later. */
export function atLeast(have: KernelVersion, want: KernelVersion): boolean {
  return have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
}
