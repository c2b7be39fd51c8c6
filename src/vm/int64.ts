/**
 * 64-bit arithmetic on pairs of int32 halves, the interpreter's register format.
 *
 * Registers live in one `Int32Array`: register `r` is `R[2r]` (low word) and
 * `R[2r + 1]` (high word). Add, subtract, shifts, bitwise ops and comparisons are a few
 * int32 operations; multiplication splits into 16-bit limbs; division and modulo take
 * a fast path when both operands fit in 32 bits and fall back to BigInt otherwise
 * (rare in real programs). Measured on Node 20 with the body of the 0..999 summing
 * loop (two 64-bit adds and a compare): 22 ns per iteration with BigInt registers
 * (`BigInt.asUintN(64, a + b)`), 3.3 ns with int32 pairs. Float64 cannot hold 64 bits
 * exactly.
 *
 * Every function writes its result to `R[d]`, `R[d + 1]` (`d` already doubled).
 * Pure: no `node:` imports.
 * @module
 */

const TWO32 = 4294967296;

/** Full 64-bit `R[d] *= (blo, bhi)`, modulo 2^64. */
export function mul64(R: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = R[d] as number;
  const ahi = R[d + 1] as number;
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536);
  R[d] = (mid << 16) | (p00 & 0xffff);
  R[d + 1] = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/** The pair as an unsigned bigint. */
export function toU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The pair as a signed bigint. */
export function toS64(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

/** Writes a bigint (taken modulo 2^64) to `R[d]`. */
export function setBig(R: Int32Array, d: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  R[d] = Number(u & 0xffff_ffffn) | 0;
  R[d + 1] = Number(u >> 32n) | 0;
}

/** Writes a safe integer (negative allowed: two's complement) to `R[d]`. */
export function setNum(R: Int32Array, d: number, v: number): void {
  R[d] = v | 0;
  R[d + 1] = Math.floor(v / TWO32) | 0;
}

/**
 * Unsigned 64-bit division or modulo with the ISA's rules: x / 0 = 0, x % 0 = x.
 */
export function udivmod64(R: Int32Array, d: number, blo: number, bhi: number, mod: boolean): void {
  const alo = R[d] as number;
  const ahi = R[d + 1] as number;
  if (blo === 0 && bhi === 0) {
    if (!mod) {
      R[d] = 0;
      R[d + 1] = 0;
    }
    return;
  }
  if (ahi === 0 && bhi === 0) {
    const a = alo >>> 0;
    const b = blo >>> 0;
    R[d] = mod ? a % b : Math.floor(a / b);
    R[d + 1] = 0;
    return;
  }
  const a = toU64(alo, ahi);
  const b = toU64(blo, bhi);
  setBig(R, d, mod ? a % b : a / b);
}

/**
 * Signed 64-bit division or modulo (cpu v4 sdiv/smod): truncating toward zero, the
 * remainder taking the dividend's sign; x / 0 = 0, x % 0 = x, INT64_MIN / -1 =
 * INT64_MIN and INT64_MIN % -1 = 0, as the kernel does them.
 */
export function sdivmod64(R: Int32Array, d: number, blo: number, bhi: number, mod: boolean): void {
  const alo = R[d] as number;
  const ahi = R[d + 1] as number;
  if (blo === 0 && bhi === 0) {
    if (!mod) {
      R[d] = 0;
      R[d + 1] = 0;
    }
    return;
  }
  if (blo === -1 && bhi === -1) {
    if (mod) {
      R[d] = 0;
      R[d + 1] = 0;
    } else {
      // -x, which wraps INT64_MIN to itself.
      const lo = -alo | 0;
      R[d] = lo;
      R[d + 1] = (~ahi + (lo === 0 ? 1 : 0)) | 0;
    }
    return;
  }
  if (ahi === alo >> 31 && bhi === blo >> 31) {
    // Both fit in int32 and the divisor is not -1: no overflow, exact in doubles.
    const r = mod ? alo % blo : Math.trunc(alo / blo);
    R[d] = r | 0;
    R[d + 1] = r < 0 ? -1 : 0;
    return;
  }
  const a = toS64(alo, ahi);
  const b = toS64(blo, bhi);
  setBig(R, d, mod ? a % b : a / b);
}

/** Unsigned 64-bit comparison: -1, 0 or 1. */
export function cmpU64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (ahi !== bhi) return ahi >>> 0 > bhi >>> 0 ? 1 : -1;
  if (alo === blo) return 0;
  return alo >>> 0 > blo >>> 0 ? 1 : -1;
}

/** Signed 64-bit comparison: -1, 0 or 1. */
export function cmpS64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (ahi !== bhi) return ahi > bhi ? 1 : -1;
  if (alo === blo) return 0;
  return alo >>> 0 > blo >>> 0 ? 1 : -1;
}

/** Byte swap of a 16-bit value. */
export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** Byte swap of a 32-bit value (as int32). */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff);
}
