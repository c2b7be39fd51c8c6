import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parseBTF } from "./parse.ts";
import { forEachRawType, RawKind, rawKind, rawTypeSize } from "./raw-types.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";

test("the raw walker finds every record the parser finds, at the parser's kinds", {
  skip: existsSync(VMLINUX) ? false : "no /sys/kernel/btf/vmlinux",
}, () => {
  const bytes = new Uint8Array(readFileSync(VMLINUX));
  const btf = parseBTF(bytes);
  let last = 0;
  let lastInfo = 0;
  const kinds = new Map<number, number>();
  const layout = forEachRawType(bytes, (id, at, info) => {
    assert.equal(id, kinds.size + 1);
    kinds.set(id, rawKind(info));
    last = at;
    lastInfo = info;
  });
  assert.ok(layout);
  assert.equal(layout.offsets.length, btf.count);
  assert.equal(last + rawTypeSize(lastInfo), layout.typeEnd, "records tile the type section");
  for (const id of [1, 100, btf.count - 1]) {
    const kind = btf.type(id).kind;
    assert.equal(kinds.get(id), RawKind[kind as keyof typeof RawKind], `type [${id}]`);
  }
});

test("not BTF, or not little-endian: no layout", () => {
  assert.equal(forEachRawType(new Uint8Array(8)), undefined);
  const be = new Uint8Array(24);
  be.set([0xeb, 0x9f, 1, 0]);
  assert.equal(forEachRawType(be), undefined);
});

test("record sizes by kind: INT 16, STRUCT 12 + 12 per member, FUNC_PROTO 12 + 8 per param", () => {
  assert.equal(rawTypeSize(RawKind.INT << 24), 16);
  assert.equal(rawTypeSize((RawKind.STRUCT << 24) | 3), 48);
  assert.equal(rawTypeSize((RawKind.FUNC_PROTO << 24) | 2), 28);
  assert.equal(rawTypeSize((RawKind.DATASEC << 24) | 1), 24);
  assert.equal(rawTypeSize(RawKind.PTR << 24), 12);
});
