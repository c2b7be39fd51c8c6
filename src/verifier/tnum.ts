/**
 * Tristate numbers ("tnums"): what the verifier knows about each bit of a 64-bit
 * value. A bit is known 0 (value 0, mask 0), known 1 (value 1, mask 0) or unknown
 * (value 0, mask 1); `value & mask` is always 0.
 *
 * The operations follow the Linux kernel's kernel/bpf/tnum.c (6.18) so that the
 * verifier built on them reaches the kernel's conclusions bit for bit. Every value is
 * a `bigint` in [0, 2^64): results are reduced modulo 2^64 as the kernel's u64
 * arithmetic wraps.
 * @module
 */

/** What is known about the bits of a 64-bit value. */
export interface Tnum {
  /** The known 1 bits. */
  readonly value: bigint;
  /** The unknown bits. */
  readonly mask: bigint;
}

/** 2^64 - 1. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;
/** 2^32 - 1. */
export const U32_MAX_N = 0xffff_ffffn;

const u64 = (x: bigint): bigint => x & U64_MAX;

function make(value: bigint, mask: bigint): Tnum {
  return { value: u64(value), mask: u64(mask) };
}

/** The tnum of the constant `value` (taken modulo 2^64). */
export function tnumConst(value: bigint): Tnum {
  return { value: u64(value), mask: 0n };
}

/** The fully unknown tnum. */
export const tnumUnknown: Tnum = Object.freeze({ value: 0n, mask: U64_MAX });

/** Position of the highest set bit of a u64, 1-based (0 for 0): the kernel's fls64. */
export function fls64(x: bigint): number {
  if (x === 0n) return 0;
  const hi = Number(x >> 32n);
  if (hi !== 0) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(Number(x & 0xffff_ffffn));
}

/** The smallest tnum holding every value of the unsigned range [min, max]. */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = u64(min) ^ u64(max);
  const bits = fls64(chi);
  if (bits > 63) return tnumUnknown;
  const delta = (1n << BigInt(bits)) - 1n;
  return make(u64(min) & ~delta, delta);
}

/** `a << shift` (shift in 0..63). */
export function lshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return make(a.value << s, a.mask << s);
}

/** `a >> shift`, logical (shift in 0..63). */
export function rshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return make(a.value >> s, a.mask >> s);
}

/**
 * `a s>> shift`, arithmetic, in 32 or 64 bits: with `insnBitness` 32 only the low
 * half of `a` takes part and the result is zero-extended, as the kernel's
 * tnum_arshift(a, min_shift, 32).
 */
export function arshift(a: Tnum, shift: number, insnBitness: 32 | 64): Tnum {
  const s = BigInt(shift);
  if (insnBitness === 32) {
    return make(
      BigInt.asUintN(32, BigInt.asIntN(32, a.value) >> s),
      BigInt.asUintN(32, BigInt.asIntN(32, a.mask) >> s),
    );
  }
  return make(BigInt.asIntN(64, a.value) >> s, BigInt.asIntN(64, a.mask) >> s);
}

/** `a + b`. */
export function add(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return make(sv & ~mu, mu);
}

/** `a - b`. */
export function sub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return make(dv & ~mu, mu);
}

/** `-a` (`0 - a`). */
export function neg(a: Tnum): Tnum {
  return sub(tnumConst(0n), a);
}

/** `a & b`. */
export function and(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return make(v, alpha & beta & ~v);
}

/** `a | b`. */
export function or(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return make(v, mu & ~v);
}

/** `a ^ b`. */
export function xor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return make(v & ~mu, mu);
}

/**
 * `a * b`, by long multiplication over the bits of `a`: a known 1 adds `b`, an
 * unknown bit takes the union of adding and not adding it (the kernel's algorithm
 * since 6.18).
 */
export function mul(a: Tnum, b: Tnum): Tnum {
  let acc = tnumConst(0n);
  let x = a;
  let y = b;
  while (x.value !== 0n || x.mask !== 0n) {
    if (x.value & 1n) acc = add(acc, y);
    else if (x.mask & 1n) acc = union(acc, add(acc, y));
    x = rshift(x, 1);
    y = lshift(y, 1);
  }
  return acc;
}

/**
 * The values both `a` and `b` allow. Where they disagree (a known 1 against a known
 * 0) the result says known 1, as the kernel's tnum_intersect.
 */
export function intersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return make(v & ~mu, mu);
}

/** The smallest tnum holding every value of `a` and of `b`. */
export function union(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return make(v & ~mu, mu);
}

function swab(x: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** `a` with its low `bits` bits byte-swapped and the rest cleared: tnum_bswap16/32/64. */
export function bswap(a: Tnum, bits: 16 | 32 | 64): Tnum {
  const n = bits / 8;
  return { value: swab(a.value, n), mask: swab(a.mask, n) };
}

/** `a` truncated to its low `sizeBytes` bytes (1, 2, 4 or 8). */
export function cast(a: Tnum, sizeBytes: number): Tnum {
  if (sizeBytes >= 8) return a;
  const m = (1n << BigInt(sizeBytes * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** Whether every bit of `a` is known. */
export function isConst(a: Tnum): boolean {
  return a.mask === 0n;
}

/** Whether `a` is the constant `b`. */
export function equalsConst(a: Tnum, b: bigint): boolean {
  return a.mask === 0n && a.value === u64(b);
}

/** Whether no bit of `a` is known. */
export function isUnknown(a: Tnum): boolean {
  return a.mask === U64_MAX;
}

/** Whether every value of `a` is a multiple of `size` (a power of two; 0 means yes). */
export function isAligned(a: Tnum, size: bigint): boolean {
  if (size === 0n) return true;
  return ((a.value | a.mask) & (size - 1n)) === 0n;
}

/** Whether every value `b` allows, `a` allows too (b ⊆ a): the kernel's tnum_in(a, b). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
}

/** Whether `x` is one of the values `a` allows. */
export function contains(a: Tnum, x: bigint): boolean {
  return (u64(x) & ~a.mask) === a.value;
}

/**
 * The smallest value `a` allows that is at least `y`, or undefined when every value of
 * `a` is below `y`.
 */
export function minMemberAtLeast(a: Tnum, y: bigint): bigint | undefined {
  const fixed = ~a.mask & U64_MAX;
  const diff = (y ^ a.value) & fixed;
  if (diff === 0n) return y;
  const p = BigInt(fls64(diff) - 1); // highest differing fixed bit
  const bit = 1n << p;
  if (a.value & bit) {
    // raise bit p: the bits above stay y's, the bits below take their minimum
    return (y & ~((bit << 1n) - 1n)) | bit | (a.value & (bit - 1n));
  }
  // y has a 1 where a has a fixed 0: carry into the lowest free 0 bit of y above p
  const free = a.mask & ~y & ~((bit << 1n) - 1n) & U64_MAX;
  if (free === 0n) return undefined;
  const q = free & -free;
  return (y & ~((q << 1n) - 1n)) | q | (a.value & (q - 1n));
}

/**
 * The largest value `a` allows that is at most `y`, or undefined when every value of
 * `a` is above `y`.
 */
export function maxMemberAtMost(a: Tnum, y: bigint): bigint | undefined {
  const flipped: Tnum = { value: ~(a.value | a.mask) & U64_MAX, mask: a.mask };
  const r = minMemberAtLeast(flipped, ~y & U64_MAX);
  return r === undefined ? undefined : ~r & U64_MAX;
}

/** Whether the two tnums are the same. */
export function equals(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

/** The low 32 bits of `a`, zero-extended. */
export function subreg(a: Tnum): Tnum {
  return cast(a, 4);
}

/** `a` with its low 32 bits known zero. */
export function clearSubreg(a: Tnum): Tnum {
  return lshift(rshift(a, 32), 32);
}

/** The high 32 bits of `reg` with the low 32 bits of `sub`. */
export function withSubreg(reg: Tnum, sub: Tnum): Tnum {
  return or(clearSubreg(reg), subreg(sub));
}

/** `a` with its low 32 bits the constant `value`. */
export function constSubreg(a: Tnum, value: number | bigint): Tnum {
  return withSubreg(a, tnumConst(BigInt.asUintN(32, BigInt(value))));
}

/** Whether the low 32 bits of `a` are all known. */
export function subregIsConst(a: Tnum): boolean {
  return (a.mask & U32_MAX_N) === 0n;
}

/**
 * The kernel's text for a tnum, `(0x0; 0xff)`.
 */
export function formatTnum(a: Tnum): string {
  return `(${hex(a.value)}; ${hex(a.mask)})`;
}

/**
 * The kernel's `%#llx` of an unsigned value: `0x` and lower-case digits, `0x0` for zero
 * (the kernel's vsnprintf keeps the prefix on zero, unlike C libraries).
 */
export function hex(x: bigint): string {
  return `0x${x.toString(16)}`;
}
