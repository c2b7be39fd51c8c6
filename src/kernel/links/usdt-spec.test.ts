import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { CompositeType } from "../../btf/types.ts";
import { loadCollectionSpec, parseUsdtArgs } from "../../elf/index.ts";
import { encodeUsdtSpec, USDT_SPEC } from "./usdt-spec.ts";

/** Member offsets (bytes) and size of the struct clang built from bpf/usdt.bpf.h. */
function struct(name: string): { offsets: Map<string, number>; size: number } {
  const obj = join(import.meta.dirname, "../../../test/testdata/hooks/usdt.bpf.o");
  const btf = loadCollectionSpec(new Uint8Array(readFileSync(obj))).btf;
  const t = btf?.findAllByName(name).find((x) => x.kind === "STRUCT") as CompositeType;
  assert.ok(t, `${name} in the object's BTF`);
  return { offsets: new Map(t.members.map((x) => [x.name, x.bitOffset / 8])), size: t.size };
}

test("USDT_SPEC matches struct __bpf_usdt_spec as usdt.bpf.h declares it", () => {
  const spec = struct("__bpf_usdt_spec");
  assert.equal(spec.size, USDT_SPEC.sizeof);
  assert.equal(spec.offsets.get("usdt_cookie"), USDT_SPEC.cookie);
  assert.equal(spec.offsets.get("arg_cnt"), USDT_SPEC.argCount);
  const arg = struct("__bpf_usdt_arg_spec");
  assert.equal(arg.size, USDT_SPEC.argSize);
  assert.equal(arg.offsets.get("val_off"), USDT_SPEC.argValOff);
  assert.equal(arg.offsets.get("arg_type"), USDT_SPEC.argType);
  assert.equal(arg.offsets.get("reg_off"), USDT_SPEC.argRegOff);
  assert.equal(arg.offsets.get("arg_signed"), USDT_SPEC.argSigned);
  assert.equal(arg.offsets.get("arg_bitshift"), USDT_SPEC.argBitshift);
});

test("encodeUsdtSpec writes each argument, the cookie and the count", () => {
  const bytes = encodeUsdtSpec(parseUsdtArgs("-4@%eax 8@-8(%rbp)", "p:n"), 0x1234n);
  const v = new DataView(bytes.buffer);
  assert.deepEqual(
    [v.getUint32(8, true), v.getInt16(12, true), v.getUint8(14), v.getInt8(15)],
    [1, 80, 1, 32],
  );
  assert.deepEqual(
    [v.getBigInt64(16, true), v.getUint32(24, true), v.getInt16(28, true), v.getUint8(30)],
    [-8n, 2, 32, 0],
  );
  assert.equal(v.getBigUint64(USDT_SPEC.cookie, true), 0x1234n);
  assert.equal(v.getInt16(USDT_SPEC.argCount, true), 2);
  assert.throws(
    () => encodeUsdtSpec(Array(13).fill(parseUsdtArgs("8@%rax", "p:n")[0]), 0n),
    /at most 12/,
  );
});
