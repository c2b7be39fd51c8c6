import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeValue } from "./decode-value.ts";
import { encodeTypes } from "./encode.ts";
import { BTFError } from "./errors.ts";
import { formatValue, readBits, type ValueSink } from "./format-value.ts";
import { parseBTF } from "./parse.ts";
import type { BTFType } from "./types.ts";

const int = (id: number, name: string, size: number, signed: boolean, extra = {}): BTFType => ({
  kind: "INT",
  id,
  name,
  size,
  signed,
  char: false,
  bool: false,
  bitOffset: 0,
  bits: size * 8,
  ...extra,
});

// 1 int, 2 char, 3 char[6], 4 _Bool, 5 float, 6 enum, 7 ptr, 8 u64, 9 struct s,
// 10 VAR, 11 DATASEC, 12 __int128, 13 double, 14 anon struct, 15 u8[2], 16 ENUM64
const TYPES: BTFType[] = [
  int(1, "int", 4, true),
  int(2, "char", 1, true),
  { kind: "ARRAY", id: 3, name: "", type: 2, indexType: 1, nelems: 6 },
  int(4, "_Bool", 1, false, { bool: true }),
  { kind: "FLOAT", id: 5, name: "float", size: 4 },
  {
    kind: "ENUM",
    id: 6,
    name: "e",
    size: 4,
    signed: true,
    values: [
      { name: "A", value: 1 },
      { name: "NEG", value: -1 },
    ],
  },
  { kind: "PTR", id: 7, name: "", type: 0 },
  int(8, "unsigned long long", 8, false),
  {
    kind: "STRUCT",
    id: 9,
    name: "s",
    size: 48,
    members: [
      { name: "i", type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "name", type: 3, bitOffset: 32, bitfieldSize: 0 },
      { name: "ok", type: 4, bitOffset: 80, bitfieldSize: 0 },
      { name: "lo", type: 1, bitOffset: 88, bitfieldSize: 3 },
      { name: "hi", type: 1, bitOffset: 91, bitfieldSize: 5 },
      { name: "f", type: 5, bitOffset: 96, bitfieldSize: 0 },
      { name: "e", type: 6, bitOffset: 128, bitfieldSize: 0 },
      { name: "p", type: 7, bitOffset: 192, bitfieldSize: 0 },
      { name: "", type: 14, bitOffset: 256, bitfieldSize: 0 },
      { name: "u", type: 8, bitOffset: 320, bitfieldSize: 0 },
    ],
  },
  { kind: "VAR", id: 10, name: "counter", type: 1, linkage: "global" },
  { kind: "DATASEC", id: 11, name: ".data", size: 8, vars: [{ type: 10, offset: 4, size: 4 }] },
  int(12, "__int128", 16, true),
  { kind: "FLOAT", id: 13, name: "double", size: 8 },
  {
    kind: "STRUCT",
    id: 14,
    name: "",
    size: 8,
    members: [
      { name: "x", type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "y", type: 1, bitOffset: 32, bitfieldSize: 0 },
    ],
  },
  { kind: "ARRAY", id: 15, name: "", type: 16, indexType: 1, nelems: 2 },
  int(16, "unsigned char", 1, false),
];
const btf = parseBTF(encodeTypes(TYPES));

/** A sink that records compact JSON-like text. */
function textSink(): ValueSink & { text: () => string } {
  let out = "";
  const sep: boolean[] = [false];
  const item = () => {
    if (sep[sep.length - 1]) out += ",";
    sep[sep.length - 1] = true;
  };
  return {
    startObject: () => {
      item();
      out += "{";
      sep.push(false);
    },
    endObject: () => {
      sep.pop();
      out += "}";
    },
    startArray: () => {
      item();
      out += "[";
      sep.push(false);
    },
    endArray: () => {
      sep.pop();
      out += "]";
    },
    name: (n) => {
      item();
      out += `${JSON.stringify(n)}:`;
      sep[sep.length - 1] = false;
    },
    string: (s) => {
      item();
      out += JSON.stringify(s);
    },
    raw: (t) => {
      item();
      out += t;
    },
    text: () => out,
  };
}

function sample(): Uint8Array {
  const b = new Uint8Array(48);
  const v = new DataView(b.buffer);
  v.setInt32(0, -7, true);
  b.set([104, 105, 0], 4); // "hi"
  b[10] = 1;
  b[11] = 0b10110_101; // lo = 5, hi = 22
  v.setFloat32(12, 1.5, true);
  v.setInt32(16, -1, true);
  v.setBigUint64(24, 0xffff8880deadbeefn, true);
  v.setInt32(32, 3, true);
  v.setInt32(36, 4, true);
  v.setBigUint64(40, 0xfedcba9876543210n, true);
  return b;
}

function fmt(id: number, data: Uint8Array, plainText: boolean): string {
  const s = textSink();
  formatValue(btf, id, data, s, { plainText });
  return s.text();
}

describe("formatValue (bpftool's btf_dumper rules)", () => {
  test("a struct in plain text: strings, bool, bitfields as hex, enum names, pointer hex", () => {
    assert.equal(
      fmt(9, sample(), true),
      '{"i":-7,"name":"hi","ok":true,"lo":0x5,"hi":0x16,"f":1.5,"e":"NEG","p":0xffff8880deadbeef,' +
        '"":{"x":3,"y":4},"u":18364758544493064720}',
    );
  });

  test("JSON flavour: pointers in decimal, hex quoted", () => {
    const out = fmt(9, sample(), false);
    assert.match(out, /"lo":"0x5"/);
    assert.ok(out.includes(`"p":${0xffff8880deadbeefn}`), out);
  });

  test("char arrays: a string only when printable up to a NUL", () => {
    assert.equal(fmt(3, new Uint8Array([0x61, 0x62, 0, 0xff, 0, 0]), true), '"ab"');
    assert.equal(fmt(3, new Uint8Array([0x61, 0x01, 0, 0, 0, 0]), true), "[97,1,0,0,0,0]");
    assert.equal(
      fmt(3, new Uint8Array([0x61, 0x61, 0x61, 0x61, 0x61, 0x61]), true),
      "[97,97,97,97,97,97]",
    );
    assert.equal(fmt(15, new Uint8Array([0x61, 0]), true), "[97,0]", "unsigned char is not char");
  });

  test("null pointers, unmatched enums, 128-bit integers, DATASEC by variable", () => {
    assert.equal(fmt(7, new Uint8Array(8), true), "(nil)");
    assert.equal(fmt(7, new Uint8Array(8), false), "0");
    assert.equal(fmt(6, new Uint8Array([9, 0, 0, 0]), true), "9");
    const wide = new Uint8Array(16);
    wide[0] = 1;
    wide[8] = 2;
    assert.equal(fmt(12, wide, true), "0x20000000000000001");
    assert.equal(fmt(12, wide, false), '"0x20000000000000001"');
    assert.equal(
      fmt(11, new Uint8Array([0, 0, 0, 0, 42, 0, 0, 0]), true),
      '{".data":[{"counter":42}]}',
    );
  });

  test("short data and types without values are BTFErrors naming the type", () => {
    assert.throws(() => fmt(9, new Uint8Array(10), true), BTFError);
    assert.throws(() => fmt(0, new Uint8Array(8), true), /cannot have type/);
  });
});

describe("decodeValue", () => {
  test("a struct as JavaScript: numbers, bigints, strings, booleans, hoisted anonymous members", () => {
    assert.deepEqual(decodeValue(btf, 9, sample()), {
      i: -7,
      name: "hi",
      ok: true,
      lo: -3, // signed 3-bit 0b101
      hi: -10, // signed 5-bit 0b10110
      f: 1.5,
      e: -1,
      p: 0xffff8880deadbeefn,
      x: 3,
      y: 4,
      u: 0xfedcba9876543210n,
    });
  });

  test("DATASEC by variable name, 128-bit as bigint, double", () => {
    assert.deepEqual(decodeValue(btf, 11, new Uint8Array([0, 0, 0, 0, 42, 0, 0, 0])), {
      counter: 42,
    });
    const wide = new Uint8Array(16).fill(0xff);
    assert.equal(decodeValue(btf, 12, wide), -1n);
    const d = new Uint8Array(8);
    new DataView(d.buffer).setFloat64(0, -2.25, true);
    assert.equal(decodeValue(btf, 13, d), -2.25);
  });

  test("readBits crosses bytes little-endian", () => {
    assert.equal(readBits(new Uint8Array([0xf0, 0x0f]), 0, 4, 8), 0xffn);
    assert.throws(() => readBits(new Uint8Array(1), 0, 4, 8), BTFError);
  });
});
