/**
 * What a basic block has left in registers so far, known at compile time: both JIT
 * targets use it to find map_lookup_elem calls whose map (r1, from an lddw) and key
 * (r2 = r10 + a constant) are known, and answer them inline.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { Code } from "../interpreter.ts";
import { STACK_SIZE } from "../interpreter.ts";
import { REGION_HI_BASE } from "../memory.ts";

/** Register state: 0 unknown, 1 the constant (kl, kh), 2 r10 + kl. */
export class KnownRegs {
  readonly kind: Int8Array = new Int8Array(16);
  /** Low words of known constants, or offsets from r10. */
  readonly kl: Int32Array = new Int32Array(16);
  /** High words of known constants. */
  readonly kh: Int32Array = new Int32Array(16);
  /**
   * Known 4-byte words of the current frame (by byte offset from the frame's start,
   * a multiple of 4), stored with a constant: a lookup's constant key.
   */
  readonly stack = new Map<number, number>();

  /** Forgets everything (a block starts). */
  reset(): void {
    this.kind.fill(0);
    this.stack.clear();
  }

  /** A store of `size` bytes at frame offset `at`: `lo`/`hi` its value's words, when known. */
  private stored(at: number, size: number, lo?: number, hi?: number): void {
    for (let o = (at & ~3) - 4; o < at + size; o += 4) if (o + 4 > at) this.stack.delete(o);
    if (lo === undefined || (at & 3) !== 0 || size < 4) return;
    this.stack.set(at, lo);
    if (size === 8 && hi !== undefined) this.stack.set(at + 4, hi);
  }

  /** Updates the state past the instruction at slot `pc` of `code`. */
  track(code: Code, pc: number): void {
    const c = code.op[pc]!;
    const d = code.dst[pc]!;
    const s = code.src[pc]!;
    const K = this.kind;
    switch (c) {
      case 0x18:
        K[d] = 1;
        this.kl[d] = code.imm[pc]!;
        this.kh[d] = code.imm[pc + 1]!;
        return;
      case 0xb7:
        K[d] = 1;
        this.kl[d] = code.imm[pc]!;
        this.kh[d] = code.imm[pc]! >> 31;
        return;
      case 0xbf:
        if (code.off[pc] !== 0) K[d] = 0;
        else if (s === 10) {
          K[d] = 2;
          this.kl[d] = 0;
        } else {
          K[d] = K[s]!;
          this.kl[d] = this.kl[s]!;
          this.kh[d] = this.kh[s]!;
        }
        return;
      case 0x07:
        // r10 + small constants stay in the frame's low word (no carry): only those count.
        if (K[d] === 2 && Math.abs(this.kl[d]! + code.imm[pc]!) <= 4 * STACK_SIZE)
          this.kl[d] = this.kl[d]! + code.imm[pc]!;
        else K[d] = 0;
        return;
      case 0x85:
        // (A helper may write the frame through a pointer it was given.)
        for (let r = 0; r <= 5; r++) K[r] = 0;
        this.stack.clear();
        return;
    }
    const cls = c & 7;
    if (cls === 2 || cls === 3) {
      // Stores: the frame's words they write (anything, through another register).
      const size = (c & 0x18) === 0x18 ? 8 : (c & 0x18) === 0 ? 4 : (c & 0x18) === 8 ? 2 : 1;
      const atomic = cls === 3 && (c & 0xe0) === 0xc0;
      if (d !== 10) this.stack.clear();
      else if (cls === 2)
        this.stored(STACK_SIZE + code.off[pc]!, size, code.imm[pc]!, code.imm[pc]! >> 31);
      else if (!atomic && K[s] === 1)
        this.stored(STACK_SIZE + code.off[pc]!, size, this.kl[s]!, this.kh[s]!);
      else this.stored(STACK_SIZE + code.off[pc]!, size);
      // Atomics write their source (fetch) and r0 (cmpxchg).
      if (atomic) {
        K[s] = 0;
        K[0] = 0;
      }
      return;
    }
    if (cls === 0 && c !== 0x18) {
      // ld_abs / ld_ind: r0, and r1..r5 as the kernel clobbers them.
      for (let r = 0; r <= 5; r++) K[r] = 0;
      return;
    }
    if (cls === 5 || cls === 6) return;
    if (d <= 10) K[d] = 0;
  }

  /**
   * At a map_lookup_elem call: the map's region id (r1 a map handle, low word 0) and
   * the key's byte offset in the current frame (r2 = r10 + a constant, 4-byte aligned,
   * at least 4 bytes inside the frame), or undefined when either is not known; with
   * the key's first word when a constant store left it.
   */
  lookupKey(): { readonly rid: number; readonly ko: number; readonly word?: number } | undefined {
    if (this.kind[1] !== 1 || this.kl[1] !== 0 || this.kind[2] !== 2) return undefined;
    const ko = STACK_SIZE + this.kl[2]!;
    if (ko < 0 || ko + 4 > STACK_SIZE || ko % 4 !== 0) return undefined;
    return { rid: this.kh[1]! - REGION_HI_BASE, ko, word: this.stack.get(ko) };
  }
}
