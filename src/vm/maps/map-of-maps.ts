/** BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapFlags, MapType, UpdateFlags } from "../../uapi/index.ts";
import { VmMap, VmMapError, vmMapById } from "./map.ts";

function u32le(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24)) >>>
    0
  );
}

/**
 * A map of maps: slots hold other VM maps that match the inner-map template
 * (`innerMap`: same type, key and value sizes and flags; same max_entries for array
 * types unless the template has BPF_F_INNER_MAP — EINVAL otherwise, as the kernel
 * answers). A program's map_lookup_elem returns the inner map itself (a map pointer
 * it can pass to other map helpers), or NULL.
 *
 * The user side works as the kernel's syscalls do, with the VM map's {@link VmMap.id}
 * standing in for a descriptor on update and for the inner map id on lookup (4 bytes
 * each); {@link set} and {@link get} take and give maps directly. ARRAY_OF_MAPS has
 * array indexes (E2BIG past the end, empty slots), HASH_OF_MAPS hash keys (E2BIG when
 * full).
 *
 * @example
 * ```ts
 * outer.set(Uint8Array.of(0, 0, 0, 0), inner);
 * ```
 */
export class VmMapOfMaps extends VmMap {
  readonly values: Uint8Array = new Uint8Array(0);
  /** The template every inner map must match. */
  readonly innerSpec: MapSpec;
  private readonly isArray: boolean;
  private readonly slots = new Map<string, { key: Uint8Array; map: VmMap }>();

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.ARRAY_OF_MAPS });
    if (!spec.innerMap) throw new RangeError(`${this}: a map of maps needs an inner map template`);
    this.innerSpec = spec.innerMap;
    this.isArray = this.type === MapType.ARRAY_OF_MAPS;
  }

  private static hex(key: Uint8Array, at: number, n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += (key[at + i] as number).toString(16).padStart(2, "0");
    return s;
  }

  /** True when `map` may sit in a slot (the kernel's map meta comparison). */
  compatible(map: VmMap): boolean {
    const t = this.innerSpec;
    if (map.type !== t.type || map.keySize !== t.keySize || map.valueSize !== t.valueSize)
      return false;
    if ((map.flags & ~MapFlags.INNER_MAP) !== ((t.flags ?? 0) & ~MapFlags.INNER_MAP)) return false;
    const arrayLike = t.type === MapType.ARRAY || t.type === MapType.PERCPU_ARRAY;
    if (arrayLike && !((t.flags ?? 0) & MapFlags.INNER_MAP) && map.maxEntries !== t.maxEntries)
      return false;
    return true;
  }

  /** The inner map under the key at `key[at..]`. */
  innerAt(key: Uint8Array, at: number): VmMap | undefined {
    return this.slots.get(VmMapOfMaps.hex(key, at, this.keySize))?.map;
  }

  /** Puts `map` under the key at `key[at..]`; 0 or a negative errno. */
  setRaw(key: Uint8Array, at: number, map: VmMap, flags: number): number {
    if (flags > UpdateFlags.EXIST) return -Errno.EINVAL;
    if (!this.compatible(map)) return -Errno.EINVAL;
    const k = VmMapOfMaps.hex(key, at, this.keySize);
    const present = this.slots.has(k);
    if (this.isArray) {
      if (u32le(key, at) >= this.maxEntries) return -Errno.E2BIG;
      if (flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    } else {
      if (present && flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
      if (!present && flags === UpdateFlags.EXIST) return -Errno.ENOENT;
      if (!present && this.slots.size >= this.maxEntries) return -Errno.E2BIG;
    }
    this.slots.set(k, { key: key.slice(at, at + this.keySize), map });
    return 0;
  }

  /** Puts `map` in slot `key` (undefined empties it). */
  set(key: Uint8Array, map: VmMap | undefined, flags = 0): void {
    this.checkKey(key, "update");
    const err = map === undefined ? this.deleteRaw(key, 0) : this.setRaw(key, 0, map, flags);
    if (err < 0 && !(map === undefined && err === -Errno.ENOENT))
      throw new VmMapError(-err, `${this}: update`);
  }

  /** The map in slot `key`, if any. */
  get(key: Uint8Array): VmMap | undefined {
    this.checkKey(key, "lookup");
    return this.innerAt(key, 0);
  }

  lookupSlot(): number {
    return -1;
  }

  /** User-side lookup: the inner map's id (4 bytes), as the kernel returns the inner map id. */
  override lookup(key: Uint8Array, _flags = 0): Uint8Array | undefined {
    const m = this.get(key);
    if (!m) return undefined;
    return new Uint8Array(new Uint32Array([m.id]).buffer);
  }

  /** `value` holds a VM map id (4 bytes), standing in for the inner map's fd. */
  updateRaw(key: Uint8Array, kat: number, value: Uint8Array, vat: number, flags: number): number {
    const map = vmMapById(u32le(value, vat));
    if (!map) return -Errno.EBADF;
    return this.setRaw(key, kat, map, flags);
  }

  deleteRaw(key: Uint8Array, at: number): number {
    if (this.isArray && u32le(key, at) >= this.maxEntries) return -Errno.E2BIG;
    return this.slots.delete(VmMapOfMaps.hex(key, at, this.keySize)) ? 0 : -Errno.ENOENT;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    if (this.isArray) {
      let i = key === undefined ? 0 : u32le(key, 0) + 1;
      if (key !== undefined && i - 1 >= this.maxEntries) i = 0;
      if (i >= this.maxEntries) return undefined;
      return new Uint8Array(new Uint32Array([i]).buffer);
    }
    const entries = [...this.slots.values()];
    let pos = 0;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      const k = VmMapOfMaps.hex(key, 0, this.keySize);
      const i = [...this.slots.keys()].indexOf(k);
      pos = i < 0 ? 0 : i + 1;
    }
    return entries[pos]?.key.slice();
  }
}
