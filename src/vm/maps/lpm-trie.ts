/** BPF_MAP_TYPE_LPM_TRIE in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { roundUp8, VmMap, VmMapError } from "./map.ts";

function u32le(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24)) >>>
    0
  );
}

/** Bit `i` (0 = most significant bit of the first data byte) of the data at `b[at..]`. */
function bit(b: Uint8Array, at: number, i: number): number {
  return ((b[at + (i >> 3)] as number) >> (7 - (i & 7))) & 1;
}

/** Number of leading bits the data at `a[aat..]` and `b[bat..]` share, at most `limit`. */
function commonBits(a: Uint8Array, aat: number, b: Uint8Array, bat: number, limit: number): number {
  let i = 0;
  while (i + 8 <= limit && a[aat + (i >> 3)] === b[bat + (i >> 3)]) i += 8;
  while (i < limit && bit(a, aat, i) === bit(b, bat, i)) i++;
  return i;
}

/**
 * A longest-prefix-match trie with the kernel's key layout and semantics: a key is a
 * u32 prefix length (host order) followed by `keySize - 4` bytes of data (network
 * order). An entry is its prefix length and the first `prefixlen` bits of its data
 * (the rest of the data is kept as written); a lookup returns the entry with the
 * longest prefix that matches the key's first `prefixlen` bits. A prefix length above
 * `8 * (keySize - 4)` is EINVAL for updates and deletes; a full trie is ENOSPC; there
 * is no lookup-and-delete (ENOTSUPP).
 *
 * `nextKey` walks in the kernel's order — post-order of the trie: more specific
 * prefixes before the less specific ones that contain them, and between diverging
 * prefixes the one whose first differing bit is 0 first; a key not in the trie (or
 * none) starts from the first. Values live in VM memory, so a program's lookup gets a
 * pointer to them.
 *
 * @example
 * ```ts
 * const t = new VmLpmTrie({ name: "routes", type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 64, flags: MapFlags.NO_PREALLOC });
 * t.update(Uint8Array.of(16, 0, 0, 0, 192, 168, 0, 0), Uint8Array.of(1, 0, 0, 0));
 * t.lookup(Uint8Array.of(32, 0, 0, 0, 192, 168, 7, 1)); // [1, 0, 0, 0]
 * ```
 */
export class VmLpmTrie extends VmMap {
  readonly values: Uint8Array;
  /** Bytes between value slots. */
  readonly stride: number;
  /** Longest prefix, in bits. */
  readonly maxPrefixLen: number;
  private readonly keyBytes: Uint8Array;
  /** Slots in use, kept sorted in the kernel's walk order. */
  private order: number[] = [];
  private readonly free: number[] = [];

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.LPM_TRIE });
    this.maxPrefixLen = (this.keySize - 4) * 8;
    this.stride = roundUp8(this.valueSize);
    const slots = this.maxEntries + 1;
    this.values = new Uint8Array(this.stride * slots);
    this.keyBytes = new Uint8Array(this.keySize * slots);
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
  }

  /** Number of entries. */
  get size(): number {
    return this.order.length;
  }

  private plen(slot: number): number {
    return u32le(this.keyBytes, slot * this.keySize);
  }

  /** The slot holding exactly the prefix of the key at `key[at..]`, or -1. */
  private find(key: Uint8Array, at: number): number {
    const p = u32le(key, at);
    for (const s of this.order) {
      if (
        this.plen(s) === p &&
        commonBits(this.keyBytes, s * this.keySize + 4, key, at + 4, p) === p
      )
        return s;
    }
    return -1;
  }

  /** Walk order: negative when slot `a` comes before slot `b`. */
  private compare(a: number, b: number): number {
    const pa = this.plen(a);
    const pb = this.plen(b);
    const k = this.keyBytes;
    const c = commonBits(k, a * this.keySize + 4, k, b * this.keySize + 4, Math.min(pa, pb));
    if (c === Math.min(pa, pb)) return pb - pa; // one contains the other: longer first
    return bit(k, a * this.keySize + 4, c) - bit(k, b * this.keySize + 4, c);
  }

  lookupSlot(key: Uint8Array, at: number): number {
    const p = u32le(key, at);
    if (p > this.maxPrefixLen) return -1;
    let best = -1;
    let bestLen = -1;
    for (const s of this.order) {
      const sp = this.plen(s);
      if (
        sp <= p &&
        sp > bestLen &&
        commonBits(this.keyBytes, s * this.keySize + 4, key, at + 4, sp) === sp
      ) {
        best = s;
        bestLen = sp;
      }
    }
    return best < 0 ? -1 : best * this.stride;
  }

  updateRaw(key: Uint8Array, kat: number, value: Uint8Array, vat: number, flags: number): number {
    if (flags > UpdateFlags.EXIST) return -Errno.EINVAL;
    if (u32le(key, kat) > this.maxPrefixLen) return -Errno.EINVAL;
    const old = this.find(key, kat);
    if (old >= 0 && flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (old < 0 && flags === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (old < 0 && this.order.length >= this.maxEntries) return -Errno.ENOSPC;
    // A fresh element replaces the old one, as in the kernel (old pointers keep the old value).
    const slot = this.free.pop();
    if (slot === undefined) return -Errno.ENOSPC;
    this.values.set(value.subarray(vat, vat + this.valueSize), slot * this.stride);
    this.keyBytes.set(key.subarray(kat, kat + this.keySize), slot * this.keySize);
    const order = old >= 0 ? this.order.filter((s) => s !== old) : this.order;
    if (old >= 0) this.free.push(old);
    let i = 0;
    while (i < order.length && this.compare(order[i] as number, slot) < 0) i++;
    order.splice(i, 0, slot);
    this.order = order;
    return 0;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    if (u32le(key, at) > this.maxPrefixLen) return -Errno.EINVAL;
    const s = this.find(key, at);
    if (s < 0) return -Errno.ENOENT;
    this.order = this.order.filter((x) => x !== s);
    this.free.push(s);
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let pos = 0;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      const s = u32le(key, 0) > this.maxPrefixLen ? -1 : this.find(key, 0);
      if (s >= 0) pos = this.order.indexOf(s) + 1;
    }
    const s = this.order[pos];
    if (s === undefined) return undefined;
    return this.keyBytes.slice(s * this.keySize, (s + 1) * this.keySize);
  }

  /** The trie has no lookup-and-delete: ENOTSUPP, as the kernel answers. */
  override lookupAndDelete(key: Uint8Array, _flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup and delete");
    throw new VmMapError(Errno.ENOTSUPP, `${this}: lookup and delete`);
  }
}
