/** BPF_MAP_TYPE_ARRAY in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { roundUp8, VmMap } from "./map.ts";

/**
 * An array map with the kernel's semantics: `maxEntries` values, zeroed at creation,
 * indexed by a 4-byte little-endian key; every index below `maxEntries` always exists,
 * so NOEXIST fails with EEXIST, an index out of range with E2BIG, and delete with
 * EINVAL. Values sit `roundUp8(valueSize)` bytes apart, as in the kernel.
 *
 * @example
 * ```ts
 * const m = new VmArrayMap({ name: "a", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
 * m.update(new Uint8Array(4), new Uint8Array(8).fill(1));
 * ```
 */
export class VmArrayMap extends VmMap {
  readonly values: Uint8Array;
  /** Bytes between consecutive values. */
  readonly stride: number;

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.ARRAY });
    this.stride = roundUp8(this.valueSize);
    this.values = new Uint8Array(this.stride * this.maxEntries);
  }

  private index(key: Uint8Array, at: number): number {
    return (
      ((key[at] as number) |
        ((key[at + 1] as number) << 8) |
        ((key[at + 2] as number) << 16) |
        ((key[at + 3] as number) << 24)) >>>
      0
    );
  }

  lookupSlot(key: Uint8Array, at: number): number {
    const i = this.index(key, at);
    return i < this.maxEntries ? i * this.stride : -1;
  }

  updateRaw(key: Uint8Array, kat: number, value: Uint8Array, vat: number, flags: number): number {
    if ((flags & ~UpdateFlags.LOCK) > UpdateFlags.EXIST) return -Errno.EINVAL;
    const i = this.index(key, kat);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if ((flags & ~UpdateFlags.LOCK) === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    this.values.set(value.subarray(vat, vat + this.valueSize), i * this.stride);
    return 0;
  }

  deleteRaw(_key: Uint8Array, _at: number): number {
    return -Errno.EINVAL;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let next = 0;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      const i = this.index(key, 0);
      if (i < this.maxEntries) {
        if (i === this.maxEntries - 1) return undefined;
        next = i + 1;
      }
    }
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, next, true);
    return out;
  }
}
