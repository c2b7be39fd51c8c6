/**
 * The common part of VM maps: shape, values stored in one byte array that the VM's
 * address space maps as a region (so a lookup can hand the program a pointer), and
 * the errors both backends share (`code` = the kernel's errno name).
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BackendMap } from "../../spec/backend.ts";
import {
  BatchChunk,
  type BatchInput,
  type BatchOptions,
  type KeyValueMap,
  type MapErrorLike,
} from "../../spec/map-api.ts";
import { MapIterationAbortedError } from "../../spec/map-iteration-error.ts";
import { type MapSpec, MapSpecError, validateMapSpec } from "../../spec/map-spec.ts";
import { Errno, errnoMessage, MapType, mapTypeName, UpdateFlags } from "../../uapi/index.ts";
import type { VmMemory } from "../memory.ts";
import type { MovableBytes } from "./movable.ts";

/**
 * A failed map operation, with the errno name the kernel gives for the same failure
 * (`"EEXIST"`, `"E2BIG"`, `"ENOENT"`, `"EINVAL"`).
 */
export class VmMapError extends Error implements MapErrorLike {
  override name = "VmMapError";
  /** The errno name. */
  readonly code: string;
  /** The errno number (positive). */
  readonly errno: number;
  /** For batch operations: entries done before the failure. */
  readonly processed: number | undefined;
  /** Builds the error from a positive errno and what was being done. */
  constructor(errno: number, operation: string, processed?: number) {
    const code = Object.entries(Errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    super(
      `${operation}: ${code} (${errnoMessage(errno) ?? "error"})${processed === undefined ? "" : ` after ${processed} entries`}`,
    );
    this.code = code;
    this.errno = errno;
    this.processed = processed;
  }
}

/** Options every VM map takes. */
export interface VmMapOptions {
  /**
   * Virtual CPUs of per-CPU maps: each key holds this many values (default 1). A
   * program sees the value of the CPU it runs on (`VmRunInput.cpu`).
   */
  readonly cpus?: number;
  /** Seed of hash functions that the kernel seeds at random (bloom filter); default random. */
  readonly seed?: number;
}

/**
 * Maps whose id was read, by id. A map enters only when its `id` is first read (to be
 * put in a map-of-maps slot): a WeakRef keeps its target alive until the current
 * synchronous job ends, so registering every map at construction kept every map made
 * in one long loop alive (8,000 64 KiB maps: 451 MiB); dead entries leave through
 * the finalization registry.
 */
/**
 * The most memory one VM map may preallocate (keys and values of every entry, or a
 * ring's data): the VM allocates a map's storage up front, as the kernel does for most
 * types, and JavaScript typed arrays stop at a few GiB. Checked before any allocation,
 * so a hostile max_entries is a MapSpecError, not a RangeError or an out-of-memory.
 */
export const VM_MAP_MAX_BYTES = 1 << 30;

/** Bytes a map of `spec` preallocates (one CPU's copy; a ring's data is mapped twice). */
function preallocatedBytes(spec: MapSpec): number {
  if (spec.type === MapType.RINGBUF || spec.type === MapType.USER_RINGBUF)
    return 2 * spec.maxEntries;
  return spec.maxEntries * (((spec.keySize + 7) & ~7) + ((spec.valueSize + 7) & ~7));
}

const registry = new Map<number, WeakRef<VmMap>>();
const unregister = new FinalizationRegistry<number>((id) => {
  if (registry.get(id)?.deref() === undefined) registry.delete(id);
});
let nextId = 1;

/**
 * The VM map with id `id` (the VM's stand-in for a map fd or id: map-of-maps slots
 * take and return it), or undefined.
 */
export function vmMapById(id: number): VmMap | undefined {
  const m = registry.get(id)?.deref();
  if (m === undefined) registry.delete(id);
  return m;
}

/** Rounds up to a multiple of 8, the kernel's value stride in arrays. */
export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * A VM map: the user-side {@link KeyValueMap} API over raw bytes, plus the entry
 * points the helpers use, which report failures as negative errnos (as the kernel's
 * helpers return them) instead of throwing.
 */
export abstract class VmMap implements BackendMap {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  #id: number;
  #registered = false;
  /** Values per key: the number of virtual CPUs for per-CPU maps, else 1. */
  readonly cpus: number = 1;
  /** True for per-CPU maps (one value per virtual CPU under each key). */
  readonly perCpu: boolean = false;
  /** Bytes between two CPUs' copies of the same value in {@link values} (per-CPU maps). */
  readonly cpuBytes: number = 0;
  #frozen = false;
  /**
   * The value storage the VM maps as this map's region: `lookupSlot` answers byte
   * offsets into it. Its length never changes; for arrays and hash maps its bytes may
   * move once ({@link relocate}).
   */
  abstract readonly values: Uint8Array;
  /** Set by maps whose values may move ({@link relocate}): arrays and hash maps. */
  protected storage: MovableBytes | undefined;

  /** Who took the values with {@link relocate}, or undefined. */
  get home(): object | undefined {
    return this.storage?.home;
  }

  /** Records that `space` has a region over the values (`mapRegion` in run-env.ts). */
  noteRegion(space: VmMemory): void {
    this.storage?.note(space);
  }

  /**
   * Whether {@link relocate} may move the values for a program of `space`: arrays and
   * hash maps whose values never moved and that no other address space maps.
   */
  canRelocate(space: VmMemory): boolean {
    return this.storage?.canMove(space) ?? false;
  }

  /**
   * Moves the values into `bytes` (as long as the values; copied), for `home` (the
   * wasm JIT target's arena); `space`'s region over them follows. Only where
   * {@link canRelocate} says so. Code that keeps `values` keeps the old bytes: read it
   * afresh.
   */
  relocate(bytes: Uint8Array, home: object, space: VmMemory): void {
    if (this.storage === undefined) throw new Error(`${this}: its values cannot move`);
    this.storage.move(this, bytes, home, space);
  }

  /** Validates the spec the way the kernel would (MapSpecError otherwise). */
  constructor(spec: MapSpec) {
    validateMapSpec(spec);
    const bytes = preallocatedBytes(spec);
    if (bytes > VM_MAP_MAX_BYTES) {
      throw new MapSpecError(
        spec.name,
        "maxEntries",
        `${spec.maxEntries} needs ${bytes} bytes, more than a VM map may preallocate (${VM_MAP_MAX_BYTES})`,
      );
    }
    this.name = spec.name;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.#id = nextId++;
  }

  /** The map's id in this process (what a map-of-maps slot holds for it). */
  get id(): number {
    if (!this.#registered) {
      this.#registered = true;
      registry.set(this.#id, new WeakRef(this));
      unregister.register(this, this.#id);
    }
    return this.#id;
  }

  /** `hash map "counts"` for messages. */
  toString(): string {
    return `${mapTypeName(this.type) ?? "map"} map "${this.name}"`;
  }

  /**
   * Byte offset in {@link values} of the value under the key at `key[at..]`, or -1: what
   * a program's map_lookup_elem sees (`cpu`'s value for per-CPU maps; an LRU map marks
   * the key as used).
   */
  abstract lookupSlot(key: Uint8Array, at: number, cpu?: number): number;

  /** Like {@link lookupSlot}, for user-side lookups (an LRU map does not mark the key). */
  peekSlot(key: Uint8Array, at: number, cpu = 0): number {
    return this.lookupSlot(key, at, cpu);
  }
  /**
   * Stores a value (from `value[vat..]`) under the key at `key[kat..]`; 0 or a negative
   * errno. For per-CPU maps `cpu` is the CPU whose value a program's update sets (the
   * others of a new key start zeroed, as in the kernel).
   */
  abstract updateRaw(
    key: Uint8Array,
    kat: number,
    value: Uint8Array,
    vat: number,
    flags: number,
    cpu?: number,
  ): number;
  /** Deletes the key at `key[at..]`; 0 or a negative errno. */
  abstract deleteRaw(key: Uint8Array, at: number): number;
  abstract nextKey(key?: Uint8Array): Uint8Array | undefined;

  protected checkKey(key: Uint8Array, op: string): void {
    if (key.length !== this.keySize)
      throw new RangeError(
        `${this}: ${op}: key is ${key.length} bytes, the map's keys are ${this.keySize}`,
      );
  }

  protected checkValue(value: Uint8Array, op: string): void {
    if (value.length !== this.valueSize)
      throw new RangeError(
        `${this}: ${op}: value is ${value.length} bytes, the map's values are ${this.valueSize}`,
      );
  }

  /** The TypeError for an operation this map type does not have (as `BpfMap` throws it). */
  protected wrongKind(op: string, use: string): TypeError {
    return new TypeError(
      `${this}: ${op} is not an operation of ${mapTypeName(this.type) ?? "this"} maps (use ${use})`,
    );
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    if (this.perCpu) throw this.wrongKind("lookup()", "lookupPerCpu()");
    this.checkKey(key, "lookup");
    if (flags & ~UpdateFlags.LOCK) throw new VmMapError(Errno.EINVAL, `${this}: lookup`);
    const at = this.peekSlot(key, 0);
    return at < 0 ? undefined : this.values.slice(at, at + this.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    if (this.perCpu) throw this.wrongKind("update()", "updatePerCpu()");
    this.checkWritable("update");
    this.checkKey(key, "update");
    this.checkValue(value, "update");
    const err = this.updateRaw(key, 0, value, 0, flags);
    if (err < 0) throw new VmMapError(-err, `${this}: update`);
  }

  delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey(key, "delete");
    const err = this.deleteRaw(key, 0);
    if (err === -Errno.ENOENT) return false;
    if (err < 0) throw new VmMapError(-err, `${this}: delete`);
    return true;
  }

  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    if (this.perCpu) throw this.wrongKind("lookupAndDelete()", "lookupPerCpu() and delete()");
    this.checkWritable("lookup and delete");
    const v = this.lookup(key, flags);
    if (v === undefined) return undefined;
    const err = this.deleteRaw(key, 0);
    if (err < 0) throw new VmMapError(-err, `${this}: lookup and delete`);
    return v;
  }

  /**
   * Every key, in the map's order. The next key is fetched before the current one is
   * handed out, so deleting the current key inside the loop does not restart the walk;
   * a map changed faster than it can be walked ends the walk with a
   * {@link MapIterationAbortedError} after more steps than the map can hold keys.
   */
  *keys(): IterableIterator<Uint8Array> {
    const limit = this.maxEntries > 0 ? this.maxEntries : Number.MAX_SAFE_INTEGER;
    let k = this.nextKey();
    let steps = 0;
    while (k !== undefined) {
      if (++steps > limit) throw new MapIterationAbortedError(`${this}`, limit);
      const next = this.nextKey(k);
      yield k;
      k = next;
    }
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  /** True once {@link freeze} was called. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * Makes the map read-only from user space, as BPF_MAP_FREEZE: later user-side
   * updates and deletes fail with EPERM; programs may still write.
   * @throws VmMapError EPERM when the map is already frozen, as the kernel answers
   */
  freeze(): void {
    // A frozen map is not writable, so the kernel refuses a second freeze with EPERM.
    if (this.#frozen) throw new VmMapError(Errno.EPERM, `${this}: freeze (already frozen)`);
    this.#frozen = true;
  }

  /** EPERM for user-side writes to a frozen map, as the kernel answers. */
  protected checkWritable(op: string): void {
    if (this.#frozen) throw new VmMapError(Errno.EPERM, `${this}: ${op} (the map is frozen)`);
  }

  // ---------------- per-CPU maps ----------------

  /** Per-CPU maps: one value per virtual CPU, or undefined without the key. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) throw this.wrongKind("lookupPerCpu()", "lookup()");
    this.checkKey(key, "lookup");
    const at = this.peekSlot(key, 0, 0);
    if (at < 0) return undefined;
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.cpus; c++) {
      const o = at + c * this.cpuBytes;
      out.push(this.values.slice(o, o + this.valueSize));
    }
    return out;
  }

  /** Per-CPU maps: sets `key`'s value on every virtual CPU (`values.length` must be {@link cpus}). */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): void {
    if (!this.perCpu) throw this.wrongKind("updatePerCpu()", "update()");
    this.checkWritable("update");
    this.checkKey(key, "update");
    if (values.length !== this.cpus)
      throw new RangeError(
        `${this}: ${values.length} per-CPU values given, expected ${this.cpus} (one per virtual CPU)`,
      );
    for (const v of values) this.checkValue(v, "update");
    const err = this.storePerCpu(key, values, flags);
    if (err < 0) throw new VmMapError(-err, `${this}: update`);
  }

  /** Stores every CPU's value under `key` (per-CPU maps); 0 or a negative errno. */
  protected storePerCpu(_key: Uint8Array, _values: readonly Uint8Array[], _flags: number): number {
    return -Errno.EINVAL;
  }

  /** Per-CPU maps: every key with its per-CPU values. */
  *entriesPerCpu(): IterableIterator<[Uint8Array, Uint8Array[]]> {
    for (const k of this.keys()) {
      const v = this.lookupPerCpu(k);
      if (v !== undefined) yield [k, v];
    }
  }

  // ---------------- batch operations ----------------

  /** Bytes per value in a batch: the value, or every CPU's value rounded up to 8 bytes. */
  get batchValueSize(): number {
    return this.perCpu ? roundUp8(this.valueSize) * this.cpus : this.valueSize;
  }

  /** The value of `key` as a batch packs it, or undefined. */
  private batchValue(key: Uint8Array): Uint8Array | undefined {
    if (!this.perCpu) return this.lookup(key);
    const per = this.lookupPerCpu(key);
    if (per === undefined) return undefined;
    const stride = roundUp8(this.valueSize);
    const out = new Uint8Array(stride * this.cpus);
    per.forEach((v, c) => {
      out.set(v, c * stride);
    });
    return out;
  }

  private walkBatch(count: number, cursor: Uint8Array | undefined, del: boolean): BatchChunk {
    if (!Number.isInteger(count) || count <= 0)
      throw new VmMapError(Errno.EINVAL, `${this}: batch of ${count} entries`);
    if (cursor !== undefined) this.checkKey(cursor, "batch cursor");
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    // The cursor is the next key to read (the kernel's is opaque too).
    let k: Uint8Array | undefined = cursor ?? this.nextKey();
    while (k !== undefined && keys.length < count) {
      const v = this.batchValue(k);
      const next = this.nextKey(k);
      if (v !== undefined) {
        keys.push(k);
        values.push(v);
        if (del) this.deleteRaw(k, 0);
      }
      k = del && next !== undefined && this.peekSlot(next, 0) < 0 ? this.nextKey() : next;
    }
    const ks = new Uint8Array(keys.length * this.keySize);
    const vs = new Uint8Array(values.length * this.batchValueSize);
    keys.forEach((key, i) => {
      ks.set(key, i * this.keySize);
    });
    values.forEach((v, i) => {
      vs.set(v, i * this.batchValueSize);
    });
    return new BatchChunk(keys.length, ks, vs, this.keySize, this.batchValueSize, k);
  }

  /**
   * Reads up to `count` entries from `cursor` (from the start without one), packed as
   * the kernel's BPF_MAP_LOOKUP_BATCH returns them; the chunk's `cursor` is undefined
   * once the walk is over.
   */
  lookupBatch(count: number, cursor?: Uint8Array, _opts: BatchOptions = {}): BatchChunk {
    return this.walkBatch(count, cursor, false);
  }

  /** Like {@link lookupBatch}, removing the entries it returns. */
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array, _opts: BatchOptions = {}): BatchChunk {
    this.checkWritable("lookup and delete batch");
    if (this.deleteRaw(new Uint8Array(this.keySize), 0) === -Errno.EINVAL)
      throw new VmMapError(Errno.ENOTSUPP, `${this}: lookup and delete batch`);
    return this.walkBatch(count, cursor, true);
  }

  /** Splits batch input (an array, or everything packed in one buffer) into items. */
  private batchItems(input: BatchInput, size: number, what: string): Uint8Array[] {
    if (!(input instanceof Uint8Array)) return [...input];
    if (size === 0 || input.length % size !== 0)
      throw new RangeError(
        `${this}: ${what}: ${input.length} bytes is not a whole number of ${size}-byte items`,
      );
    const out: Uint8Array[] = [];
    for (let o = 0; o < input.length; o += size) out.push(input.subarray(o, o + size));
    return out;
  }

  /**
   * Writes `keys[i]` → `values[i]` as BPF_ANY; returns how many were written.
   * @throws VmMapError whose `processed` says how many were written before the failure.
   */
  updateBatch(keys: BatchInput, values: BatchInput, opts: BatchOptions = {}): number {
    this.checkWritable("update batch");
    const ks = this.batchItems(keys, this.keySize, "keys");
    const vs = this.batchItems(values, this.batchValueSize, "values");
    if (ks.length !== vs.length)
      throw new RangeError(`${this}: update batch: ${ks.length} keys but ${vs.length} values`);
    const stride = roundUp8(this.valueSize);
    for (let i = 0; i < ks.length; i++) {
      try {
        if (this.perCpu) {
          const v = vs[i]!;
          const per = Array.from({ length: this.cpus }, (_, c) =>
            v.subarray(c * stride, c * stride + this.valueSize),
          );
          this.updatePerCpu(ks[i]!, per, opts.elemFlags ?? 0);
        } else this.update(ks[i]!, vs[i]!, opts.elemFlags ?? 0);
      } catch (e) {
        if (e instanceof VmMapError) throw new VmMapError(e.errno, `${this}: update batch`, i);
        throw e;
      }
    }
    return ks.length;
  }

  /**
   * Removes `keys`; returns how many were removed.
   * @throws VmMapError (ENOENT for a missing key) whose `processed` says how many were removed before.
   */
  deleteBatch(keys: BatchInput, _opts: BatchOptions = {}): number {
    this.checkWritable("delete batch");
    const ks = this.batchItems(keys, this.keySize, "keys");
    for (let i = 0; i < ks.length; i++) {
      this.checkKey(ks[i]!, "delete batch");
      const err = this.deleteRaw(ks[i]!, 0);
      if (err < 0) throw new VmMapError(-err, `${this}: delete batch`, i);
    }
    return ks.length;
  }
}
