/**
 * The verifier's abstract domain for scalar registers, as the Linux 6.18 verifier
 * models it: a tnum (which bits are known) and eight bounds — signed and unsigned,
 * over the whole 64-bit register and over its low 32 bits — kept consistent with each
 * other after every operation (the kernel's reg_bounds_sync).
 *
 * The functions here are named after the kernel's (kernel/bpf/verifier.c, read as
 * documentation): {@link scalarAlu} is adjust_scalar_min_max_vals with the
 * scalar*_min_max_* helpers, {@link isBranchTaken} is is_scalar_branch_taken,
 * {@link refineBranch} is reg_set_min_max, {@link scalarWithin} is range_within plus
 * tnum_in, {@link formatScalar} is the log's print_reg_state for a scalar. They take
 * and return values that are never changed afterwards (readonly by type; not frozen,
 * which would cost on every operation).
 *
 * Where the host kernel (6.18) differs from mainline's text, the host wins: every
 * rule here was checked against its verifier log (test/verifier-scalar-kernel.test.ts).
 *
 * Representation: the 64-bit bounds and the tnum are `bigint` (`smin`/`smax` signed in
 * [-2^63, 2^63), `umin`/`umax` in [0, 2^64)); the 32-bit bounds are plain `number`s
 * (`s32min`/`s32max` in [-2^31, 2^31), `u32min`/`u32max` in [0, 2^32)), which hold them
 * exactly and are cheaper to compare. 32-bit products go through `bigint`.
 * @module
 */

import type { AluOp, JumpOp } from "../isa/instruction.ts";
import type { Tnum } from "./tnum.ts";
import * as T from "./tnum.ts";

/** The bounds and known bits of a scalar register. */
export interface Scalar {
  /** Which bits are known, and their values. */
  readonly varOff: Tnum;
  /** Signed 64-bit minimum. */
  readonly smin: bigint;
  /** Signed 64-bit maximum. */
  readonly smax: bigint;
  /** Unsigned 64-bit minimum. */
  readonly umin: bigint;
  /** Unsigned 64-bit maximum. */
  readonly umax: bigint;
  /** Signed minimum of the low 32 bits. */
  readonly s32min: number;
  /** Signed maximum of the low 32 bits. */
  readonly s32max: number;
  /** Unsigned minimum of the low 32 bits. */
  readonly u32min: number;
  /** Unsigned maximum of the low 32 bits. */
  readonly u32max: number;
}

/** The ALU operations {@link scalarAlu} models (movsx has {@link scalarMovsx}). */
export type ScalarAluOp = Exclude<AluOp, "movsx">;

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const U64_MAX = T.U64_MAX;
const S32_MIN = -0x8000_0000;
const S32_MAX = 0x7fff_ffff;
const S32_MIN_N = BigInt(S32_MIN);
const S32_MAX_N = BigInt(S32_MAX);
const U32_MAX = 0xffff_ffff;

const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s32 = (x: number): number => x | 0;
const u32 = (x: number): number => x >>> 0;
/** The low 32 bits of a 64-bit value as an unsigned number. */
const lo32 = (x: bigint): number => Number(BigInt.asUintN(32, x));
/** The low 32 bits of a 64-bit value as a signed number. */
const slo32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
const maxB = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The mutable working copy the kernel-shaped helpers below update in place. */
interface Reg {
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: number;
  s32max: number;
  u32min: number;
  u32max: number;
}

const copy = (s: Scalar): Reg => ({ ...s });
/** Hands out a working copy as an immutable value (readonly by type; not frozen: that costs). */
const freeze = (r: Reg): Scalar => r;

// ---- constructors -------------------------------------------------------------------

function markKnown(r: Reg, imm: bigint): void {
  const v = u64(imm);
  r.varOff = T.tnumConst(v);
  r.smin = s64(v);
  r.smax = s64(v);
  r.umin = v;
  r.umax = v;
  r.s32min = slo32(v);
  r.s32max = slo32(v);
  r.u32min = lo32(v);
  r.u32max = lo32(v);
}

function mark32Known(r: Reg, imm: bigint): void {
  r.varOff = T.constSubreg(r.varOff, imm);
  r.s32min = slo32(imm);
  r.s32max = slo32(imm);
  r.u32min = lo32(imm);
  r.u32max = lo32(imm);
}

function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
}

function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

function markUnbounded(r: Reg): void {
  mark64Unbounded(r);
  mark32Unbounded(r);
}

function unknownReg(): Reg {
  const r = { varOff: T.tnumUnknown } as Reg;
  markUnbounded(r);
  return r;
}

/** The constant `v` (taken modulo 2^64): the kernel's __mark_reg_known. */
export function scalarConst(v: bigint): Scalar {
  const r = unknownReg();
  markKnown(r, v);
  return freeze(r);
}

/** A scalar the verifier knows nothing about: the kernel's __mark_reg_unknown. */
export function scalarUnknown(): Scalar {
  return freeze(unknownReg());
}

/**
 * An unknown scalar narrowed to the given bounds and/or tnum, then synced: how the
 * kernel builds a helper's return range (do_refine_retval_range sets some bounds on an
 * unknown register and calls reg_bounds_sync). The bounds must hold together.
 *
 * @example
 * ```ts
 * scalarWithBounds({ smin: 0n, smax: 127n }); // scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))
 * ```
 */
export function scalarWithBounds(bounds: Partial<Scalar>): Scalar {
  const r = { ...unknownReg(), ...bounds };
  regBoundsSync(r);
  return freeze(r);
}

/**
 * An unknown value loaded from memory: `size` bytes, zero-extended (a 1, 2 or 4-byte
 * load gives [0, 2^(8·size) - 1]) or, with `signExtend` (BPF_MEMSX), sign-extended.
 * An 8-byte load is fully unknown.
 */
export function scalarFromLoad(size: 1 | 2 | 4 | 8, signExtend = false): Scalar {
  const u = scalarUnknown();
  if (size === 8) return u;
  return signExtend ? coerceToSizeSx(u, size) : coerceToSize(u, size);
}

// ---- keeping the bounds in sync (reg_bounds_sync) ----------------------------------

function updateReg32Bounds(r: Reg): void {
  const v = T.subreg(r.varOff);
  const value = Number(v.value);
  const mask = Number(v.mask);
  r.s32min = Math.max(r.s32min, s32(value | (mask & 0x8000_0000)));
  r.s32max = Math.min(r.s32max, s32(value | (mask & S32_MAX)));
  r.u32min = Math.max(r.u32min, value);
  r.u32max = Math.min(r.u32max, u32(value | mask));
}

function updateReg64Bounds(r: Reg): void {
  const { value, mask } = r.varOff;
  r.smin = maxB(r.smin, s64(value | (mask & (1n << 63n))));
  r.smax = minB(r.smax, s64(value | (mask & S64_MAX)));
  r.umin = maxB(r.umin, value);
  r.umax = minB(r.umax, value | mask);
  // When the u64 range and the tnum meet in a single value, the register is that
  // constant: umin itself; or, umin not being a member, the tnum's largest member when
  // that is the next one after umin (umax not consulted, as in the kernel); or the next
  // member after umin when the one after it is beyond umax. (A constant tnum whose
  // bounds disagree with it thus gets them back, as on the host.)
  const tmax = value | mask;
  const next = tnumStep(r.varOff, r.umin);
  const uminIn = (r.umin & ~mask) === value;
  if (uminIn) {
    if (next > r.umax) markKnown(r, r.umin);
  } else if (next === tmax) {
    markKnown(r, tmax);
  } else if (next <= r.umax && tnumStep(r.varOff, next) > r.umax) {
    markKnown(r, next);
  }
}

/** The smallest member of `t` above `z`, or the largest member when none is above. */
function tnumStep(t: Tnum, z: bigint): bigint {
  const tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  return T.minMemberAtLeast(t, z + 1n) ?? tmax;
}

function updateRegBounds(r: Reg): void {
  updateReg32Bounds(r);
  updateReg64Bounds(r);
}

function reg32DeduceBounds(r: Reg): void {
  // The 64-bit bounds do not change here: split them once.
  const uminHi = r.umin >> 32n;
  const umaxHi = r.umax >> 32n;
  const sminHi = r.smin >> 32n;
  const smaxHi = r.smax >> 32n;
  const uminLo = lo32(r.umin);
  const umaxLo = lo32(r.umax);
  const sminLo = lo32(r.smin);
  const smaxLo = lo32(r.smax);
  // The upper halves of the 64-bit range are equal: its low halves form a range.
  if (uminHi === umaxHi) {
    r.u32min = Math.max(r.u32min, uminLo);
    r.u32max = Math.min(r.u32max, umaxLo);
    if (s32(uminLo) <= s32(umaxLo)) {
      r.s32min = Math.max(r.s32min, s32(uminLo));
      r.s32max = Math.min(r.s32max, s32(umaxLo));
    }
  }
  if (sminHi === smaxHi) {
    if (sminLo <= smaxLo) {
      r.u32min = Math.max(r.u32min, sminLo);
      r.u32max = Math.min(r.u32max, smaxLo);
    }
    if (s32(sminLo) <= s32(smaxLo)) {
      r.s32min = Math.max(r.s32min, s32(sminLo));
      r.s32max = Math.min(r.s32max, s32(smaxLo));
    }
  }
  // The upper halves are two consecutive numbers and the low halves cross from
  // negative to positive: still one s32 range.
  if (u32(lo32(uminHi) + 1) === lo32(umaxHi) && s32(uminLo) < 0 && s32(umaxLo) >= 0) {
    r.s32min = Math.max(r.s32min, s32(uminLo));
    r.s32max = Math.min(r.s32max, s32(umaxLo));
  }
  if (u32(lo32(sminHi) + 1) === lo32(smaxHi) && s32(sminLo) < 0 && s32(smaxLo) >= 0) {
    r.s32min = Math.max(r.s32min, s32(sminLo));
    r.s32max = Math.min(r.s32max, s32(smaxLo));
  }
  // A u32 range that does not cross the sign bit is an s32 range too, and back.
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = Math.max(r.s32min, s32(r.u32min));
    r.s32max = Math.min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = Math.max(u32(r.s32min), r.u32min);
    r.u32max = Math.min(u32(r.s32max), r.u32max);
  } else if (r.u32max < u32(r.s32min)) {
    // The s32 range crosses the sign boundary and the u32 range meets only its
    // non-negative part ...
    r.s32min = s32(r.u32min);
    r.u32max = Math.min(r.u32max, u32(r.s32max));
  } else if (u32(r.s32max) < r.u32min) {
    // ... or only its negative part.
    r.s32max = s32(r.u32max);
    r.u32min = Math.max(r.u32min, u32(r.s32min));
  }
}

function reg64DeduceBounds(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = maxB(r.smin, s64(r.umin));
    r.smax = minB(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = maxB(u64(r.smin), r.umin);
    r.umax = minB(u64(r.smax), r.umax);
  } else if (r.umax < u64(r.smin)) {
    // The s64 range crosses the sign boundary and the u64 range meets only its
    // non-negative part.
    r.smin = s64(r.umin);
    r.umax = minB(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    // ... or only its negative part.
    r.smax = s64(r.umax);
    r.umin = maxB(r.umin, u64(r.smin));
  }
}

/** The upper half of a 64-bit value, as a mask (two's complement: ~0xffffffff). */
const HI32 = ~0xffff_ffffn;

function regDeduceMixedBounds(r: Reg): void {
  const hi = HI32;
  const newUmin = (r.umin & hi) | BigInt(r.u32min);
  const newUmax = (r.umax & hi) | BigInt(r.u32max);
  r.umin = maxB(r.umin, newUmin);
  r.umax = minB(r.umax, newUmax);
  const newSmin = s64((u64(r.smin) & hi) | BigInt(r.u32min));
  const newSmax = s64((u64(r.smax) & hi) | BigInt(r.u32max));
  r.smin = maxB(r.smin, newSmin);
  r.smax = minB(r.smax, newSmax);
  // After a sign-extending load: the value lies in [S32_MIN, S32_MAX] as s64 and its
  // low half is non-negative, so the upper half cannot be all ones.
  if (r.s32min >= 0 && r.smin >= S32_MIN_N && r.smax <= S32_MAX_N) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    r.umin = BigInt(r.s32min);
    r.umax = BigInt(r.s32max);
    r.varOff = T.intersect(r.varOff, T.tnumRange(u64(r.smin), u64(r.smax)));
  }
}

function regDeduceBounds(r: Reg): void {
  reg32DeduceBounds(r);
  reg64DeduceBounds(r);
  regDeduceMixedBounds(r);
}

function regBoundOffset(r: Reg): void {
  const var64 = T.intersect(r.varOff, T.tnumRange(r.umin, r.umax));
  const var32 = T.intersect(T.subreg(var64), T.tnumRange(BigInt(r.u32min), BigInt(r.u32max)));
  r.varOff = T.or(T.clearSubreg(var64), var32);
}

/** How many rounds of bound deduction reg_bounds_sync runs (three on the 6.18 host). */
const DEDUCE_ROUNDS = 3;

function regBoundsSync(r: Reg): void {
  updateRegBounds(r);
  for (let i = 0; i < DEDUCE_ROUNDS; i++) regDeduceBounds(r);
  regBoundOffset(r);
  updateRegBounds(r);
}

/** `s` with its bounds and tnum brought into agreement: the kernel's reg_bounds_sync. */
export function scalarSync(s: Scalar): Scalar {
  const r = copy(s);
  regBoundsSync(r);
  return freeze(r);
}

/** Whether the bounds contradict each other (the state is unreachable). */
export function scalarIsEmpty(s: Scalar): boolean {
  return s.umin > s.umax || s.smin > s.smax || s.u32min > s.u32max || s.s32min > s.s32max;
}

// ---- width changes --------------------------------------------------------------------

function zext32To64(r: Reg): void {
  r.varOff = T.subreg(r.varOff);
  r.umin = BigInt(r.u32min);
  r.umax = BigInt(r.u32max);
  if (r.s32min >= 0 && r.s32max >= 0) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
  } else {
    r.smin = 0n;
    r.smax = BigInt(U32_MAX);
  }
}

function coerceRegToSize(r: Reg, size: number): void {
  r.varOff = T.cast(r.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~mask) === (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0n;
    r.umax = mask;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  if (size < 4) mark32Unbounded(r);
  regBoundsSync(r);
}

/**
 * `s` truncated to its low `size` bytes (1, 2 or 4), zero-extended: the kernel's
 * coerce_reg_to_size, as after a narrow load or a stack fill.
 */
export function coerceToSize(s: Scalar, size: 1 | 2 | 4): Scalar {
  const r = copy(s);
  coerceRegToSize(r, size);
  return freeze(r);
}

const sext = (x: bigint, size: number): bigint => BigInt.asIntN(size * 8, x);

function coerceRegToSizeSx(r: Reg, size: number): void {
  if (T.isConst(r.varOff)) {
    const v = sext(r.varOff.value, size);
    r.varOff = T.tnumConst(v);
    r.smin = r.smax = v;
    r.umin = r.umax = u64(v);
    r.s32min = r.s32max = slo32(v);
    r.u32min = r.u32max = lo32(v);
    return;
  }
  const bits = BigInt(size * 8);
  if (u64(r.smax) >> bits !== u64(r.smin) >> bits) {
    sext64From32(r, size);
    return;
  }
  const a = sext(r.smax, size);
  const b = sext(r.smin, size);
  const hi = maxB(a, b);
  const lo = minB(a, b);
  if (hi >= 0n === lo >= 0n) {
    r.smin = lo;
    r.smax = hi;
    r.s32min = slo32(lo);
    r.s32max = slo32(hi);
    r.umin = u64(lo);
    r.umax = u64(hi);
    r.u32min = lo32(lo);
    r.u32max = lo32(hi);
    r.varOff = T.tnumRange(u64(lo), u64(hi));
    return;
  }
  sext64From32(r, size);
}

/**
 * The fallback when the 64-bit bounds do not give the extended range: if the s32 range
 * already lies within the source width's signed range, sign extension keeps the low
 * half as it is, and the 64-bit signed range is the s32 one (bounds then re-synced);
 * otherwise the value is anywhere in that width's signed range. (Measured against the
 * Linux 6.18 host; the plain defaults of mainline's set_sext64_default_val lose what
 * the 32-bit bounds know.)
 */
function sext64From32(r: Reg, size: number): void {
  const half = 2 ** (size * 8 - 1);
  if (r.s32min >= -half && r.s32max <= half - 1) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    r.umin = 0n;
    r.umax = U64_MAX;
    r.varOff = T.tnumUnknown;
    regBoundsSync(r);
    return;
  }
  r.smin = BigInt(-half);
  r.smax = BigInt(half - 1);
  r.s32min = -half;
  r.s32max = half - 1;
  r.umin = 0n;
  r.u32min = 0;
  r.umax = U64_MAX;
  r.u32max = U32_MAX;
  r.varOff = T.tnumUnknown;
}

/**
 * `s` sign-extended from its low `size` bytes (1, 2 or 4) to 64 bits: the kernel's
 * coerce_reg_to_size_sx, as after a BPF_MEMSX load or a 64-bit movsx. Like the
 * kernel, the bounds are not re-synced afterwards.
 */
export function coerceToSizeSx(s: Scalar, size: 1 | 2 | 4): Scalar {
  const r = copy(s);
  coerceRegToSizeSx(r, size);
  return freeze(r);
}

function coerceSubregToSizeSx(r: Reg, size: number): void {
  if (T.isConst(r.varOff)) {
    const v = sext(r.varOff.value, size);
    r.varOff = T.tnumConst(v);
    r.s32min = r.s32max = slo32(v);
    r.u32min = r.u32max = lo32(v);
    return;
  }
  const bits = size * 8;
  const top = (x: number): number => u32(x) >>> bits;
  if (top(r.s32max) !== top(r.s32min)) {
    setSext32Default(r, size);
    return;
  }
  const a = Number(sext(BigInt(r.s32max), size));
  const b = Number(sext(BigInt(r.s32min), size));
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo >= 0 === hi >= 0) {
    r.s32min = lo;
    r.s32max = hi;
    r.u32min = u32(lo);
    r.u32max = u32(hi);
    r.varOff = T.subreg(T.tnumRange(u64(BigInt(lo)), u64(BigInt(hi))));
    return;
  }
  setSext32Default(r, size);
}

function setSext32Default(r: Reg, size: number): void {
  r.s32min = size === 1 ? -128 : -32768;
  r.s32max = size === 1 ? 127 : 32767;
  r.u32min = 0;
  r.u32max = U32_MAX;
  r.varOff = T.subreg(T.tnumUnknown);
}

/**
 * `dst = (sN)src`: the sign-extending move of ISA v4, from `from` bits (8, 16 or, in
 * 64 bits only, 32). In 32 bits (`wD = (sN)wS`) the result is zero-extended.
 */
export function scalarMovsx(src: Scalar, from: 8 | 16 | 32, is64: boolean): Scalar {
  const r = copy(src);
  if (is64) {
    coerceRegToSizeSx(r, from / 8);
    return freeze(r);
  }
  if (from === 32) throw new RangeError("32-bit movsx extends from 8 or 16 bits only");
  coerceSubregToSizeSx(r, from / 8);
  zext32To64(r);
  regBoundsSync(r);
  return freeze(r);
}

// ---- ALU ------------------------------------------------------------------------------

const inS64 = (x: bigint): boolean => x >= S64_MIN && x <= S64_MAX;
const inS32 = (x: number): boolean => x >= S32_MIN && x <= S32_MAX;

function add32(d: Reg, s: Reg): void {
  const smin = d.s32min + s.s32min;
  const smax = d.s32max + s.s32max;
  if (!inS32(smin) || !inS32(smax)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const umin = d.u32min + s.u32min;
  const umax = d.u32max + s.u32max;
  const minOverflow = umin > U32_MAX;
  const maxOverflow = umax > U32_MAX;
  if (!minOverflow && maxOverflow) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = u32(umin);
    d.u32max = u32(umax);
  }
}

function add64(d: Reg, s: Reg): void {
  const smin = d.smin + s.smin;
  const smax = d.smax + s.smax;
  if (!inS64(smin) || !inS64(smax)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const umin = d.umin + s.umin;
  const umax = d.umax + s.umax;
  if (umin <= U64_MAX && umax > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(umin);
    d.umax = u64(umax);
  }
}

function sub32(d: Reg, s: Reg): void {
  const smin = d.s32min - s.s32max;
  const smax = d.s32max - s.s32min;
  if (!inS32(smin) || !inS32(smax)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const umin = d.u32min - s.u32max;
  const umax = d.u32max - s.u32min;
  if (umin < 0 && umax >= 0) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = u32(umin);
    d.u32max = u32(umax);
  }
}

function sub64(d: Reg, s: Reg): void {
  const smin = d.smin - s.smax;
  const smax = d.smax - s.smin;
  if (!inS64(smin) || !inS64(smax)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const umin = d.umin - s.umax;
  const umax = d.umax - s.umin;
  if (umin < 0n && umax >= 0n) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(umin);
    d.umax = u64(umax);
  }
}

function mul32(d: Reg, s: Reg): void {
  const umax = BigInt(d.u32max) * BigInt(s.u32max);
  const umin = BigInt(d.u32min) * BigInt(s.u32min);
  if (umax > BigInt(U32_MAX) || umin > BigInt(U32_MAX)) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = Number(umin);
    d.u32max = Number(umax);
  }
  const p = [
    BigInt(d.s32min) * BigInt(s.s32min),
    BigInt(d.s32min) * BigInt(s.s32max),
    BigInt(d.s32max) * BigInt(s.s32min),
    BigInt(d.s32max) * BigInt(s.s32max),
  ];
  if (p.some((x) => x < BigInt(S32_MIN) || x > BigInt(S32_MAX))) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = Number(p.reduce(minB));
    d.s32max = Number(p.reduce(maxB));
  }
}

function mul64(d: Reg, s: Reg): void {
  const umax = d.umax * s.umax;
  const umin = d.umin * s.umin;
  if (umax > U64_MAX || umin > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  const p = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  if (p.some((x) => !inS64(x))) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = p.reduce(minB);
    d.smax = p.reduce(maxB);
  }
}

function and32(d: Reg, s: Reg): void {
  const srcKnown = T.subregIsConst(s.varOff);
  const dstKnown = T.subregIsConst(d.varOff);
  const v32 = T.subreg(d.varOff);
  if (srcKnown && dstKnown) {
    mark32Known(d, v32.value);
    return;
  }
  d.u32min = Number(v32.value);
  d.u32max = Math.min(d.u32max, s.u32max);
  signed32FromUnsigned(d);
}

function and64(d: Reg, s: Reg): void {
  if (T.isConst(s.varOff) && T.isConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = minB(d.umax, s.umax);
  signed64FromUnsigned(d);
  updateRegBounds(d);
}

function or32(d: Reg, s: Reg): void {
  const srcKnown = T.subregIsConst(s.varOff);
  const dstKnown = T.subregIsConst(d.varOff);
  const v32 = T.subreg(d.varOff);
  if (srcKnown && dstKnown) {
    mark32Known(d, v32.value);
    return;
  }
  d.u32min = Math.max(d.u32min, s.u32min);
  d.u32max = Number(v32.value | v32.mask);
  signed32FromUnsigned(d);
}

function or64(d: Reg, s: Reg): void {
  if (T.isConst(s.varOff) && T.isConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = maxB(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  signed64FromUnsigned(d);
  updateRegBounds(d);
}

function xor32(d: Reg, s: Reg): void {
  const srcKnown = T.subregIsConst(s.varOff);
  const dstKnown = T.subregIsConst(d.varOff);
  const v32 = T.subreg(d.varOff);
  if (srcKnown && dstKnown) {
    mark32Known(d, v32.value);
    return;
  }
  d.u32min = Number(v32.value);
  d.u32max = Number(v32.value | v32.mask);
  signed32FromUnsigned(d);
}

function xor64(d: Reg, s: Reg): void {
  if (T.isConst(s.varOff) && T.isConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  signed64FromUnsigned(d);
  updateRegBounds(d);
}

function signed32FromUnsigned(d: Reg): void {
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function signed64FromUnsigned(d: Reg): void {
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
}

function lsh32Bounds(d: Reg, uminVal: bigint, umaxVal: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umaxVal > 31n || BigInt(d.u32max) > 1n << (31n - umaxVal)) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = Number(BigInt.asUintN(32, BigInt(d.u32min) << uminVal));
    d.u32max = Number(BigInt.asUintN(32, BigInt(d.u32max) << umaxVal));
  }
}

function lsh32(d: Reg, s: Reg): void {
  const sub = T.subreg(d.varOff);
  lsh32Bounds(d, BigInt(s.u32min), BigInt(s.u32max));
  d.varOff = T.subreg(T.lshift(sub, s.u32min));
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function lsh64Bounds(d: Reg, uminVal: bigint, umaxVal: bigint): void {
  if (uminVal === 32n && umaxVal === 32n) {
    d.smax = BigInt(d.s32max) << 32n;
    d.smin = BigInt(d.s32min) << 32n;
  } else {
    d.smax = S64_MAX;
    d.smin = S64_MIN;
  }
  if (d.umax > 1n << (63n - umaxVal)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(d.umin << uminVal);
    d.umax = u64(d.umax << umaxVal);
  }
}

function lsh64(d: Reg, s: Reg): void {
  lsh64Bounds(d, s.umin, s.umax);
  lsh32Bounds(d, s.umin, s.umax);
  d.varOff = T.lshift(d.varOff, Number(s.umin));
  updateRegBounds(d);
}

function rsh32(d: Reg, s: Reg): void {
  const sub = T.subreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = T.rshift(sub, s.u32min);
  d.u32min = d.u32min >>> s.u32max;
  d.u32max = d.u32max >>> s.u32min;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function rsh64(d: Reg, s: Reg): void {
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = T.rshift(d.varOff, Number(s.umin));
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  mark32Unbounded(d);
  updateRegBounds(d);
}

function arsh32(d: Reg, s: Reg): void {
  const shift = s.u32min;
  d.s32min >>= shift;
  d.s32max >>= shift;
  d.varOff = T.arshift(T.subreg(d.varOff), shift, 32);
  d.u32min = 0;
  d.u32max = U32_MAX;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function arsh64(d: Reg, s: Reg): void {
  const shift = s.umin;
  d.smin >>= shift;
  d.smax >>= shift;
  d.varOff = T.arshift(d.varOff, Number(shift), 64);
  d.umin = 0n;
  d.umax = U64_MAX;
  mark32Unbounded(d);
  updateRegBounds(d);
}

/**
 * Whether the kernel computes bounds for `op` with this source at all
 * (is_safe_to_compute_dst_reg_range); when not, the result is unknown.
 */
function safeToCompute(op: ScalarAluOp, src: Scalar, is64: boolean): boolean {
  switch (op) {
    case "add":
    case "sub":
    case "neg":
    case "and":
    case "or":
    case "xor":
    case "mul":
      return true;
    case "lsh":
    case "rsh":
    case "arsh": {
      const srcConst = is64
        ? T.isConst(src.varOff) && src.smin === src.smax && src.umin === src.umax
        : T.subregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max;
      return srcConst && src.umax < (is64 ? 64n : 32n);
    }
    default:
      // div, sdiv, mod, smod: 6.18 does not track them.
      return false;
  }
}

/**
 * `dst op= src` on two scalars, in 64 bits or (`is64` false) in 32 bits with the
 * result zero-extended: the kernel's adjust_scalar_min_max_vals, then reg_bounds_sync.
 *
 * - `mov` returns `src` (zero-extended from 32 bits when `is64` is false).
 * - `neg` ignores `src`.
 * - Shifts by a non-constant or out-of-range amount, and every division and modulo,
 *   give an unknown scalar — all 64 bits, even for a 32-bit operation, as the kernel.
 * - An immediate operand is `scalarConst(BigInt(imm))` (sign-extended 32-bit imm),
 *   as the kernel's fake source register.
 */
export function scalarAlu(op: ScalarAluOp, dst: Scalar, src: Scalar, is64: boolean): Scalar {
  if (op === "mov") {
    if (is64) return src;
    const r = copy(src);
    zext32To64(r);
    regBoundsSync(r);
    return freeze(r);
  }
  if (!safeToCompute(op, src, is64)) return scalarUnknown();
  const d = copy(dst);
  const s = src as Reg; // read only
  switch (op) {
    case "add":
      add32(d, s);
      add64(d, s);
      d.varOff = T.add(d.varOff, s.varOff);
      break;
    case "sub":
      sub32(d, s);
      sub64(d, s);
      d.varOff = T.sub(d.varOff, s.varOff);
      break;
    case "neg": {
      const old = copy(dst);
      markKnown(d, 0n);
      sub32(d, old);
      sub64(d, old);
      d.varOff = T.neg(old.varOff);
      break;
    }
    case "mul":
      d.varOff = T.mul(d.varOff, s.varOff);
      mul32(d, s);
      mul64(d, s);
      break;
    case "and":
      d.varOff = T.and(d.varOff, s.varOff);
      and32(d, s);
      and64(d, s);
      break;
    case "or":
      d.varOff = T.or(d.varOff, s.varOff);
      or32(d, s);
      or64(d, s);
      break;
    case "xor":
      d.varOff = T.xor(d.varOff, s.varOff);
      xor32(d, s);
      xor64(d, s);
      break;
    case "lsh":
      if (is64) lsh64(d, s);
      else lsh32(d, s);
      break;
    case "rsh":
      if (is64) rsh64(d, s);
      else rsh32(d, s);
      break;
    case "arsh":
      if (is64) arsh64(d, s);
      else arsh32(d, s);
      break;
    default:
      break;
  }
  if (!is64) zext32To64(d);
  regBoundsSync(d);
  return freeze(d);
}

/**
 * The kernel's maybe_fork_scalars: before `dst &= K` or `dst |= K` (a constant source,
 * 32 or 64-bit instruction) on a dst that is -1 or 0 — [-1, 0] in 64 bits, or else in
 * its low 32 bits — the verifier splits the path in two so that each side works on a
 * constant. Returns undefined when no split happens; otherwise
 * `[branch, current]`: the dst to push as a new state that runs the same instruction
 * again (0, in all 64 bits or in the low 32), and the dst the current path goes on with
 * (-1). Apply {@link scalarAlu} to each.
 */
export function maybeForkScalars(
  op: ScalarAluOp,
  dst: Scalar,
  src: Scalar,
): [Scalar, Scalar] | undefined {
  if ((op !== "and" && op !== "or") || !T.isConst(src.varOff)) return undefined;
  const zero = copy(dst);
  const ones = copy(dst);
  if (dst.smin === -1n && dst.smax === 0n) {
    markKnown(zero, 0n);
    markKnown(ones, U64_MAX);
  } else if (dst.s32min === -1 && dst.s32max === 0) {
    mark32Known(zero, 0n);
    mark32Known(ones, 0xffff_ffffn);
  } else {
    return undefined;
  }
  return [freeze(zero), freeze(ones)];
}

/**
 * A byte-order instruction on a scalar, on a little-endian machine: `order` "swap"
 * (BPF_ALU64|BPF_END, bswapN) and "be" swap the low `bits` bits, "le" swaps nothing;
 * a 16 or 32-bit form then truncates to that width (the kernel's scalar_byte_swap).
 */
export function scalarEndian(s: Scalar, order: "le" | "be" | "swap", bits: 16 | 32 | 64): Scalar {
  const r = copy(s);
  if (order !== "le") {
    r.varOff = T.bswap(r.varOff, bits);
    markUnbounded(r);
  }
  if (bits !== 64) coerceRegToSize(r, bits / 8);
  regBoundsSync(r);
  return freeze(r);
}

// ---- branches -------------------------------------------------------------------------

/** Whether the known bits of `a` and `b` agree (some value could be in both). */
function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const mu = ~a.mask & ~b.mask;
  return (a.value & mu) === (b.value & mu);
}

function isConstFor(r: Scalar, is32: boolean): boolean {
  return is32 ? T.subregIsConst(r.varOff) : T.isConst(r.varOff);
}

function constValue(r: Scalar, is32: boolean): bigint {
  return is32 ? r.varOff.value & T.U32_MAX_N : r.varOff.value;
}

/**
 * Whether `if a op b goto` is always taken (1), never (0) or either (-1), for two
 * scalars compared in 64 bits or (`is32`) in their low 32 bits: the kernel's
 * is_scalar_branch_taken. For `if r1 op r1` pass the same scalar twice: 6.18 has no
 * special case for one register (later kernels decide it from the operator alone).
 */
export function isBranchTaken(op: JumpOp, a: Scalar, b: Scalar, is32: boolean): 1 | 0 | -1 {
  let r1 = a;
  let r2 = b;
  let t1 = is32 ? T.subreg(a.varOff) : a.varOff;
  let t2 = is32 ? T.subreg(b.varOff) : b.varOff;
  const umin1 = is32 ? BigInt(a.u32min) : a.umin;
  const umax1 = is32 ? BigInt(a.u32max) : a.umax;
  const smin1 = is32 ? BigInt(a.s32min) : a.smin;
  const smax1 = is32 ? BigInt(a.s32max) : a.smax;
  const umin2 = is32 ? BigInt(b.u32min) : b.umin;
  const umax2 = is32 ? BigInt(b.u32max) : b.umax;
  const smin2 = is32 ? BigInt(b.s32min) : b.smin;
  const smax2 = is32 ? BigInt(b.s32max) : b.smax;

  switch (op) {
    case "jeq":
    case "jne": {
      const eq = op === "jeq" ? 1 : 0;
      const ne = op === "jeq" ? 0 : 1;
      if (T.isConst(t1) && T.isConst(t2)) return t1.value === t2.value ? eq : ne;
      if (!tnumOverlap(t1, t2)) return ne;
      if (umin1 > umax2 || umax1 < umin2) return ne;
      if (smin1 > smax2 || smax1 < smin2) return ne;
      if (!is32) {
        if (a.u32min > b.u32max || a.u32max < b.u32min) return ne;
        if (a.s32min > b.s32max || a.s32max < b.s32min) return ne;
      }
      return -1;
    }
    case "jset":
      if (!isConstFor(r2, is32)) {
        [r1, r2] = [r2, r1];
        [t1, t2] = [t2, t1];
      }
      if (!isConstFor(r2, is32)) return -1;
      if (~t1.mask & t1.value & t2.value) return 1;
      if (!((t1.mask | t1.value) & t2.value)) return 0;
      return -1;
    case "jgt":
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      return -1;
    case "jsgt":
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      return -1;
    case "jlt":
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      return -1;
    case "jslt":
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      return -1;
    case "jge":
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      return -1;
    case "jsge":
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      return -1;
    case "jle":
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      return -1;
    case "jsle":
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      return -1;
  }
}

/** The comparison that holds when `op` does not: "jset!" stands for "no bit in common". */
type CondOp = JumpOp | "jset!";

function reverse(op: JumpOp): CondOp {
  switch (op) {
    case "jeq":
      return "jne";
    case "jne":
      return "jeq";
    case "jset":
      return "jset!";
    case "jge":
      return "jlt";
    case "jgt":
      return "jle";
    case "jle":
      return "jgt";
    case "jlt":
      return "jge";
    case "jsge":
      return "jslt";
    case "jsgt":
      return "jsle";
    case "jsle":
      return "jsgt";
    case "jslt":
      return "jsge";
  }
}

const FLIP: Partial<Record<CondOp, CondOp>> = {
  jge: "jle",
  jgt: "jlt",
  jsge: "jsle",
  jsgt: "jslt",
};

function regIsConst(r: Reg, is32: boolean): boolean {
  return isConstFor(r as Scalar, is32);
}

/** The kernel's regs_refine_cond_op: narrow r1 and r2 given that `r1 op r2` holds. */
function refineCondOp(a: Reg, b: Reg, opIn: CondOp, is32: boolean): void {
  let r1 = a;
  let r2 = b;
  let op = opIn;
  const flipped = FLIP[op];
  if (flipped) {
    op = flipped;
    [r1, r2] = [r2, r1];
  }
  switch (op) {
    case "jeq":
      if (is32) {
        r1.u32min = Math.max(r1.u32min, r2.u32min);
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r1.s32min = Math.max(r1.s32min, r2.s32min);
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min;
        r2.u32max = r1.u32max;
        r2.s32min = r1.s32min;
        r2.s32max = r1.s32max;
        const t = T.intersect(T.subreg(r1.varOff), T.subreg(r2.varOff));
        r1.varOff = T.withSubreg(r1.varOff, t);
        r2.varOff = T.withSubreg(r2.varOff, t);
      } else {
        r1.umin = maxB(r1.umin, r2.umin);
        r1.umax = minB(r1.umax, r2.umax);
        r1.smin = maxB(r1.smin, r2.smin);
        r1.smax = minB(r1.smax, r2.smax);
        r2.umin = r1.umin;
        r2.umax = r1.umax;
        r2.smin = r1.smin;
        r2.smax = r1.smax;
        r1.varOff = T.intersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case "jne": {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = constValue(r2 as Scalar, is32);
      if (is32) {
        if (r1.u32min === lo32(val)) r1.u32min = u32(r1.u32min + 1);
        if (r1.u32max === lo32(val)) r1.u32max = u32(r1.u32max - 1);
        if (r1.s32min === slo32(val)) r1.s32min = s32(r1.s32min + 1);
        if (r1.s32max === slo32(val)) r1.s32max = s32(r1.s32max - 1);
      } else {
        if (r1.umin === val) r1.umin = u64(r1.umin + 1n);
        if (r1.umax === val) r1.umax = u64(r1.umax - 1n);
        if (r1.smin === s64(val)) r1.smin = s64(r1.smin + 1n);
        if (r1.smax === s64(val)) r1.smax = s64(r1.smax - 1n);
      }
      break;
    }
    case "jset": {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = constValue(r2 as Scalar, is32);
      if (val === 0n || (val & (val - 1n)) !== 0n) break;
      if (is32) {
        const t = T.or(T.subreg(r1.varOff), T.tnumConst(val));
        r1.varOff = T.withSubreg(r1.varOff, t);
      } else {
        r1.varOff = T.or(r1.varOff, T.tnumConst(val));
      }
      break;
    }
    case "jset!": {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = constValue(r2 as Scalar, is32);
      // Forget the ranges before narrowing the tnum (a dead branch must not leave
      // contradicting bounds); reg_bounds_sync derives them again.
      markUnbounded(r1);
      if (is32) {
        const t = T.and(T.subreg(r1.varOff), T.tnumConst(~val));
        r1.varOff = T.withSubreg(r1.varOff, t);
      } else {
        r1.varOff = T.and(r1.varOff, T.tnumConst(~val));
      }
      break;
    }
    case "jle":
      if (is32) {
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r2.u32min = Math.max(r1.u32min, r2.u32min);
      } else {
        r1.umax = minB(r1.umax, r2.umax);
        r2.umin = maxB(r1.umin, r2.umin);
      }
      break;
    case "jlt":
      if (is32) {
        r1.u32max = Math.min(r1.u32max, u32(r2.u32max - 1));
        r2.u32min = Math.max(u32(r1.u32min + 1), r2.u32min);
      } else {
        r1.umax = minB(r1.umax, u64(r2.umax - 1n));
        r2.umin = maxB(u64(r1.umin + 1n), r2.umin);
      }
      break;
    case "jsle":
      if (is32) {
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.s32min = Math.max(r1.s32min, r2.s32min);
      } else {
        r1.smax = minB(r1.smax, r2.smax);
        r2.smin = maxB(r1.smin, r2.smin);
      }
      break;
    case "jslt":
      if (is32) {
        r1.s32max = Math.min(r1.s32max, s32(r2.s32max - 1));
        r2.s32min = Math.max(s32(r1.s32min + 1), r2.s32min);
      } else {
        r1.smax = minB(r1.smax, s64(r2.smax - 1n));
        r2.smin = maxB(s64(r1.smin + 1n), r2.smin);
      }
      break;
    default:
      break;
  }
}

/**
 * What `if a op b goto` teaches about both operands on one side of the branch: on the
 * jump side (`taken`) that `a op b` holds, on the fall-through side that it does not
 * (the kernel's reg_set_min_max, one side of it). Returns the refined `[a, b]`; for a
 * BPF_K jump pass `scalarConst(BigInt(imm))` as `b` and drop the second result.
 * With `sameReg` (`if rX op rX`) both operands are one register, refined in place
 * through both roles as 6.18 does (it has no same-register check here yet), so both
 * results are the same scalar.
 *
 * The result can contradict itself when that side is unreachable: pass each of the
 * kernel's four registers (true_reg1, true_reg2, false_reg1, false_reg2) through
 * {@link checkScalarInvariants}, as reg_set_min_max does.
 */
export function refineBranch(
  op: JumpOp,
  a: Scalar,
  b: Scalar,
  is32: boolean,
  taken: boolean,
  sameReg = false,
): [Scalar, Scalar] {
  if (sameReg) {
    const r = copy(a);
    refineCondOp(r, r, taken ? op : reverse(op), is32);
    regBoundsSync(r);
    regBoundsSync(r);
    return [freeze(r), freeze(r)];
  }
  const r1 = copy(a);
  const r2 = copy(b);
  refineCondOp(r1, r2, taken ? op : reverse(op), is32);
  regBoundsSync(r1);
  regBoundsSync(r2);
  return [freeze(r1), freeze(r2)];
}

/** What {@link checkScalarInvariants} found. */
export interface InvariantCheck {
  /** The scalar to go on with: `s` itself, or `s` with its bounds reset. */
  readonly scalar: Scalar;
  /**
   * The line the kernel logs for a violation, `verifier bug: REG INVARIANTS VIOLATION
   * (ctx): ...`, or undefined when the bounds hold together.
   */
  readonly message?: string;
}

/**
 * The kernel's reg_bounds_sanity_check after an ALU operation (`ctx` "alu") or a branch
 * refinement ("true_reg1", "true_reg2", "false_reg1", "false_reg2"): when the bounds
 * contradict each other or a constant tnum, the kernel logs a `verifier bug:` line and
 * goes on with the bounds reset to unbounded (the tnum kept).
 */
export function checkScalarInvariants(s: Scalar, ctx: string): InvariantCheck {
  let msg: string | undefined;
  if (scalarIsEmpty(s)) msg = "range bounds violation";
  else if (T.isConst(s.varOff)) {
    const v = s.varOff.value;
    if (s.umin !== v || s.umax !== v || s.smin !== s64(v) || s.smax !== s64(v)) {
      msg = "const tnum out of sync with range bounds";
    }
  }
  if (!msg && T.subregIsConst(s.varOff)) {
    const v = lo32(s.varOff.value);
    if (s.u32min !== v || s.u32max !== v || s.s32min !== s32(v) || s.s32max !== s32(v)) {
      msg = "const subreg tnum out of sync with range bounds";
    }
  }
  if (!msg) return { scalar: s };
  const h = (x: bigint): string => T.hex(u64(x));
  const h32 = (x: number): string => `0x${u32(x).toString(16)}`;
  const message =
    `verifier bug: REG INVARIANTS VIOLATION (${ctx}): ${msg} ` +
    `u64=[${h(s.umin)}, ${h(s.umax)}] s64=[${h(s.smin)}, ${h(s.smax)}] ` +
    `u32=[${h32(s.u32min)}, ${h32(s.u32max)}] s32=[${h32(s.s32min)}, ${h32(s.s32max)}] ` +
    `var_off=(${h(s.varOff.value)}, ${h(s.varOff.mask)})`;
  const r = copy(s);
  markUnbounded(r);
  return { scalar: freeze(r), message };
}

// ---- pruning and equality -------------------------------------------------------------

/**
 * Whether every value `cur` allows, `old` allows too, by the kernel's test for state
 * pruning: range_within(old, cur) && tnum_in(old.var_off, cur.var_off).
 */
export function scalarWithin(old: Scalar, cur: Scalar): boolean {
  return (
    old.umin <= cur.umin &&
    old.umax >= cur.umax &&
    old.smin <= cur.smin &&
    old.smax >= cur.smax &&
    old.u32min <= cur.u32min &&
    old.u32max >= cur.u32max &&
    old.s32min <= cur.s32min &&
    old.s32max >= cur.s32max &&
    T.tnumIn(old.varOff, cur.varOff)
  );
}

/** Whether two scalars have the same tnum and the same eight bounds. */
export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return (
    T.equals(a.varOff, b.varOff) &&
    a.smin === b.smin &&
    a.smax === b.smax &&
    a.umin === b.umin &&
    a.umax === b.umax &&
    a.s32min === b.s32min &&
    a.s32max === b.s32max &&
    a.u32min === b.u32min &&
    a.u32max === b.u32max
  );
}

/** Whether the concrete 64-bit value `x` is one of the values `s` allows. */
export function scalarContains(s: Scalar, x: bigint): boolean {
  const v = u64(x);
  const sv = s64(v);
  const lo = lo32(v);
  const slo = slo32(v);
  return (
    T.contains(s.varOff, v) &&
    v >= s.umin &&
    v <= s.umax &&
    sv >= s.smin &&
    sv <= s.smax &&
    lo >= s.u32min &&
    lo <= s.u32max &&
    slo >= s.s32min &&
    slo <= s.s32max
  );
}

/** Whether `s` is one known value (its tnum is constant). */
export function scalarIsConst(s: Scalar): boolean {
  return T.isConst(s.varOff);
}

// ---- the log's text -------------------------------------------------------------------

/** Signed values print in decimal within [-32768, 32767], else in hex (verbose_snum). */
function snum(x: bigint): string {
  return x >= -32768n && x <= 32767n ? x.toString() : T.hex(u64(x));
}

/** Unsigned values print in decimal up to 65535, else in hex (verbose_unum). */
function unum(x: bigint): string {
  return x <= 65535n ? x.toString() : T.hex(x);
}

/** Options of {@link formatScalar}. */
export interface FormatScalarOptions {
  /** The register is marked precise: the kernel prefixes `P`. */
  readonly precise?: boolean;
  /** The register's id (linked registers), printed first as `id=N`; 0 prints none. */
  readonly id?: number;
  /** Printed after the id as `+N`/`-N` when the id carries a constant delta. */
  readonly delta?: number;
}

/**
 * The text the 6.18 kernel's verifier log prints for a scalar register after `R1=`:
 * a constant as its value (`5`, `-1`, `0xffffffff`), otherwise
 * `scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))` — bounds at
 * their type's extreme are left out, a bound shares the text of a later one of the
 * same sign with the same value (`smax=umax=...`), and var_off is left out when
 * nothing is known.
 */
export function formatScalar(s: Scalar, opts: FormatScalarOptions = {}): string {
  const p = opts.precise ? "P" : "";
  if (T.isConst(s.varOff)) return `${p}${snum(s64(s.varOff.value))}`;
  const parts: string[] = [];
  if (opts.id) {
    let id = `id=${opts.id}`;
    if (opts.delta !== undefined) id += opts.delta >= 0 ? `+${opts.delta}` : `${opts.delta}`;
    parts.push(id);
  }
  // smin32/smax32 print as their u32 bit pattern when hex (no sign extension).
  const s32v = (x: number): bigint => (x >= -32768 && x <= 32767 ? BigInt(x) : BigInt(u32(x)));
  const items: { name: string; val: bigint; omit: boolean }[] = [
    { name: "smin", val: u64(s.smin), omit: s.smin === S64_MIN },
    { name: "smax", val: u64(s.smax), omit: s.smax === S64_MAX },
    { name: "umin", val: s.umin, omit: s.umin === 0n },
    { name: "umax", val: s.umax, omit: s.umax === U64_MAX },
    { name: "smin32", val: u64(s32v(s.s32min)), omit: s.s32min === S32_MIN },
    { name: "smax32", val: u64(s32v(s.s32max)), omit: s.s32max === S32_MAX },
    { name: "umin32", val: BigInt(s.u32min), omit: s.u32min === 0 },
    { name: "umax32", val: BigInt(s.u32max), omit: s.u32max === U32_MAX },
  ];
  const negative = (m: { name: string; val: bigint }): boolean =>
    m.name[0] === "s" && s64(m.val) < 0n;
  for (let i = 0; i < items.length; i++) {
    const m1 = items[i]!;
    if (m1.omit) continue;
    let text = `${m1.name}=`;
    const neg1 = negative(m1);
    for (let j = i + 2; j < items.length; j += 2) {
      const m2 = items[j]!;
      if (m2.omit || m2.val !== m1.val) continue;
      if (negative(m2) !== neg1) continue;
      m2.omit = true;
      text += `${m2.name}=`;
    }
    text += m1.name[0] === "s" ? snum(s64(m1.val)) : unum(m1.val);
    parts.push(text);
  }
  if (!T.isUnknown(s.varOff)) parts.push(`var_off=${T.formatTnum(s.varOff)}`);
  return `${p}scalar(${parts.join(",")})`;
}
