/**
 * Helpers that call back into the program: bpf_loop and bpf_for_each_map_elem. A
 * callback is a function of the program, named by the address an lddw with
 * BPF_PSEUDO_FUNC produced; it runs in the next call frame with r1..r5 set, and its
 * r0 says whether to go on (0) or stop (1).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import { toU64 } from "./int64.ts";
import { execute, type HelperFunction, MAX_CALL_FRAMES, type Machine } from "./interpreter.ts";
import { VmArrayMap } from "./maps/array.ts";
import { VmHashMap } from "./maps/hash.ts";
import type { VmMap } from "./maps/map.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO, type VmMemory } from "./memory.ts";
import { CallbackTarget, mapRegion } from "./run-env.ts";

/** Most iterations of bpf_loop (`BPF_MAX_LOOPS`). */
export const BPF_LOOP_MAX = 1 << 23;

/**
 * Calls the program function at address `fn` with `args` as r1..r5 in the frame after
 * the caller's, and returns its r0. The caller's r6..r10 are kept.
 * @throws VmError when `fn` is not a function address or the frames run out.
 */
export function callFunction(m: Machine, fn: bigint, args: readonly bigint[]): bigint {
  const { id, offset } = m.memory.locate(fn);
  const owner = m.access.has(id) ? m.memory.owners[id] : undefined;
  if (!(owner instanceof CallbackTarget) || owner.code === undefined)
    throw m.error(`0x${fn.toString(16)} is not the address of a function of the program`);
  const code = owner.code;
  if (offset < 0 || offset >= code.length)
    throw m.error(`function address 0x${fn.toString(16)} is outside the program`);
  const R = m.R;
  // The frame of the helper's caller, as the interpreter recorded it (not from r10).
  const depth = m.depth;
  if (depth + 1 >= MAX_CALL_FRAMES)
    throw m.error(`too many nested calls for a callback (the limit is ${MAX_CALL_FRAMES} frames)`);
  const saved = R.slice(12, 22);
  const savedCode = m.code;
  const savedPc = m.pc;
  for (let i = 0; i < 5; i++) {
    const v = BigInt.asUintN(64, args[i] ?? 0n);
    R[2 + 2 * i] = Number(v & 0xffff_ffffn) | 0;
    R[3 + 2 * i] = Number(v >> 32n) | 0;
  }
  try {
    execute(m, code, offset, depth + 1);
  } finally {
    R.set(saved, 12);
    m.code = savedCode;
    m.pc = savedPc;
    m.depth = depth;
  }
  return toU64(R[0] as number, R[1] as number);
}

/** An address of byte `offset` of region `id`. */
function addr(id: number, offset: number): bigint {
  return (BigInt(HI + id) << 32n) + BigInt(LO + offset);
}

/**
 * The 4 bytes holding an array index for a for_each callback, one per map. Its region
 * is looked up in the address space of each run (`memory.regionFor`), so a map shared
 * by programs in two address spaces gives each callback an address in its own.
 */
const keyScratch = new WeakMap<VmMap, { bytes: Uint8Array }>();

/** The region id of `map`'s index scratch in `memory`. */
function keyScratchRegion(memory: VmMemory, map: VmMap): { id: number; bytes: Uint8Array } {
  let scratch = keyScratch.get(map);
  if (!scratch) {
    scratch = { bytes: new Uint8Array(4) };
    keyScratch.set(map, scratch);
  }
  const bytes = scratch.bytes;
  const id = memory.regionFor(scratch, () =>
    memory.addRegion(`key of ${map.name}`, bytes, { write: [0, 0] }),
  );
  return { id, bytes };
}

/** bpf_loop and bpf_for_each_map_elem, by helper id. */
export function callbackHelpers(cpuOf: (m: Machine) => number): [number, HelperFunction][] {
  const loop: HelperFunction = (m) => {
    const n = m.argU32(1);
    const fn = m.arg(2);
    const ctx = m.arg(3);
    if (m.arg(4) !== 0n) return -Errno.EINVAL;
    if (n > BPF_LOOP_MAX) return -Errno.E2BIG;
    for (let i = 0; i < n; i++) {
      if (callFunction(m, fn, [BigInt(i), ctx]) !== 0n) return i + 1;
    }
    return n;
  };
  const forEach: HelperFunction = (m) => {
    const map = m.argMap(1);
    const fn = m.arg(2);
    const ctx = m.arg(3);
    if (m.arg(4) !== 0n) return -Errno.EINVAL;
    const mapHandle = m.arg(1);
    const cpu = cpuOf(m);
    const values = mapRegion(m.memory, map);
    let count = 0;
    // Each callback sees its value through a window of its own (value + value_size
    // faults), its key read-only.
    const valueAt = (v: number): bigint => addr(m.window(values, v, map.valueSize), v);
    if (map instanceof VmArrayMap) {
      const scratch = keyScratchRegion(m.memory, map);
      m.access.grant(scratch.id);
      for (let i = 0; i < map.maxEntries; i++) {
        new DataView(scratch.bytes.buffer).setUint32(0, i, true);
        count++;
        const v = i * map.stride + (map.perCpu ? cpu * map.cpuBytes : 0);
        if (callFunction(m, fn, [mapHandle, addr(scratch.id, 0), valueAt(v), ctx]) !== 0n) break;
      }
      return count;
    }
    if (map instanceof VmHashMap) {
      const keys = m.memory.regionFor(map.keysOwner, () =>
        m.memory.addRegion(`keys of ${map.name}`, map.keyBytes, { write: [0, 0] }),
      );
      m.access.grant(keys);
      for (const slot of [...map.slots()]) {
        count++;
        const v = slot * map.stride + (map.perCpu ? cpu * (map.values.length / map.cpus) : 0);
        const k = addr(keys, slot * map.keySize);
        if (callFunction(m, fn, [mapHandle, k, valueAt(v), ctx]) !== 0n) break;
      }
      return count;
    }
    throw m.error(`bpf_for_each_map_elem does not support ${map}`);
  };
  return [
    [HelperId.loop, loop],
    [HelperId.for_each_map_elem, forEach],
  ];
}
