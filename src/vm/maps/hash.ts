/** BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH in the VM. @module */

import { isPerCpuMapType, type MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import type { VmMemory } from "../memory.ts";
import { roundUp8, VmMap, type VmMapOptions } from "./map.ts";
import { MovableBytes } from "./movable.ts";

/** Whether typed arrays are little-endian here (the word paths need it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A hash map with the kernel's semantics: at most `maxEntries` keys (one more is
 * E2BIG), update flags ANY / NOEXIST (EEXIST if present) / EXIST (ENOENT if absent),
 * delete of a missing key ENOENT. Like the kernel's preallocated hash map, an update
 * takes a fresh element and frees the old one, so a pointer a program got from an
 * earlier lookup keeps the old value (per-CPU maps update in place, as the kernel does).
 *
 * - **Per-CPU** (PERCPU_HASH, LRU_PERCPU_HASH): every key holds one value per virtual
 *   CPU ({@link VmMapOptions.cpus}); a program's lookup and update see the value of the
 *   CPU it runs on, and a key a program creates starts zeroed on the other CPUs. The
 *   user side reads and writes all CPUs at once ({@link lookupPerCpu},
 *   {@link updatePerCpu}); `lookup`/`update` are a TypeError there, as on `BpfMap`.
 * - **LRU** (LRU_HASH, LRU_PERCPU_HASH): a new key in a full map evicts the least
 *   recently used key (a program's lookup or update uses a key; user-side lookups do
 *   not, as in the kernel). The kernel's LRU is approximate: it keeps per-CPU free
 *   lists and evicts in batches (up to 128 elements at a time, possibly before the map
 *   is full), ages keys by a "referenced" bit rather than exact order, and takes the
 *   free element before it checks the flags (so NOEXIST/EXIST may see a key it just
 *   evicted). The VM evicts exactly one key, the least recently used, and only when full
 *   — the kernel's invariants (never more than maxEntries keys, the key just written
 *   present, values as last written) hold in both.
 *
 * Iteration order is insertion order (the kernel's is bucket order; neither is
 * promised to users).
 *
 * @example
 * ```ts
 * const m = new VmHashMap({ name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
 * const lru = new VmHashMap({ name: "l", type: MapType.LRU_PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 16 }, { cpus: 4 });
 * ```
 */
export class VmHashMap extends VmMap {
  /** Bytes between consecutive value slots. */
  readonly stride: number;
  /** Values per key (virtual CPUs for per-CPU maps, else 1). */
  override readonly cpus: number;
  /** True for the per-CPU types. */
  override readonly perCpu: boolean;
  /** True for the LRU types. */
  readonly lru: boolean;
  /** Bytes of one CPU's copy of all slots (per-CPU values are laid out CPU by CPU). */
  override readonly cpuBytes: number;
  /** Keys, `keySize` bytes per slot (see {@link keyBytes}). */
  #keys: Uint8Array;
  /** Stands for the keys' region in an address space (for_each's key pointers). */
  readonly keysOwner: object = {};
  /** Key (as a number or string) → slot, in insertion order. */
  protected readonly index = new Map<number | string, number>();
  protected readonly free: number[] = [];
  /** LRU order as a doubly linked list over slots: head is the least recently used. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = -1;
  private tail = -1;
  /**
   * Hash chains over the slots in use, for lookups of keys of 4 bytes or more (a
   * program's, user-side peeks):
   * bucket heads and the next slot of each slot, -1 ending a chain. The key's bytes
   * are hashed and compared in place (no string or number built per lookup); the
   * `index` Map above stays the source of truth for updates and iteration order.
   */
  private heads: Int32Array;
  private chain: Int32Array;
  private readonly mask: number;
  /**
   * Keys of 4 bytes or more use the chains (a wasm module walks them for 4-byte keys
   * too, with no call out to JS); smaller keys are numbers, and the Map is as fast.
   */
  private readonly chained: boolean;
  #keyWords: Int32Array;

  /**
   * Keys, `keySize` bytes per slot (a program's for_each callback gets pointers into
   * it). They may move once, with the chains ({@link moveChains}).
   */
  get keyBytes(): Uint8Array {
    return this.#keys;
  }

  /**
   * keyBytes as little-endian 32-bit words, when keys are a multiple of 4 bytes and
   * the host is little-endian (for {@link lookupSlotWords}); else empty.
   */
  get keyWords(): Int32Array {
    return this.#keyWords;
  }

  /** The value slots (they may move once: {@link VmMap.relocate}). */
  get values(): Uint8Array {
    return (this.storage as MovableBytes).bytes;
  }

  constructor(spec: MapSpec, opts: VmMapOptions = {}) {
    super({ ...spec, type: spec.type ?? MapType.HASH });
    const t = this.type;
    this.perCpu = isPerCpuMapType(t);
    this.lru = t === MapType.LRU_HASH || t === MapType.LRU_PERCPU_HASH;
    this.cpus = this.perCpu ? Math.max(1, opts.cpus ?? 1) : 1;
    this.stride = roundUp8(this.valueSize);
    // One spare element, as the kernel keeps spares for replacing a value in a full map.
    const slots = this.maxEntries + 1;
    this.cpuBytes = this.stride * slots;
    this.storage = new MovableBytes(new Uint8Array(this.cpuBytes * this.cpus));
    this.#keys = new Uint8Array(this.keySize * slots);
    this.#keyWords =
      this.keySize % 4 === 0 && LITTLE_ENDIAN
        ? new Int32Array(this.#keys.buffer, 0, this.#keys.length >>> 2)
        : new Int32Array(0);
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
    this.prev = new Int32Array(this.lru ? slots : 0);
    this.next = new Int32Array(this.lru ? slots : 0);
    this.chained = this.keySize >= 4;
    let buckets = 2;
    while (this.chained && buckets < 2 * slots) buckets *= 2;
    this.heads = new Int32Array(buckets).fill(-1);
    this.chain = new Int32Array(this.chained ? slots : 0).fill(-1);
    this.mask = buckets - 1;
  }

  /** A 32-bit hash of the key at `key[at..]` (four bytes at a time). */
  private hashAt(key: Uint8Array, at: number): number {
    const n = this.keySize;
    let h = n;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const w =
        (key[at + i] as number) |
        ((key[at + i + 1] as number) << 8) |
        ((key[at + i + 2] as number) << 16) |
        ((key[at + i + 3] as number) << 24);
      h = Math.imul(h ^ w, 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; i < n; i++) {
      h = Math.imul(h ^ (key[at + i] as number), 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h;
  }

  /** The slot holding the key at `key[at..]`, or -1 (through the hash chains). */
  private find(key: Uint8Array, at: number): number {
    if (!this.chained) return this.index.get(this.keyOf(key, at)) ?? -1;
    const n = this.keySize;
    const kb = this.keyBytes;
    let s = this.heads[this.hashAt(key, at) & this.mask] as number;
    while (s >= 0) {
      const o = s * n;
      let i = 0;
      while (i < n && kb[o + i] === key[at + i]) i++;
      if (i === n) return s;
      s = this.chain[s] as number;
    }
    return -1;
  }

  /** Adds `slot` (its key already in keyBytes) to its hash chain. */
  private link(slot: number): void {
    if (!this.chained) return;
    const b = this.hashAt(this.keyBytes, slot * this.keySize) & this.mask;
    this.chain[slot] = this.heads[b] as number;
    this.heads[b] = slot;
  }

  /** Removes `slot` from its hash chain, if it is on it. */
  private unlinkHash(slot: number): void {
    if (!this.chained) return;
    const b = this.hashAt(this.keyBytes, slot * this.keySize) & this.mask;
    let s = this.heads[b] as number;
    if (s === slot) {
      this.heads[b] = this.chain[slot] as number;
      this.chain[slot] = -1;
      return;
    }
    while (s >= 0) {
      const next = this.chain[s] as number;
      if (next === slot) {
        this.chain[s] = this.chain[slot] as number;
        this.chain[slot] = -1;
        return;
      }
      s = next;
    }
  }

  /** Number of keys in the map. */
  get size(): number {
    return this.index.size;
  }

  protected keyOf(key: Uint8Array, at: number): number | string {
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
    // Two bytes per UTF-16 code unit: half the characters to build and hash.
    let s = "";
    let i = 0;
    for (; i + 1 < n; i += 2)
      s += String.fromCharCode((key[at + i] as number) | ((key[at + i + 1] as number) << 8));
    if (i < n) s += String.fromCharCode(key[at + i] as number);
    return s;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
  }

  /** Marks `slot` as the most recently used. */
  private touch(slot: number): void {
    if (this.tail === slot) return;
    this.unlink(slot);
    this.append(slot);
  }

  /** The slot of the key at `key[at..]`, or -1. */
  slotOf(key: Uint8Array, at: number): number {
    return this.find(key, at);
  }

  lookupSlot(key: Uint8Array, at: number, cpu = 0): number {
    const slot = this.find(key, at);
    if (slot < 0) return -1;
    if (this.lru) this.touch(slot);
    return slot * this.stride + (this.perCpu ? cpu * this.cpuBytes : 0);
  }

  /**
   * {@link lookupSlot} (CPU 0) for a 4-byte key given as its little-endian value `k`
   * (unsigned): what a program's lookup with the key in 32-bit words does, without
   * reading bytes (the JIT's inline lookup). Only for maps of 4-byte keys.
   */
  lookupSlotU32(k: number): number {
    const kw = this.#keyWords;
    if (kw.length === 0) {
      const slot = this.index.get(k);
      if (slot === undefined) return -1;
      if (this.lru) this.touch(slot);
      return slot * this.stride;
    }
    // The chain walk of lookupSlotWords for one word.
    const w = k | 0;
    let h = Math.imul(4 ^ w, 0x9e3779b1);
    h ^= h >>> 15;
    let s = this.heads[h & this.mask] as number;
    while (s >= 0 && kw[s] !== w) s = this.chain[s] as number;
    if (s < 0) return -1;
    if (this.lru) this.touch(s);
    return s * this.stride;
  }

  /**
   * {@link lookupSlot} (CPU 0) for a key of a multiple of 4 bytes at `words[wat..]`,
   * little-endian 32-bit words (a stack frame's Int32Array on a little-endian host):
   * the same hash, chain walk and LRU touch as a key in bytes, a word at a time (the
   * JIT's inline lookup). Only for maps whose keys are chained, 4-byte multiples.
   */
  lookupSlotWords(words: Int32Array, wat: number): number {
    const kw = this.keyWords;
    const nw = this.keySize >>> 2;
    let h = this.keySize;
    for (let i = 0; i < nw; i++) {
      h = Math.imul(h ^ (words[wat + i] as number), 0x9e3779b1);
      h ^= h >>> 15;
    }
    let s = this.heads[h & this.mask] as number;
    while (s >= 0) {
      const o = s * nw;
      let i = 0;
      while (i < nw && kw[o + i] === words[wat + i]) i++;
      if (i === nw) {
        if (this.lru) this.touch(s);
        return s * this.stride;
      }
      s = this.chain[s] as number;
    }
    return -1;
  }

  /**
   * Where the chains of a map whose lookups a wasm module may walk itself live, as byte
   * sizes (keys, bucket heads, next slots, the bucket mask): maps of chained keys in
   * 32-bit words that are not LRU (a lookup touches those) nor per-CPU; else undefined.
   */
  chainLayout(): { keys: number; heads: number; chain: number; mask: number } | undefined {
    if (!this.chained || this.#keyWords.length === 0 || this.lru || this.perCpu) return undefined;
    return {
      keys: this.#keys.length,
      heads: this.heads.length * 4,
      chain: this.chain.length * 4,
      mask: this.mask,
    };
  }

  /**
   * Moves the keys and chains into `into` (sized by {@link chainLayout}; copied), with
   * `space`'s region over the keys: the values' move ({@link VmMap.relocate}), for the
   * keys. Only right after the values moved for `space`.
   */
  moveChains(
    into: { keys: Uint8Array; heads: Int32Array; chain: Int32Array },
    space: VmMemory,
  ): void {
    into.keys.set(this.#keys);
    into.heads.set(this.heads);
    into.chain.set(this.chain);
    this.#keys = into.keys;
    this.#keyWords = new Int32Array(into.keys.buffer, into.keys.byteOffset, into.keys.length >>> 2);
    this.heads = into.heads;
    this.chain = into.chain;
    const id = space.regionOf(this.keysOwner);
    if (id !== undefined) space.rebind(id, into.keys);
  }

  override peekSlot(key: Uint8Array, at: number, cpu = 0): number {
    const slot = this.find(key, at);
    if (slot < 0) return -1;
    return slot * this.stride + (this.perCpu ? cpu * this.cpuBytes : 0);
  }

  /** Takes a free slot for a new element, evicting the least recently used key of a full LRU map. */
  private take(): number | undefined {
    if (this.lru && this.index.size >= this.maxEntries && this.head >= 0) {
      const victim = this.head;
      this.unlink(victim);
      this.unlinkHash(victim);
      this.index.delete(this.keyOf(this.keyBytes, victim * this.keySize));
      this.free.push(victim);
    }
    return this.free.pop();
  }

  updateRaw(
    key: Uint8Array,
    kat: number,
    value: Uint8Array,
    vat: number,
    flags: number,
    cpu = 0,
  ): number {
    return this.store(key, kat, flags, (slot, fresh) => {
      const src = value.subarray(vat, vat + this.valueSize);
      if (!this.perCpu) {
        this.values.set(src, slot * this.stride);
        return;
      }
      if (fresh)
        for (let c = 0; c < this.cpus; c++) {
          const o = c * this.cpuBytes + slot * this.stride;
          this.values.fill(0, o, o + this.stride);
        }
      this.values.set(src, cpu * this.cpuBytes + slot * this.stride);
    });
  }

  /**
   * The common part of updates: flags, room, slot; `write(slot, fresh)` fills the
   * value. Non-per-CPU maps always take a fresh slot (the old value stays readable
   * through old pointers); per-CPU maps write in place.
   */
  protected store(
    key: Uint8Array,
    kat: number,
    flags: number,
    write: (slot: number, fresh: boolean) => void,
  ): number {
    const mode = flags & ~UpdateFlags.LOCK;
    if (mode > UpdateFlags.EXIST) return -Errno.EINVAL;
    const k = this.keyOf(key, kat);
    const old = this.index.get(k);
    if (old !== undefined && mode === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (old === undefined && mode === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (old !== undefined && this.perCpu) {
      write(old, false);
      if (this.lru) this.touch(old);
      return 0;
    }
    if (old === undefined && !this.lru && this.index.size >= this.maxEntries) return -Errno.E2BIG;
    // The replaced slot leaves its chain first (take() may hand the same slot back).
    if (old !== undefined) this.unlinkHash(old);
    const slot = this.take();
    if (slot === undefined) {
      if (old !== undefined) this.link(old);
      return -Errno.E2BIG;
    }
    write(slot, true);
    this.keyBytes.set(key.subarray(kat, kat + this.keySize), slot * this.keySize);
    this.link(slot);
    if (old !== undefined) {
      this.free.push(old);
      if (this.lru) this.unlink(old);
    }
    // A replaced key keeps its place in iteration order.
    this.index.set(k, slot);
    if (this.lru) this.append(slot);
    return 0;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    const k = this.keyOf(key, at);
    const slot = this.index.get(k);
    if (slot === undefined) return -Errno.ENOENT;
    this.unlinkHash(slot);
    this.index.delete(k);
    if (this.lru) this.unlink(slot);
    this.free.push(slot);
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let pick = key === undefined;
    let found: number | undefined;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      // A key not in the map restarts the walk, as in the kernel.
      if (!this.index.has(this.keyOf(key, 0))) pick = true;
    }
    const want = key === undefined ? undefined : this.keyOf(key, 0);
    for (const [k, s] of this.index) {
      if (pick) {
        found = s;
        break;
      }
      if (k === want) pick = true;
    }
    if (found === undefined) return undefined;
    return this.keyBytes.slice(found * this.keySize, (found + 1) * this.keySize);
  }

  /** Every slot in use with its key, in iteration order (for for_each_map_elem). */
  *slots(): IterableIterator<number> {
    yield* this.index.values();
  }

  protected override storePerCpu(
    key: Uint8Array,
    values: readonly Uint8Array[],
    flags: number,
  ): number {
    return this.store(key, 0, flags, (slot) => {
      values.forEach((v, c) => {
        const o = c * this.cpuBytes + slot * this.stride;
        this.values.fill(0, o, o + this.stride);
        this.values.set(v, o);
      });
    });
  }
}
