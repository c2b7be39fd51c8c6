/**
 * The map interface both backends implement: a map in the kernel (`BpfMap` in
 * src/kernel/) and a map in the userspace VM answer the same calls on raw bytes.
 *
 * Conventions shared by every implementation:
 * - keys and values are `Uint8Array`s of exactly the map's key and value size; a wrong
 *   length is a `RangeError` naming the map and both sizes, raised before touching the map;
 * - "no such key" is a value (`undefined` or `false`), never an exception;
 * - other failures throw an error with a `code` property holding the errno name the
 *   kernel gives for the same failure ("EEXIST", "E2BIG", "EINVAL"...), so code and
 *   tests can compare the two backends error for error.
 *
 * @module
 */

import type { MapType } from "../uapi/index.ts";

/** The shape of a map, shared by both backends. */
export interface MapShape {
  /** The map's name (as the kernel keeps it). */
  readonly name: string;
  /** Its type. */
  readonly type: MapType;
  /** Key size in bytes (0 for keyless maps). */
  readonly keySize: number;
  /** Value size in bytes (for per-CPU maps, one CPU's value). */
  readonly valueSize: number;
  /** Capacity. */
  readonly maxEntries: number;
  /** Creation flags. */
  readonly flags: number;
}

/** An error from a map operation: `code` is the errno name, as the kernel would give it. */
export interface MapErrorLike extends Error {
  readonly code: string;
}

/** Key/value maps: hash, array, LRU, LPM trie, map-in-map, ... */
export interface KeyValueMap extends MapShape {
  /** The value under `key`, or undefined if there is none. `flags`: 0 or BPF_F_LOCK. */
  lookup(key: Uint8Array, flags?: number): Uint8Array | undefined;
  /** Stores `value` under `key`. `flags`: ANY (default), NOEXIST, EXIST, optionally | LOCK. */
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  /** Removes `key`; false if it was not there. */
  delete(key: Uint8Array): boolean;
  /** Removes `key` and returns its value, or undefined if it was not there. */
  lookupAndDelete(key: Uint8Array, flags?: number): Uint8Array | undefined;
  /**
   * The key after `key` in the map's own order (the first key without `key`, or when
   * `key` is not in the map, for hash-like maps), or undefined after the last.
   */
  nextKey(key?: Uint8Array): Uint8Array | undefined;
  /** Every key, in the map's order. Keys deleted during the walk do not stop it. */
  keys(): IterableIterator<Uint8Array>;
  /** Every key with its value. */
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
}

/** Maps holding one value per possible CPU. */
export interface PerCpuMap extends MapShape {
  /** One value per possible CPU (each `valueSize` bytes), or undefined without the key. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined;
  /** Sets the value on every possible CPU: `values.length` must be the number of CPUs. */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags?: number): void;
  /** Every key with its per-CPU values. */
  entriesPerCpu(): IterableIterator<[Uint8Array, Uint8Array[]]>;
}

/** Queue and stack maps. */
export interface QueueMap extends MapShape {
  /** Adds a value; with EXIST a full map drops its oldest value instead of failing (E2BIG). */
  push(value: Uint8Array, flags?: number): void;
  /** Removes and returns the next value (oldest for a queue, newest for a stack). */
  pop(): Uint8Array | undefined;
  /** The value {@link pop} would return, left in place. */
  peek(): Uint8Array | undefined;
}

/** Bloom filters: no false negatives, some false positives. */
export interface BloomFilterMap extends MapShape {
  /** Adds a value. */
  push(value: Uint8Array, flags?: number): void;
  /** False if `value` was certainly never pushed; true if it may have been. */
  has(value: Uint8Array): boolean;
}

/**
 * One chunk of a batched walk, packed the way the kernel returns it: `count` keys back
 * to back in `keys`, their values back to back in `values` (for per-CPU maps, every
 * CPU's value one after the other, each slot rounded up to 8 bytes). Packed rather
 * than one array per entry because making 10,000 small arrays costs as much as the
 * system call that read them.
 */
export class BatchChunk {
  /** Entries in this chunk. */
  readonly count: number;
  /** The keys, `keySize` bytes each. */
  readonly keys: Uint8Array;
  /** The values, `valueStride` bytes each. */
  readonly values: Uint8Array;
  /** Bytes per key. */
  readonly keySize: number;
  /** Bytes per value in {@link values}. */
  readonly valueStride: number;
  /** Where the walk resumes (pass it to the next call), or undefined when it is over. */
  readonly cursor: Uint8Array | undefined;

  constructor(
    count: number,
    keys: Uint8Array,
    values: Uint8Array,
    keySize: number,
    valueStride: number,
    cursor: Uint8Array | undefined,
  ) {
    this.count = count;
    this.keys = keys;
    this.values = values;
    this.keySize = keySize;
    this.valueStride = valueStride;
    this.cursor = cursor;
  }

  /** Key `i` (a view into {@link keys}). */
  key(i: number): Uint8Array {
    return this.keys.subarray(i * this.keySize, (i + 1) * this.keySize);
  }

  /** Value `i` (a view into {@link values}). */
  value(i: number): Uint8Array {
    return this.values.subarray(i * this.valueStride, (i + 1) * this.valueStride);
  }

  /** Every [key, value] of the chunk, as views. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (let i = 0; i < this.count; i++) yield [this.key(i), this.value(i)];
  }
}

/** Options of the batch operations. */
export interface BatchOptions {
  /**
   * Per-element flags (`elem_flags`): 0 or BPF_F_LOCK, the only one the kernel takes in
   * batches (NOEXIST/EXIST are EINVAL there; batch updates behave as BPF_ANY).
   */
  readonly elemFlags?: number;
}

/** Keys or values for a batch: one array each, or all packed back to back in one. */
export type BatchInput = readonly Uint8Array[] | Uint8Array;

/**
 * Batched operations: many entries per call. An update or delete that fails part-way
 * throws an error whose `processed` property says how many entries were done.
 */
export interface BatchMap extends MapShape {
  /**
   * Reads up to `count` entries starting at `cursor` (undefined: from the start).
   * Hash maps return whole buckets, so a chunk may hold fewer than `count` entries
   * before the end.
   */
  lookupBatch(count: number, cursor?: Uint8Array, opts?: BatchOptions): BatchChunk;
  /** Like {@link lookupBatch}, removing what it returns. */
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array, opts?: BatchOptions): BatchChunk;
  /** Writes `keys[i]` → `values[i]`; returns how many were written (all, unless it throws). */
  updateBatch(
    keys: readonly Uint8Array[],
    values: readonly Uint8Array[],
    opts?: BatchOptions,
  ): number;
  /** Removes `keys`; returns how many were removed (all, unless it throws). */
  deleteBatch(keys: readonly Uint8Array[], opts?: BatchOptions): number;
}

/** Everything a map may answer; each map type answers the part that fits it. */
export interface MapApi extends KeyValueMap, PerCpuMap, QueueMap, BloomFilterMap, BatchMap {}
