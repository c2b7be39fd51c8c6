/**
 * A small, pure reference model of the kernel's map semantics, written from the
 * kernel's documented behaviour (and checked against it in
 * test/kernel-map-model.test.ts): hash, array, per-CPU hash/array, LRU hash, LPM trie,
 * queue, stack and bloom filter. Errors are thrown as {@link ModelError} with the errno
 * name the kernel gives (`code`), so results compare one for one with a `BpfMap`.
 *
 * Only what is deterministic is modelled. Hash iteration order is not (the kernel walks
 * buckets); LRU eviction is not (it depends on which CPU ran each update), so the LRU
 * model is told what the kernel evicted ({@link LruHashModel.reconcile}) and checks
 * only the invariants: at most maxEntries keys, no key it never stored, the last value
 * written, and the key just inserted present. Bloom filters may answer "maybe" for
 * values never pushed; the model checks there are no false negatives.
 *
 * Pure: no `node:` imports, so it can become the userspace VM's maps.
 *
 * @module
 */

import type { MapErrorLike, MapShape } from "../src/spec/map-api.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, UpdateFlags } from "../src/uapi/index.ts";

/** A failed model operation: `code` is the errno name the kernel would give. */
export class ModelError extends Error implements MapErrorLike {
  override readonly name: string = "ModelError";
  readonly code: string;
  constructor(code: string, what = "") {
    super(what ? `${what}: ${code}` : code);
    this.code = code;
  }
}

/** A batch that stopped part-way after `processed` entries. */
export class ModelBatchError extends ModelError {
  override readonly name: string = "ModelBatchError";
  readonly processed: number;
  constructor(code: string, processed: number) {
    super(code, `batch stopped after ${processed}`);
    this.processed = processed;
  }
}

/** Hex of bytes: the models' map key. */
export function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function u32le(b: Uint8Array, at = 0): number {
  return (
    ((b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24)) >>>
    0
  );
}

const ANY_FLAGS_MAX = UpdateFlags.EXIST;

/** The part every model shares: its shape, size checks and flag checks. */
abstract class ModelBase implements MapShape {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;

  constructor(spec: MapSpec) {
    this.name = spec.name;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
  }

  protected checkKey(key: Uint8Array): void {
    if (key.length !== this.keySize)
      throw new RangeError(`key is ${key.length} bytes, expected ${this.keySize}`);
  }

  protected checkValue(value: Uint8Array): void {
    if (value.length !== this.valueSize) {
      throw new RangeError(`value is ${value.length} bytes, expected ${this.valueSize}`);
    }
  }

  /** Lookups take only BPF_F_LOCK, and only on values with a spin lock (none here). */
  protected checkLookupFlags(flags: number): void {
    if (flags !== 0) throw new ModelError("EINVAL");
  }

  /** Update flags: ANY, NOEXIST or EXIST; BPF_F_LOCK needs a spin lock (none here). */
  protected checkUpdateFlags(flags: number): void {
    if (flags & UpdateFlags.LOCK || flags > ANY_FLAGS_MAX) throw new ModelError("EINVAL");
  }
}

/** One entry of a hash-like model: the key bytes as stored and the value blob. */
interface Entry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * BPF_MAP_TYPE_HASH (and the storage under the per-CPU and LRU variants): at most
 * maxEntries keys (a new key beyond that is E2BIG), NOEXIST on a present key EEXIST,
 * EXIST on a missing key ENOENT. Values are stored as the kernel's value blob
 * (`valueStride` bytes: for per-CPU maps every CPU's slot).
 */
export class HashModel extends ModelBase {
  protected readonly entries = new Map<string, Entry>();
  /** Bytes of a stored value blob. */
  readonly valueStride: number;

  constructor(spec: MapSpec, valueStride = spec.valueSize) {
    super(spec);
    this.valueStride = valueStride;
  }

  /** Number of keys. */
  get size(): number {
    return this.entries.size;
  }

  /** Every key (model order: insertion; the kernel's differs). */
  keyList(): Uint8Array[] {
    return [...this.entries.values()].map((e) => e.key.slice());
  }

  /** The stored blob for `key`, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(hex(key))?.value.slice();
  }

  protected lookupBlob(key: Uint8Array, flags: number): Uint8Array | undefined {
    this.checkKey(key);
    this.checkLookupFlags(flags);
    return this.get(key);
  }

  protected updateBlob(key: Uint8Array, blob: Uint8Array, flags: number): void {
    this.checkKey(key);
    this.checkUpdateFlags(flags);
    const k = hex(key);
    const present = this.entries.has(k);
    if (flags === UpdateFlags.NOEXIST && present) throw new ModelError("EEXIST");
    if (flags === UpdateFlags.EXIST && !present) throw new ModelError("ENOENT");
    if (!present && this.entries.size >= this.maxEntries) this.full(key);
    this.entries.set(k, { key: key.slice(), value: blob.slice() });
  }

  /** What happens when a new key does not fit: E2BIG for a plain hash. */
  protected full(_key: Uint8Array): void {
    throw new ModelError("E2BIG");
  }

  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    return this.entries.delete(hex(key));
  }

  /** The value under `key` and its removal, or undefined. */
  protected lookupAndDeleteBlob(key: Uint8Array, flags: number): Uint8Array | undefined {
    this.checkKey(key);
    this.checkLookupFlags(flags);
    const k = hex(key);
    const e = this.entries.get(k);
    if (!e) return undefined;
    this.entries.delete(k);
    return e.value.slice();
  }

  /**
   * Batch update, one entry after the other as the kernel's generic batch does: the
   * first failure stops it with the number done.
   */
  updateBatchBlobs(
    keys: readonly Uint8Array[],
    blobs: readonly Uint8Array[],
    flags: number,
  ): number {
    // Batches take only BPF_F_LOCK as element flags (and LOCK needs a spin lock).
    if (flags !== 0) throw new ModelBatchError("EINVAL", 0);
    for (let i = 0; i < keys.length; i++) {
      try {
        this.updateBlob(keys[i] as Uint8Array, blobs[i] as Uint8Array, flags);
      } catch (e) {
        if (e instanceof ModelError) throw new ModelBatchError(e.code, i);
        throw e;
      }
    }
    return keys.length;
  }

  /** Batch delete: a missing key stops it with ENOENT and the number done. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    for (let i = 0; i < keys.length; i++) {
      if (!this.delete(keys[i] as Uint8Array)) throw new ModelBatchError("ENOENT", i);
    }
    return keys.length;
  }

  /** Every entry as a map from key hex to value hex (to compare whole contents). */
  snapshot(): Map<string, string> {
    return new Map([...this.entries].map(([k, e]) => [k, hex(e.value)]));
  }

  /** Removes everything (what a complete lookup-and-delete batch walk does). */
  clear(): void {
    this.entries.clear();
  }
}

/** BPF_MAP_TYPE_HASH with single values. */
export class PlainHashModel extends HashModel {
  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    return this.lookupBlob(key, flags);
  }
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkKey(key);
    this.checkValue(value);
    this.updateBlob(key, value, flags);
  }
  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    return this.lookupAndDeleteBlob(key, flags);
  }
}

/** Per-CPU slot size: the value size rounded up to 8. */
export function slotSize(valueSize: number): number {
  return (valueSize + 7) & ~7;
}

/** Packs per-CPU values into the kernel's blob layout (slots rounded up to 8 bytes). */
export function packPerCpu(values: readonly Uint8Array[], valueSize: number): Uint8Array {
  const slot = slotSize(valueSize);
  const blob = new Uint8Array(slot * values.length);
  values.forEach((v, c) => {
    blob.set(v, c * slot);
  });
  return blob;
}

/** Splits a per-CPU blob into one value per CPU. */
export function unpackPerCpu(blob: Uint8Array, valueSize: number, cpus: number): Uint8Array[] {
  const slot = slotSize(valueSize);
  return Array.from({ length: cpus }, (_, c) => blob.slice(c * slot, c * slot + valueSize));
}

/** BPF_MAP_TYPE_PERCPU_HASH: a hash whose values are one per possible CPU. */
export class PerCpuHashModel extends HashModel {
  readonly cpus: number;
  constructor(spec: MapSpec, cpus: number) {
    super(spec, slotSize(spec.valueSize) * cpus);
    this.cpus = cpus;
  }
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    const b = this.lookupBlob(key, 0);
    return b && unpackPerCpu(b, this.valueSize, this.cpus);
  }
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): void {
    this.checkKey(key);
    if (values.length !== this.cpus)
      throw new RangeError(`${values.length} values for ${this.cpus} CPUs`);
    for (const v of values) this.checkValue(v);
    this.updateBlob(key, packPerCpu(values, this.valueSize), flags);
  }
}

/**
 * BPF_MAP_TYPE_ARRAY (and PERCPU_ARRAY with a per-CPU blob): indexes 0..maxEntries-1
 * always exist with zeroed values; an index beyond is ENOENT on lookup and E2BIG on
 * update; NOEXIST is always EEXIST; delete is EINVAL; the key after index i is i+1,
 * after the last none, and after an index out of range the first.
 */
export class ArrayModel extends ModelBase {
  readonly valueStride: number;
  readonly cpus: number;
  protected readonly blobs: Uint8Array[];

  constructor(spec: MapSpec, cpus = 1) {
    super(spec);
    this.cpus = cpus;
    this.valueStride =
      spec.type === MapType.PERCPU_ARRAY ? slotSize(spec.valueSize) * cpus : spec.valueSize;
    this.blobs = Array.from({ length: spec.maxEntries }, () => new Uint8Array(this.valueStride));
  }

  private index(key: Uint8Array): number {
    this.checkKey(key);
    return u32le(key);
  }

  /** The blob at `key`, or undefined out of range. */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.blobs[this.index(key)]?.slice();
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    const i = this.index(key);
    this.checkLookupFlags(flags);
    return this.blobs[i]?.slice();
  }

  protected updateBlob(key: Uint8Array, blob: Uint8Array, flags: number): void {
    const i = this.index(key);
    this.checkUpdateFlags(flags);
    if (i >= this.maxEntries) throw new ModelError("E2BIG");
    if (flags === UpdateFlags.NOEXIST) throw new ModelError("EEXIST");
    this.blobs[i] = blob.slice();
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkValue(value);
    this.updateBlob(key, value, flags);
  }

  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    const b = this.lookup(key);
    return b && unpackPerCpu(b, this.valueSize, this.cpus);
  }

  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): void {
    if (values.length !== this.cpus)
      throw new RangeError(`${values.length} values for ${this.cpus} CPUs`);
    for (const v of values) this.checkValue(v);
    this.updateBlob(key, packPerCpu(values, this.valueSize), flags);
  }

  delete(key: Uint8Array): boolean {
    this.index(key);
    throw new ModelError("EINVAL");
  }

  /** Arrays cannot delete: the kernel has no lookup-and-delete for them (ENOTSUPP). */
  lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.index(key);
    throw new ModelError("ENOTSUPP");
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    const i = key === undefined ? -1 : this.index(key);
    const next = i >= this.maxEntries ? 0 : i + 1;
    if (next >= this.maxEntries) return undefined;
    return new Uint8Array(new Uint32Array([next]).buffer);
  }

  /** Every index with its blob, in order. */
  entryList(): [Uint8Array, Uint8Array][] {
    return this.blobs.map((b, i) => [new Uint8Array(new Uint32Array([i]).buffer), b.slice()]);
  }

  /**
   * One chunk of a batched walk: `count` entries after `cursor` (the last index
   * returned), and the new cursor (undefined at the end).
   */
  lookupBatch(
    count: number,
    cursor?: Uint8Array,
  ): { keys: Uint8Array[]; values: Uint8Array[]; cursor: Uint8Array | undefined } {
    const start = cursor === undefined ? 0 : u32le(cursor) + 1;
    const end = Math.min(start + count, this.maxEntries);
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      keys.push(new Uint8Array(new Uint32Array([i]).buffer));
      values.push((this.blobs[i] as Uint8Array).slice());
    }
    // The kernel reports the end (ENOENT) only when it ran out of keys before `count`.
    const done = end - start < count;
    const last = end > start ? end - 1 : start - 1;
    return {
      keys,
      values,
      cursor: done ? undefined : new Uint8Array(new Uint32Array([last]).buffer),
    };
  }

  updateBatchBlobs(
    keys: readonly Uint8Array[],
    blobs: readonly Uint8Array[],
    flags: number,
  ): number {
    // Batches take only BPF_F_LOCK as element flags (and LOCK needs a spin lock).
    if (flags !== 0) throw new ModelBatchError("EINVAL", 0);
    for (let i = 0; i < keys.length; i++) {
      try {
        this.updateBlob(keys[i] as Uint8Array, blobs[i] as Uint8Array, flags);
      } catch (e) {
        if (e instanceof ModelError) throw new ModelBatchError(e.code, i);
        throw e;
      }
    }
    return keys.length;
  }
}

/**
 * BPF_MAP_TYPE_LRU_HASH: like a hash, but a new key never fails for lack of room; the
 * kernel evicts the least recently used keys instead — in batches, and sometimes before
 * the map is full, depending on which CPU's free list an update drew from. So after
 * each operation the kernel's key set is passed to {@link reconcile}, which checks the
 * invariants and forgets the evicted keys.
 *
 * An update takes a free element (perhaps evicting) before it checks the flags, so it
 * may evict the very key it is about to test: NOEXIST on a present key may succeed and
 * EXIST on a present key may fail with ENOENT. {@link updateOutcomes} lists what is
 * allowed.
 */
export class LruHashModel extends PlainHashModel {
  /** The key of the last successful update. */
  lastInserted: Uint8Array | undefined;

  protected override full(_key: Uint8Array): void {
    // Eviction: which key goes is the kernel's business; reconcile() learns it.
  }

  /** Outcomes the kernel may give for update(key, _, flags): "ok" or an errno name. */
  updateOutcomes(key: Uint8Array, flags: number): string[] {
    if (flags & UpdateFlags.LOCK || flags > ANY_FLAGS_MAX) return ["EINVAL"];
    const present = this.entries.has(hex(key));
    if (flags === UpdateFlags.NOEXIST) return present ? ["EEXIST", "ok"] : ["ok"];
    if (flags === UpdateFlags.EXIST) return present ? ["ok", "ENOENT"] : ["ENOENT"];
    return ["ok"];
  }

  /** Applies an update whose outcome the kernel decided (one of {@link updateOutcomes}). */
  applyUpdate(key: Uint8Array, value: Uint8Array, outcome: string): void {
    if (outcome !== "ok") return;
    this.entries.set(hex(key), { key: key.slice(), value: value.slice() });
    this.lastInserted = key.slice();
  }

  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    super.update(key, value, flags);
    this.lastInserted = key.slice();
  }

  /**
   * Checks the kernel's entries against the model and forgets evicted keys. Returns a
   * description of the first broken invariant, or undefined.
   */
  reconcile(kernel: ReadonlyMap<string, string>): string | undefined {
    if (kernel.size > this.maxEntries)
      return `kernel holds ${kernel.size} keys, more than max_entries ${this.maxEntries}`;
    for (const [k, v] of kernel) {
      const e = this.entries.get(k);
      if (!e) return `kernel holds key ${k}, which the model never stored or deleted`;
      if (hex(e.value) !== v) return `key ${k}: kernel has ${v}, last written ${hex(e.value)}`;
    }
    if (this.lastInserted && !kernel.has(hex(this.lastInserted))) {
      return `the key just inserted (${hex(this.lastInserted)}) is missing`;
    }
    for (const k of [...this.entries.keys()]) if (!kernel.has(k)) this.entries.delete(k);
    this.lastInserted = undefined;
    return undefined;
  }
}

/**
 * BPF_MAP_TYPE_LPM_TRIE. Keys are a u32 prefix length (little-endian, host order) and
 * `keySize - 4` bytes of data in network order. An entry is identified by its prefix
 * length and the first `prefixlen` bits; a lookup returns the entry with the longest
 * prefix that matches the key's first `prefixlen` bits. The data beyond the prefix is
 * kept as last written (the kernel stores and returns it as given).
 */
export class LpmTrieModel extends ModelBase {
  private readonly entries: { key: Uint8Array; value: Uint8Array }[] = [];
  readonly maxPrefixLen: number;

  constructor(spec: MapSpec) {
    super(spec);
    this.maxPrefixLen = (spec.keySize - 4) * 8;
  }

  get size(): number {
    return this.entries.length;
  }

  private static prefixEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
    let i = 4;
    let left = bits;
    while (left >= 8) {
      if (a[i] !== b[i]) return false;
      i++;
      left -= 8;
    }
    if (left === 0) return true;
    const mask = (0xff << (8 - left)) & 0xff;
    return (((a[i] as number) ^ (b[i] as number)) & mask) === 0;
  }

  private find(key: Uint8Array): number {
    const plen = u32le(key);
    return this.entries.findIndex(
      (e) => u32le(e.key) === plen && LpmTrieModel.prefixEqual(e.key, key, plen),
    );
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkKey(key);
    this.checkLookupFlags(flags);
    const plen = u32le(key);
    if (plen > this.maxPrefixLen) return undefined;
    let best: { key: Uint8Array; value: Uint8Array } | undefined;
    for (const e of this.entries) {
      const ep = u32le(e.key);
      if (ep <= plen && LpmTrieModel.prefixEqual(e.key, key, ep) && (!best || ep > u32le(best.key)))
        best = e;
    }
    return best?.value.slice();
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkKey(key);
    this.checkValue(value);
    if (flags > ANY_FLAGS_MAX) throw new ModelError("EINVAL");
    if (u32le(key) > this.maxPrefixLen) throw new ModelError("EINVAL");
    const i = this.find(key);
    if (i >= 0) {
      if (flags === UpdateFlags.NOEXIST) throw new ModelError("EEXIST");
      this.entries[i] = { key: key.slice(), value: value.slice() };
      return;
    }
    if (flags === UpdateFlags.EXIST) throw new ModelError("ENOENT");
    if (this.entries.length >= this.maxEntries) throw new ModelError("ENOSPC");
    this.entries.push({ key: key.slice(), value: value.slice() });
  }

  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    if (u32le(key) > this.maxPrefixLen) throw new ModelError("EINVAL");
    const i = this.find(key);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** The trie has no lookup-and-delete (ENOTSUPP). */
  lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    throw new ModelError("ENOTSUPP");
  }

  /** Every entry as key hex → value hex. */
  snapshot(): Map<string, string> {
    return new Map(this.entries.map((e) => [hex(e.key), hex(e.value)]));
  }
}

/**
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): at most maxEntries values;
 * a push to a full map fails with E2BIG unless BPF_EXIST is given, which drops the
 * oldest value; NOEXIST and unknown flags are EINVAL; pop and peek of an empty map
 * find nothing.
 */
export class QueueModel extends ModelBase {
  /** Oldest first. */
  private readonly items: Uint8Array[] = [];
  readonly lifo: boolean;

  constructor(spec: MapSpec) {
    super(spec);
    this.lifo = spec.type === MapType.STACK;
  }

  get size(): number {
    return this.items.length;
  }

  push(value: Uint8Array, flags = 0): void {
    this.checkValue(value);
    if (flags & UpdateFlags.NOEXIST || flags > UpdateFlags.EXIST) throw new ModelError("EINVAL");
    if (this.items.length >= this.maxEntries) {
      if (flags !== UpdateFlags.EXIST) throw new ModelError("E2BIG");
      this.items.shift();
    }
    this.items.push(value.slice());
  }

  pop(): Uint8Array | undefined {
    return this.lifo ? this.items.pop() : this.items.shift();
  }

  peek(): Uint8Array | undefined {
    return (this.lifo ? this.items[this.items.length - 1] : this.items[0])?.slice();
  }
}

/** BPF_MAP_TYPE_BLOOM_FILTER: only BPF_ANY pushes; no false negatives. */
export class BloomModel extends ModelBase {
  private readonly pushed = new Set<string>();

  push(value: Uint8Array, flags = 0): void {
    this.checkValue(value);
    if (flags !== 0) throw new ModelError("EINVAL");
    this.pushed.add(hex(value));
  }

  /** True if `value` was pushed: then the kernel must say true too. */
  pushedBefore(value: Uint8Array): boolean {
    return this.pushed.has(hex(value));
  }
}
