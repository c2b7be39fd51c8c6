/**
 * perf_event_open(2) and the perf-event ioctls a BPF loader needs: open a tracepoint,
 * kprobe, uprobe or sampling event, give it a BPF program (PERF_EVENT_IOC_SET_BPF), and
 * enable or disable it. `struct perf_event_attr` is written by named offset
 * (include/uapi/linux/perf_event.h; a test checks them against vmlinux BTF).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { Errno } from "../../uapi/index.ts";
import {
  allocNative,
  Fd,
  freeNative,
  ioctlInt,
  lastErrno,
  type NativeMemory,
  SyscallError,
  syscall5,
  syscallNumber,
} from "../sys/index.ts";

/** `enum perf_type_id`: the fixed PMU types (kprobe and uprobe PMUs have dynamic ones). */
export const PerfType = {
  HARDWARE: 0,
  SOFTWARE: 1,
  TRACEPOINT: 2,
  HW_CACHE: 3,
  RAW: 4,
  BREAKPOINT: 5,
} as const;

/** `enum perf_sw_ids`: configs of {@link PerfType.SOFTWARE} events. */
export const PerfSoftwareConfig = {
  CPU_CLOCK: 0,
  TASK_CLOCK: 1,
  PAGE_FAULTS: 2,
  CONTEXT_SWITCHES: 3,
  CPU_MIGRATIONS: 4,
  PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6,
  ALIGNMENT_FAULTS: 7,
  EMULATION_FAULTS: 8,
  DUMMY: 9,
  BPF_OUTPUT: 10,
  CGROUP_SWITCHES: 11,
} as const;

/** `enum perf_hw_id`: configs of {@link PerfType.HARDWARE} events. */
export const PerfHardwareConfig = {
  CPU_CYCLES: 0,
  INSTRUCTIONS: 1,
  CACHE_REFERENCES: 2,
  CACHE_MISSES: 3,
  BRANCH_INSTRUCTIONS: 4,
  BRANCH_MISSES: 5,
  BUS_CYCLES: 6,
  STALLED_CYCLES_FRONTEND: 7,
  STALLED_CYCLES_BACKEND: 8,
  REF_CPU_CYCLES: 9,
} as const;

/**
 * Byte offsets of `struct perf_event_attr` members (x86-64 and arm64 alike). `flags`
 * is the 64-bit word of single-bit fields (`disabled` is bit 0, `freq` bit 10).
 */
export const PERF_EVENT_ATTR = {
  type: 0,
  size: 4,
  config: 8,
  sample_period: 16,
  sample_type: 24,
  read_format: 32,
  flags: 40,
  wakeup_events: 48,
  bp_type: 52,
  config1: 56,
  config2: 64,
  /** PERF_ATTR_SIZE_VER5: enough for every field tsbpf sets; the kernel accepts it. */
  sizeof: 112,
} as const;

/** Bits of the `flags` word of perf_event_attr. */
export const PerfAttrFlag = {
  DISABLED: 1n << 0n,
  INHERIT: 1n << 1n,
  EXCLUDE_USER: 1n << 4n,
  EXCLUDE_KERNEL: 1n << 5n,
  EXCLUDE_HV: 1n << 6n,
  FREQ: 1n << 10n,
} as const;

/** `PERF_SAMPLE_RAW`: what a tracepoint event records; libbpf sets it for tracepoints. */
export const PERF_SAMPLE_RAW = 1n << 10n;

/** `PERF_FLAG_FD_CLOEXEC`. */
export const PERF_FLAG_FD_CLOEXEC = 8;

/** `PERF_EVENT_IOC_ENABLE` = _IO('$', 0). */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
/** `PERF_EVENT_IOC_DISABLE` = _IO('$', 1). */
export const PERF_EVENT_IOC_DISABLE = 0x2401;
/** `PERF_EVENT_IOC_SET_BPF` = _IOW('$', 8, __u32). */
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;

/** What to open: the fields of `struct perf_event_attr` tsbpf uses. */
export interface PerfEventAttr {
  /** `type`: a {@link PerfType}, or a dynamic PMU type (kprobe, uprobe). */
  readonly type: number;
  /** `config`: the event (tracepoint id, software counter, retprobe bit...). */
  readonly config?: bigint;
  /** `config1` as a number (kprobe address). */
  readonly config1?: bigint;
  /**
   * `config1` as a pointer to this NUL-terminated string (`kprobe_func`,
   * `uprobe_path`); wins over {@link config1}.
   */
  readonly config1String?: string;
  /** `config2` (probe offset). */
  readonly config2?: bigint;
  /** `sample_period`, or `sample_freq` when {@link freq} is set. */
  readonly samplePeriod?: bigint;
  /** Interpret {@link samplePeriod} as a frequency in Hz. */
  readonly freq?: boolean;
  /** `sample_type` bits. */
  readonly sampleType?: bigint;
  /** `wakeup_events`. */
  readonly wakeupEvents?: number;
  /** Open disabled (enable later with {@link perfEventEnable}). */
  readonly disabled?: boolean;
  /** Other `flags` bits ({@link PerfAttrFlag}). */
  readonly flags?: bigint;
}

/** Where to open it: perf_event_open's `pid`, `cpu` and `group_fd` arguments. */
export interface PerfEventTarget {
  /** Process to watch; -1 (default) for all processes (then `cpu` must be >= 0). */
  readonly pid?: number;
  /** CPU to watch; -1 for any CPU (then `pid` must be >= 0). Default 0 when pid is -1. */
  readonly cpu?: number;
  /** Group leader fd, -1 (default) for none. */
  readonly groupFd?: number;
}

const encoder = new TextEncoder();

/** Writes `attr` into a `struct perf_event_attr` of {@link PERF_EVENT_ATTR.sizeof} bytes. */
export function encodePerfEventAttr(attr: PerfEventAttr, config1Address?: bigint): Uint8Array {
  const bytes = new Uint8Array(PERF_EVENT_ATTR.sizeof);
  const v = new DataView(bytes.buffer);
  const o = PERF_EVENT_ATTR;
  v.setUint32(o.type, attr.type >>> 0, true);
  v.setUint32(o.size, o.sizeof, true);
  v.setBigUint64(o.config, BigInt.asUintN(64, attr.config ?? 0n), true);
  v.setBigUint64(o.sample_period, BigInt.asUintN(64, attr.samplePeriod ?? 0n), true);
  v.setBigUint64(o.sample_type, BigInt.asUintN(64, attr.sampleType ?? 0n), true);
  let flags = attr.flags ?? 0n;
  if (attr.disabled) flags |= PerfAttrFlag.DISABLED;
  if (attr.freq) flags |= PerfAttrFlag.FREQ;
  v.setBigUint64(o.flags, flags, true);
  v.setUint32(o.wakeup_events, attr.wakeupEvents ?? 0, true);
  v.setBigUint64(o.config1, BigInt.asUintN(64, config1Address ?? attr.config1 ?? 0n), true);
  v.setBigUint64(o.config2, BigInt.asUintN(64, attr.config2 ?? 0n), true);
  return bytes;
}

/**
 * perf_event_open(2) with close-on-exec. `what` names the event in errors
 * ("tracepoint syscalls/sys_enter_getpid").
 *
 * @throws SyscallError naming the event, e.g. ENOENT for an unknown tracepoint id,
 * EACCES/EPERM without CAP_PERFMON.
 */
export function perfEventOpen(
  attr: PerfEventAttr,
  target: PerfEventTarget = {},
  what = `perf event type ${attr.type}`,
): Fd {
  const nr = syscallNumber("perf_event_open");
  const pid = target.pid ?? -1;
  const cpu = target.cpu ?? (pid === -1 ? 0 : -1);
  const mems: NativeMemory[] = [];
  try {
    let config1Address: bigint | undefined;
    if (attr.config1String !== undefined) {
      const s = encoder.encode(attr.config1String);
      const m = allocNative(s.length + 1);
      mems.push(m);
      m.bytes.set(s);
      config1Address = m.address;
    }
    const a = allocNative(PERF_EVENT_ATTR.sizeof);
    mems.push(a);
    a.bytes.set(encodePerfEventAttr(attr, config1Address));
    for (;;) {
      const r = syscall5(nr, a.address, pid, cpu, target.groupFd ?? -1, PERF_FLAG_FD_CLOEXEC);
      if (r >= 0) return new Fd(r);
      const e = lastErrno();
      if (e === Errno.EINTR) continue;
      throw new SyscallError(e, `perf_event_open (${what}, pid ${pid}, cpu ${cpu})`);
    }
  } finally {
    for (const m of mems) freeNative(m);
  }
}

function ioctl(fd: number, req: number, arg: number, what: string): void {
  if (ioctlInt(fd, req, arg) < 0) throw new SyscallError(lastErrno(), what);
}

/** PERF_EVENT_IOC_ENABLE. */
export function perfEventEnable(fd: number): void {
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0, `enable perf event (fd ${fd})`);
}

/**
 * PERF_EVENT_IOC_SET_BPF: runs program `progFd` on every hit of the event (the way to
 * attach before BPF perf links, Linux < 5.15). Detached when the event's fd closes.
 */
export function perfEventSetBpf(fd: number, progFd: number): void {
  ioctl(fd, PERF_EVENT_IOC_SET_BPF, progFd, `attach program fd ${progFd} to perf event (fd ${fd})`);
}

/**
 * The dynamic PMU type of `pmu` ("kprobe", "uprobe") from
 * /sys/bus/event_source/devices/PMU/type, or undefined when the kernel has no such PMU.
 */
export function pmuType(pmu: string): number | undefined {
  try {
    const n = Number.parseInt(
      readFileSync(`/sys/bus/event_source/devices/${pmu}/type`, "utf8").trim(),
      10,
    );
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The config bit a PMU's `format/retprobe` file names ("config:0" → 0), or undefined
 * when there is none.
 */
export function pmuRetprobeBit(pmu: string): number | undefined {
  try {
    const m = /^config:(\d+)/.exec(
      readFileSync(`/sys/bus/event_source/devices/${pmu}/format/retprobe`, "utf8").trim(),
    );
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Where a PMU's `format/FIELD` file puts a field: `config:32-63` → word "config", bits 32..63. */
export interface PmuFormatField {
  /** The attr word: `config`, `config1` or `config2`. */
  readonly word: string;
  /** The field's lowest bit. */
  readonly start: number;
  /** The field's highest bit (= start for a one-bit field). */
  readonly end: number;
}

/**
 * The bits a PMU's `format/FIELD` file names (/sys/bus/event_source/devices/PMU/
 * format/FIELD, e.g. the uprobe PMU's `ref_ctr_offset` is `config:32-63`), or
 * undefined when the kernel has no such field.
 */
export function pmuFormatField(pmu: string, field: string): PmuFormatField | undefined {
  try {
    const m = /^(config\d?):(\d+)(?:-(\d+))?$/.exec(
      readFileSync(`/sys/bus/event_source/devices/${pmu}/format/${field}`, "utf8").trim(),
    );
    if (!m) return undefined;
    const start = Number(m[2]);
    return { word: m[1] as string, start, end: m[3] === undefined ? start : Number(m[3]) };
  } catch {
    return undefined;
  }
}
