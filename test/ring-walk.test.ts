/**
 * The ring buffer's record walk (src/kernel/readers/ring-walk.ts) on rings built in
 * memory, byte for byte as the kernel lays them out: the shared function and the
 * per-reader copies compiled from its source must walk alike. The kernel's own rings
 * go through it in kernel-ringbuf.test.ts (`raw.consume`, `onRecord`, the iterator).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import {
  ownWalker,
  pairWalker,
  type RecordFn,
  WALK_BAD_LEN,
  WALK_OFF,
  WALK_SKIPPED,
  WALK_USED,
  walkRecords,
} from "../src/kernel/readers/ring-walk.ts";

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const SIZE = 128;

type Rec = { len: number; flags?: number; fill?: number };

/**
 * A ring of SIZE bytes from offset `start`, its data area mapped twice as the kernel
 * maps it (the second copy mirrors the first), headers in `words` from index 0.
 */
function ring(start: number, recs: readonly Rec[]) {
  const buf = new ArrayBuffer(2 * SIZE);
  const data = new Uint8Array(buf);
  const dv = new DataView(buf);
  let off = start;
  for (const r of recs) {
    dv.setUint32(off % SIZE, (r.len | (r.flags ?? 0)) >>> 0, true);
    for (let i = 0; i < r.len; i++) data[(off + 8 + i) % SIZE] = r.fill ?? 0;
    off += (r.len + 15) & ~7;
  }
  data.copyWithin(SIZE, 0, SIZE);
  return { words: new Int32Array(buf), data, avail: off - start };
}

interface Seen {
  offset: number;
  length: number;
  first: number;
}

function walk(
  fn: typeof walkRecords,
  r: ReturnType<typeof ring>,
  off: number,
  limit = 1000,
  atomic = false,
  visit?: RecordFn,
) {
  const seen: Seen[] = [];
  const out = new Int32Array(4).fill(-1);
  const count = fn(
    r.words,
    0,
    SIZE - 1,
    atomic,
    off,
    r.avail,
    limit,
    r.data,
    (data, offset, length) => {
      seen.push({ offset, length, first: data[offset]! });
      return visit?.(data, offset, length);
    },
    out,
  );
  return {
    count,
    seen,
    used: out[WALK_USED],
    off: out[WALK_OFF],
    skipped: out[WALK_SKIPPED],
    bad: out[WALK_BAD_LEN],
  };
}

const walkers: [string, () => typeof walkRecords][] = [
  ["the shared walk", () => walkRecords],
  ["a reader's copy", ownWalker],
];

/** What pairWalker makes of `r` from `off`: the (offset, length) pairs and `out`. */
function pairWalk(
  r: ReturnType<typeof ring>,
  off: number,
  limit = 1000,
  atomic = false,
  room = 64,
) {
  const pairs = new Uint32Array(room);
  const out = new Int32Array(4).fill(-1);
  const count = pairWalker(r.words, 0, SIZE - 1, atomic)(pairs, off, r.avail, limit, out);
  const got: [number, number][] = [];
  for (let i = 0; i < count; i++) got.push([pairs[2 * i]!, pairs[2 * i + 1]!]);
  return {
    got,
    used: out[WALK_USED],
    off: out[WALK_OFF],
    skipped: out[WALK_SKIPPED],
    bad: out[WALK_BAD_LEN],
  };
}

describe("ring buffer pair walk (RawRingReader.fill)", () => {
  test("the same records as the callback walk, across the ring's end, discards counted", () => {
    for (const atomic of [false, true]) {
      const r = ring(96, [{ len: 4 }, { len: 20 }, { len: 3, flags: DISCARD }, { len: 16 }]);
      const got = pairWalk(r, 96, 1000, atomic);
      assert.deepEqual(got.got, [
        [104, 4],
        [120, 20],
        [40, 16],
      ]);
      assert.equal(got.skipped, 1);
      assert.equal(got.used, 16 + 32 + 16 + 24);
      assert.equal(got.off, 56);
      assert.equal(got.bad, -1);
    }
  });

  test("a run of equal headers, then a new length, a discard of the same length, an empty record", () => {
    // the walk takes a header equal to the last one's on one comparison: the
    // discarded twin (same length, DISCARD set) and the length change must not
    const r = ring(0, [
      { len: 4 },
      { len: 4 },
      { len: 4, flags: DISCARD },
      { len: 12 },
      { len: 12 },
      { len: 0 },
      { len: 4 },
    ]);
    const got = pairWalk(r, 0);
    assert.deepEqual(got.got, [
      [8, 4],
      [24, 4],
      [56, 12],
      [80, 12],
      [104, 0],
      [112, 4],
    ]);
    assert.equal(got.skipped, 1);
    assert.equal(got.used, r.avail);
  });

  test("a busy record, the limit, the room in pairs and the producer position end the walk", () => {
    const recs = [{ len: 8 }, { len: 8 }, { len: 8, flags: BUSY }, { len: 8 }];
    assert.equal(pairWalk(ring(0, recs), 0).got.length, 2);
    assert.equal(pairWalk(ring(0, recs), 0).used, 32);
    // a busy record after a run of its own length (the header differs only in BUSY)
    assert.equal(pairWalk(ring(0, [{ len: 8 }, { len: 8, flags: BUSY }]), 0).got.length, 1);
    const three = ring(0, [{ len: 8 }, { len: 8 }, { len: 8 }]);
    assert.equal(pairWalk(three, 0, 2).got.length, 2);
    assert.equal(pairWalk(three, 0, 1000, false, 5).got.length, 2); // 5 slots: 2 pairs
    assert.equal(pairWalk({ ...three, avail: 32 }, 0).used, 32);
  });

  test("a length past the producer position is reported, first record or after a run", () => {
    let got = pairWalk({ ...ring(0, [{ len: 8 }, { len: 40 }]), avail: 40 }, 0);
    assert.deepEqual([got.got.length, got.used, got.bad], [1, 16, 40]);
    // the same length as the record before, cut by the producer position
    got = pairWalk({ ...ring(0, [{ len: 8 }, { len: 8 }]), avail: 24 }, 0);
    assert.deepEqual([got.got.length, got.used, got.bad], [1, 16, 8]);
  });
});

describe("ring buffer record walk", () => {
  for (const [name, make] of walkers) {
    describe(name, () => {
      test("records in order, discarded ones skipped and counted, across the ring's end", () => {
        for (const atomic of [false, true]) {
          const r = ring(96, [
            { len: 4, fill: 1 },
            { len: 20, fill: 2 },
            { len: 3, flags: DISCARD },
            { len: 16, fill: 4 },
          ]);
          const lasts: number[] = [];
          const got = walk(make(), r, 96, 1000, atomic, (d, o, l) => {
            lasts.push(d[o + l - 1]!);
          });
          assert.equal(got.count, 3);
          // 96+16 = 112, +32 = 144 (the end crossed: 16), +16 = 32; the second record's
          // bytes run on past the end, into the second mapping
          assert.deepEqual(got.seen, [
            { offset: 104, length: 4, first: 1 },
            { offset: 120, length: 20, first: 2 },
            { offset: 40, length: 16, first: 4 },
          ]);
          assert.deepEqual(lasts, [1, 2, 4]);
          assert.equal(got.skipped, 1);
          assert.equal(got.used, 16 + 32 + 16 + 24);
          assert.equal(got.off, (96 + got.used!) % SIZE);
          assert.equal(got.bad, -1);
        }
      });

      test("a busy record ends the walk; so do the limit and the producer position", () => {
        const r = ring(0, [{ len: 8 }, { len: 8, flags: BUSY }, { len: 8 }]);
        let got = walk(make(), r, 0);
        assert.equal(got.count, 1);
        assert.equal(got.used, 16);
        got = walk(make(), ring(0, [{ len: 8 }, { len: 8 }, { len: 8 }]), 0, 2);
        assert.equal(got.count, 2);
        assert.equal(got.used, 32);
        const short = { ...ring(0, [{ len: 8 }, { len: 8 }]), avail: 16 };
        got = walk(make(), short, 0);
        assert.equal(got.count, 1);
        assert.equal(got.used, 16);
      });

      test("a length past the producer position stops before that record and is reported", () => {
        const r = { ...ring(0, [{ len: 8 }, { len: 40 }]), avail: 40 };
        const got = walk(make(), r, 0);
        assert.equal(got.count, 1);
        assert.equal(got.used, 16);
        assert.equal(got.bad, 40);
      });

      test("false from the callback ends the walk just past that record", () => {
        const r = ring(0, [{ len: 8 }, { len: 8, flags: DISCARD }, { len: 12 }, { len: 8 }]);
        let calls = 0;
        const got = walk(make(), r, 0, 1000, false, () => ++calls !== 2 && undefined);
        assert.equal(calls, 2);
        assert.equal(got.count, 2);
        assert.equal(got.used, 16 + 16 + 24);
        assert.equal(got.skipped, 1);
      });

      test("a throw from the callback ends the walk just past that record", () => {
        const r = ring(0, [{ len: 8 }, { len: 8, flags: DISCARD }, { len: 12 }, { len: 8 }]);
        const fn = make();
        const out = new Int32Array(4);
        let calls = 0;
        assert.throws(
          () =>
            fn(
              r.words,
              0,
              SIZE - 1,
              false,
              0,
              r.avail,
              100,
              r.data,
              () => {
                if (++calls === 2) throw new Error("second");
              },
              out,
            ),
          /second/,
        );
        assert.equal(out[WALK_USED], 16 + 16 + 24);
        assert.equal(out[WALK_OFF], 56);
        assert.equal(out[WALK_SKIPPED], 1);
      });
    });
  }

  test("each copy is a function of its own, made from the walk's own source", () => {
    const a = ownWalker();
    const b = ownWalker();
    assert.notEqual(a, walkRecords);
    assert.notEqual(a, b);
    assert.equal(a.name, "walkRecords");
  });

  test("a walk whose copy cannot run (coverage counters outside it) is used as it is", () => {
    // What istanbul makes of a function: counters in a variable of the module.
    const cov = { s: [0] };
    const instrumented: typeof walkRecords = (...args) => {
      cov.s[0]!++;
      return walkRecords(...args);
    };
    assert.equal(ownWalker(instrumented), instrumented);
    // the check walks one discarded record; a copy that delivers it is refused too
    const delivers: typeof walkRecords = (_w, _b, _m, _a, _o, _av, _l, data, fn) => {
      fn(data, 8, 4);
      return 1;
    };
    assert.equal(ownWalker(delivers), delivers);
  });

  test("overriding toString afterwards changes nothing that is compiled", () => {
    const saved = Function.prototype.toString;
    Function.prototype.toString = () => "function walkRecords() { return -1; }";
    try {
      const w = ownWalker();
      assert.notEqual(w, walkRecords);
      const r = ring(0, [{ len: 8 }]);
      assert.equal(walk(w, r, 0).count, 1);
    } finally {
      Function.prototype.toString = saved;
    }
  });

  test("where code cannot be made from strings, readers use the shared walk", () => {
    const url = new URL("../src/kernel/readers/ring-walk.ts", import.meta.url).href;
    const out = execFileSync(
      process.execPath,
      [
        "--disallow-code-generation-from-strings",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(url)}); console.log(m.ownWalker() === m.walkRecords);`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "true");
  });
});
