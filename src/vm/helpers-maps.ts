/**
 * Map helpers: lookup (per-CPU maps show the running CPU's value; a map of maps gives
 * the inner map), update and delete, queue/stack/bloom push, pop and peek, ring buffer
 * reserve/submit/discard/output/query, perf_event_output and redirect_map, with the
 * kernel's return values.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId, MapType, RingbufQuery, XdpAction } from "../uapi/index.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";
import { VmBloomFilter } from "./maps/bloom-filter.ts";
import type { VmMap } from "./maps/map.ts";
import { VmMapOfMaps } from "./maps/map-of-maps.ts";
import { VmPerfEventArray } from "./maps/perf-event-array.ts";
import { VmQueueMap } from "./maps/queue.ts";
import { VmRedirectMap } from "./maps/redirect-map.ts";
import { VmRingBuf } from "./maps/ringbuf.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO } from "./memory.ts";
import { mapRegion } from "./run-env.ts";

/** `BPF_F_INDEX_MASK` / `BPF_F_CURRENT_CPU`. */
const INDEX_MASK = 0xffff_ffffn;
/** `BPF_F_CTXLEN_MASK`: packet bytes to append to a perf sample (skb and XDP programs). */
const CTXLEN_MASK = 0xf_ffff_0000_0000n;

function queueOrBloom(m: Machine, map: VmMap, op: string): VmQueueMap | VmBloomFilter {
  if (map instanceof VmQueueMap || map instanceof VmBloomFilter) return map;
  throw m.error(`${op} needs a queue, stack or bloom filter map, ${map} is not`);
}

function ringbuf(m: Machine, map: VmMap, op: string): VmRingBuf {
  if (map instanceof VmRingBuf) return map;
  throw m.error(`${op} needs a ring buffer map, ${map} is not`);
}

/** The ring buffer and sample offset behind a pointer bpf_ringbuf_reserve returned. */
function reserved(m: Machine, op: string): { rb: VmRingBuf; sample: number; window: number } {
  const { id, offset } = m.memory.locate(m.arg(1));
  // A record is a window this machine opened on the ring's data (see rbReserve).
  const base = m.access.has(id) ? m.windowBase(id) : -1;
  const owner = base !== id ? m.memory.owners[base] : undefined;
  if (!(owner instanceof VmRingBuf))
    throw m.error(`${op}: r1 = 0x${m.arg(1).toString(16)} is not a ring buffer record`);
  return { rb: owner, sample: offset, window: id };
}

/** The packet bytes a perf sample may append, for skb and XDP programs. */
function packetBytes(m: Machine): Uint8Array | undefined {
  const xdp = m.env.xdp as { bytes: Uint8Array; data: number; dataEnd: number } | undefined;
  if (xdp) return xdp.bytes.subarray(xdp.data, xdp.dataEnd);
  const p = m.ldPacket;
  if (p) return (m.memory.bytes[p.id] as Uint8Array).subarray(p.start, p.end);
  return undefined;
}

/** The map's value for a program: per-CPU maps need the CPU to be one of theirs. */
function checkCpu(m: Machine, map: VmMap, cpu: number): number {
  if (map.cpus === 1) return 0;
  if (cpu >= map.cpus)
    throw m.error(`the program runs on CPU ${cpu}, but ${map} has ${map.cpus} virtual CPUs`);
  return cpu;
}

/** The map helpers of this module, by id; `cpuOf` tells the running CPU. */
export function mapHelpers(cpuOf: (m: Machine) => number): [number, HelperFunction][] {
  const h = new Map<number, HelperFunction>();
  h.set(HelperId.map_lookup_elem, (m) => {
    const map = m.argMap(1);
    // Hot path: the key read in place (no BigInt, no view), as lookupSlot takes an offset.
    const R = m.R;
    const mem = m.memory;
    const acc = m.access;
    const kid = (R[5] as number) - HI;
    const kat = ((R[4] as number) >>> 0) - LO;
    if (
      kid >= 0 &&
      kid < mem.count &&
      kat >= (acc.readLo[kid] as number) &&
      kat + map.keySize <= (acc.readHi[kid] as number) &&
      map.cpus === 1 &&
      !(map instanceof VmMapOfMaps)
    ) {
      const at = map.lookupSlot(mem.bytes[kid] as Uint8Array, kat, 0);
      if (at < 0) return 0;
      R[0] = LO + at;
      R[1] = HI + m.window((R[3] as number) - HI, at, map.valueSize);
      return undefined;
    }
    const key = m.argPtr(2, map.keySize, "read");
    if (map instanceof VmMapOfMaps) {
      const inner = map.innerAt(key, 0);
      if (!inner) return 0;
      const id = mapRegion(m.memory, inner);
      // The inner map becomes one of the program's maps (a handle, as lddw gives).
      m.access.grantHandle(id);
      m.setR0Pointer(id, 0);
      m.R[0] = 0;
      return undefined;
    }
    const at = map.lookupSlot(key, 0, checkCpu(m, map, cpuOf(m)));
    if (at < 0) return 0;
    m.setR0Pointer(m.window(m.R[3]! - HI, at, map.valueSize), at);
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
  const push: HelperFunction = (m) => {
    const map = queueOrBloom(m, m.argMap(1), "bpf_map_push_elem");
    const value = m.argPtr(2, map.valueSize, "read");
    const flags = m.arg(3);
    if (flags > 0xffff_ffffn) return -Errno.EINVAL;
    return map.pushRaw(value, 0, Number(flags));
  };
  const take =
    (remove: boolean, op: string): HelperFunction =>
    (m) => {
      const map = m.argMap(1);
      if (map instanceof VmBloomFilter) {
        if (remove) return -Errno.EOPNOTSUPP;
        return map.peekRaw(m.argPtr(2, map.valueSize, "read"), 0);
      }
      if (!(map instanceof VmQueueMap))
        throw m.error(`${op} needs a queue or stack map, ${map} is not`);
      const out = m.argPtr(2, map.valueSize, "write");
      return map.takeRaw(out, 0, remove);
    };
  const rbReserve: HelperFunction = (m) => {
    const rb = ringbuf(m, m.argMap(1), "bpf_ringbuf_reserve");
    const size = m.arg(2);
    if (m.arg(3) !== 0n || size > 0xffff_ffffn) return 0;
    const at = rb.reserve(Number(size));
    if (at < 0) return 0;
    // The record's sample only: its header and the ring's other bytes stay out of reach.
    m.setR0Pointer(m.window(mapRegion(m.memory, rb), at, Number(size), false), at);
    return undefined;
  };
  const rbCommit =
    (discard: boolean, op: string): HelperFunction =>
    (m) => {
      const { rb, sample, window } = reserved(m, op);
      if (!rb.commit(sample, discard))
        throw m.error(
          `${op}: the record at 0x${m.arg(1).toString(16)} is not reserved (submitted twice?)`,
        );
      m.closeWindow(window);
      return 0;
    };
  const rbOutput: HelperFunction = (m) => {
    const rb = ringbuf(m, m.argMap(1), "bpf_ringbuf_output");
    const size = m.argU32(3);
    return rb.output(m.argPtr(2, size, "read"), 0, size, m.arg(4));
  };
  const rbQuery: HelperFunction = (m) => {
    const rb = ringbuf(m, m.argMap(1), "bpf_ringbuf_query");
    switch (m.arg(2)) {
      case BigInt(RingbufQuery.AVAIL_DATA):
        return rb.available;
      case BigInt(RingbufQuery.RING_SIZE):
        return rb.size;
      case BigInt(RingbufQuery.CONS_POS):
        return rb.consumerPos;
      case BigInt(RingbufQuery.PROD_POS):
        return rb.producerPos;
      default:
        return 0;
    }
  };
  const perfOutput: HelperFunction = (m) => {
    const map = m.argMap(2);
    if (!(map instanceof VmPerfEventArray))
      throw m.error(`bpf_perf_event_output needs a perf event array, ${map} is not`);
    const flags = m.arg(3);
    const size = m.argU32(5);
    const pkt = packetBytes(m);
    const allowed = pkt ? INDEX_MASK | CTXLEN_MASK : INDEX_MASK;
    if (flags & ~allowed) return -Errno.EINVAL;
    const ctxLen = Number((flags & CTXLEN_MASK) >> 32n);
    if (pkt && ctxLen > pkt.length) return -Errno.EFAULT;
    const cpu = cpuOf(m);
    const index = (flags & INDEX_MASK) === INDEX_MASK ? cpu : Number(flags & INDEX_MASK);
    const sample = new Uint8Array(size + ctxLen);
    sample.set(m.argPtr(4, size, "read"));
    if (pkt && ctxLen) sample.set(pkt.subarray(0, ctxLen), size);
    return map.output(index, cpu, sample);
  };
  const redirectMap: HelperFunction = (m) => {
    const map = m.argMap(1);
    const key = m.argU32(2);
    const flags = m.arg(3);
    if (!(map instanceof VmRedirectMap))
      throw m.error(`bpf_redirect_map needs a devmap, cpumap or xskmap, ${map} is not`);
    // The low bits of flags are the action on a failed lookup (XDP_ABORTED..XDP_TX).
    const actionMask = 3n;
    const flagMask = map.type === MapType.DEVMAP || map.type === MapType.DEVMAP_HASH ? 0x18n : 0n;
    if (flags & ~(actionMask | flagMask)) return XdpAction.ABORTED;
    const k = new Uint8Array(new Uint32Array([key]).buffer).subarray(0, map.keySize);
    const found = map.keySize <= 4 && map.peekSlot(k, 0) >= 0;
    if (!found && !(flags & 0x8n)) return Number(flags & actionMask);
    m.env.redirect = { target: key, flags, map };
    return XdpAction.REDIRECT;
  };
  return [
    ...h,
    [HelperId.map_push_elem, push],
    [HelperId.map_pop_elem, take(true, "bpf_map_pop_elem")],
    [HelperId.map_peek_elem, take(false, "bpf_map_peek_elem")],
    [HelperId.ringbuf_reserve, rbReserve],
    [HelperId.ringbuf_submit, rbCommit(false, "bpf_ringbuf_submit")],
    [HelperId.ringbuf_discard, rbCommit(true, "bpf_ringbuf_discard")],
    [HelperId.ringbuf_output, rbOutput],
    [HelperId.ringbuf_query, rbQuery],
    [HelperId.perf_event_output, perfOutput],
    [HelperId.redirect_map, redirectMap],
  ];
}
