import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { BTFError, parseBTF, parseHeader } from "./index.ts";

/** Builds a little-endian BTF blob from raw type records (u32 words) and strings. */
function blob(
  typeWords: readonly number[],
  strings: readonly string[],
  patch?: (view: DataView) => void,
): Uint8Array {
  const enc = new TextEncoder();
  const strBytes: number[] = [0];
  for (const s of strings) strBytes.push(...enc.encode(s), 0);
  const typeLen = typeWords.length * 4;
  const bytes = new Uint8Array(24 + typeLen + strBytes.length);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen, true);
  v.setUint32(20, strBytes.length, true);
  typeWords.forEach((w, i) => {
    v.setUint32(24 + i * 4, w >>> 0, true);
  });
  bytes.set(strBytes, 24 + typeLen);
  patch?.(v);
  return bytes;
}

/** `info` word: kind, vlen, kind_flag. */
const info = (kind: number, vlen = 0, kflag = false) =>
  ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;

// String offsets for ["int", "s", "a", "b", "e", "X", "Y"]: 1,5,7,9,11,13,15
const STRS = ["int", "s", "a", "b", "e", "X", "Y"];
const S = { int: 1, s: 5, a: 7, b: 9, e: 11, X: 13, Y: 15 };

describe("parseBTF on hand-built blobs", () => {
  test("INT, PTR, ARRAY, STRUCT with bitfields, ENUM, TYPEDEF, CONST", () => {
    const btf = parseBTF(
      blob(
        [
          // [1] int: size 4, signed, 32 bits
          S.int,
          info(1),
          4,
          (1 << 24) | 32,
          // [2] PTR -> 1
          0,
          info(2),
          1,
          // [3] ARRAY of 4 x [1] indexed by [1]
          0,
          info(3),
          0,
          1,
          1,
          4,
          // [4] struct s { int a:3; int b:5 } size 4, kind_flag
          S.s,
          info(4, 2, true),
          4,
          S.a,
          1,
          (3 << 24) | 0,
          S.b,
          1,
          (5 << 24) | 3,
          // [5] enum e { X = 1, Y = -1 } signed
          S.e,
          info(6, 2, true),
          4,
          S.X,
          1,
          S.Y,
          0xffffffff,
          // [6] typedef X -> [7]; [7] const -> [1]
          S.X,
          info(8),
          7,
          0,
          info(10),
          1,
        ],
        STRS,
      ),
    );
    assert.equal(btf.count, 8);
    assert.equal(btf.types[0]?.kind, "VOID");
    const i = btf.type(1);
    assert.ok(i.kind === "INT" && i.signed && i.bits === 32 && i.name === "int");
    const s = btf.findByName("STRUCT", "s");
    assert.ok(s);
    assert.deepEqual(s.members, [
      { name: "a", type: 1, bitOffset: 0, bitfieldSize: 3 },
      { name: "b", type: 1, bitOffset: 3, bitfieldSize: 5 },
    ]);
    const e = btf.findByName("ENUM", "e");
    assert.deepEqual(e?.values, [
      { name: "X", value: 1 },
      { name: "Y", value: -1 },
    ]);
    assert.equal(btf.resolve(6).id, 1);
    assert.equal(btf.sizeof(3), 16);
    assert.equal(btf.sizeof(2), 8);
    assert.equal(btf.sizeof(6), 4);
    assert.throws(() => btf.sizeof(0), BTFError);
  });

  test("FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64, FWD, VOLATILE, RESTRICT", () => {
    const btf = parseBTF(
      blob(
        [
          S.int,
          info(1),
          4,
          32, // [1]
          0,
          info(13, 2),
          1,
          S.a,
          1,
          0,
          0, // [2] int (int a, ...)
          S.s,
          info(12, 1),
          2, // [3] global func s
          S.b,
          info(14),
          1,
          1, // [4] global var b: int
          S.X,
          info(15, 1),
          4,
          4,
          0,
          4, // [5] datasec X
          S.Y,
          info(16),
          8, // [6] float Y
          S.e,
          info(17),
          4,
          0xffffffff, // [7] decl_tag e on [4], whole
          S.e,
          info(18),
          1, // [8] type_tag e -> int
          S.e,
          info(19, 1),
          8,
          S.X,
          0xffffffff,
          0x7fffffff, // [9] enum64 e { X = 0x7fffffffffffffff }
          S.s,
          info(7, 0, true),
          0, // [10] fwd union s
          0,
          info(9),
          1, // [11] volatile int
          0,
          info(11),
          2, // [12] restrict -> proto
        ],
        STRS,
      ),
    );
    const kinds = btf.types.map((t) => t.kind);
    assert.deepEqual(kinds, [
      "VOID",
      "INT",
      "FUNC_PROTO",
      "FUNC",
      "VAR",
      "DATASEC",
      "FLOAT",
      "DECL_TAG",
      "TYPE_TAG",
      "ENUM64",
      "FWD",
      "VOLATILE",
      "RESTRICT",
    ]);
    const proto = btf.type(2);
    assert.ok(proto.kind === "FUNC_PROTO");
    assert.deepEqual(proto.params, [
      { name: "a", type: 1 },
      { name: "", type: 0 },
    ]);
    const fn = btf.type(3);
    assert.ok(fn.kind === "FUNC" && fn.linkage === "global");
    const ds = btf.type(5);
    assert.ok(ds.kind === "DATASEC");
    assert.deepEqual(ds.vars, [{ type: 4, offset: 0, size: 4 }]);
    const tag = btf.type(7);
    assert.ok(tag.kind === "DECL_TAG" && tag.componentIdx === -1);
    const e64 = btf.type(9);
    assert.ok(e64.kind === "ENUM64");
    assert.equal(e64.values[0]?.value, 0x7fffffffffffffffn);
    const fwd = btf.type(10);
    assert.ok(fwd.kind === "FWD" && fwd.fwdKind === "union");
    assert.equal(btf.resolve(8).kind, "INT");
    assert.equal(btf.sizeof(4), 4);
    assert.equal(btf.sizeof(6), 8);
  });

  test("big-endian BTF reads the same", () => {
    const le = blob([S.int, info(1), 4, 32], STRS);
    const be = new Uint8Array(le);
    const v = new DataView(be.buffer);
    const src = new DataView(le.buffer);
    v.setUint16(0, 0xeb9f, false);
    for (const off of [4, 8, 12, 16, 20, 24, 28, 32, 36])
      v.setUint32(off, src.getUint32(off, true), false);
    const btf = parseBTF(be);
    assert.equal(btf.header.littleEndian, false);
    assert.equal(btf.type(1).name, "int");
  });
});

describe("parseBTF rejects bad input with the offset and the reason", () => {
  const ok = () => blob([S.int, info(1), 4, 32], STRS);

  test("truncated header", () => {
    assert.throws(
      () => parseBTF(ok().subarray(0, 10)),
      (e: unknown) =>
        e instanceof BTFError && e.offset === 0 && /truncated header: 10 bytes/.test(e.message),
    );
  });

  test("bad magic", () => {
    const b = ok();
    b[0] = 0x12;
    b[1] = 0x34;
    assert.throws(
      () => parseHeader(b),
      (e: unknown) => e instanceof BTFError && e.offset === 0 && /bad magic 0x3412/.test(e.message),
    );
  });

  test("bad version", () => {
    const b = ok();
    b[2] = 2;
    assert.throws(() => parseBTF(b), /unsupported version 2/);
  });

  test("sections past the end", () => {
    const b = blob([S.int, info(1), 4, 32], STRS, (v) => v.setUint32(20, 1000, true));
    assert.throws(
      () => parseBTF(b),
      (e: unknown) => e instanceof BTFError && e.offset === 20 && /string section/.test(e.message),
    );
  });

  test("string offset out of range", () => {
    const b = blob([500, info(1), 4, 32], STRS);
    assert.throws(
      () => parseBTF(b),
      (e: unknown) =>
        e instanceof BTFError &&
        e.offset === 24 &&
        /string offset 500 is out of range/.test(e.message),
    );
  });

  test("unknown kind", () => {
    const b = blob([S.int, info(1), 4, 32, 0, info(25), 0], STRS);
    assert.throws(
      () => parseBTF(b),
      (e: unknown) =>
        e instanceof BTFError &&
        e.offset === 40 &&
        /type \[2\] has unknown kind 25/.test(e.message),
    );
  });

  test("truncated type record", () => {
    const b = blob([S.s, info(4, 3), 4, S.a, 0, 0], STRS);
    assert.throws(
      () => parseBTF(b),
      (e: unknown) =>
        e instanceof BTFError && e.offset === 24 && /truncated type \[1\] members/.test(e.message),
    );
  });

  test("reference to a missing type", () => {
    const b = blob([0, info(2), 7], STRS);
    assert.throws(
      () => parseBTF(b),
      (e: unknown) =>
        e instanceof BTFError &&
        e.offset === 24 &&
        /refers to its target type \[7\]/.test(e.message),
    );
  });

  test("string section not NUL-terminated", () => {
    const b = ok();
    b[b.length - 1] = 0x41;
    assert.throws(() => parseBTF(b), /does not end with a NUL byte/);
  });

  test("lookups of missing ids throw BTFError", () => {
    const btf = parseBTF(ok());
    assert.throws(() => btf.type(99), BTFError);
    assert.equal(btf.findByName("STRUCT", "int"), undefined);
  });
});

const VMLINUX = "/sys/kernel/btf/vmlinux";

describe("types are decoded on demand and found by name", () => {
  test("a name stored twice, and a name that is another string's tail, are both found", () => {
    // Strings: "" "int" "xint" "int" — [1] names offset 1 ("int"), [2] offset 6 (the
    // tail of "xint"), [3] offset 10 (the second copy), [4] "xint" itself.
    const btf = parseBTF(
      blob(
        [1, info(1), 4, 32, 6, info(8), 1, 10, info(8), 1, 5, info(8), 1],
        ["int", "xint", "int"],
      ),
    );
    assert.deepEqual(
      btf.findAllByName("int").map((t) => t.id),
      [1, 2, 3],
    );
    assert.deepEqual(
      btf.findAllByName("xint").map((t) => t.id),
      [4],
    );
    assert.equal(btf.findByName("TYPEDEF", "int")?.id, 2);
    assert.deepEqual(btf.findAllByName("nt"), []);
    assert.equal(btf.kindNumber(2), 8);
    assert.equal(btf.type(2), btf.types[2], "one object per type, whichever way it is reached");
  });

  test("kernelChecked skips the checks the kernel made, and only those", () => {
    // A struct of 4 bytes whose member of type int (4 bytes) starts at bit 16.
    const words = [S.int, info(1), 4, 32, S.s, info(4, 1), 4, S.a, 1, 16];
    assert.throws(() => parseBTF(blob(words, STRS)), /member 'a' ends at bit 48, past its 4 bytes/);
    const btf = parseBTF(blob(words, STRS), { kernelChecked: true });
    assert.equal(btf.findByName("STRUCT", "s")?.members[0]?.bitOffset, 16);
    // The walk itself still runs: an unknown kind is refused either way.
    assert.throws(
      () => parseBTF(blob([S.int, info(25), 4], STRS), { kernelChecked: true }),
      /unknown kind 25/,
    );
  });
});

describe("parseBTF on the running kernel's BTF", () => {
  const skip = existsSync(VMLINUX) ? false : `${VMLINUX} does not exist (kernel built without BTF)`;

  test("parses vmlinux and finds union bpf_attr", { skip }, () => {
    const btf = parseBTF(new Uint8Array(readFileSync(VMLINUX)));
    assert.ok(btf.count > 1000);
    const attr = btf.findByName("UNION", "bpf_attr");
    assert.ok(attr, "union bpf_attr is in vmlinux BTF");
    assert.ok(btf.sizeof(attr.id) >= 120);
    const cmd = btf.findByName("ENUM", "bpf_cmd");
    assert.equal(cmd?.values.find((v) => v.name === "BPF_PROG_LOAD")?.value, 5);
    const u32 = btf.findByName("TYPEDEF", "__u32");
    assert.ok(u32);
    const r = btf.resolve(u32.id);
    assert.ok(r.kind === "INT" && r.size === 4 && !r.signed);
    // Every kind the kernel uses comes back with a known kind name.
    const kinds = new Set(btf.types.map((t) => t.kind));
    for (const k of [
      "INT",
      "PTR",
      "ARRAY",
      "STRUCT",
      "UNION",
      "ENUM",
      "FUNC",
      "FUNC_PROTO",
      "VAR",
      "DATASEC",
    ]) {
      assert.ok(kinds.has(k as never), `vmlinux has ${k}`);
    }
  });
});
