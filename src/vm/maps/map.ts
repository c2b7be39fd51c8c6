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
import { Errno, errnoMessage, type MapType, mapTypeName } from "../../uapi/index.ts";

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
  }

  /** `hash map "counts"` for messages. */
  toString(): string {
    return `${mapTypeName(this.type) ?? "map"} map "${this.name}"`;
  }

  /** Byte offset in {@link values} of the value under the key at `key[at..]`, or -1. */
  abstract lookupSlot(key: Uint8Array, at: number): number;
  /** Stores a value (from `value[vat..]`) under the key at `key[kat..]`; 0 or a negative errno. */
  abstract updateRaw(
    key: Uint8Array,
    kat: number,
    value: Uint8Array,
    vat: number,
    flags: number,
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

  lookup(key: Uint8Array, _flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup");
    const at = this.lookupSlot(key, 0);
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
