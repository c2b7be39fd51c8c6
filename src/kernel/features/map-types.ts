/**
 * "Scanning eBPF map types": can this kernel create a map of each type?
 *
 * Each probe creates the smallest map of the type with the attributes the type
 * insists on (the same rules as libbpf's map probe): 8-byte values for stack traces,
 * an 8-byte key and BPF_F_NO_PREALLOC for LPM tries, `bpf_cgroup_storage_key` keys and
 * no max_entries for cgroup storage, no key for queues/stacks/bloom filters, a page
 * for ring buffers, an inner map for map-in-map types, BTF describing a value with a
 * `bpf_spin_lock` for socket/inode/task/cgroup local storage, BPF_F_MMAPABLE for
 * arenas. struct_ops maps need a real vmlinux type; with id 1 the kernel answers
 * ENOTSUPP, which proves the type exists.
 * @module
 */

import { Errno, MapFlags, MapType, mapTypeName } from "../../uapi/index.ts";
import { KernelBTF } from "../btf/kernel-btf.ts";
import { closeFd } from "../sys/index.ts";
import { epermExplanation } from "../system/capabilities.ts";
import { type ProbeMapAttrs, probeMapCreate } from "./probe-load.ts";
import { configHint } from "./prog-types.ts";
import { available, cached, errnoWords, type FeatureStatus, unavailable } from "./status.ts";

const PAGE_SIZE = 4096;
/** sizeof(struct bpf_cgroup_storage_key): u64 cgroup inode id, u32 attach type, padding. */
const CGROUP_STORAGE_KEY_SIZE = 16;

/** The name tsbpf prints for a map type. */
export function mapTypeLabel(type: number): string {
  return mapTypeName(type) ?? `type ${type}`;
}

/**
 * Raw BTF for local storage probes (libbpf's): [1] int, [2] struct bpf_spin_lock
 * { int val; }, [3] struct val { int cnt; struct bpf_spin_lock l; }.
 */
export function localStorageBtf(): Uint8Array {
  const strings = new TextEncoder().encode("\0bpf_spin_lock\0val\0cnt\0l\0");
  const types = new Uint32Array([
    // [1] int: name 0, kind INT (1), size 4; encoding: signed, 32 bits
    0,
    1 << 24,
    4,
    (1 << 24) | 32,
    // [2] struct bpf_spin_lock: name 1, kind STRUCT (4), vlen 1, size 4
    1,
    (4 << 24) | 1,
    4,
    // member val: name 15, type 1, offset 0
    15,
    1,
    0,
    // [3] struct val: name 15, kind STRUCT, vlen 2, size 8
    15,
    (4 << 24) | 2,
    8,
    // member cnt: name 19, type 1, offset 0; member l: name 23, type 2, bit offset 32
    19,
    1,
    0,
    23,
    2,
    32,
  ]);
  const typeBytes = new Uint8Array(types.buffer);
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint16(0, 0xeb9f, true); // magic
  h.setUint8(2, 1); // version
  h.setUint32(4, 24, true); // hdr_len
  h.setUint32(8, 0, true); // type_off
  h.setUint32(12, typeBytes.length, true); // type_len
  h.setUint32(16, typeBytes.length, true); // str_off
  h.setUint32(20, strings.length, true); // str_len
  const out = new Uint8Array(24 + typeBytes.length + strings.length);
  out.set(header);
  out.set(typeBytes, 24);
  out.set(strings, 24 + typeBytes.length);
  return out;
}

interface MapProbe {
  readonly attrs: Omit<ProbeMapAttrs, "type">;
  readonly needsBtf?: boolean;
  readonly needsInner?: boolean;
  readonly expectErrno?: number;
}

/** The creation attributes of a probe map of `type`. */
export function mapTypeProbe(type: number): MapProbe {
  const base = { keySize: 4, valueSize: 4, maxEntries: 1 };
  switch (type) {
    case MapType.STACK_TRACE:
      return { attrs: { ...base, valueSize: 8 } };
    case MapType.LPM_TRIE:
      return { attrs: { keySize: 8, valueSize: 8, maxEntries: 1, flags: MapFlags.NO_PREALLOC } };
    case MapType.CGROUP_STORAGE:
    case MapType.PERCPU_CGROUP_STORAGE:
      return { attrs: { keySize: CGROUP_STORAGE_KEY_SIZE, valueSize: 8, maxEntries: 0 } };
    case MapType.QUEUE:
    case MapType.STACK:
    case MapType.BLOOM_FILTER:
      return { attrs: { ...base, keySize: 0 } };
    case MapType.SK_STORAGE:
    case MapType.INODE_STORAGE:
    case MapType.TASK_STORAGE:
    case MapType.CGRP_STORAGE:
      return {
        attrs: {
          keySize: 4,
          valueSize: 8,
          maxEntries: 0,
          flags: MapFlags.NO_PREALLOC,
          btfKeyTypeId: 1,
          btfValueTypeId: 3,
        },
        needsBtf: true,
      };
    case MapType.RINGBUF:
    case MapType.USER_RINGBUF:
      return { attrs: { keySize: 0, valueSize: 0, maxEntries: PAGE_SIZE } };
    case MapType.STRUCT_OPS:
      return { attrs: { ...base, btfVmlinuxValueTypeId: 1 }, expectErrno: Errno.ENOTSUPP };
    case MapType.ARENA:
      return { attrs: { keySize: 0, valueSize: 0, maxEntries: 1, flags: MapFlags.MMAPABLE } };
    case MapType.ARRAY_OF_MAPS:
    case MapType.HASH_OF_MAPS:
      return { attrs: base, needsInner: true };
    default:
      return { attrs: base };
  }
}

const CONFIG_HINTS: Readonly<Partial<Record<number, string>>> = {
  [MapType.XSKMAP]: "CONFIG_XDP_SOCKETS",
  [MapType.SOCKMAP]: "CONFIG_BPF_STREAM_PARSER",
  [MapType.SOCKHASH]: "CONFIG_BPF_STREAM_PARSER",
  [MapType.CGROUP_STORAGE]: "CONFIG_CGROUP_BPF",
  [MapType.PERCPU_CGROUP_STORAGE]: "CONFIG_CGROUP_BPF",
  [MapType.INODE_STORAGE]: "CONFIG_BPF_LSM",
  [MapType.STACK_TRACE]: "CONFIG_BPF_EVENTS",
  [MapType.ARENA]: "CONFIG_BPF_JIT",
};

/**
 * Can this kernel create maps of `type`? Cached per type.
 * @example
 * ```ts
 * requireFeature(haveMapType(MapType.RINGBUF));
 * ```
 */
export function haveMapType(type: number): FeatureStatus {
  return cached(`map-type:${type}`, () => probeMapType(type));
}

function probeMapType(type: number): FeatureStatus {
  const feature = `map type ${mapTypeLabel(type)}`;
  const probe = mapTypeProbe(type);
  let btf: KernelBTF | undefined;
  let inner = -1;
  try {
    if (probe.needsBtf) {
      try {
        btf = KernelBTF.load(localStorageBtf(), { what: "local storage probe BTF" });
      } catch (e) {
        return unavailable(
          feature,
          `its probe needs BTF, which the kernel refused: ${(e as Error).message}`,
        );
      }
    }
    if (probe.needsInner) {
      const r = probeMapCreate(
        { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 },
        true,
      );
      if (!r.ok) {
        return unavailable(
          feature,
          `creating its inner hash map failed with ${errnoWords(r.errno)}`,
          r.errno,
        );
      }
      inner = r.fd;
    }
    const r = probeMapCreate({
      ...probe.attrs,
      type,
      ...(btf ? { btfFd: btf.fd } : {}),
      ...(inner >= 0 ? { innerMapFd: inner } : {}),
    });
    if (probe.expectErrno !== undefined) {
      if (!r.ok && r.errno === probe.expectErrno) return available(feature);
      if (r.ok) return available(feature);
      return unavailable(
        feature,
        `creating a probe map failed with ${errnoWords(r.errno)} where ${errnoWords(probe.expectErrno)} proves the type exists`,
        r.errno,
      );
    }
    if (r.ok) return available(feature);
    const why =
      r.errno === Errno.EINVAL
        ? `the kernel does not accept ${mapTypeLabel(type)} maps (EINVAL)${configHint(CONFIG_HINTS[type])}`
        : r.errno === Errno.EPERM
          ? `the kernel refused a ${mapTypeLabel(type)} map with EPERM ${epermExplanation()}`
          : `creating a minimal ${mapTypeLabel(type)} map failed with ${errnoWords(r.errno)}${configHint(CONFIG_HINTS[type])}`;
    return unavailable(feature, why, r.errno);
  } finally {
    btf?.close();
    if (inner >= 0) closeFd(inner);
  }
}

/** Every map type tsbpf's headers know, in order (UNSPEC excluded). */
export function knownMapTypes(): number[] {
  return [...new Set(Object.values(MapType))]
    .filter((t) => t !== MapType.UNSPEC)
    .sort((a, b) => a - b);
}
