import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BTFError, CoreReloKind, encodeTypes, parseBTF, parseBTFExt } from "./index.ts";

/** BTF with one INT named "int" and FUNC "f"; strings hold section/file/line/access names. */
function btfWithStrings() {
  const blob = encodeTypes([
    {
      kind: "INT",
      id: 1,
      name: "int",
      size: 4,
      signed: true,
      char: false,
      bool: false,
      bitOffset: 0,
      bits: 32,
    },
    { kind: "FUNC_PROTO", id: 2, name: "", returnType: 1, params: [] },
    { kind: "FUNC", id: 3, name: "xdp", type: 2, linkage: "global" },
    { kind: "TYPEDEF", id: 4, name: "a.c", type: 1 },
    { kind: "TYPEDEF", id: 5, name: "return 0;", type: 1 },
    { kind: "TYPEDEF", id: 6, name: "0:1", type: 1 },
  ]);
  const btf = parseBTF(blob);
  const off = (name: string) =>
    (btf.types.find((t) => t.name === name) as unknown as { nameOff: number }).nameOff;
  return { btf, sec: off("xdp"), file: off("a.c"), line: off("return 0;"), access: off("0:1") };
}

/** A .BTF.ext with the given record sizes (extra bytes after the known fields are zero). */
function ext(opts: { funcRec?: number; lineRec?: number; coreRec?: number; hdrLen?: number } = {}) {
  const { sec, file, line, access } = btfWithStrings();
  const funcRec = opts.funcRec ?? 8;
  const lineRec = opts.lineRec ?? 16;
  const coreRec = opts.coreRec ?? 16;
  const hdrLen = opts.hdrLen ?? 32;
  const words: number[] = [];
  const block = (rec: number, records: number[][]) => {
    const start = words.length * 4;
    words.push(rec, sec, records.length);
    for (const r of records) {
      words.push(...r);
      for (let i = r.length * 4; i < rec; i += 4) words.push(0);
    }
    return [start, words.length * 4 - start];
  };
  const f = block(funcRec, [
    [0, 3],
    [16, 3],
  ]);
  const l = block(lineRec, [[0, file, line, (7 << 10) | 3]]);
  const c = block(coreRec, [[8, 1, access, CoreReloKind.FIELD_BYTE_OFFSET]]);
  const bytes = new Uint8Array(hdrLen + words.length * 4);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, hdrLen, true);
  v.setUint32(8, f[0]!, true);
  v.setUint32(12, f[1]!, true);
  v.setUint32(16, l[0]!, true);
  v.setUint32(20, l[1]!, true);
  if (hdrLen >= 32) {
    v.setUint32(24, c[0]!, true);
    v.setUint32(28, c[1]!, true);
  }
  words.forEach((w, i) => {
    v.setUint32(hdrLen + i * 4, w, true);
  });
  return bytes;
}

describe("parseBTFExt", () => {
  test("func_info, line_info and CO-RE relocations per section", () => {
    const { btf } = btfWithStrings();
    const e = parseBTFExt(ext(), btf);
    assert.deepEqual(e.funcInfo.get("xdp"), [
      { insnOff: 0, typeId: 3 },
      { insnOff: 16, typeId: 3 },
    ]);
    const li = e.lineInfo.get("xdp")?.[0];
    assert.equal(li?.fileName, "a.c");
    assert.equal(li?.line, "return 0;");
    assert.equal(li?.lineNumber, 7);
    assert.equal(li?.column, 3);
    assert.deepEqual(
      e.coreRelos.get("xdp")?.map((r) => [r.insnOff, r.typeId, r.accessStr, r.kind]),
      [[8, 1, "0:1", CoreReloKind.FIELD_BYTE_OFFSET]],
    );
  });

  test("larger records from a newer compiler are read by their known fields", () => {
    const { btf } = btfWithStrings();
    const e = parseBTFExt(ext({ funcRec: 12, lineRec: 24, coreRec: 20 }), btf);
    assert.deepEqual(e.recordSizes, { funcInfo: 12, lineInfo: 24, coreRelo: 20 });
    assert.equal(e.funcInfo.get("xdp")?.length, 2);
    assert.equal(e.lineInfo.get("xdp")?.[0]?.lineNumber, 7);
    assert.equal(e.coreRelos.get("xdp")?.[0]?.accessStr, "0:1");
  });

  test("a header without the CO-RE fields has no relocations", () => {
    const { btf } = btfWithStrings();
    const e = parseBTFExt(ext({ hdrLen: 24 }), btf);
    assert.equal(e.coreRelos.size, 0);
    assert.equal(e.funcInfo.get("xdp")?.length, 2);
  });

  const bad = (what: string, bytes: Uint8Array, re: RegExp, offset: number) =>
    test(what, () => {
      assert.throws(
        () => parseBTFExt(bytes, btfWithStrings().btf),
        (e: unknown) => e instanceof BTFError && e.offset === offset && re.test(e.message),
      );
    });
  bad("truncated header", new Uint8Array(10), /truncated header: 10 bytes/, 0);
  bad(
    "bad magic",
    (() => {
      const b = ext();
      b[0] = 0x12;
      return b;
    })(),
    /bad magic/,
    0,
  );
  bad("record size too small", ext({ funcRec: 4 }), /func_info record size 4 is invalid/, 32);
  {
    const b = ext();
    new DataView(b.buffer).setUint32(12, 4096, true);
    bad("block past the end", b, /func_info .* runs past the end/, 8);
  }
  {
    const b = ext();
    new DataView(b.buffer).setUint32(32 + 4, 99999, true);
    bad("section name out of range", b, /string offset 99999 is out of range/, 36);
  }
  {
    const b = ext();
    new DataView(b.buffer).setUint32(32 + 8, 1000, true);
    bad("too many records", b, /has 1000 records of 8 bytes/, 40);
  }
  {
    const b = ext();
    new DataView(b.buffer).setUint32(32 + 12 + 4, 77, true);
    bad("func_info type out of range", b, /func_info refers to type \[77\]/, 48);
  }
});
