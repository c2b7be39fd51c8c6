import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  ALL_BTF_FEATURES,
  type BTFType,
  dumpRaw,
  encodeBTF,
  encodeTypes,
  parseBTF,
  sanitizeTypes,
} from "./index.ts";

const int = {
  kind: "INT",
  id: 1,
  name: "int",
  size: 4,
  signed: true,
  char: false,
  bool: false,
  bitOffset: 0,
  bits: 32,
} as const;

/** One of every kind. */
const EVERY_KIND: BTFType[] = [
  int,
  { kind: "PTR", id: 2, name: "", type: 1 },
  { kind: "ARRAY", id: 3, name: "", type: 1, indexType: 1, nelems: 4 },
  {
    kind: "STRUCT",
    id: 4,
    name: "s",
    size: 8,
    members: [
      { name: "a", type: 1, bitOffset: 0, bitfieldSize: 3 },
      { name: "b", type: 1, bitOffset: 32, bitfieldSize: 0 },
    ],
  },
  {
    kind: "UNION",
    id: 5,
    name: "u",
    size: 4,
    members: [{ name: "x", type: 1, bitOffset: 0, bitfieldSize: 0 }],
  },
  { kind: "ENUM", id: 6, name: "e", size: 4, signed: true, values: [{ name: "NEG", value: -5 }] },
  { kind: "FWD", id: 7, name: "f", fwdKind: "union" },
  { kind: "TYPEDEF", id: 8, name: "t", type: 1 },
  { kind: "VOLATILE", id: 9, name: "", type: 1 },
  { kind: "CONST", id: 10, name: "", type: 1 },
  { kind: "RESTRICT", id: 11, name: "", type: 2 },
  {
    kind: "FUNC_PROTO",
    id: 12,
    name: "",
    returnType: 1,
    params: [
      { name: "p", type: 1 },
      { name: "", type: 0 },
    ],
  },
  { kind: "FUNC", id: 13, name: "fn", type: 12, linkage: "global" },
  { kind: "VAR", id: 14, name: "v", type: 1, linkage: "static" },
  { kind: "DATASEC", id: 15, name: ".data", size: 4, vars: [{ type: 14, offset: 0, size: 4 }] },
  { kind: "FLOAT", id: 16, name: "double", size: 8 },
  { kind: "DECL_TAG", id: 17, name: "tag", type: 4, componentIdx: 1 },
  { kind: "TYPE_TAG", id: 18, name: "user", type: 1 },
  {
    kind: "ENUM64",
    id: 19,
    name: "e64",
    size: 8,
    signed: false,
    values: [{ name: "BIG", value: 0xfedcba9876543210n }],
  },
  { kind: "VAR", id: 20, name: "x.y", type: 1, linkage: "global" },
];

/** The model as plain data, for comparisons. */
const plain = (types: readonly BTFType[]) => JSON.parse(JSON.stringify(types, plainReplacer));
function plainReplacer(_k: string, v: unknown) {
  if (typeof v === "bigint") return `${v}n`;
  if (v && typeof v === "object" && !Array.isArray(v) && "kind" in v) {
    const t = v as BTFType;
    const o: Record<string, unknown> = {};
    for (const key of [
      "kind",
      "id",
      "name",
      "size",
      "type",
      "signed",
      "char",
      "bool",
      "bitOffset",
      "bits",
      "indexType",
      "nelems",
      "members",
      "values",
      "fwdKind",
      "returnType",
      "params",
      "linkage",
      "vars",
      "componentIdx",
    ]) {
      const val = (t as unknown as Record<string, unknown>)[key];
      if (val !== undefined) o[key] = val;
    }
    return o;
  }
  return v;
}

describe("encodeBTF", () => {
  test("every kind survives encode then parse", () => {
    const back = parseBTF(encodeTypes(EVERY_KIND));
    assert.deepEqual(plain(back.types.slice(1)), plain(EVERY_KIND));
  });

  test("big-endian output reads the same", () => {
    const be = encodeTypes(EVERY_KIND, { littleEndian: false });
    const back = parseBTF(be);
    assert.equal(back.header.littleEndian, false);
    assert.deepEqual(plain(back.types.slice(1)), plain(EVERY_KIND));
  });

  test("each name is stored once", () => {
    const bytes = encodeTypes([
      int,
      { ...int, id: 2 },
      { kind: "TYPEDEF", id: 3, name: "int", type: 1 },
    ]);
    const strLen = new DataView(bytes.buffer).getUint32(20, true);
    assert.equal(strLen, "\0int\0".length);
  });

  test("parse(encode(parse(vmlinux))) is the same BTF", {
    skip: !existsSync("/sys/kernel/btf/vmlinux") && "no vmlinux BTF",
  }, () => {
    const btf = parseBTF(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
    const again = parseBTF(encodeBTF(btf));
    assert.equal(again.count, btf.count);
    assert.equal(dumpRaw(again), dumpRaw(btf));
  });
});

describe("sanitizeTypes", () => {
  const btf = parseBTF(encodeTypes(EVERY_KIND));
  const none = {
    func: false,
    funcGlobal: false,
    datasec: false,
    float: false,
    declTag: false,
    typeTag: false,
    enum64: false,
  };

  test("with every feature nothing changes", () => {
    const out = sanitizeTypes(btf, ALL_BTF_FEATURES);
    assert.deepEqual(plain(out), plain(EVERY_KIND));
  });

  test("without any feature, each kind is replaced as libbpf does, ids kept", () => {
    const out = sanitizeTypes(btf, none);
    const byId = new Map(out.map((t) => [t.id, t]));
    assert.equal(byId.get(12)?.kind, "ENUM"); // FUNC_PROTO
    assert.deepEqual(plain([byId.get(12)!])[0].values, [
      { name: "p", value: 1 },
      { name: "", value: 0 },
    ]);
    assert.equal(byId.get(13)?.kind, "TYPEDEF"); // FUNC
    assert.deepEqual(plain([byId.get(14)!])[0], {
      ...plain([int])[0],
      id: 14,
      name: "v",
      signed: false,
      size: 1,
      bits: 8,
    });
    const ds = byId.get(15);
    assert.equal(ds?.kind, "STRUCT");
    assert.equal(ds?.name, "_data");
    assert.deepEqual(ds?.kind === "STRUCT" && ds.members, [
      { name: "v", type: 14, bitOffset: 0, bitfieldSize: 0 },
    ]);
    assert.deepEqual(plain([byId.get(16)!])[0], {
      kind: "STRUCT",
      id: 16,
      name: "",
      size: 8,
      members: [],
    });
    assert.equal(byId.get(17)?.kind, "INT");
    assert.equal(byId.get(17)?.name, "");
    assert.deepEqual(plain([byId.get(18)!])[0], { kind: "CONST", id: 18, name: "", type: 1 });
    const e64 = byId.get(19);
    assert.equal(e64?.kind, "UNION");
    assert.deepEqual(e64?.kind === "UNION" && e64.members, [
      { name: "BIG", type: 21, bitOffset: 0, bitfieldSize: 0 },
    ]);
    assert.equal(byId.get(21)?.name, "enum64_placeholder");
    const e = byId.get(6);
    assert.equal(e?.kind === "ENUM" && e.signed, false, "ENUM signedness dropped");
    // And the result still encodes and parses.
    assert.equal(parseBTF(encodeBTF(btf, { features: none })).count, 22);
  });

  test("global FUNC becomes static when only global linkage is missing", () => {
    const out = sanitizeTypes(btf, { ...ALL_BTF_FEATURES, funcGlobal: false });
    const f = out.find((t) => t.id === 13);
    assert.equal(f?.kind === "FUNC" && f.linkage, "static");
  });
});
