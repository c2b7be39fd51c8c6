/**
 * The VM's helper functions, by the kernel's ids (`HelperId` in uapi), with the
 * kernel's argument conventions and return values (negative errnos on failure).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import type { XdpBuffer } from "./context.ts";
import { ETH_HLEN, XDP_FRAME_STRUCT_SIZE } from "./context.ts";
import { callbackHelpers } from "./helpers-callback.ts";
import { mapHelpers } from "./helpers-maps.ts";
import { netHelpers } from "./helpers-net.ts";
import { stringHelpers } from "./helpers-string.ts";
import { traceHelpers } from "./helpers-trace.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";
import type { VmMap } from "./maps/map.ts";
import { VmMapOfMaps } from "./maps/map-of-maps.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO } from "./memory.ts";
import { seededRandom } from "./random.ts";
import { helperInput, mapRegion } from "./run-env.ts";

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

function defaultClock(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n;
  const t0 = performance.now();
  return () => base + BigInt(Math.round((performance.now() - t0) * 1e6));
}

/** Reads a NUL-terminated string of at most `max` bytes at `addr` (fewer at a region's end). */
function readCString(m: Machine, addr: bigint, max: number): string {
  const { id, offset } = m.memory.locate(addr);
  if (id < 0 || id >= m.memory.count) return "(fault)";
  const end = Math.min(offset + max, m.memory.readHi[id]!);
  if (offset < m.memory.readLo[id]! || offset >= end) return "(fault)";
  const b = m.memory.bytes[id]!;
  let s = "";
  for (let i = offset; i < end && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Formats like the kernel's bpf_trace_printk: %d %i %u %x %X %c %s %p with the l/ll
 * length modifiers, flags `-0+ ` and a width; at most 3 arguments.
 */
export function formatPrintk(m: Machine, fmt: string, args: readonly bigint[]): string {
  let out = "";
  let argi = 0;
  const re = /%([-0+ #]*)(\d*)(l{0,2}|h{0,2}|z)?([diuxXcsp%])/g;
  let last = 0;
  for (let mt = re.exec(fmt); mt; mt = re.exec(fmt)) {
    out += fmt.slice(last, mt.index);
    last = re.lastIndex;
    const [, flags = "", width = "", len = "", conv] = mt;
    if (conv === "%") {
      out += "%";
      continue;
    }
    const raw = args[argi++] ?? 0n;
    const wide = len === "l" || len === "ll" || len === "z" || conv === "p";
    let s: string;
    switch (conv) {
      case "d":
      case "i":
        s = (wide ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw)).toString();
        if (flags.includes("+") && !s.startsWith("-")) s = `+${s}`;
        break;
      case "u":
        s = (wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw)).toString();
        break;
      case "x":
      case "X":
        s = (wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw)).toString(16);
        if (conv === "X") s = s.toUpperCase();
        if (flags.includes("#") && raw !== 0n) s = `0x${s}`;
        break;
      case "c":
        s = String.fromCharCode(Number(raw & 0xffn));
        break;
      case "s":
        s = readCString(m, raw, 4096);
        break;
      default:
        s = `0x${BigInt.asUintN(64, raw).toString(16)}`;
    }
    const w = Number(width || 0);
    if (s.length < w) {
      if (flags.includes("-")) s = s.padEnd(w);
      else if (flags.includes("0") && conv !== "s" && conv !== "c") {
        const neg = s.startsWith("-") || s.startsWith("+");
        s = neg ? s[0] + s.slice(1).padStart(w - 1, "0") : s.padStart(w, "0");
      } else s = s.padStart(w);
    }
    out += s;
  }
  return out + fmt.slice(last);
}

function xdp(m: Machine): XdpBuffer {
  const x = m.env.xdp as XdpBuffer | undefined;
  if (!x) throw m.error("this helper needs an XDP packet (run the program as XDP with data)");
  return x;
}

/** One's-complement sum of 32-bit little-endian words plus `seed`, folded to 32 bits (x86 csum_partial). */
export function csumPartial(words: readonly number[], seed: number): number {
  let s = seed >>> 0;
  for (const w of words) s += w >>> 0;
  while (s > 0xffffffff) s = (s % 0x1_0000_0000) + Math.floor(s / 0x1_0000_0000);
  return s;
}

/** Folds a 32-bit one's-complement sum to 16 bits (`csum_from32to16`, not inverted). */
export function csumFold16(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The map's value for a program: per-CPU maps need the CPU to be one of theirs. */
function checkCpu(m: Machine, map: VmMap, cpu: number): number {
  if (map.cpus === 1) return 0;
  if (cpu >= map.cpus)
    throw m.error(`the program runs on CPU ${cpu}, but ${map} has ${map.cpus} virtual CPUs`);
  return cpu;
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
  const random = seededRandom(settings.seed ?? Math.floor(Math.random() * 0x1_0000_0000));
  const cpu = settings.cpu ?? 0;
  const cpuOf = (m: Machine): number => helperInput(m).cpu ?? cpu;
  const h = new Map<number, HelperFunction>();

  h.set(HelperId.map_lookup_elem, (m) => {
    const map = m.argMap(1);
    // Hot path: the key read in place (no BigInt, no view), as lookupSlot takes an offset.
    const R = m.R;
    const mem = m.memory;
    const kid = (R[5] as number) - HI;
    const kat = ((R[4] as number) >>> 0) - LO;
    if (
      kid >= 0 &&
      kid < mem.count &&
      kat >= (mem.readLo[kid] as number) &&
      kat + map.keySize <= (mem.readHi[kid] as number) &&
      map.cpus === 1 &&
      !(map instanceof VmMapOfMaps)
    ) {
      const at = map.lookupSlot(mem.bytes[kid] as Uint8Array, kat, 0);
      if (at < 0) return 0;
      R[0] = LO + at;
      R[1] = (R[3] as number) | 0;
      return undefined;
    }
    const key = m.argPtr(2, map.keySize, "read");
    if (map instanceof VmMapOfMaps) {
      const inner = map.innerAt(key, 0);
      if (!inner) return 0;
      m.setR0Pointer(mapRegion(m.memory, inner), 0);
      m.R[0] = 0;
      return undefined;
    }
    const at = map.lookupSlot(key, 0, checkCpu(m, map, cpuOf(m)));
    if (at < 0) return 0;
    m.setR0Pointer(m.R[3]! - HI, at);
    return undefined;
  });
  h.set(HelperId.map_update_elem, (m) => {
    const map = m.argMap(1);
    const key = m.argPtr(2, map.keySize, "read");
    const value = m.argPtr(3, map.valueSize, "read");
    const flags = m.arg(4);
    if (flags > 0xffff_ffffn) return -Errno.EINVAL;
    return map.updateRaw(key, 0, value, 0, Number(flags), checkCpu(m, map, cpuOf(m)));
  });
  h.set(HelperId.map_delete_elem, (m) => {
    const map = m.argMap(1);
    return map.deleteRaw(m.argPtr(2, map.keySize, "read"), 0);
  });
  const now = () => BigInt.asUintN(64, clock());
  h.set(HelperId.ktime_get_ns, now);
  h.set(HelperId.ktime_get_boot_ns, now);
  h.set(HelperId.ktime_get_coarse_ns, now);
  h.set(HelperId.ktime_get_tai_ns, now);
  h.set(HelperId.jiffies64, () => now() / 4_000_000n); // HZ=250
  h.set(HelperId.get_prandom_u32, () => random());
  h.set(HelperId.get_smp_processor_id, cpuOf);
  h.set(HelperId.get_numa_node_id, () => 0);
  // One thread runs a program: a lock is a flag, and taking a held one is a deadlock.
  h.set(HelperId.spin_lock, (m) => {
    const lock = m.argPtr(1, 4, "readwrite");
    if (lock[0]) throw m.error("bpf_spin_lock: the lock is already held (deadlock)");
    lock[0] = 1;
    return 0;
  });
  h.set(HelperId.spin_unlock, (m) => {
    const lock = m.argPtr(1, 4, "readwrite");
    if (!lock[0]) throw m.error("bpf_spin_unlock: the lock is not held");
    lock[0] = 0;
    return 0;
  });
  for (const [id, fn] of [
    ...mapHelpers(cpuOf),
    ...callbackHelpers(cpuOf),
    ...netHelpers(),
    ...traceHelpers(),
    ...stringHelpers(),
  ])
    h.set(id, fn);
  h.set(HelperId.trace_printk, (m) => {
    const size = m.argU32(2);
    if (size === 0) return -Errno.EINVAL;
    const bytes = m.argPtr(1, size, "read");
    if (bytes[size - 1] !== 0) return -Errno.EINVAL;
    let fmt = "";
    for (let i = 0; i < size - 1 && bytes[i] !== 0; i++) fmt += String.fromCharCode(bytes[i]!);
    const text = formatPrintk(m, fmt, [m.arg(3), m.arg(4), m.arg(5)]);
    m.printk.push(text.endsWith("\n") ? text.slice(0, -1) : text);
    return text.length;
  });
  h.set(HelperId.trace_vprintk, (m) => {
    // bpf_trace_vprintk(fmt, fmt_size, data, data_len): the arguments as an array of
    // u64 (at most MAX_BPRINTF_VARARGS = 12), like trace_printk otherwise.
    const size = m.argU32(2);
    const dataLen = m.argU32(4);
    if (size === 0 || dataLen % 8 !== 0 || dataLen > 12 * 8) return -Errno.EINVAL;
    if (dataLen > 0 && m.arg(3) === 0n) return -Errno.EINVAL;
    const bytes = m.argPtr(1, size, "read");
    if (bytes[size - 1] !== 0) return -Errno.EINVAL;
    let fmt = "";
    for (let i = 0; i < size - 1 && bytes[i] !== 0; i++) fmt += String.fromCharCode(bytes[i]!);
    const args: bigint[] = [];
    if (dataLen > 0) {
      const data = m.argPtr(3, dataLen, "read");
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let o = 0; o < dataLen; o += 8) args.push(dv.getBigUint64(o, true));
    }
    const text = formatPrintk(m, fmt, args);
    m.printk.push(text.endsWith("\n") ? text.slice(0, -1) : text);
    return text.length;
  });
  h.set(HelperId.xdp_adjust_head, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const metalen = x.data - x.dataMeta;
    const data = x.data + offset;
    if (data < XDP_FRAME_STRUCT_SIZE + metalen || data > x.dataEnd - ETH_HLEN) return -Errno.EINVAL;
    if (metalen) x.bytes.copyWithin(x.dataMeta + offset, x.dataMeta, x.data);
    x.dataMeta += offset;
    x.data = data;
    x.sync();
    return 0;
  });
  h.set(HelperId.xdp_adjust_meta, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const meta = x.dataMeta + offset;
    const metalen = x.data - meta;
    if (meta < XDP_FRAME_STRUCT_SIZE || meta > x.data) return -Errno.EINVAL;
    // Linux >= 6.5 (xdp_metalen_invalid): 4-byte aligned, at most skb_shared_info's u8 meta_len.
    if (metalen % 4 !== 0 || metalen > 255) return -Errno.EACCES;
    x.dataMeta = meta;
    x.sync();
    return 0;
  });
  h.set(HelperId.xdp_adjust_tail, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const end = x.dataEnd + offset;
    if (end > x.hardEnd || end < x.data + ETH_HLEN) return -Errno.EINVAL;
    if (offset > 0) x.bytes.fill(0, x.dataEnd, end);
    x.dataEnd = end;
    x.sync();
    return 0;
  });
  h.set(HelperId.csum_diff, (m) => {
    // Linux >= 6.12 (one result on every architecture): 16-bit folded sums.
    const fromSize = m.argU32(2);
    const toSize = m.argU32(4);
    const seed = m.argU32(5);
    if (((fromSize | toSize) & 3) !== 0) return -Errno.EINVAL;
    const words = (i: number, size: number): number[] => {
      const b = m.argPtr(i, size, "read");
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out: number[] = [];
      for (let k = 0; k < size; k += 4) out.push(v.getUint32(k, true));
      return out;
    };
    if (fromSize && toSize) {
      const to = csumPartial(words(3, toSize), seed);
      const from = csumPartial(words(1, fromSize), 0);
      return csumFold16(csumPartial([~from >>> 0], to));
    }
    if (toSize) return csumFold16(csumPartial(words(3, toSize), seed));
    if (fromSize) return csumFold16(~csumPartial(words(1, fromSize), ~seed >>> 0) >>> 0);
    return csumFold16(seed);
  });
  return h;
}
