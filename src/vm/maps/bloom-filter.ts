/** BPF_MAP_TYPE_BLOOM_FILTER in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapFlags, MapType } from "../../uapi/index.ts";
import { jhash, jhash2 } from "./jhash.ts";
import { VmMap, VmMapError, type VmMapOptions } from "./map.ts";

/** Largest bit array the VM allocates (the kernel goes up to 2^32 bits). */
const MAX_VM_BITS = 2 ** 30;

/**
 * A bloom filter built as the kernel builds it (kernel/bpf/bloom_filter.c): `k` hash
 * functions (`mapExtra & 0xf`, 5 when 0), a bit array of
 * `roundup_pow_of_two(maxEntries * k / 5 * 7)` bits (at least 64), and for function
 * `i` the bit `jhash2(value, seed + i)` (or `jhash` when the value size is not a
 * multiple of 4) masked to the array. With BPF_F_ZERO_SEED the seed is 0 and the VM's
 * filter sets exactly the kernel's bits, false positives included; otherwise the seed
 * is random as in the kernel (or `opts.seed`).
 *
 * Semantics: push (flags must be 0, else EINVAL) sets the value's bits; peek answers
 * 0 when all are set and ENOENT otherwise — so never a false negative. Pop, delete and
 * next key are EOPNOTSUPP.
 *
 * @example
 * ```ts
 * const b = new VmBloomFilter({ name: "seen", type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 100 });
 * b.push(Uint8Array.of(1, 2, 3, 4));
 * b.has(Uint8Array.of(1, 2, 3, 4)); // true
 * ```
 */
export class VmBloomFilter extends VmMap {
  /** The bit array (as the kernel's `unsigned long` bitset, little-endian bit order). */
  readonly values: Uint8Array;
  /** Number of hash functions. */
  readonly hashFunctions: number;
  /** The seed of hash function 0. */
  readonly seed: number;
  /** Bits in the array minus one. */
  readonly bitMask: number;

  constructor(spec: MapSpec, opts: VmMapOptions = {}) {
    super({ ...spec, type: spec.type ?? MapType.BLOOM_FILTER });
    const k = Number((spec.mapExtra ?? 0n) & 0xfn);
    this.hashFunctions = k === 0 ? 5 : k;
    let bits = this.maxEntries * this.hashFunctions;
    bits = Math.floor(bits / 5) * 7;
    if (bits <= 64) bits = 64;
    else bits = 2 ** Math.ceil(Math.log2(bits));
    if (bits > MAX_VM_BITS)
      throw new RangeError(
        `${this}: a bit array of ${bits} bits is more than the VM allocates (${MAX_VM_BITS})`,
      );
    this.bitMask = bits - 1;
    this.values = new Uint8Array(Math.max(8, bits / 8));
    this.seed =
      this.flags & MapFlags.ZERO_SEED
        ? 0
        : (opts.seed ?? Math.floor(Math.random() * 0x1_0000_0000)) >>> 0;
  }

  private bitOf(value: Uint8Array, at: number, i: number): number {
    const n = this.valueSize;
    const seed = (this.seed + i) | 0;
    const h = n % 4 === 0 ? jhash2(value, at, n / 4, seed) : jhash(value, at, n, seed);
    return h & this.bitMask;
  }

  /** Sets the bits of the value at `value[at..]`; 0 or -EINVAL (the helper's answer). */
  pushRaw(value: Uint8Array, at: number, flags: number): number {
    if (flags !== 0) return -Errno.EINVAL;
    for (let i = 0; i < this.hashFunctions; i++) {
      const b = this.bitOf(value, at, i);
      this.values[b >>> 3] = (this.values[b >>> 3] as number) | (1 << (b & 7));
    }
    return 0;
  }

  /** 0 when every bit of the value at `value[at..]` is set, else -ENOENT. */
  peekRaw(value: Uint8Array, at: number): number {
    for (let i = 0; i < this.hashFunctions; i++) {
      const b = this.bitOf(value, at, i);
      if (((this.values[b >>> 3] as number) & (1 << (b & 7))) === 0) return -Errno.ENOENT;
    }
    return 0;
  }

  /** Adds a value (flags must be 0). */
  push(value: Uint8Array, flags = 0): void {
    this.checkValue(value, "push");
    const err = this.pushRaw(value, 0, flags);
    if (err < 0) throw new VmMapError(-err, `${this}: push`);
  }

  /** False if `value` was certainly never pushed; true if it may have been. */
  has(value: Uint8Array): boolean {
    this.checkValue(value, "has");
    return this.peekRaw(value, 0) === 0;
  }

  lookupSlot(): number {
    return -1;
  }

  updateRaw(_key: Uint8Array, _kat: number, value: Uint8Array, vat: number, flags: number): number {
    return this.pushRaw(value, vat, flags);
  }

  deleteRaw(): number {
    return -Errno.EOPNOTSUPP;
  }

  nextKey(): Uint8Array | undefined {
    throw new VmMapError(Errno.EOPNOTSUPP, `${this}: next key`);
  }

  override lookup(): Uint8Array | undefined {
    throw this.wrongKind("lookup()", "has()");
  }

  override *keys(): IterableIterator<Uint8Array> {}

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
