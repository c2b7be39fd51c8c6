/**
 * csum_diff and the one's-complement sums behind it (Linux >= 6.12: one 16-bit folded
 * result on every architecture).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import type { HelperFunction } from "./interpreter.ts";

/** One's-complement sum of 32-bit little-endian words plus `seed`, folded to 32 bits (x86 csum_partial). */
export function csumPartial(words: readonly number[], seed: number): number {
  let s = seed >>> 0;
  for (const w of words) s += w >>> 0;
  while (s > 0xffffffff) s = (s % 0x1_0000_0000) + Math.floor(s / 0x1_0000_0000);
  return s;
}

/** Folds a 32-bit one's-complement sum to 16 bits (`csum_from32to16`, not inverted). */
export function csumFold16(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** csum_diff, by id. */
export function csumHelpers(): [number, HelperFunction][] {
  const h = new Map<number, HelperFunction>();
  h.set(HelperId.csum_diff, (m) => {
    // Linux >= 6.12 (one result on every architecture): 16-bit folded sums.
    const fromSize = m.argU32(2);
    const toSize = m.argU32(4);
    const seed = m.argU32(5);
    if (((fromSize | toSize) & 3) !== 0) return -Errno.EINVAL;
    const words = (i: number, size: number): number[] => {
      const b = m.argPtr(i, size, "read");
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out: number[] = [];
      for (let k = 0; k < size; k += 4) out.push(v.getUint32(k, true));
      return out;
    };
    if (fromSize && toSize) {
      const to = csumPartial(words(3, toSize), seed);
      const from = csumPartial(words(1, fromSize), 0);
      return csumFold16(csumPartial([~from >>> 0], to));
    }
    if (toSize) return csumFold16(csumPartial(words(3, toSize), seed));
    if (fromSize) return csumFold16(~csumPartial(words(1, fromSize), ~seed >>> 0) >>> 0);
    return csumFold16(seed);
  });
  return [...h];
}
