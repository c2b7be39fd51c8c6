/**
 * The scalar domain as the verifier core uses it: thin names over scalar.ts (the
 * kernel's tnum + bounds arithmetic), in the widths the walker speaks (`bits` 32/64).
 * @module
 */
import type { AluOp, JumpOp } from "../isa/index.ts";
import * as S from "./scalar.ts";

export type { Scalar } from "./scalar.ts";
export {
  formatScalar,
  scalarConst,
  scalarEquals as scalarEqual,
  scalarUnknown,
  scalarWithin,
} from "./scalar.ts";

type Scalar = S.Scalar;

export const isConst = (s: Scalar): boolean => S.scalarIsConst(s);
/** The unsigned 64-bit value of a constant. */
export const constValue = (s: Scalar): bigint => s.varOff.value;

/** A value loaded with `bytes` bytes: [0, 2^(8*bytes) - 1]. */
export const scalarOfSize = (bytes: number): Scalar => S.scalarFromLoad(bytes as 1 | 2 | 4 | 8);

/** The low 32 bits, zero-extended (a mov32). */
export const scalarZext32 = (s: Scalar): Scalar => S.scalarAlu("mov", s, s, false);

/** movsx: the low `from` bits sign-extended, in 64 or 32 bits. */
export const scalarMovsx = (s: Scalar, from: 8 | 16 | 32, bits: 32 | 64): Scalar =>
  S.scalarMovsx(s, from, bits === 64);

/** A loaded value narrowed to `size` bytes, zero- or sign-extended. */
export const scalarCoerce = (s: Scalar, size: 1 | 2 | 4, signExtend: boolean): Scalar =>
  signExtend ? S.coerceToSizeSx(s, size) : S.coerceToSize(s, size);

export function scalarAlu(op: AluOp, dst: Scalar, src: Scalar, bits: 32 | 64): Scalar {
  return S.scalarAlu(op as S.ScalarAluOp, dst, src, bits === 64);
}

export const maybeFork = (op: AluOp, dst: Scalar, src: Scalar): [Scalar, Scalar] | undefined =>
  S.maybeForkScalars(op as S.ScalarAluOp, dst, src);

export const scalarEndian = S.scalarEndian;

export function isBranchTaken(op: JumpOp, a: Scalar, b: Scalar, bits: 32 | 64): 1 | 0 | -1 {
  return S.isBranchTaken(op, a, b, bits === 32);
}

export function refineBranch(
  op: JumpOp,
  a: Scalar,
  b: Scalar,
  bits: 32 | 64,
  taken: boolean,
  sameReg = false,
): [Scalar, Scalar] {
  return S.refineBranch(op, a, b, bits === 32, taken, sameReg);
}

/** checkScalarInvariants: the kernel's "REG INVARIANTS VIOLATION" check. */
export const invariants = S.checkScalarInvariants;
