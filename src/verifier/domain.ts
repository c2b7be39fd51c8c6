/**
 * The scalar abstract domain the verifier core uses: what it knows about a 64-bit value
 * (signed and unsigned bounds in 64 and 32 bits, and known bits).
 *
 * INTERIM: a small interval domain written so the core can run; it is sound (every
 * result contains every concrete result) but coarser than the kernel's tnum + bounds
 * arithmetic, which replaces it (src/verifier/scalar.ts). The core only calls what is
 * exported here.
 * @module
 */
import type { AluOp, JumpOp } from "../isa/index.ts";

/** Known bits: `value` where `mask` is 0; unknown where `mask` is 1. */
export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

/** What the verifier knows about a scalar (or a pointer's variable offset). */
export interface Scalar {
  readonly varOff: Tnum;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly s32min: number;
  readonly s32max: number;
  readonly u32min: number;
  readonly u32max: number;
}

const U64 = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const U32 = 0xffffffff;

const u64 = (v: bigint) => BigInt.asUintN(64, v);
const bmax = (a: bigint, b: bigint) => (a > b ? a : b);
const bmin = (a: bigint, b: bigint) => (a < b ? a : b);
const s64 = (v: bigint) => BigInt.asIntN(64, v);

function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = chi === 0n ? 0 : chi.toString(2).length;
  if (bits > 63) return { value: 0n, mask: U64 };
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64, mask: delta };
}

/** Builds a scalar from unsigned 64-bit bounds and signed ones, deriving the rest. */
function make(umin: bigint, umax: bigint, smin = S64_MIN, smax = S64_MAX): Scalar {
  // Unsigned range within the non-negative signed half: the signed bounds follow.
  if (umax <= S64_MAX) {
    smin = smin > umin ? smin : umin;
    smax = smax < umax ? smax : umax;
  } else if (umin > S64_MAX) {
    const lo = s64(umin);
    const hi = s64(umax);
    smin = smin > lo ? smin : lo;
    smax = smax < hi ? smax : hi;
  }
  if (smin >= 0n) {
    umin = umin > smin ? umin : smin;
    umax = umax < smax ? umax : smax;
  }
  let u32min = 0;
  let u32max = U32;
  let s32min = -0x80000000;
  let s32max = 0x7fffffff;
  if (umax >> 32n === umin >> 32n) {
    u32min = Number(umin & 0xffffffffn);
    u32max = Number(umax & 0xffffffffn);
    if (u32max <= 0x7fffffff || u32min > 0x7fffffff) {
      s32min = u32min | 0;
      s32max = u32max | 0;
    }
  }
  return { varOff: tnumRange(umin, umax), smin, smax, umin, umax, s32min, s32max, u32min, u32max };
}

export function scalarConst(v: bigint): Scalar {
  const u = u64(v);
  return make(u, u);
}

export function scalarUnknown(): Scalar {
  return make(0n, U64);
}

/** A value loaded with `bytes` bytes, zero-extended: [0, 2^(8*bytes) - 1]. */
export function scalarOfSize(bytes: number): Scalar {
  return bytes >= 8 ? scalarUnknown() : make(0n, (1n << BigInt(bytes * 8)) - 1n);
}

/** [lo, hi], unsigned. */
export function scalarRange(lo: bigint, hi: bigint): Scalar {
  return make(lo, hi);
}

export const isConst = (s: Scalar): boolean => s.umin === s.umax;

/** The unsigned value of a constant scalar. */
export const constValue = (s: Scalar): bigint => s.umin;

/** The low 32 bits, zero-extended (a 32-bit ALU result or a mov32). */
export function scalarZext32(s: Scalar): Scalar {
  return make(BigInt(s.u32min), BigInt(s.u32max));
}

/** A scalar known only by its signed 64-bit bounds. */
function signed(smin: bigint, smax: bigint): Scalar {
  if (smin >= 0n || smax < 0n) return make(u64(smin), u64(smax), smin, smax);
  return make(0n, U64, smin, smax);
}

const low32 = (s: Scalar): Scalar => scalarZext32(s);

function aluConst(op: AluOp, a: bigint, b: bigint, bits: 32 | 64): bigint | undefined {
  const w = BigInt(bits);
  const mask = (1n << w) - 1n;
  const ua = a & mask;
  const ub = b & mask;
  const sa = BigInt.asIntN(bits, ua);
  const sb = BigInt.asIntN(bits, ub);
  switch (op) {
    case "add":
      return (ua + ub) & mask;
    case "sub":
      return (ua - ub) & mask;
    case "mul":
      return (ua * ub) & mask;
    case "div":
      return ub === 0n ? 0n : ua / ub;
    case "mod":
      return ub === 0n ? ua : ua % ub;
    case "sdiv":
      return ub === 0n ? 0n : (sa / sb) & mask;
    case "smod":
      return ub === 0n ? ua : (sa % sb) & mask;
    case "or":
      return ua | ub;
    case "and":
      return ua & ub;
    case "xor":
      return ua ^ ub;
    case "lsh":
      return (ua << (ub & (w - 1n))) & mask;
    case "rsh":
      return ua >> (ub & (w - 1n));
    case "arsh":
      return (sa >> (ub & (w - 1n))) & mask;
    case "neg":
      return -ua & mask;
    case "mov":
      return ub;
    default:
      return undefined;
  }
}

/**
 * `dst op= src` on scalars, in `bits`. 32-bit results are zero-extended. Shifts by an
 * amount that may reach the width give an unknown value, as the kernel does.
 */
export function scalarAlu(op: AluOp, dst: Scalar, src: Scalar, bits: 32 | 64): Scalar {
  if (op === "mov") return bits === 64 ? src : low32(src);
  const a = bits === 64 ? dst : low32(dst);
  const b = bits === 64 ? src : low32(src);
  const top = bits === 64 ? U64 : BigInt(U32);
  if (isConst(a) && isConst(b)) {
    const v = aluConst(op, a.umin, b.umin, bits);
    if (v !== undefined) return scalarConst(v);
  }
  if (op === "neg" && isConst(a)) return scalarConst(aluConst("neg", a.umin, 0n, bits) as bigint);
  switch (op) {
    case "add":
      if (a.umax + b.umax <= top) return make(a.umin + b.umin, a.umax + b.umax);
      if (bits === 64 && a.smin + b.smin >= S64_MIN && a.smax + b.smax <= S64_MAX)
        return signed(a.smin + b.smin, a.smax + b.smax);
      break;
    case "sub":
      if (a.umin >= b.umax) return make(a.umin - b.umax, a.umax - b.umin);
      if (bits === 64 && a.smin - b.smax >= S64_MIN && a.smax - b.smin <= S64_MAX)
        return signed(a.smin - b.smax, a.smax - b.smin);
      break;
    case "mul":
      if (a.umax * b.umax <= top) return make(a.umin * b.umin, a.umax * b.umax);
      break;
    case "and":
      return make(0n, bmin(a.umax, b.umax));
    case "or":
    case "xor": {
      const m = bmax(a.umax, b.umax);
      const hi = m === 0n ? 0n : (1n << BigInt(m.toString(2).length)) - 1n;
      return make(op === "or" ? bmax(a.umin, b.umin) : 0n, hi);
    }
    case "rsh":
      if (isConst(b) && b.umin < BigInt(bits)) return make(a.umin >> b.umin, a.umax >> b.umin);
      break;
    case "lsh":
      if (isConst(b) && b.umin < BigInt(bits) && a.umax << b.umin <= top)
        return make(a.umin << b.umin, a.umax << b.umin);
      break;
    case "div":
      if (isConst(b) && b.umin !== 0n) return make(a.umin / b.umin, a.umax / b.umin);
      break;
    case "mod":
      if (isConst(b) && b.umin !== 0n) return make(0n, b.umin - 1n < a.umax ? b.umin - 1n : a.umax);
      break;
    default:
      break;
  }
  return bits === 64 ? scalarUnknown() : scalarOfSize(4);
}

/** A `bits`-wide value sign-extended to 64 bits (movsx, ldsx). */
export function scalarSext(s: Scalar, fromBits: 8 | 16 | 32): Scalar {
  const w = BigInt(fromBits);
  if (s.umax < 1n << (w - 1n)) return s; // non-negative in the narrow width: unchanged
  if (isConst(s)) return scalarConst(BigInt.asIntN(fromBits, s.umin));
  return signed(-(1n << (w - 1n)), (1n << (w - 1n)) - 1n);
}

/** The view of a scalar a 32-bit jump compares: its low half, as a 64-bit scalar. */
const view = (s: Scalar, bits: 32 | 64) => (bits === 64 ? s : low32(s));
const sview = (s: Scalar, bits: 32 | 64): [bigint, bigint] =>
  bits === 64 ? [s.smin, s.smax] : [BigInt(s.s32min), BigInt(s.s32max)];

/**
 * Whether a conditional jump is taken: 1 always, 0 never, -1 either.
 */
export function isBranchTaken(op: JumpOp, dst: Scalar, src: Scalar, bits: 32 | 64): 1 | 0 | -1 {
  const a = view(dst, bits);
  const b = view(src, bits);
  const [asmin, asmax] = sview(dst, bits);
  const [bsmin, bsmax] = sview(src, bits);
  switch (op) {
    case "jeq":
      if (isConst(a) && isConst(b)) return a.umin === b.umin ? 1 : 0;
      if (a.umin > b.umax || a.umax < b.umin) return 0;
      return -1;
    case "jne":
      if (isConst(a) && isConst(b)) return a.umin !== b.umin ? 1 : 0;
      if (a.umin > b.umax || a.umax < b.umin) return 1;
      return -1;
    case "jset":
      if (isConst(a) && isConst(b)) return (a.umin & b.umin) !== 0n ? 1 : 0;
      if (a.umax === 0n || b.umax === 0n) return 0;
      return -1;
    case "jgt":
      return a.umin > b.umax ? 1 : a.umax <= b.umin ? 0 : -1;
    case "jge":
      return a.umin >= b.umax ? 1 : a.umax < b.umin ? 0 : -1;
    case "jlt":
      return a.umax < b.umin ? 1 : a.umin >= b.umax ? 0 : -1;
    case "jle":
      return a.umax <= b.umin ? 1 : a.umin > b.umax ? 0 : -1;
    case "jsgt":
      return asmin > bsmax ? 1 : asmax <= bsmin ? 0 : -1;
    case "jsge":
      return asmin >= bsmax ? 1 : asmax < bsmin ? 0 : -1;
    case "jslt":
      return asmax < bsmin ? 1 : asmin >= bsmax ? 0 : -1;
    case "jsle":
      return asmax <= bsmin ? 1 : asmin > bsmax ? 0 : -1;
  }
}

const NEGATE: Record<JumpOp, JumpOp> = {
  jeq: "jne",
  jne: "jeq",
  jgt: "jle",
  jle: "jgt",
  jge: "jlt",
  jlt: "jge",
  jsgt: "jsle",
  jsle: "jsgt",
  jsge: "jslt",
  jslt: "jsge",
  jset: "jset",
};

/**
 * What each side of `dst op src` is known to be when the jump is (or is not) taken.
 * 32-bit jumps refine nothing here (sound, coarser than the kernel).
 */
export function refineBranch(
  op: JumpOp,
  dst: Scalar,
  src: Scalar,
  bits: 32 | 64,
  taken: boolean,
): [Scalar, Scalar] {
  if (bits === 32) return [dst, src];
  const o = taken ? op : NEGATE[op];
  if (o === "jset") return [dst, src];
  let [a, b] = [dst, src];
  const umake = (s: Scalar, lo: bigint, hi: bigint) =>
    lo > hi ? s : make(bmax(s.umin, lo), bmin(s.umax, hi), s.smin, s.smax);
  const smake = (s: Scalar, lo: bigint, hi: bigint) =>
    lo > hi ? s : make(s.umin, s.umax, bmax(s.smin, lo), bmin(s.smax, hi));
  switch (o) {
    case "jeq": {
      const lo = bmax(a.umin, b.umin);
      const hi = bmin(a.umax, b.umax);
      a = umake(a, lo, hi);
      b = umake(b, lo, hi);
      break;
    }
    case "jne":
      if (isConst(b) && a.umin === b.umin && a.umax > a.umin) a = umake(a, a.umin + 1n, a.umax);
      else if (isConst(b) && a.umax === b.umin && a.umax > a.umin)
        a = umake(a, a.umin, a.umax - 1n);
      break;
    case "jgt":
      a = umake(a, b.umin + 1n, U64);
      b = umake(b, 0n, a.umax - 1n);
      break;
    case "jge":
      a = umake(a, b.umin, U64);
      b = umake(b, 0n, a.umax);
      break;
    case "jlt":
      a = umake(a, 0n, b.umax - 1n);
      b = umake(b, a.umin + 1n, U64);
      break;
    case "jle":
      a = umake(a, 0n, b.umax);
      b = umake(b, a.umin, U64);
      break;
    case "jsgt":
      a = smake(a, b.smin + 1n, S64_MAX);
      b = smake(b, S64_MIN, a.smax - 1n);
      break;
    case "jsge":
      a = smake(a, b.smin, S64_MAX);
      b = smake(b, S64_MIN, a.smax);
      break;
    case "jslt":
      a = smake(a, S64_MIN, b.smax - 1n);
      b = smake(b, a.smin + 1n, S64_MAX);
      break;
    case "jsle":
      a = smake(a, S64_MIN, b.smax);
      b = smake(b, a.smin, S64_MAX);
      break;
  }
  return [a, b];
}

/** `cur` ⊆ `old`: every value `cur` may hold, `old` may too (state pruning). */
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
    (cur.varOff.value & ~old.varOff.mask) === (old.varOff.value & ~old.varOff.mask) &&
    (cur.varOff.mask & ~old.varOff.mask) === 0n
  );
}

export function scalarEqual(a: Scalar, b: Scalar): boolean {
  return scalarWithin(a, b) && scalarWithin(b, a);
}

/** The log's text for a scalar: its value when constant, else `scalar(...)` bounds. */
export function formatScalar(s: Scalar): string {
  if (isConst(s)) return String(s64(s.umin));
  const parts: string[] = [];
  if (s.smin !== S64_MIN) parts.push(`smin=${s.smin}`);
  if (s.smax !== S64_MAX) parts.push(`smax=${s.smax}`);
  if (s.umin !== 0n) parts.push(`umin=${s.umin}`);
  if (s.umax !== U64) parts.push(`umax=${s.umax}`);
  return `scalar(${parts.join(",")})`;
}
