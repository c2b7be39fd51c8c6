/**
 * `BpfMap`: a BPF map in the kernel, answering the {@link MapApi} of src/spec/ on raw
 * bytes.
 *
 * @module
 */

import type { BackendMap } from "../../spec/backend.ts";
import type { BatchChunk, BatchInput, BatchOptions, MapApi } from "../../spec/map-api.ts";
import { checkMapCompatible, type MapLayout } from "../../spec/map-compat.ts";
import { MapIterationAbortedError } from "../../spec/map-iteration-error.ts";
import {
  describeMapType,
  isKeylessMapType,
  isPerCpuMapType,
  type MapSpec,
  MapSpecError,
  sanitizeObjectName,
} from "../../spec/map-spec.ts";
import { Errno } from "../../uapi/errno.ts";
import { BpfCmd, bpfAttr, MapFlags, MapType, UpdateFlags } from "../../uapi/index.ts";
import { requireFdKind } from "../objects/fd-kind.ts";
import { adoptOrClose, requireObjectFdById } from "../objects/objects.ts";
import { adoptPinned, isOnBpffs, pinObject } from "../objects/pin.ts";
import { BpfCall, bpfRaw, Fd, SyscallError } from "../sys/index.ts";
import { perCpuSlotSize, possibleCpus } from "../system/cpus.ts";
import { batchCursorSize, deleteBatch, lookupBatch, updateBatch } from "./map-batch.ts";
import { type CreateMapOptions, createMapFd, effectiveMaxEntries } from "./map-create.ts";
import { type MapInfo, mapInfoByFd, mapShapeByFd } from "./map-info.ts";
import { MapOpBuffers } from "./map-ops.ts";

/*
 * The hot path reads no imported name: under tsx (tests, benches) imports compile to
 * CommonJS getters, and a getter call per use cost about 100 ns per lookup (measured).
 */
const raw = bpfRaw;
const ENOENT = Errno.ENOENT;
const LOOKUP = BpfCmd.MAP_LOOKUP_ELEM;
const UPDATE = BpfCmd.MAP_UPDATE_ELEM;
const DELETE = BpfCmd.MAP_DELETE_ELEM;
const NEXT_KEY = BpfCmd.MAP_GET_NEXT_KEY;
const LOOKUP_AND_DELETE = BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM;

/** Copies `src` into `dst` (same length); a plain loop beats TypedArray#set for short keys. */
function copyIn(dst: Uint8Array, src: Uint8Array): void {
  const n = src.length;
  if (n <= 16) for (let i = 0; i < n; i++) dst[i] = src[i] as number;
  else dst.set(src);
}

/**
 * A fresh copy of `src`. The typed-array constructor is the cheapest copy of a short
 * value out of native memory: 25–31 ns for 8 bytes vs 40–45 ns for `new Uint8Array(n)`
 * and a loop, 44–60 ns for slice() (bench/micro/value-copy.ts, best of 50 × 100k).
 */
function copyOut(src: Uint8Array): Uint8Array {
  return new Uint8Array(src);
}

/** What element operations a map type takes. */
enum Kind {
  /** Keys and one value: hash, array, LRU, LPM trie, map-in-map, ... */
  KeyValue = 0,
  /** Keys and one value per possible CPU. */
  PerCpu = 1,
  /** Queue and stack: push, pop, peek. */
  Queue = 2,
  /** Bloom filter: push and has. */
  Bloom = 3,
  /** Ring buffers and arenas: no element operations. */
  None = 4,
}

function kindOf(type: number): Kind {
  if (isPerCpuMapType(type)) return Kind.PerCpu;
  if (type === MapType.QUEUE || type === MapType.STACK) return Kind.Queue;
  if (type === MapType.BLOOM_FILTER) return Kind.Bloom;
  if (isKeylessMapType(type)) return Kind.None;
  return Kind.KeyValue;
}

const KIND_USE: Record<Kind, string> = {
  [Kind.KeyValue]: "lookup()/update()",
  [Kind.PerCpu]: "lookupPerCpu()/updatePerCpu()",
  [Kind.Queue]: "push()/pop()/peek()",
  [Kind.Bloom]: "push()/has()",
  [Kind.None]: "no element operations from user space",
};

/** Native buffers of maps that were garbage-collected without close(). */
const buffersRegistry = new FinalizationRegistry<MapOpBuffers>((b) => b.free());

/** Options of {@link BpfMap.create}. */
export interface BpfMapCreateOptions extends CreateMapOptions {
  /**
   * Directory on bpffs for maps whose spec says `pinning: "byName"`: a compatible map
   * already pinned at `<pinPath>/<name>` is reused, otherwise the new map is pinned there.
   */
  readonly pinPath?: string;
}

/** Options of {@link BpfMap.fromPin} and {@link BpfMap.fromId}. */
export interface BpfMapOpenOptions {
  /** Open read-only (BPF_F_RDONLY): updates fail with EPERM. */
  readonly readOnly?: boolean;
  /** Open write-only (BPF_F_WRONLY): lookups fail with EPERM. */
  readonly writeOnly?: boolean;
}

/**
 * A BPF map in the kernel. Create one from a {@link MapSpec} or open one that exists
 * (by fd, id or pin); `close()` it (or `using` it) when done.
 *
 * Keys and values are bytes of exactly the map's sizes; a wrong length throws a
 * RangeError before any system call. A missing key is `undefined`, not an error.
 *
 * @example
 * ```ts
 * using counts = BpfMap.create({ name: "counts", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64 });
 * counts.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8));
 * counts.lookup(new Uint8Array([1, 0, 0, 0])); // Uint8Array(8)
 * ```
 */
export class BpfMap implements MapApi, BackendMap, Disposable {
  /** The name as the kernel keeps it (sanitized, at most 15 characters). */
  readonly name: string;
  /** Map type (`MapType.HASH`, ...). */
  readonly type: MapType;
  /** Key size in bytes; 0 for keyless maps. */
  readonly keySize: number;
  /** Value size in bytes (per CPU for per-CPU maps). */
  readonly valueSize: number;
  /** Capacity as created (a PERF_EVENT_ARRAY created with 0 holds one per CPU). */
  readonly maxEntries: number;
  /** Creation flags (`MapFlags`). */
  readonly flags: number;
  /** Possible CPUs for per-CPU maps, else 1. */
  readonly cpus: number;
  /** Bytes of one value in the kernel's buffers (per-CPU maps: every CPU's slot). */
  readonly batchValueSize: number;
  readonly #fd: Fd;
  /**
   * The native attribute and data buffers of element operations, made on the first
   * one: a collection creates its maps by the dozen and most are never used from here.
   */
  #buf: MapOpBuffers | undefined;
  #closed = false;
  readonly #kind: Kind;
  readonly #label: string;

  /** @internal Takes ownership of `fd`; use the static constructors. */
  constructor(
    fd: Fd,
    shape: {
      name: string;
      type: MapType;
      keySize: number;
      valueSize: number;
      maxEntries: number;
      flags: number;
    },
  ) {
    this.#fd = fd;
    this.name = shape.name;
    this.type = shape.type;
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
    this.#kind = kindOf(shape.type);
    this.cpus = this.#kind === Kind.PerCpu ? possibleCpus() : 1;
    this.batchValueSize =
      this.#kind === Kind.PerCpu ? perCpuSlotSize(shape.valueSize) * this.cpus : shape.valueSize;
    this.#label = `${describeMapType(shape.type)} map "${shape.name}"`;
  }

  /**
   * Creates a map. `spec.contents` are written and `spec.freeze` applied before it is
   * returned; a map-in-map's inner template is created for the call and closed.
   *
   * @throws MapSpecError for a spec the kernel would refuse (naming the field);
   * SyscallError when the kernel refuses anyway.
   */
  static create(spec: MapSpec, opts: BpfMapCreateOptions = {}): BpfMap {
    const pinned = spec.pinning === "byName" && opts.pinPath !== undefined;
    const pinAt = pinned ? pinByNamePath(opts.pinPath as string, spec.name) : "";
    if (pinned) {
      const existing = tryOpenPinned(pinAt);
      if (existing) {
        try {
          checkCompatible(existing, spec, pinAt);
        } catch (e) {
          try {
            // Something that is not a map says so rather than how its "map info" differs.
            requireFdKind(existing.fd, "map", "BpfMap.fromFd");
          } finally {
            existing.close();
          }
          throw e;
        }
        return existing;
      }
    }
    const fd = createMapFd(spec, opts);
    const map = new BpfMap(fd, {
      name: sanitizeObjectName(spec.name),
      type: spec.type,
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: effectiveMaxEntries(spec),
      flags: (spec.flags ?? 0) | (spec.numaNode !== undefined ? MapFlags.NUMA_NODE : 0),
    });
    try {
      for (const { key, value } of spec.contents ?? []) {
        if (map.#kind === Kind.PerCpu) map.updatePerCpu(key, new Array(map.cpus).fill(value));
        else if (map.#kind === Kind.Queue || map.#kind === Kind.Bloom) map.push(value);
        else map.#updateOnce(key, value);
      }
      if (spec.freeze) map.freeze();
      if (pinned) map.pin(pinAt);
    } catch (e) {
      map.close();
      throw e;
    }
    return map;
  }

  /**
   * Takes ownership of a map descriptor (a number or an {@link Fd}): close() closes
   * it. Its type and sizes are read from the kernel.
   * @throws SyscallError when `fd` is not a BPF map; the caller then still owns `fd`
   * (the rule of every `fromFd`: ownership passes only on success).
   */
  static fromFd(fd: number | Fd): BpfMap {
    const owned = typeof fd === "number" ? new Fd(fd) : fd;
    try {
      requireFdKind(owned.value, "map", "BpfMap.fromFd");
      return new BpfMap(owned, mapShapeByFd(owned.value));
    } catch (e) {
      if (typeof fd === "number") owned.release();
      throw e;
    }
  }

  /**
   * Opens the map with system-wide id `id` (needs CAP_SYS_ADMIN).
   *
   * @throws ObjectNotFoundError when no map has that id.
   */
  static fromId(id: number, opts: BpfMapOpenOptions = {}): BpfMap {
    return adoptOrClose(requireObjectFdById("map", id, openFlags(opts)), BpfMap.fromFd);
  }

  /**
   * Opens the map pinned at `path`.
   *
   * @throws SyscallError naming the path and, when nothing is there, whether the path
   * is on bpffs.
   */
  static fromPin(path: string, opts: BpfMapOpenOptions = {}): BpfMap {
    return adoptPinned(path, "BPF map", BpfMap.fromFd, openFlags(opts));
  }

  /** The descriptor (valid until close()). */
  get fd(): number {
    return this.#fd.value;
  }

  /** True once close() has run. */
  get closed(): boolean {
    return this.#closed;
  }

  #buffers(): MapOpBuffers {
    let b = this.#buf;
    if (b !== undefined) return b;
    if (this.#closed) throw new Error(`${this.#label} is closed`);
    b = new MapOpBuffers(this.#fd.value, this.keySize, this.batchValueSize);
    this.#buf = b;
    buffersRegistry.register(this, b, this);
    return b;
  }

  /** The error for an operation on a closed map or a map type without it. */
  #unusable(op: string): Error {
    this.#buffers();
    return this.#wrongKind(op);
  }

  #wrongKind(op: string): Error {
    return new TypeError(
      `${this.#label}: ${op} is not an operation of ${describeMapType(this.type)} maps (use ${KIND_USE[this.#kind]})`,
    );
  }

  #keyError(key: Uint8Array): RangeError {
    return new RangeError(`${this.#label}: key is ${key.length} bytes, expected ${this.keySize}`);
  }

  #valueError(value: Uint8Array, what = "value"): RangeError {
    return new RangeError(
      `${this.#label}: ${what} is ${value.length} bytes, expected ${this.valueSize}`,
    );
  }

  #fail(errno: number, op: string, flags = 0): SyscallError {
    return new SyscallError(errno, `${op} in ${this.#label}`, this.#hint(errno, flags));
  }

  #hint(errno: number, flags: number): string | undefined {
    switch (errno) {
      case Errno.EEXIST:
        return flags & UpdateFlags.NOEXIST ? "the key exists and BPF_NOEXIST was given" : undefined;
      case Errno.ENOENT:
        return flags & UpdateFlags.EXIST
          ? "the key does not exist and BPF_EXIST was given"
          : undefined;
      case Errno.E2BIG:
        return this.#kind === Kind.Queue
          ? `the map is full (${this.maxEntries} entries); push with BPF_EXIST to drop the oldest`
          : `no room: the map holds at most ${this.maxEntries} entries (or the key is out of range)`;
      case Errno.EPERM:
        return "not permitted: the map may be frozen or opened read-only, or this needs root";
      default:
        return undefined;
    }
  }

  /**
   * The value under `key`, or undefined when there is none. `flags`: 0 or BPF_F_LOCK.
   * Map-in-map and program arrays return the inner object's id (4 bytes).
   */
  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    if (this.#kind !== Kind.KeyValue) throw this.#unusable("lookup()");
    const b = this.#buf ?? this.#buffers();
    if (key.length !== this.keySize) throw this.#keyError(key);
    copyIn(b.key, key);
    if (flags !== b.flags) b.setFlags(flags);
    const r = raw(LOOKUP, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      throw this.#fail(-r, "lookup");
    }
    return copyOut(b.value);
  }

  /**
   * Like {@link lookup} but writes the value into `out` (valueSize bytes) and returns
   * true, or false without the key: no allocation.
   */
  lookupInto(key: Uint8Array, out: Uint8Array, flags = 0): boolean {
    const b = this.#buffers();
    if (this.#kind !== Kind.KeyValue) throw this.#wrongKind("lookupInto()");
    if (key.length !== this.keySize) throw this.#keyError(key);
    if (out.length !== this.valueSize) throw this.#valueError(out, "output buffer");
    copyIn(b.key, key);
    b.setFlags(flags);
    const r = raw(LOOKUP, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return false;
      throw this.#fail(-r, "lookup");
    }
    copyIn(out, b.value);
    return true;
  }

  /**
   * Stores `value` under `key`. `flags`: `UpdateFlags.ANY` (default), `NOEXIST` (fail
   * with EEXIST if present), `EXIST` (fail with ENOENT if absent), optionally `| LOCK`.
   * Map-in-map and program arrays take the inner object's fd (4 bytes).
   */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    if (this.#kind !== Kind.KeyValue) throw this.#unusable("update()");
    const b = this.#buf ?? this.#buffers();
    if (key.length !== this.keySize) throw this.#keyError(key);
    if (value.length !== this.valueSize) throw this.#valueError(value);
    copyIn(b.key, key);
    copyIn(b.value, value);
    if (flags !== b.flags) b.setFlags(flags);
    const r = raw(UPDATE, b.elem);
    if (r < 0) throw this.#fail(-r, "update", flags);
  }

  /**
   * {@link update} through the shared bpf(2) call buffers, for the writes of a map's
   * creation (global data): a map's own native buffers are made only when it is used.
   */
  #updateOnce(key: Uint8Array, value: Uint8Array): void {
    if (key.length !== this.keySize) throw this.#keyError(key);
    if (value.length !== this.valueSize) throw this.#valueError(value);
    const call = new BpfCall(BpfCmd.MAP_UPDATE_ELEM, bpfAttr.mapElem);
    call.u32("map_fd", this.#fd.value).input("key", key).input("value", value);
    try {
      call.invoke("update");
    } catch (e) {
      if (e instanceof SyscallError) throw this.#fail(e.errno, "update");
      throw e;
    }
  }

  /** Removes `key`; false if it was not there. (Arrays cannot delete: EINVAL.) */
  delete(key: Uint8Array): boolean {
    const b = this.#buffers();
    if (this.#kind !== Kind.KeyValue && this.#kind !== Kind.PerCpu)
      throw this.#wrongKind("delete()");
    if (key.length !== this.keySize) throw this.#keyError(key);
    copyIn(b.key, key);
    const r = raw(DELETE, b.del);
    if (r < 0) {
      if (r === -ENOENT) return false;
      throw this.#fail(-r, "delete");
    }
    return true;
  }

  /** Removes `key` and returns its value, or undefined if it was not there. */
  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    const b = this.#buffers();
    if (this.#kind !== Kind.KeyValue) throw this.#wrongKind("lookupAndDelete()");
    if (key.length !== this.keySize) throw this.#keyError(key);
    copyIn(b.key, key);
    b.setFlags(flags);
    const r = raw(LOOKUP_AND_DELETE, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      throw this.#fail(-r, "lookup-and-delete");
    }
    return copyOut(b.value);
  }

  /**
   * The key after `key` (the first key when `key` is omitted, and, for hash-like maps,
   * when `key` is not in the map), or undefined after the last.
   */
  nextKey(key?: Uint8Array): Uint8Array | undefined {
    const b = this.#buffers();
    if (this.#kind !== Kind.KeyValue && this.#kind !== Kind.PerCpu)
      throw this.#wrongKind("nextKey()");
    let r: number;
    if (key === undefined) {
      r = raw(NEXT_KEY, b.first);
    } else {
      if (key.length !== this.keySize) throw this.#keyError(key);
      copyIn(b.key, key);
      r = raw(NEXT_KEY, b.next);
    }
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      throw this.#fail(-r, "next key");
    }
    return copyOut(b.nextKey);
  }

  /**
   * Every key, in the map's order. The next key is fetched before the current one is
   * handed out, so deleting the current key inside the loop does not restart the walk.
   * A map changing faster than it can be walked (another process deleting the key the
   * walk stands on restarts it at the first key) ends with an error after more steps
   * than the map can hold, as cilium/ebpf's MapIterator does.
   */
  *keys(): IterableIterator<Uint8Array> {
    const limit = this.maxEntries > 0 ? this.maxEntries : Number.MAX_SAFE_INTEGER;
    let cur = this.nextKey();
    let steps = 0;
    while (cur !== undefined) {
      if (++steps > limit) {
        throw new MapIterationAbortedError(this.#label, limit);
      }
      const next = this.nextKey(cur);
      yield cur;
      cur = next;
    }
  }

  /** Every key with its value; keys that vanish during the walk are skipped. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  /** `for (const [k, v] of map)`: the same as {@link entries}. */
  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /** One value per possible CPU (each valueSize bytes), or undefined without the key. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    const b = this.#buffers();
    if (this.#kind !== Kind.PerCpu) throw this.#wrongKind("lookupPerCpu()");
    if (key.length !== this.keySize) throw this.#keyError(key);
    copyIn(b.key, key);
    b.setFlags(0);
    const r = raw(LOOKUP, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      throw this.#fail(-r, "lookup");
    }
    return this.splitPerCpu(b.value);
  }

  /**
   * Splits a per-CPU value buffer as the kernel lays it out (slots rounded up to 8
   * bytes) into one copy per CPU of valueSize bytes.
   */
  splitPerCpu(buffer: Uint8Array): Uint8Array[] {
    const slot = perCpuSlotSize(this.valueSize);
    const out: Uint8Array[] = new Array(this.cpus);
    for (let c = 0; c < this.cpus; c++) out[c] = buffer.slice(c * slot, c * slot + this.valueSize);
    return out;
  }

  /** Sets `key`'s value on every possible CPU: one value of valueSize bytes per CPU. */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): void {
    const b = this.#buffers();
    if (this.#kind !== Kind.PerCpu) throw this.#wrongKind("updatePerCpu()");
    if (key.length !== this.keySize) throw this.#keyError(key);
    if (values.length !== this.cpus) {
      throw new RangeError(
        `${this.#label}: ${values.length} per-CPU values given, expected ${this.cpus} (one per possible CPU)`,
      );
    }
    const slot = perCpuSlotSize(this.valueSize);
    b.value.fill(0);
    values.forEach((v, c) => {
      if (v.length !== this.valueSize) throw this.#valueError(v, `value for CPU ${c}`);
      b.value.set(v, c * slot);
    });
    copyIn(b.key, key);
    b.setFlags(flags);
    const r = raw(UPDATE, b.elem);
    if (r < 0) throw this.#fail(-r, "update", flags);
  }

  /** Every key with its per-CPU values. */
  *entriesPerCpu(): IterableIterator<[Uint8Array, Uint8Array[]]> {
    for (const k of this.keys()) {
      const v = this.lookupPerCpu(k);
      if (v !== undefined) yield [k, v];
    }
  }

  /**
   * Queue/stack: adds `value`; with `UpdateFlags.EXIST` a full map drops its oldest
   * value, otherwise a full map fails with E2BIG. Bloom filter: adds `value` (flags 0).
   */
  push(value: Uint8Array, flags = 0): void {
    const b = this.#buffers();
    if (this.#kind !== Kind.Queue && this.#kind !== Kind.Bloom) throw this.#wrongKind("push()");
    if (value.length !== this.valueSize) throw this.#valueError(value);
    copyIn(b.value, value);
    b.setFlags(flags);
    const r = raw(UPDATE, b.elem);
    if (r < 0) throw this.#fail(-r, "push");
  }

  /** Queue/stack: removes and returns the next value, or undefined when empty. */
  pop(): Uint8Array | undefined {
    return this.#take(LOOKUP_AND_DELETE, "pop");
  }

  /** Queue/stack: the value pop() would return, left in place; undefined when empty. */
  peek(): Uint8Array | undefined {
    return this.#take(LOOKUP, "peek");
  }

  #take(cmd: BpfCmd, op: string): Uint8Array | undefined {
    const b = this.#buffers();
    if (this.#kind !== Kind.Queue) throw this.#wrongKind(`${op}()`);
    b.setFlags(0);
    const r = raw(cmd, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return undefined;
      throw this.#fail(-r, op);
    }
    return copyOut(b.value);
  }

  /** Bloom filter: false if `value` was certainly never pushed, true if it may have been. */
  has(value: Uint8Array): boolean {
    const b = this.#buffers();
    if (this.#kind !== Kind.Bloom) throw this.#wrongKind("has()");
    if (value.length !== this.valueSize) throw this.#valueError(value);
    copyIn(b.value, value);
    b.setFlags(0);
    const r = raw(LOOKUP, b.elem);
    if (r < 0) {
      if (r === -ENOENT) return false;
      throw this.#fail(-r, "has");
    }
    return true;
  }

  #batchTarget() {
    this.#buffers();
    if (this.#kind !== Kind.KeyValue && this.#kind !== Kind.PerCpu)
      throw this.#wrongKind("batch operations");
    return {
      fd: this.#fd.value,
      label: this.#label,
      keySize: this.keySize,
      batchValueSize: this.batchValueSize,
    };
  }

  /** Size of the cursor of batched walks. */
  get batchCursorSize(): number {
    return batchCursorSize(this.keySize);
  }

  /**
   * Reads up to `count` entries after `cursor` (from the start without one). Values of
   * per-CPU maps are whole per-CPU buffers (see {@link splitPerCpu}). The returned
   * `cursor` is undefined once the walk is over.
   */
  lookupBatch(count: number, cursor?: Uint8Array, opts: BatchOptions = {}): BatchChunk {
    return lookupBatch(this.#batchTarget(), count, cursor, opts.elemFlags ?? 0, false);
  }

  /** Like {@link lookupBatch}, removing the entries it returns. */
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array, opts: BatchOptions = {}): BatchChunk {
    return lookupBatch(this.#batchTarget(), count, cursor, opts.elemFlags ?? 0, true);
  }

  /**
   * Writes `keys[i]` → `values[i]` in one call, as BPF_ANY (`opts.elemFlags`: 0 or BPF_F_LOCK).
   *
   * @throws MapBatchError whose `processed` says how many were written before the failure.
   */
  updateBatch(keys: BatchInput, values: BatchInput, opts: BatchOptions = {}): number {
    return updateBatch(this.#batchTarget(), keys, values, opts.elemFlags ?? 0);
  }

  /**
   * Removes `keys` in one call.
   *
   * @throws MapBatchError whose `processed` says how many were removed before the failure.
   */
  deleteBatch(keys: BatchInput, opts: BatchOptions = {}): number {
    return deleteBatch(this.#batchTarget(), keys, opts.elemFlags ?? 0);
  }

  /**
   * Every entry, read `chunk` entries per system call (doubling the chunk when a hash
   * bucket does not fit).
   */
  *entriesBatched(chunk = 256): IterableIterator<[Uint8Array, Uint8Array]> {
    let cursor: Uint8Array | undefined;
    let count = chunk;
    for (;;) {
      let got: BatchChunk;
      try {
        got = this.lookupBatch(count, cursor);
      } catch (e) {
        if (e instanceof SyscallError && e.code === "ENOSPC") {
          count *= 2;
          continue;
        }
        throw e;
      }
      yield* got.entries();
      if (got.cursor === undefined) return;
      cursor = got.cursor;
    }
  }

  /** Makes the map read-only from user space (programs may still write it). */
  freeze(): void {
    const call = new BpfCall(BpfCmd.MAP_FREEZE, bpfAttr.mapElem);
    call.u32("map_fd", this.#fd.value);
    call.invoke(`freeze ${this.#label}`);
  }

  /** Pins the map at `path` on bpffs. */
  pin(path: string): void {
    pinObject(this.#fd.value, path);
  }

  /** What the kernel says about this map (type, id, sizes, flags, BTF ids, frozen...). */
  info(): MapInfo {
    return mapInfoByFd(this.#fd.value);
  }

  /** Closes the descriptor and frees the native buffers. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const b = this.#buf;
    if (b !== undefined) {
      this.#buf = undefined;
      buffersRegistry.unregister(this);
      b.free();
    }
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** For console.log: the map's label and fd. */
  toString(): string {
    return `BpfMap(${this.#label}${this.closed ? ", closed" : `, fd ${this.#fd.value}`})`;
  }
}

function openFlags(opts: BpfMapOpenOptions): number {
  return (opts.readOnly ? MapFlags.RDONLY : 0) | (opts.writeOnly ? MapFlags.WRONLY : 0);
}

/**
 * Where a map pinned by name (LIBBPF_PIN_BY_NAME) lives: `<dir>/<name>` under its full
 * name, as libbpf pins it — not the kernel's 15-character name, which would make
 * `cilium_ratelimit` and `cilium_ratelimit_metrics` share one pin.
 *
 * @throws MapSpecError when the name cannot be a file name
 */
export function pinByNamePath(dir: string, name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new MapSpecError(name, "name", "cannot be pinned by name: it is not a valid file name");
  }
  // Concatenated rather than path.join()ed: the name has no slash or dot segment, and
  // join's normalising of the directory cost a few µs per pinned map on every load.
  if (dir === "") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** Maps that {@link BpfMap.create} opened from an existing pin rather than created. */
const reusedPins = new WeakSet<BpfMap>();

/**
 * @internal True when `map` came from {@link BpfMap.create} reusing a map already
 * pinned at its `pinPath` (Collection.load leaves such pins in place on close).
 */
export function wasReusedFromPin(map: BpfMap): boolean {
  return reusedPins.has(map);
}

/**
 * The map pinned at `path`, or undefined when nothing is pinned there or `path` is not
 * on bpffs. BPF_OBJ_GET is tried first (it only succeeds on bpffs); statfs(2) runs only
 * when it fails, to tell "nothing there" from an error worth reporting.
 */
function tryOpenPinned(path: string): BpfMap | undefined {
  const call = new BpfCall(BpfCmd.OBJ_GET, bpfAttr.objPin);
  call.string("pathname", path);
  let fd: number;
  try {
    fd = call.invoke(`open pinned object ${path}`);
  } catch (e) {
    if (!(e instanceof SyscallError) || !isOnBpffs(path)) return undefined;
    return BpfMap.fromPin(path); // the same failure, with openPinned's explanation
  }
  // Not BpfMap.fromFd: its check of what the descriptor is reads /proc/self/fd (some
  // 15 µs, on every load of an object with a pinned map). A pin that is not a map
  // cannot pass the compatibility check that follows, which then asks (see create()).
  const owned = new Fd(fd);
  try {
    const map = new BpfMap(owned, mapShapeByFd(fd));
    reusedPins.add(map);
    return map;
  } catch (e) {
    owned.close();
    throw e;
  }
}

/** The shape a map made from `spec` has: its flags with BPF_F_NUMA_NODE when it names a node. */
export function specShape(spec: MapSpec): MapLayout {
  return {
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: effectiveMaxEntries(spec),
    flags: (spec.flags ?? 0) | (spec.numaNode !== undefined ? MapFlags.NUMA_NODE : 0),
  };
}

function checkCompatible(map: BpfMap, spec: MapSpec, path: string): void {
  checkMapCompatible(`map pinned at ${path}`, spec.name, map, specShape(spec));
}
