/** BPF_MAP_TYPE_HASH in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { roundUp8, VmMap } from "./map.ts";

/**
 * A hash map with the kernel's semantics: at most `maxEntries` keys (one more is
 * E2BIG), update flags ANY / NOEXIST (EEXIST if present) / EXIST (ENOENT if absent),
 * delete of a missing key ENOENT. Like the kernel's preallocated hash map, an update
 * takes a fresh element and frees the old one, so a pointer a program got from an
 * earlier lookup keeps the old value.
 *
 * Iteration order is insertion order (the kernel's is bucket order; neither is
 * promised to users).
 *
 * @example
 * ```ts
 * const m = new VmHashMap({ name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
 * ```
 */
export class VmHashMap extends VmMap {
  readonly values: Uint8Array;
  /** Bytes between consecutive value slots. */
  readonly stride: number;
  private readonly keyBytes: Uint8Array;
  private readonly index = new Map<number | string, number>();
  private readonly free: number[] = [];

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.HASH });
    this.stride = roundUp8(this.valueSize);
    // One spare element, as the kernel keeps spares for replacing a value in a full map.
    const slots = this.maxEntries + 1;
    this.values = new Uint8Array(this.stride * slots);
    this.keyBytes = new Uint8Array(this.keySize * slots);
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
  }

  /** Number of keys in the map. */
  get size(): number {
    return this.index.size;
  }

  private keyOf(key: Uint8Array, at: number): number | string {
    const n = this.keySize;
    if (n === 4)
      return (
        ((key[at] as number) |
          ((key[at + 1] as number) << 8) |
          ((key[at + 2] as number) << 16) |
          ((key[at + 3] as number) << 24)) >>>
        0
      );
    if (n < 4) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + (key[at + i] as number);
      return v;
    }
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(key[at + i] as number);
    return s;
  }

  lookupSlot(key: Uint8Array, at: number): number {
    const slot = this.index.get(this.keyOf(key, at));
    return slot === undefined ? -1 : slot * this.stride;
  }

  updateRaw(key: Uint8Array, kat: number, value: Uint8Array, vat: number, flags: number): number {
    const mode = flags & ~UpdateFlags.LOCK;
    if (mode > UpdateFlags.EXIST) return -Errno.EINVAL;
    const k = this.keyOf(key, kat);
    const old = this.index.get(k);
    if (old !== undefined && mode === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (old === undefined && mode === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (old === undefined && this.index.size >= this.maxEntries) return -Errno.E2BIG;
    const slot = this.free.pop();
    if (slot === undefined) return -Errno.E2BIG;
    this.values.set(value.subarray(vat, vat + this.valueSize), slot * this.stride);
    this.keyBytes.set(key.subarray(kat, kat + this.keySize), slot * this.keySize);
    if (old !== undefined) {
      this.free.push(old);
      // Keep the key's place in iteration order.
      this.index.set(k, slot);
    } else {
      this.index.set(k, slot);
    }
    return 0;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    const k = this.keyOf(key, at);
    const slot = this.index.get(k);
    if (slot === undefined) return -Errno.ENOENT;
    this.index.delete(k);
    this.free.push(slot);
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    const slots = [...this.index.values()];
    let pos = 0;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      const slot = this.index.get(this.keyOf(key, 0));
      // A key not in the map restarts the walk, as in the kernel.
      pos = slot === undefined ? 0 : slots.indexOf(slot) + 1;
    }
    const s = slots[pos];
    if (s === undefined) return undefined;
    return this.keyBytes.slice(s * this.keySize, (s + 1) * this.keySize);
  }
}
