/**
 * What the kernel says about a map: `struct bpf_map_info` decoded with the generated
 * layout, plus what only /proc/self/fdinfo tells (frozen, memlock).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { bpfMapInfo, type MapType, mapTypeName } from "../../uapi/index.ts";
import { objInfoByFd } from "../objects/obj-info.ts";
import { objectFdById } from "../objects/objects.ts";

/** A map as the kernel describes it (BPF_OBJ_GET_INFO_BY_FD plus fdinfo). */
export interface MapInfo {
  /** Map type number. */
  readonly type: MapType;
  /** bpftool's name for the type ("hash"), or `type <n>` when unknown. */
  readonly typeName: string;
  /** System-wide id. */
  readonly id: number;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Value size in bytes. */
  readonly valueSize: number;
  /** Capacity. */
  readonly maxEntries: number;
  /** Creation flags (`MapFlags`). */
  readonly flags: number;
  /** Name as the kernel keeps it (at most 15 characters). */
  readonly name: string;
  /** Network device the map is offloaded to, or 0. */
  readonly ifindex: number;
  /** Device of the network namespace of an offloaded map. */
  readonly netnsDev: bigint;
  /** Inode of the network namespace of an offloaded map. */
  readonly netnsIno: bigint;
  /** Id of the map's BTF object, or 0. */
  readonly btfId: number;
  /** BTF type id of the key, or 0. */
  readonly btfKeyTypeId: number;
  /** BTF type id of the value, or 0. */
  readonly btfValueTypeId: number;
  /** vmlinux BTF type id of a struct_ops value, or 0. */
  readonly btfVmlinuxValueTypeId: number;
  /** Id of the vmlinux BTF object a struct_ops map refers to, or 0. */
  readonly btfVmlinuxId: number;
  /** `map_extra` (bloom filter hash functions, arena address). */
  readonly mapExtra: bigint;
  /** True once BPF_MAP_FREEZE has run (from fdinfo). */
  readonly frozen: boolean;
  /** Bytes of memory the map is charged for (from fdinfo), if the kernel says. */
  readonly memlock: bigint | undefined;
}

const F = bpfMapInfo.fields;
const decoder = new TextDecoder();

/** Decodes a bpf_map_info struct (as returned by {@link objInfoByFd}). */
export function decodeMapInfo(
  view: DataView,
  fdinfo: Readonly<Record<string, string>> = {},
): MapInfo {
  const u32 = (f: { offset: number }) => view.getUint32(f.offset, true);
  const u64 = (f: { offset: number }) => view.getBigUint64(f.offset, true);
  const nameBytes = new Uint8Array(view.buffer, view.byteOffset + F.name.offset, F.name.size);
  const nul = nameBytes.indexOf(0);
  const type = u32(F.type) as MapType;
  const memlock = fdinfo.memlock;
  return {
    type,
    typeName: mapTypeName(type) ?? `type ${type}`,
    id: u32(F.id),
    keySize: u32(F.key_size),
    valueSize: u32(F.value_size),
    maxEntries: u32(F.max_entries),
    flags: u32(F.map_flags),
    name: decoder.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
    ifindex: u32(F.ifindex),
    netnsDev: u64(F.netns_dev),
    netnsIno: u64(F.netns_ino),
    btfId: u32(F.btf_id),
    btfKeyTypeId: u32(F.btf_key_type_id),
    btfValueTypeId: u32(F.btf_value_type_id),
    btfVmlinuxValueTypeId: u32(F.btf_vmlinux_value_type_id),
    btfVmlinuxId: u32(F.btf_vmlinux_id),
    mapExtra: u64(F.map_extra),
    frozen: fdinfo.frozen === "1",
    memlock: memlock === undefined ? undefined : BigInt(memlock),
  };
}

/**
 * The `key:\tvalue` lines of /proc/self/fdinfo/<fd> (map_type, max_entries, memlock,
 * map_id, frozen, ... for a map). Empty when the file cannot be read.
 */
export function readFdInfo(fd: number): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Everything the kernel says about the map behind `fd`.
 *
 * @throws SyscallError, e.g. EBADF for a closed fd, EINVAL when `fd` is not a map.
 */
export function mapInfoByFd(fd: number): MapInfo {
  return decodeMapInfo(objInfoByFd(fd, bpfMapInfo), readFdInfo(fd));
}

/**
 * What BPF_OBJ_GET_INFO_BY_FD says about the map behind `fd`, without fdinfo:
 * `frozen` is false and `memlock` undefined. For callers that need the map's shape
 * only (BpfMap.fromFd): reading /proc/self/fdinfo costs a file open and read, more
 * than the bpf(2) call itself.
 *
 * @throws SyscallError, e.g. EBADF for a closed fd, EINVAL when `fd` is not a map.
 */
export function mapShapeByFd(fd: number): MapInfo {
  return decodeMapInfo(objInfoByFd(fd, bpfMapInfo));
}

/**
 * Everything the kernel says about the map with system-wide `id` (needs
 * CAP_SYS_ADMIN), or undefined if there is no such map.
 */
export function mapInfoById(id: number): MapInfo | undefined {
  const fd = objectFdById("map", id);
  if (!fd) return undefined;
  try {
    return mapInfoByFd(fd.value);
  } finally {
    fd.close();
  }
}
