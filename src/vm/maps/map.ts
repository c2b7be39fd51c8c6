/**
 * The common part of VM maps: shape, values stored in one byte array that the VM's
 * address space maps as a region (so a lookup can hand the program a pointer), and
 * the errors both backends share (`code` = the kernel's errno name).
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { KeyValueMap, MapErrorLike, MapShape } from "../../spec/map-api.ts";
import { type MapSpec, validateMapSpec } from "../../spec/map-spec.ts";
import { Errno, errnoMessage, type MapType, mapTypeName, UpdateFlags } from "../../uapi/index.ts";

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
  /** Builds the error from a positive errno and what was being done. */
  constructor(errno: number, operation: string) {
    const code = Object.entries(Errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    super(`${operation}: ${code} (${errnoMessage(errno) ?? "error"})`);
    this.code = code;
    this.errno = errno;
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

const registry = new Map<number, WeakRef<VmMap>>();
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
export abstract class VmMap implements MapShape, KeyValueMap {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** The map's id in this process (what a map-of-maps slot holds for it). */
  readonly id: number;
  /** Values per key: the number of virtual CPUs for per-CPU maps, else 1. */
  readonly cpus: number = 1;
  /**
   * The value storage the VM maps as this map's region: `lookupSlot` answers byte
   * offsets into it. Its length never changes.
   */
  abstract readonly values: Uint8Array;

  /** Validates the spec the way the kernel would (MapSpecError otherwise). */
  constructor(spec: MapSpec) {
    validateMapSpec(spec);
    this.name = spec.name;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.id = nextId++;
    registry.set(this.id, new WeakRef(this));
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
    this.checkKey(key, "lookup");
    if (flags & ~UpdateFlags.LOCK) throw new VmMapError(Errno.EINVAL, `${this}: lookup`);
    const at = this.peekSlot(key, 0);
    return at < 0 ? undefined : this.values.slice(at, at + this.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkKey(key, "update");
    this.checkValue(value, "update");
    const err = this.updateRaw(key, 0, value, 0, flags);
    if (err < 0) throw new VmMapError(-err, `${this}: update`);
  }

  delete(key: Uint8Array): boolean {
    this.checkKey(key, "delete");
    const err = this.deleteRaw(key, 0);
    if (err === -Errno.ENOENT) return false;
    if (err < 0) throw new VmMapError(-err, `${this}: delete`);
    return true;
  }

  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    const v = this.lookup(key, flags);
    if (v === undefined) return undefined;
    const err = this.deleteRaw(key, 0);
    if (err < 0) throw new VmMapError(-err, `${this}: lookup and delete`);
    return v;
  }

  *keys(): IterableIterator<Uint8Array> {
    let k = this.nextKey();
    while (k !== undefined) {
      yield k;
      k = this.nextKey(k);
    }
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }
}
