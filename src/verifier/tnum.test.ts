// Tristate numbers: every operation is checked for soundness on random tnums and random
// members of them (the concrete result must be a member of the abstract one), and the
// helpers with a precise answer (range, member search, formatting) against brute force
// and the kernel's text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tnum } from "./tnum.ts";
import * as T from "./tnum.ts";

const M64 = (1n << 64n) - 1n;

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
  const k = r();
  const hi = BigInt(Math.floor(r() * 2 ** 32));
  const lo = BigInt(Math.floor(r() * 2 ** 32));
  const v = (hi << 32n) | lo;
  if (k < 0.25) return v & 0xffn;
  if (k < 0.4) return v & 0xffff_ffffn;
  if (k < 0.5) return (M64 - (v & 0xffn)) & M64;
  return v;
}

/** A random tnum with some known and some unknown bits. */
function randTnum(r: () => number): Tnum {
  const k = r();
  let mask = randU64(r);
  if (k < 0.3) mask &= 0xffn;
  else if (k < 0.5) mask &= randU64(r);
  else if (k < 0.6) mask = 0n;
  return { value: randU64(r) & ~mask & M64, mask };
}

/** A random member of `t`. */
function member(r: () => number, t: Tnum): bigint {
  return t.value | (randU64(r) & t.mask);
}

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

describe("tnum soundness", () => {
  const r = rng(1);
  const binary: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
    ["add", T.add, (x, y) => u64(x + y)],
    ["sub", T.sub, (x, y) => u64(x - y)],
    ["mul", T.mul, (x, y) => u64(x * y)],
    ["and", T.and, (x, y) => x & y],
    ["or", T.or, (x, y) => x | y],
    ["xor", T.xor, (x, y) => x ^ y],
  ];
  for (const [name, op, concrete] of binary) {
    it(`${name}: the concrete result is a member of the abstract one`, () => {
      for (let i = 0; i < 3000; i++) {
        const a = randTnum(r);
        const b = randTnum(r);
        const c = op(a, b);
        assert.equal(c.value & c.mask, 0n, `${name} result has value & mask set`);
        for (let j = 0; j < 4; j++) {
          const x = member(r, a);
          const y = member(r, b);
          const z = concrete(x, y);
          assert.ok(
            T.contains(c, z),
            `${name}(${T.formatTnum(a)}, ${T.formatTnum(b)}) = ${T.formatTnum(c)} misses ${x} ${name} ${y} = ${z}`,
          );
        }
      }
    });
  }

  it("neg, shifts, casts and byte swaps are sound", () => {
    for (let i = 0; i < 3000; i++) {
      const a = randTnum(r);
      const s = Math.floor(r() * 64);
      const s32 = s & 31;
      for (let j = 0; j < 4; j++) {
        const x = member(r, a);
        assert.ok(T.contains(T.neg(a), u64(-x)));
        assert.ok(T.contains(T.lshift(a, s), u64(x << BigInt(s))));
        assert.ok(T.contains(T.rshift(a, s), x >> BigInt(s)));
        assert.ok(T.contains(T.arshift(a, s, 64), u64(BigInt.asIntN(64, x) >> BigInt(s))));
        const lo = BigInt.asIntN(32, x);
        assert.ok(T.contains(T.arshift(a, s32, 32), BigInt.asUintN(32, lo >> BigInt(s32))));
        for (const size of [1, 2, 4, 8]) {
          assert.ok(T.contains(T.cast(a, size), BigInt.asUintN(size * 8, x)));
        }
        assert.ok(T.contains(T.subreg(a), x & 0xffff_ffffn));
        for (const bits of [16, 32, 64] as const) {
          let swapped = 0n;
          for (let b = 0; b < bits / 8; b++)
            swapped = (swapped << 8n) | ((x >> BigInt(8 * b)) & 0xffn);
          assert.ok(T.contains(T.bswap(a, bits), swapped));
        }
        assert.ok(T.contains(T.clearSubreg(a), x & ~0xffff_ffffn & M64));
      }
    }
  });

  it("intersect keeps the common members, union keeps both sides' members", () => {
    for (let i = 0; i < 3000; i++) {
      const a = randTnum(r);
      const b = randTnum(r);
      const u = T.union(a, b);
      assert.ok(T.tnumIn(u, a) && T.tnumIn(u, b));
      const x = member(r, a);
      if (T.contains(b, x)) assert.ok(T.contains(T.intersect(a, b), x));
      assert.ok(T.contains(u, x) && T.contains(u, member(r, b)));
    }
  });

  it("tnumIn(a, b) holds exactly when every member of b is a member of a", () => {
    for (let i = 0; i < 2000; i++) {
      // small tnums, so the members can be listed
      const a = { value: BigInt(Math.floor(r() * 64)), mask: BigInt(Math.floor(r() * 64)) };
      const b = { value: BigInt(Math.floor(r() * 64)), mask: BigInt(Math.floor(r() * 64)) };
      const na = { value: a.value & ~a.mask, mask: a.mask };
      const nb = { value: b.value & ~b.mask, mask: b.mask };
      let subset = true;
      for (let x = 0n; x < 64n; x++) if (T.contains(nb, x) && !T.contains(na, x)) subset = false;
      assert.equal(T.tnumIn(na, nb), subset, `${T.formatTnum(na)} ⊇ ${T.formatTnum(nb)}`);
    }
  });
});

describe("tnumRange", () => {
  it("holds every value of the range and is the kernel's shape", () => {
    const r = rng(2);
    for (let i = 0; i < 2000; i++) {
      let lo = randU64(r);
      let hi = randU64(r);
      if (lo > hi) [lo, hi] = [hi, lo];
      const t = T.tnumRange(lo, hi);
      assert.ok(T.contains(t, lo) && T.contains(t, hi));
      // the mask is a run of low ones
      assert.equal(t.mask & (t.mask + 1n), 0n);
    }
    assert.deepEqual(T.tnumRange(0n, 255n), { value: 0n, mask: 0xffn });
    assert.deepEqual(T.tnumRange(5n, 5n), { value: 5n, mask: 0n });
    assert.deepEqual(T.tnumRange(0n, M64), T.tnumUnknown);
    assert.deepEqual(T.tnumRange(0x100n, 0x1ffn), { value: 0x100n, mask: 0xffn });
  });
});

describe("member search", () => {
  it("minMemberAtLeast and maxMemberAtMost agree with a brute-force scan", () => {
    const r = rng(3);
    for (let i = 0; i < 3000; i++) {
      const mask = BigInt(Math.floor(r() * 256));
      const t = { value: BigInt(Math.floor(r() * 256)) & ~mask, mask };
      const y = BigInt(Math.floor(r() * 300));
      let lo: bigint | undefined;
      let hi: bigint | undefined;
      for (let x = 0n; x < 256n; x++) {
        if (!T.contains(t, x)) continue;
        if (x >= y && lo === undefined) lo = x;
        if (x <= y) hi = x;
      }
      assert.equal(T.minMemberAtLeast(t, y), lo, `min ≥ ${y} of ${T.formatTnum(t)}`);
      assert.equal(T.maxMemberAtMost(t, y), hi, `max ≤ ${y} of ${T.formatTnum(t)}`);
    }
  });

  it("works at the top of the 64-bit range", () => {
    assert.equal(T.minMemberAtLeast({ value: 0n, mask: 1n }, M64), undefined);
    assert.equal(T.minMemberAtLeast(T.tnumUnknown, M64), M64);
    assert.equal(T.maxMemberAtMost({ value: 1n << 63n, mask: 0n }, 5n), undefined);
  });
});

describe("formatting and predicates", () => {
  it("prints as the kernel's tnum_strn", () => {
    assert.equal(T.formatTnum({ value: 0n, mask: 0xffn }), "(0x0; 0xff)");
    assert.equal(T.formatTnum({ value: 0xffff_ff80n, mask: 0x7fn }), "(0xffffff80; 0x7f)");
  });

  it("isAligned, isConst, subregs", () => {
    assert.ok(T.isAligned({ value: 8n, mask: 0xf0n }, 8n));
    assert.ok(!T.isAligned({ value: 8n, mask: 0xf4n }, 8n));
    assert.ok(T.isAligned({ value: 3n, mask: 0n }, 0n));
    assert.ok(T.isConst(T.tnumConst(-1n)) && T.tnumConst(-1n).value === M64);
    assert.ok(T.subregIsConst({ value: 5n, mask: 0xff00_0000_0000n }));
    assert.deepEqual(T.constSubreg(T.tnumUnknown, 7), {
      value: 7n,
      mask: 0xffff_ffff_0000_0000n,
    });
    assert.deepEqual(T.withSubreg(T.tnumConst(0x1_0000_0000n), T.tnumUnknown), {
      value: 0x1_0000_0000n,
      mask: 0xffff_ffffn,
    });
  });

  it("mul is exact on constants and loses nothing on a known factor of one", () => {
    assert.deepEqual(T.mul(T.tnumConst(6n), T.tnumConst(7n)), T.tnumConst(42n));
    const x = { value: 0n, mask: 0xffn };
    assert.deepEqual(T.mul(x, T.tnumConst(1n)), x);
    assert.deepEqual(T.mul(T.tnumConst(1n << 63n), T.tnumConst(2n)), T.tnumConst(0n));
  });
});
