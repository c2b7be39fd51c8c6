/** BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { roundUp8, VmMap, VmMapError, type VmMapOptions } from "./map.ts";
import { MovableBytes } from "./movable.ts";

/**
 * An array map with the kernel's semantics: `maxEntries` values, zeroed at creation,
 * indexed by a 4-byte little-endian key; every index below `maxEntries` always exists,
 * so NOEXIST fails with EEXIST, an index out of range with E2BIG, delete with EINVAL
 * and lookup-and-delete with ENOTSUPP. Values sit `roundUp8(valueSize)` bytes apart, as
 * in the kernel.
 *
 * Memory is stable and addressable, as a BPF_F_MMAPABLE array's is: a pointer a
 * program got stays valid for the map's life, and the user side may read and write
 * {@link values} directly (what an mmap of the map gives in the kernel; global data
 * lives there). The bytes may move once ({@link VmMap.relocate}): when the JIT's
 * WebAssembly target compiles a program that names the map, and no program of another
 * address space maps it, it moves them into that program's memory so its code reaches
 * them directly. Read `values` afresh rather than keeping it.
 *
 * PERCPU_ARRAY holds one copy of every value per virtual CPU
 * ({@link VmMapOptions.cpus}), laid out CPU by CPU; a program sees its CPU's copy.
 *
 * @example
 * ```ts
 * const m = new VmArrayMap({ name: "a", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
 * m.update(new Uint8Array(4), new Uint8Array(8).fill(1));
 * ```
 */
export class VmArrayMap extends VmMap {
  /** Bytes between consecutive values. */
  readonly stride: number;
  /** Values per index (virtual CPUs for PERCPU_ARRAY, else 1). */
  override readonly cpus: number;
  /** True for PERCPU_ARRAY. */
  override readonly perCpu: boolean;
  /** Bytes of one CPU's copy of the array. */
  override readonly cpuBytes: number;

  constructor(spec: MapSpec, opts: VmMapOptions = {}) {
    super({ ...spec, type: spec.type ?? MapType.ARRAY });
    this.perCpu = this.type === MapType.PERCPU_ARRAY;
    this.cpus = this.perCpu ? Math.max(1, opts.cpus ?? 1) : 1;
    this.stride = roundUp8(this.valueSize);
    this.cpuBytes = this.stride * this.maxEntries;
    this.storage = new MovableBytes(new Uint8Array(this.cpuBytes * this.cpus));
  }

  /** The value storage (see the class comment: it may move once). */
  get values(): Uint8Array {
    return (this.storage as MovableBytes).bytes;
  }

  /** The index in the 4-byte key at `key[at..]`. */
  index(key: Uint8Array, at: number): number {
    return (
      ((key[at] as number) |
        ((key[at + 1] as number) << 8) |
        ((key[at + 2] as number) << 16) |
        ((key[at + 3] as number) << 24)) >>>
      0
    );
  }

  lookupSlot(key: Uint8Array, at: number, cpu = 0): number {
    const i = this.index(key, at);
    if (i >= this.maxEntries) return -1;
    return i * this.stride + (this.perCpu ? cpu * this.cpuBytes : 0);
  }

  updateRaw(
    key: Uint8Array,
    kat: number,
    value: Uint8Array,
    vat: number,
    flags: number,
    cpu = 0,
  ): number {
    if ((flags & ~UpdateFlags.LOCK) > UpdateFlags.EXIST) return -Errno.EINVAL;
    const i = this.index(key, kat);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if ((flags & ~UpdateFlags.LOCK) === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    this.values.set(
      value.subarray(vat, vat + this.valueSize),
      i * this.stride + (this.perCpu ? cpu * this.cpuBytes : 0),
    );
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

  /** Arrays have no lookup-and-delete: ENOTSUPP, as the kernel answers. */
  override lookupAndDelete(key: Uint8Array, _flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup and delete");
    throw new VmMapError(Errno.ENOTSUPP, `${this}: lookup and delete`);
  }

  protected override storePerCpu(
    key: Uint8Array,
    values: readonly Uint8Array[],
    flags: number,
  ): number {
    for (let c = 0; c < values.length; c++) {
      const err = this.updateRaw(key, 0, values[c]!, 0, flags, c);
      if (err < 0) return err;
    }
    return 0;
  }
}
