// The scalar domain: soundness on generated inputs (for random abstract values and
// random concrete members of them, every operation's concrete result is a member of its
// abstract result, in 64 and 32 bits, and a branch refinement never drops a pair that
// takes that side), plus named cases whose expected text was copied from the Linux 6.18
// verifier's level-2 log (test/verifier-scalar-kernel.test.ts compares thousands more
// against the running kernel).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JumpOp } from "../isa/instruction.ts";
import {
  checkScalarInvariants,
  coerceToSize,
  coerceToSizeSx,
  formatScalar,
  isBranchTaken,
  maybeForkScalars,
  refineBranch,
  type Scalar,
  type ScalarAluOp,
  scalarAlu,
  scalarConst,
  scalarContains,
  scalarEndian,
  scalarEquals,
  scalarFromLoad,
  scalarIsEmpty,
  scalarMovsx,
  scalarSync,
  scalarUnknown,
  scalarWithBounds,
  scalarWithin,
} from "./scalar.ts";
import * as T from "./tnum.ts";

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const lo32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const slo32 = (x: bigint): bigint => BigInt.asIntN(32, x);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randU64(r: () => number): bigint {
  const hi = BigInt(Math.floor(r() * 2 ** 32));
  const lo = BigInt(Math.floor(r() * 2 ** 32));
  const v = (hi << 32n) | lo;
  const k = r();
  if (k < 0.2) return v & 0xffn;
  if (k < 0.3) return v & 0xffff_ffffn;
  if (k < 0.4) return u64(-(v & 0xffn));
  if (k < 0.45) return u64(slo32(v));
  if (k < 0.5) return (1n << BigInt(Math.floor(r() * 64))) + BigInt(Math.floor(r() * 3) - 1);
  return v;
}

/** A spread around `x` in one domain: [x - a, x + b] clamped to [lo, hi]. */
function around(r: () => number, x: bigint, lo: bigint, hi: bigint): [bigint, bigint] {
  const w = (): bigint => {
    const k = r();
    if (k < 0.3) return 0n;
    if (k < 0.6) return BigInt(Math.floor(r() * 300));
    if (k < 0.8) return BigInt(Math.floor(r() * 2 ** 32));
    return hi - lo;
  };
  const a = x - w();
  const b = x + w();
  return [a < lo ? lo : a, b > hi ? hi : b];
}

/** A random abstract scalar with `x` among its members, and `x`. */
function randScalar(r: () => number): { s: Scalar; x: bigint } {
  const x = randU64(r);
  if (r() < 0.1) return { s: scalarConst(x), x };
  if (r() < 0.05) return { s: scalarUnknown(), x };
  let mask = randU64(r);
  if (r() < 0.3) mask = M64;
  const [umin, umax] = around(r, x, 0n, M64);
  const [smin, smax] = around(r, s64(x), -(1n << 63n), (1n << 63n) - 1n);
  const [u32min, u32max] = around(r, lo32(x), 0n, 0xffff_ffffn);
  const [s32min, s32max] = around(r, slo32(x), -(1n << 31n), (1n << 31n) - 1n);
  const raw: Scalar = {
    varOff: { value: x & ~mask & M64, mask },
    umin,
    umax,
    smin,
    smax,
    u32min: Number(u32min),
    u32max: Number(u32max),
    s32min: Number(s32min),
    s32max: Number(s32max),
  };
  const s = scalarSync(raw);
  assert.ok(scalarContains(raw, x));
  assert.ok(scalarContains(s, x), `reg_bounds_sync dropped ${x} from ${formatScalar(raw)}`);
  return { s, x };
}

/** Another member of `s`, or `x` when a few random tries find none. */
function otherMember(r: () => number, s: Scalar, x: bigint): bigint {
  for (let i = 0; i < 8; i++) {
    const y = s.varOff.value | (randU64(r) & s.varOff.mask);
    if (scalarContains(s, y)) return y;
    const z = s.umin + (r() < 0.5 ? 0n : BigInt(Math.floor(r() * 100)));
    if (scalarContains(s, z)) return z;
  }
  return x;
}

/** BPF's concrete semantics of an ALU operation, 64-bit or 32-bit (zero-extended). */
function concrete(op: ScalarAluOp, x: bigint, y: bigint, is64: boolean): bigint {
  const bits = is64 ? 64 : 32;
  const U = (v: bigint): bigint => BigInt.asUintN(bits, v);
  const S = (v: bigint): bigint => BigInt.asIntN(bits, v);
  const a = U(x);
  const b = U(y);
  const min = -(1n << BigInt(bits - 1));
  switch (op) {
    case "add":
      return U(a + b);
    case "sub":
      return U(a - b);
    case "mul":
      return U(a * b);
    case "div":
      return b === 0n ? 0n : a / b;
    case "sdiv":
      if (b === 0n) return 0n;
      if (S(a) === min && S(b) === -1n) return U(min);
      return U(S(a) / S(b));
    case "mod":
      return b === 0n ? a : a % b;
    case "smod":
      if (b === 0n) return a;
      if (S(b) === -1n) return 0n;
      return U(S(a) % S(b));
    case "and":
      return a & b;
    case "or":
      return a | b;
    case "xor":
      return a ^ b;
    case "lsh":
      return U(a << (b & BigInt(bits - 1)));
    case "rsh":
      return a >> (b & BigInt(bits - 1));
    case "arsh":
      return U(S(a) >> (b & BigInt(bits - 1)));
    case "neg":
      return U(-a);
    case "mov":
      return b;
  }
}

function holds(op: JumpOp, x: bigint, y: bigint, is32: boolean): boolean {
  const a = is32 ? lo32(x) : x;
  const b = is32 ? lo32(y) : y;
  const sa = is32 ? slo32(x) : s64(x);
  const sb = is32 ? slo32(y) : s64(y);
  switch (op) {
    case "jeq":
      return a === b;
    case "jne":
      return a !== b;
    case "jgt":
      return a > b;
    case "jge":
      return a >= b;
    case "jlt":
      return a < b;
    case "jle":
      return a <= b;
    case "jsgt":
      return sa > sb;
    case "jsge":
      return sa >= sb;
    case "jslt":
      return sa < sb;
    case "jsle":
      return sa <= sb;
    case "jset":
      return (a & b) !== 0n;
  }
}

const OPS: ScalarAluOp[] = [
  "add",
  "sub",
  "mul",
  "div",
  "sdiv",
  "mod",
  "smod",
  "and",
  "or",
  "xor",
  "lsh",
  "rsh",
  "arsh",
  "neg",
  "mov",
];
const JUMPS: JumpOp[] = [
  "jeq",
  "jne",
  "jgt",
  "jge",
  "jlt",
  "jle",
  "jsgt",
  "jsge",
  "jslt",
  "jsle",
  "jset",
];

describe("scalar soundness on generated inputs", () => {
  for (const is64 of [true, false]) {
    for (const op of OPS) {
      it(`${is64 ? "" : "w-"}${op}: every concrete result is a member of the abstract one`, () => {
        const r = rng(OPS.indexOf(op) * 2 + (is64 ? 1 : 0) + 100);
        let nontrivial = 0;
        for (let i = 0; i < 700; i++) {
          const d = randScalar(r);
          let src = randScalar(r);
          // shifts are only tracked by an in-range constant: make that common
          if ((op === "lsh" || op === "rsh" || op === "arsh") && r() < 0.7) {
            const k = BigInt(Math.floor(r() * (is64 ? 64 : 32)));
            src = { s: scalarConst(k), x: k };
          }
          const res = scalarAlu(op, d.s, src.s, is64);
          if (!T.isUnknown(res.varOff) || res.umax !== M64) nontrivial++;
          for (let j = 0; j < 4; j++) {
            const x = j === 0 ? d.x : otherMember(r, d.s, d.x);
            const y = j === 0 ? src.x : otherMember(r, src.s, src.x);
            const z = concrete(op, x, y, is64);
            assert.ok(
              scalarContains(res, z),
              `${op}${is64 ? "" : "32"}(${formatScalar(d.s)} ∋ ${x}, ${formatScalar(src.s)} ∋ ${y}) = ${formatScalar(res)} misses ${z}`,
            );
          }
        }
        // 6.18 tracks no division or modulo: those results are always unknown
        if (!["div", "sdiv", "mod", "smod"].includes(op)) {
          assert.ok(nontrivial > 50, `only ${nontrivial} results said anything`);
        }
      });
    }
  }

  it("movsx, byte swaps, loads and truncation are sound", () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const { s, x } = randScalar(r);
      for (const from of [8, 16, 32] as const) {
        const w = from / 8;
        const ext = u64(BigInt.asIntN(from, x));
        assert.ok(
          scalarContains(scalarMovsx(s, from, true), ext),
          `(s${from}) ${formatScalar(s)} ∋ ${x}`,
        );
        assert.ok(scalarContains(coerceToSizeSx(s, w as 1 | 2 | 4), ext));
        assert.ok(scalarContains(coerceToSize(s, w as 1 | 2 | 4), BigInt.asUintN(from, x)));
        if (from !== 32) {
          const ext32 = lo32(BigInt.asIntN(from, x));
          assert.ok(
            scalarContains(scalarMovsx(s, from, false), ext32),
            `w (s${from}) ${formatScalar(s)} ∋ ${x}`,
          );
        }
      }
      for (const bits of [16, 32, 64] as const) {
        const n = bits / 8;
        let swapped = 0n;
        for (let b = 0; b < n; b++) swapped = (swapped << 8n) | ((x >> BigInt(8 * b)) & 0xffn);
        const trunc = BigInt.asUintN(bits, x);
        assert.ok(scalarContains(scalarEndian(s, "be", bits), swapped));
        assert.ok(scalarContains(scalarEndian(s, "swap", bits), swapped));
        assert.ok(scalarContains(scalarEndian(s, "le", bits), trunc));
      }
    }
    for (const size of [1, 2, 4, 8] as const) {
      const l = scalarFromLoad(size);
      assert.ok(scalarContains(l, 0n) && scalarContains(l, (1n << BigInt(8 * size)) - 1n));
      if (size < 8) assert.equal(l.umax, (1n << BigInt(8 * size)) - 1n);
      const sx = scalarFromLoad(size, true);
      assert.ok(scalarContains(sx, u64(-(1n << BigInt(8 * size - 1)))));
    }
  });

  it("maybeForkScalars splits [-1, 0] without losing a value", () => {
    const r = rng(8);
    let forks = 0;
    for (let i = 0; i < 3000; i++) {
      const { s, x } = randScalar(r);
      const k = scalarConst(randU64(r));
      const fork = maybeForkScalars(r() < 0.5 ? "and" : "or", s, k);
      if (!fork) continue;
      forks++;
      assert.ok(scalarContains(fork[0], x) || scalarContains(fork[1], x));
    }
    const m1 = scalarAlu("arsh", scalarUnknown(), scalarConst(63n), true);
    assert.equal(formatScalar(m1), "scalar(smin=smin32=-1,smax=smax32=0)");
    const f = maybeForkScalars("and", m1, scalarConst(5n));
    assert.ok(f);
    assert.equal(formatScalar(f[0]), "0");
    assert.equal(formatScalar(f[1]), "-1");
    assert.equal(maybeForkScalars("xor", m1, scalarConst(5n)), undefined);
    assert.equal(maybeForkScalars("and", m1, scalarUnknown()), undefined);
    void forks;
  });

  for (const is32 of [false, true]) {
    it(`${is32 ? "jmp32" : "jmp"}: isBranchTaken never contradicts a concrete pair, refineBranch keeps it`, () => {
      const r = rng(is32 ? 9 : 10);
      let decided = 0;
      for (let i = 0; i < 6000; i++) {
        const op = JUMPS[i % JUMPS.length]!;
        const a = randScalar(r);
        const b =
          r() < 0.5
            ? randScalar(r)
            : (() => {
                const k = u64(BigInt(Math.floor(r() * 600) - 300));
                return { s: scalarConst(k), x: k };
              })();
        const pred = isBranchTaken(op, a.s, b.s, is32);
        if (pred !== -1) decided++;
        for (let j = 0; j < 3; j++) {
          const x = j === 0 ? a.x : otherMember(r, a.s, a.x);
          const y = j === 0 ? b.x : otherMember(r, b.s, b.x);
          const taken = holds(op, x, y, is32);
          const what = `${formatScalar(a.s)} ∋ ${x} ${op}${is32 ? "32" : ""} ${formatScalar(b.s)} ∋ ${y}`;
          if (pred !== -1) assert.equal(pred === 1, taken, `isBranchTaken says ${pred}: ${what}`);
          const [na, nb] = refineBranch(op, a.s, b.s, is32, taken);
          assert.ok(!scalarIsEmpty(na) && !scalarIsEmpty(nb), `empty side: ${what}`);
          assert.ok(
            scalarContains(na, x),
            `${taken ? "taken" : "fall"} side lost ${x}: ${what} -> ${formatScalar(na)}`,
          );
          assert.ok(
            scalarContains(nb, y),
            `${taken ? "taken" : "fall"} side lost ${y}: ${what} -> ${formatScalar(nb)}`,
          );
        }
        // if r1 op r1
        const same = isBranchTaken(op, a.s, a.s, is32);
        if (same !== -1)
          assert.equal(same === 1, holds(op, a.x, a.x, is32), `${op} on one register`);
      }
      assert.ok(decided > 500, `only ${decided} branches were decided`);
    });
  }
});

describe("pruning checks", () => {
  it("scalarWithin: a scalar is within itself and within unknown; a constant within its range", () => {
    const r = rng(11);
    for (let i = 0; i < 2000; i++) {
      const { s, x } = randScalar(r);
      assert.ok(scalarWithin(s, s));
      assert.ok(scalarWithin(scalarUnknown(), s));
      assert.ok(scalarWithin(s, scalarConst(x)), `${formatScalar(s)} ⊇ ${x}`);
    }
    assert.ok(!scalarWithin(scalarConst(1n), scalarConst(2n)));
    assert.ok(scalarEquals(scalarConst(7n), scalarConst(7n)));
    assert.ok(!scalarEquals(scalarConst(7n), scalarUnknown()));
  });
});

/** The kernel's log text for `s`. */
function text(s: Scalar): string {
  return formatScalar(s);
}

describe("named cases, with the text of the 6.18 kernel's log", () => {
  const unknown = scalarUnknown();
  const and = (s: Scalar, k: bigint, is64 = true): Scalar =>
    scalarAlu("and", s, scalarConst(k), is64);

  it("constants print as signed numbers, decimal inside [-32768, 32767]", () => {
    assert.equal(text(scalarConst(0n)), "0");
    assert.equal(text(scalarConst(4660n)), "4660");
    assert.equal(text(scalarConst(-1n)), "-1");
    assert.equal(text(scalarConst(0x12345678n)), "0x12345678");
    assert.equal(text(scalarConst(0xffff_ffffn)), "0xffffffff");
    assert.equal(text(scalarConst(-32768n)), "-32768");
    assert.equal(text(scalarConst(-32769n)), "0xffffffffffff7fff");
    assert.equal(formatScalar(scalarConst(5n), { precise: true }), "P5");
    assert.equal(text(unknown), "scalar()");
    assert.equal(formatScalar(unknown, { id: 1 }), "scalar(id=1)");
  });

  it("scalarWithBounds narrows an unknown scalar and syncs", () => {
    assert.equal(
      text(scalarWithBounds({ smin: 0n, smax: 127n })),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))",
    );
    assert.equal(text(scalarWithBounds({})), "scalar()");
    assert.equal(text(scalarWithBounds({ umin: 5n, umax: 5n })), "5");
  });

  it("r6 &= 0xff", () => {
    assert.equal(
      text(and(unknown, 0xffn)),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
    );
  });

  it("r6 &= 15; r6 = -r6; w7 = w6; w7 = -w7", () => {
    const r6 = scalarAlu("neg", and(unknown, 15n), unknown, true);
    assert.equal(text(r6), "scalar(smin=smin32=-15,smax=smax32=0)");
    const w7 = scalarAlu("mov", unknown, r6, false);
    assert.equal(
      text(w7),
      "scalar(smin=0,smax=umax=0xffffffff,smin32=-15,smax32=0,var_off=(0x0; 0xffffffff))",
    );
    assert.equal(
      text(scalarAlu("neg", w7, unknown, false)),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))",
    );
  });

  it("byte swaps: be16, le16, le64 of constants; bswap32 of a range", () => {
    assert.equal(text(scalarEndian(scalarConst(0x1234n), "be", 16)), "13330");
    assert.equal(text(scalarEndian(scalarConst(0x1234n), "le", 16)), "4660");
    assert.equal(text(scalarEndian(scalarConst(0x12345678n), "le", 64)), "0x12345678");
    const r6 = scalarAlu("neg", and(unknown, 15n), unknown, true);
    assert.equal(
      text(scalarEndian(r6, "swap", 32)),
      "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))",
    );
    assert.equal(
      text(scalarEndian(r6, "be", 16)),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))",
    );
  });

  it("division and modulo give an unknown scalar, even by a constant", () => {
    assert.equal(text(scalarAlu("div", and(unknown, 0xffn), scalarConst(3n), true)), "scalar()");
    assert.equal(text(scalarAlu("mod", and(unknown, 0xffn), scalarConst(7n), false)), "scalar()");
  });

  it("r6 |= 0x7fff, then (s32) and (s16)", () => {
    const r6 = scalarAlu("or", unknown, scalarConst(0x7fffn), true);
    assert.equal(
      text(r6),
      "scalar(smin=0x8000000000007fff,umin=umin32=32767,smin32=0x80007fff,var_off=(0x7fff; 0xffffffffffff8000))",
    );
    assert.equal(
      text(scalarMovsx(r6, 32, true)),
      "scalar(smin=0xffffffff80007fff,smax=0x7fffffff,umin=umin32=32767,smin32=0x80007fff)",
    );
    assert.equal(text(scalarMovsx(r6, 16, true)), "scalar(smin=smin32=-32768,smax=smax32=32767)");
  });

  it("[0x180, 0x1ff] sign-extended from 8 bits, in 64 and 32 bits", () => {
    const r6 = scalarAlu("or", and(unknown, 0x7fn), scalarConst(0x180n), true);
    assert.equal(
      text(r6),
      "scalar(smin=umin=smin32=umin32=384,smax=umax=smax32=umax32=511,var_off=(0x180; 0x7f))",
    );
    assert.equal(
      text(scalarMovsx(r6, 8, true)),
      "scalar(smin=smin32=-128,smax=smax32=-1,umin=0xffffffffffffff80,umin32=0xffffff80,var_off=(0xffffffffffffff80; 0x7f))",
    );
    assert.equal(
      text(scalarMovsx(r6, 8, false)),
      "scalar(smin=umin=umin32=0xffffff80,smax=umax=0xffffffff,smin32=-128,smax32=-1,var_off=(0xffffff80; 0x7f))",
    );
  });

  it("if r6 <= 0x20000 (fall-through), r6 <<= 8", () => {
    const [gt] = refineBranch("jle", unknown, scalarConst(0x20000n), false, false);
    assert.equal(text(gt), "scalar(umin=0x20001)");
    const [le] = refineBranch("jle", unknown, scalarConst(0x20000n), false, true);
    assert.equal(
      text(le),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=0x20000,var_off=(0x0; 0x3ffff))",
    );
    assert.equal(
      text(scalarAlu("lsh", gt, scalarConst(8n), true)),
      "scalar(smax=0x7fffffffffffff00,umax=0xffffffffffffff00,smax32=0x7fffff00,umax32=0xffffff00,var_off=(0x0; 0xffffffffffffff00))",
    );
  });

  it("if (r6 & 0xf0) == 5 is decided by the tnum", () => {
    assert.equal(isBranchTaken("jeq", and(unknown, 0xf0n), scalarConst(5n), false), 0);
    assert.equal(isBranchTaken("jne", and(unknown, 0xf0n), scalarConst(5n), false), 1);
    assert.equal(isBranchTaken("jeq", and(unknown, 0xf0n), scalarConst(0x50n), false), -1);
  });

  it("a u64 range holding one value of the tnum makes a constant", () => {
    // [0x8000, 0x20000] with var_off (0x0; 0x20000) can only be 0x20000
    const r = scalarSync({ ...and(unknown, 0x20000n), umin: 0x8000n, smin: 0x8000n });
    assert.equal(text(r), "0x20000");
  });

  it("a narrower 64-bit range is overwritten by the s32 one (the kernel's mixed deduction)", () => {
    // if r6 s> 255; if r6 < 255; if w6 > 514; if r6 > 514 (all fall-through): the
    // 64-bit bounds alone say 255, the kernel prints [255, 514]
    let s = unknown;
    [s] = refineBranch("jsgt", s, scalarConst(255n), false, false);
    [s] = refineBranch("jlt", s, scalarConst(255n), false, false);
    [s] = refineBranch("jgt", s, scalarConst(514n), true, false);
    assert.equal(
      text(s),
      "scalar(smax=255,umin=255,umax=0xffffffff00000202,smin32=0,smax32=umax32=514,var_off=(0x0; 0xffffffff000003ff))",
    );
    [s] = refineBranch("jgt", s, scalarConst(514n), false, false);
    assert.equal(
      text(s),
      "scalar(smin=umin=smin32=umin32=255,smax=umax=smax32=umax32=514,var_off=(0x0; 0x3ff))",
    );
  });

  it("if r6 s< r6 refines one register through both roles, and the dead side is reset", () => {
    // r6 s>>= 63; if r6 s< r6 goto ...: 6.18 decides nothing for one register, refines
    // it on the taken side into a contradiction, logs it and resets the bounds
    const r6 = scalarAlu("arsh", unknown, scalarConst(63n), true);
    assert.equal(isBranchTaken("jslt", r6, r6, false), -1);
    const [taken] = refineBranch("jslt", r6, r6, false, true, true);
    const checked = checkScalarInvariants(taken, "true_reg1");
    assert.equal(
      checked.message,
      "verifier bug: REG INVARIANTS VIOLATION (true_reg1): range bounds violation u64=[0x0, 0xffffffffffffffff] s64=[0x0, 0xffffffffffffffff] u32=[0x0, 0xffffffff] s32=[0xffffffff, 0x0] var_off=(0x0, 0xffffffffffffffff)",
    );
    assert.equal(text(checked.scalar), "scalar()");
    const [fall] = refineBranch("jslt", r6, r6, false, false, true);
    assert.equal(checkScalarInvariants(fall, "false_reg1").message, undefined);
    assert.equal(text(fall), "scalar(smin=smin32=-1,smax=smax32=0)");
  });

  it("a u64 range meeting the tnum in one value makes a constant, even past umax", () => {
    // w6 &= 0x8000; if r6 >= r6: the fall-through (r6 < r6) is dead, the kernel says 0x8000
    const r6 = scalarAlu("and", unknown, scalarConst(0x8000n), false);
    const [fall] = refineBranch("jge", r6, r6, false, false, true);
    assert.equal(text(fall), "0x8000");
  });

  it("w7 &= w8; w7 += w8 with r8 = 0x10000001", () => {
    const r8 = scalarConst(0x10000001n);
    const w7 = scalarAlu("and", unknown, r8, false);
    assert.equal(
      text(w7),
      "scalar(smin=smin32=0,smax=umax=smax32=umax32=0x10000001,var_off=(0x0; 0x10000001))",
    );
    assert.equal(
      text(scalarAlu("add", w7, r8, false)),
      "scalar(smin=umin=smin32=umin32=0x10000001,smax=umax=smax32=umax32=0x20000002,var_off=(0x0; 0x30000003))",
    );
  });
});
