import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MapType } from "../uapi/index.ts";
import type { BackendVariable, LoadedCollection } from "./backend.ts";
import {
  array,
  asBigInt,
  asNumber,
  bigBits,
  bits,
  bool,
  boolBits,
  bytes,
  type Codec,
  chars,
  f32,
  f64,
  s8,
  s16,
  s32,
  s64,
  s128,
  struct,
  u8,
  u16,
  u32,
  u64,
  u128,
  union,
} from "./codec.ts";
import type { KeyValueMap, PerCpuMap } from "./map-api.ts";
import {
  encodeConstants,
  TypedMap,
  TypedPerCpuMap,
  TypedVariable,
  typedCollection,
} from "./typed.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const from = (h: string) => new Uint8Array(Buffer.from(h.replace(/ /g, ""), "hex"));

describe("integers", () => {
  test("little-endian, signed and unsigned, 64 and 128 bits as bigint", () => {
    const b = from("ff fe ff ff ff ff ff ff 80");
    assert.equal(u8.decode(b), 0xff);
    assert.equal(s8.decode(b), -1);
    assert.equal(u16.decode(b), 0xfeff);
    assert.equal(s16.decode(b), -257);
    assert.equal(u32.decode(b), 0xfffffeff);
    assert.equal(s32.decode(b), -257);
    assert.equal(u64.decode(b), 0xfffffffffffffeffn);
    assert.equal(s64.decode(b), -257n);
    assert.equal(s8.decode(b, 8), -128);
    const wide = new Uint8Array(16).fill(0xff);
    assert.equal(u128.decode(wide), (1n << 128n) - 1n);
    assert.equal(s128.decode(wide), -1n);
    assert.equal(hex(s128.encode(-2n)), `fe${"ff".repeat(15)}`);
    assert.equal(
      hex(u128.encode((1n << 100n) + 5n)),
      "0500000000000000000000001000000".padEnd(32, "0"),
    );
    assert.equal(hex(s16.encode(-2)), "feff");
    assert.equal(hex(u64.encode(1n << 63n)), "0000000000000080");
    assert.equal(f32.decode(f32.encode(1.5)), 1.5);
    assert.equal(f64.decode(f64.encode(-0.1)), -0.1);
  });

  test("_Bool: any non-zero byte is true; writes 1", () => {
    assert.equal(bool().decode(from("02")), true);
    assert.equal(bool(2).decode(from("0001")), true);
    assert.equal(bool(2).decode(from("0000")), false);
    assert.equal(hex(bool(2).encode(true, from("ffff"))), "0100");
  });

  test("enum adapters: an 8-byte enum as number, an ENUM64 of 4 bytes as bigint", () => {
    assert.equal(asNumber(s64).decode(from("ffffffffffffffff")), -1);
    assert.equal(hex(asNumber(u64).encode(5)), "0500000000000000");
    assert.equal(asBigInt(u32).decode(from("ffffffff")), 0xffffffffn);
    assert.equal(hex(asBigInt(s32).encode(-1n)), "ffffffff");
  });
});

describe("bitfields", () => {
  // struct { unsigned a:3, b:5; int c:4; unsigned long long d:40; } as clang lays it out.
  interface Bf {
    a: number;
    b: number;
    c: number;
    d: bigint;
  }
  const Bf = struct<Bf>("bf", 8, {
    a: [0, bits(0, 3)],
    b: [0, bits(3, 5)],
    c: [1, bits(0, 4, true)],
    d: [1, bigBits(4, 40)],
  });

  test("decode: shifts, widths, sign extension, past 32 bits", () => {
    // a=5 (101), b=17 (10001): byte0 = 10001_101 = 0x8d; c=-3 (1101) low nibble of
    // byte1; d=0xabcdef0123 from bit 12.
    const d = 0xabcdef0123n;
    const word = 0x8dn | (0xdn << 8n) | (d << 12n);
    const b = u64.encode(word);
    assert.deepEqual(Bf.decode(b), { a: 5, b: 17, c: -3, d });
  });

  test("encode writes only its bits and round-trips", () => {
    const value = { a: 7, b: 31, c: -8, d: (1n << 40n) - 1n };
    const b = Bf.encode(value, new Uint8Array(8));
    assert.deepEqual(Bf.decode(b), value);
    // Setting one field leaves the neighbours' bits alone.
    const one = new Uint8Array(8).fill(0xff);
    bits(3, 5).encode(0, one);
    assert.equal(hex(one.subarray(0, 1)), "07");
    // Out-of-range values are truncated to the field, as C does.
    assert.equal(bits(0, 3).decode(bits(0, 3).encode(9)), 1);
    assert.equal(bits(0, 4, true).decode(bits(0, 4, true).encode(8)), -8);
  });

  test("a _Bool bitfield and the limits", () => {
    assert.equal(boolBits(2, 1).decode(from("04")), true);
    assert.equal(hex(boolBits(2, 1).encode(true, from("00"))), "04");
    assert.equal(bits(5, 4).size, 2);
    assert.throws(() => bits(0, 33), /up to 32 bits \(use bigBits\)/);
    assert.throws(() => bits(8, 1), /bit shift is 0\.\.7/);
    assert.throws(() => bigBits(0, 129), /bit width is 1\.\.128/);
  });
});

describe("arrays and strings", () => {
  test("char arrays: latin-1 up to the first NUL; encode truncates and pads", () => {
    const c = chars(8);
    assert.equal(c.decode(from("74 73 62 70 66 00 78 78")), "tsbpf");
    assert.equal(c.decode(from("41 42 43 44 45 46 47 48")), "ABCDEFGH");
    assert.equal(c.decode(from("e9 00 00 00 00 00 00 00")), "é");
    assert.equal(hex(c.encode("hi", from("ffffffffffffffff"))), "6869000000000000");
    assert.equal(hex(c.encode("0123456789")), "3031323334353637");
    // Long strings (more characters than fromCharCode's argument limit in one call).
    const long = chars(200_000);
    assert.equal(long.decode(long.encode("x".repeat(150_000))).length, 150_000);
  });

  test("nested arrays and arrays of structs", () => {
    const m = array(array(s32, 3), 2);
    assert.equal(m.size, 24);
    assert.equal(m.name, "s32[3][2]");
    const v = [
      [1, -2, 3],
      [-4, 5, -6],
    ];
    assert.deepEqual(m.decode(m.encode(v)), v);
    assert.equal(s32.decode(m.encode(v), 16), 5);
    interface P {
      x: number;
      y: number;
    }
    const P = struct<P>("point", 4, { x: [0, s16], y: [2, s16] });
    const ps = array(P, 2);
    assert.deepEqual(ps.decode(from("0100 feff 0300 0400")), [
      { x: 1, y: -2 },
      { x: 3, y: 4 },
    ]);
    assert.deepEqual(bytes(3).decode(from("010203ff")), from("010203"));
  });
});

describe("structs and unions", () => {
  // union un { int i; float f; char c[3]; }
  interface Un {
    i?: number;
    f?: number;
    c?: string;
  }
  const Un = union<Un>("un", 4, { i: [0, s32], f: [0, f32], c: [0, chars(3)] });

  test("a union decodes every member and writes the first one given", () => {
    const got = Un.decode(from("41424300"));
    assert.equal(got.i, 0x434241);
    assert.equal(got.c, "ABC");
    assert.equal(typeof got.f, "number");
    assert.equal(hex(Un.encode({ c: "xy" })), "78790000");
    assert.equal(hex(Un.encode({ i: -1, c: "xy" })), "ffffffff");
    assert.equal(hex(Un.encode({})), "00000000");
  });

  // struct rich { u8 tag; union { u64 word; struct { u32 lo, hi; }; }; s8 last; }
  interface Rich {
    tag: number;
    word?: bigint;
    lo?: number;
    hi?: number;
    last: number;
  }
  const Rich = struct<Rich>("rich", 24, {
    tag: [0, u8],
    "...0": [
      8,
      union<Pick<Rich, "word" | "lo" | "hi">>("", 8, {
        word: [0, u64],
        "...0": [0, struct<Pick<Rich, "lo" | "hi">>("", 8, { lo: [0, u32], hi: [4, u32] })],
      }),
    ],
    last: [16, s8],
  });

  test("anonymous members are hoisted; the union writes the first alternative given", () => {
    assert.deepEqual(Rich.fields, ["tag", "word", "lo", "hi", "last"]);
    const b = from("07000000 00000000 0200000001000000 ff00000000000000");
    assert.deepEqual(Rich.decode(b), { tag: 7, word: 0x1_0000_0002n, lo: 2, hi: 1, last: -1 });
    assert.equal(
      hex(Rich.encode({ tag: 1, lo: 5, hi: 6, last: 2 })),
      "0100000000000000050000000600000002".padEnd(48, "0"),
    );
    // word comes first: lo/hi given beside it are not written.
    assert.deepEqual(Rich.decode(Rich.encode({ tag: 0, word: 9n, lo: 5, last: 0 })), {
      tag: 0,
      word: 9n,
      lo: 9,
      hi: 0,
      last: 0,
    });
  });

  test("decode at an offset; short data is a RangeError naming the type", () => {
    const b = new Uint8Array(30);
    Rich.encode({ tag: 3, word: 1n, last: -5 }, b, 6);
    assert.equal(Rich.decode(b, 6).last, -5);
    assert.throws(
      () => Rich.decode(b, 7),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === "struct rich (24 bytes) at offset 7 needs 31 bytes, but the data has 30",
    );
    assert.throws(() => u32.encode(1, new Uint8Array(3)), /u32 \(4 bytes\) at offset 0/);
    assert.throws(() => u32.decode(new Uint8Array(8), -1), RangeError);
  });

  test("declarations are checked: members fit, hoisted members are composites", () => {
    assert.throws(
      () => struct<{ a: number }>("s", 4, { a: [2, u32] }),
      /struct s \(4 bytes\): member a \(4 bytes\) at offset 2 does not fit/,
    );
    assert.throws(
      () => struct<object>("s", 8, { "...0": [0, u64 as unknown as Codec<object>] }),
      /\.\.\.0 must be a struct or union codec/,
    );
  });

  test("a codec from elsewhere nests through its decode/encode", () => {
    const be16: Codec<number> = {
      size: 2,
      decode: (b, o = 0) => ((b[o] as number) << 8) | (b[o + 1] as number),
      encode: (x, b = new Uint8Array(2), o = 0) => {
        b[o] = x >> 8;
        b[o + 1] = x & 0xff;
        return b;
      },
    };
    const S = struct<{ port: number; n: number }>("s", 4, { port: [0, be16], n: [2, u16] });
    assert.equal(hex(S.encode({ port: 0x1234, n: 0x1234 })), "12343412");
    assert.deepEqual(S.decode(from("12343412")), { port: 0x1234, n: 0x1234 });
  });
});

/** A map in memory with the shared interface's key/value and per-CPU calls. */
function memoryMap(keySize: number, valueSize: number, cpus = 2): KeyValueMap & PerCpuMap {
  const m = new Map<string, Uint8Array[]>();
  const k = (key: Uint8Array) => hex(key);
  return {
    name: "mem",
    type: MapType.HASH,
    keySize,
    valueSize,
    maxEntries: 16,
    flags: 0,
    lookup: (key) => m.get(k(key))?.[0]?.slice(),
    update: (key, value) =>
      void m.set(
        k(key),
        Array.from({ length: cpus }, () => value.slice()),
      ),
    delete: (key) => m.delete(k(key)),
    lookupAndDelete(key) {
      const v = m.get(k(key))?.[0];
      m.delete(k(key));
      return v;
    },
    nextKey: () => undefined,
    *keys() {
      for (const key of m.keys()) yield from(key);
    },
    *entries() {
      for (const [key, vs] of m) yield [from(key), vs[0] as Uint8Array];
    },
    lookupPerCpu: (key) => m.get(k(key))?.map((v) => v.slice()),
    updatePerCpu: (key, values) => void m.set(k(key), values.slice()),
    *entriesPerCpu() {
      for (const [key, vs] of m) yield [from(key), vs];
    },
  };
}

describe("typed maps and variables", () => {
  interface P {
    x: number;
    y: number;
  }
  const P = struct<P>("point", 8, { x: [0, s32], y: [4, s32] });

  test("TypedMap and TypedPerCpuMap go through the codecs", () => {
    const m = new TypedMap(memoryMap(4, 8), u32, P);
    m.update(1, { x: -1, y: 2 });
    assert.deepEqual(m.lookup(1), { x: -1, y: 2 });
    assert.equal(m.lookup(2), undefined);
    assert.deepEqual([...m], [[1, { x: -1, y: 2 }]]);
    assert.deepEqual([...m.keys()], [1]);
    assert.deepEqual(m.lookupAndDelete(1), { x: -1, y: 2 });
    assert.equal(m.delete(1), false);
    const pc = new TypedPerCpuMap(memoryMap(4, 8), u32, P);
    pc.update(3, [
      { x: 0, y: 0 },
      { x: 1, y: -1 },
    ]);
    assert.deepEqual(pc.lookup(3)?.[1], { x: 1, y: -1 });
    assert.deepEqual([...pc.entries()][0]?.[0], 3);
  });

  test("a codec whose size is not the map's is refused", () => {
    assert.throws(
      () => new TypedMap(memoryMap(8, 8), u32, P),
      /map mem: its keys are 8 bytes, but its codec is 4 bytes/,
    );
    assert.throws(
      () => new TypedPerCpuMap(memoryMap(4, 4), u32, P),
      /its values are 4 bytes, but its codec is 8 bytes/,
    );
  });

  test("TypedVariable; typedCollection checks names and closes on failure", () => {
    let bytes = new Uint8Array(8);
    const raw = {
      name: "origin",
      offset: 0,
      size: 8,
      readOnly: false,
      get: () => bytes.slice(),
      set: (v: Uint8Array | number | bigint) => {
        bytes = (v as Uint8Array).slice();
      },
    } as unknown as BackendVariable;
    const v = new TypedVariable(raw, P);
    v.set({ x: 3, y: 4 });
    assert.deepEqual(v.get(), { x: 3, y: 4 });
    assert.equal(v.readOnly, false);
    assert.throws(() => new TypedVariable(raw, u32), /variable origin: it is 8 bytes/);

    let closed = 0;
    const mem = memoryMap(4, 8);
    const coll = {
      maps: { m: mem },
      programs: {},
      variables: { origin: raw },
      map(n: string) {
        if (n !== "m") throw new Error(`no map ${n}`);
        return mem;
      },
      program(n: string): never {
        throw new Error(`no program ${n}`);
      },
      variable: () => raw,
      close: () => void closed++,
      [Symbol.dispose]: () => void closed++,
    } as unknown as LoadedCollection<"m", never, "origin">;
    const names = { maps: ["m"], programs: [], variables: ["origin"] };
    const t = typedCollection(coll, names, (c) => ({
      maps: { m: new TypedMap(c.maps.m, u32, P) },
      programs: {},
      variables: { origin: new TypedVariable(c.variables.origin, P) },
    }));
    assert.deepEqual(t.variables.origin.get(), { x: 3, y: 4 });
    t.maps.m.update(0, { x: 1, y: 1 });
    t.close();
    assert.equal(closed, 1);
    assert.throws(
      () =>
        typedCollection(coll, { ...names, maps: ["nope"] }, () => ({
          maps: {},
          programs: {},
          variables: {},
        })),
      /no map nope/,
    );
    assert.equal(closed, 2);
    assert.throws(
      () =>
        typedCollection(coll, names, () => {
          throw new RangeError("bad codec");
        }),
      /bad codec/,
    );
    assert.equal(closed, 3);
  });
});

test("encodeConstants: typed values to the bytes a load's constants option takes", () => {
  interface P {
    x: number;
    y: number;
  }
  const P = struct<P>("point", 8, { x: [0, s32], y: [4, s32] });
  const got = encodeConstants<{ limit?: number; origin?: P; name?: string }>(
    { limit: 7, origin: { x: -1, y: 2 }, name: undefined },
    { limit: u32, origin: P, name: chars(4) },
  );
  assert.deepEqual(Object.keys(got), ["limit", "origin"]);
  assert.equal(hex(got.limit as Uint8Array), "07000000");
  assert.equal(hex(got.origin as Uint8Array), "ffffffff02000000");
  assert.throws(
    () => encodeConstants({ nope: 1 } as { limit?: number }, { limit: u32 }),
    /constant "nope": no codec/,
  );
});
