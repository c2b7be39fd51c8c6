/**
 * The kernel's jhash (Bob Jenkins' lookup3, include/linux/jhash.h): `jhash` over bytes
 * and `jhash2` over 32-bit words, bit for bit, so that a VM bloom filter or stack map
 * created with a known seed sets the same bits and picks the same buckets as the
 * kernel's.
 *
 * Pure: no `node:` imports.
 * @module
 */

/** `JHASH_INITVAL`. */
export const JHASH_INITVAL = 0xdeadbeef;

const rol = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** Scratch state [a, b, c]. */
const S = new Int32Array(3);

function mix(): void {
  let a = S[0] as number;
  let b = S[1] as number;
  let c = S[2] as number;
  a = (a - c) | 0;
  a ^= rol(c, 4);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol(a, 6);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol(b, 8);
  b = (b + a) | 0;
  a = (a - c) | 0;
  a ^= rol(c, 16);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol(a, 19);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol(b, 4);
  b = (b + a) | 0;
  S[0] = a;
  S[1] = b;
  S[2] = c;
}

function final(): void {
  let a = S[0] as number;
  let b = S[1] as number;
  let c = S[2] as number;
  c ^= b;
  c = (c - rol(b, 14)) | 0;
  a ^= c;
  a = (a - rol(c, 11)) | 0;
  b ^= a;
  b = (b - rol(a, 25)) | 0;
  c ^= b;
  c = (c - rol(b, 16)) | 0;
  a ^= c;
  a = (a - rol(c, 4)) | 0;
  b ^= a;
  b = (b - rol(a, 14)) | 0;
  c ^= b;
  c = (c - rol(b, 24)) | 0;
  S[0] = a;
  S[1] = b;
  S[2] = c;
}

function le32(k: Uint8Array, i: number): number {
  return (
    (k[i] as number) |
    ((k[i + 1] as number) << 8) |
    ((k[i + 2] as number) << 16) |
    ((k[i + 3] as number) << 24)
  );
}

/** `jhash(key, length, initval)` over `length` bytes at `key[at..]`; unsigned 32-bit result. */
export function jhash(key: Uint8Array, at: number, length: number, initval: number): number {
  const init = (JHASH_INITVAL + length + initval) | 0;
  S[0] = init;
  S[1] = init;
  S[2] = init;
  let i = at;
  let n = length;
  while (n > 12) {
    S[0] = ((S[0] as number) + le32(key, i)) | 0;
    S[1] = ((S[1] as number) + le32(key, i + 4)) | 0;
    S[2] = ((S[2] as number) + le32(key, i + 8)) | 0;
    mix();
    n -= 12;
    i += 12;
  }
  if (n === 0) return (S[2] as number) >>> 0;
  const k = (j: number) => (key[i + j] as number) | 0;
  let a = S[0] as number;
  let b = S[1] as number;
  let c = S[2] as number;
  // The kernel's fall-through table: byte j of the tail goes into a, b or c at j % 4 * 8.
  for (let j = n - 1; j >= 0; j--) {
    const v = k(j) << ((j & 3) * 8);
    if (j >= 8) c = (c + v) | 0;
    else if (j >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  S[0] = a;
  S[1] = b;
  S[2] = c;
  final();
  return (S[2] as number) >>> 0;
}

/** `jhash2(k, length, initval)` over `length` little-endian u32 words at `key[at..]`. */
export function jhash2(key: Uint8Array, at: number, length: number, initval: number): number {
  const init = (JHASH_INITVAL + (length << 2) + initval) | 0;
  S[0] = init;
  S[1] = init;
  S[2] = init;
  let i = at;
  let n = length;
  while (n > 3) {
    S[0] = ((S[0] as number) + le32(key, i)) | 0;
    S[1] = ((S[1] as number) + le32(key, i + 4)) | 0;
    S[2] = ((S[2] as number) + le32(key, i + 8)) | 0;
    mix();
    n -= 3;
    i += 12;
  }
  if (n === 0) return (S[2] as number) >>> 0;
  if (n >= 3) S[2] = ((S[2] as number) + le32(key, i + 8)) | 0;
  if (n >= 2) S[1] = ((S[1] as number) + le32(key, i + 4)) | 0;
  S[0] = ((S[0] as number) + le32(key, i)) | 0;
  final();
  return (S[2] as number) >>> 0;
}
