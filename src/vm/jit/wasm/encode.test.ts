import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { wasmApi } from "./compile-wasm.ts";
import { Code, I32, I64, ModuleBuilder, Op, writeI32, writeI64, writeU32 } from "./encode.ts";

const W = wasmApi()!;

const bytes = (f: (out: number[]) => void): number[] => {
  const out: number[] = [];
  f(out);
  return out;
};

/** Instantiates a module and returns its exports. */
function instance(b: ModuleBuilder, imports: Record<string, Record<string, unknown>> = {}) {
  return new W.Instance(new W.Module(b.build()), imports).exports as Record<
    string,
    (...args: unknown[]) => unknown
  >;
}

describe("wasm encoder: LEB128", () => {
  test("unsigned and signed values as the spec's examples and the edges", () => {
    assert.deepEqual(
      bytes((o) => writeU32(o, 624485)),
      [0xe5, 0x8e, 0x26],
    );
    assert.deepEqual(
      bytes((o) => writeU32(o, 0)),
      [0],
    );
    assert.deepEqual(
      bytes((o) => writeU32(o, 0xffff_ffff)),
      [0xff, 0xff, 0xff, 0xff, 0x0f],
    );
    assert.deepEqual(
      bytes((o) => writeI32(o, -123456)),
      [0xc0, 0xbb, 0x78],
    );
    assert.deepEqual(
      bytes((o) => writeI32(o, 63)),
      [0x3f],
    );
    assert.deepEqual(
      bytes((o) => writeI32(o, 64)),
      [0xc0, 0x00],
    );
    assert.deepEqual(
      bytes((o) => writeI32(o, -64)),
      [0x40],
    );
    assert.deepEqual(
      bytes((o) => writeI32(o, -0x8000_0000)),
      [0x80, 0x80, 0x80, 0x80, 0x78],
    );
    // INT64_MIN and INT64_MAX (low word, high word).
    assert.deepEqual(
      bytes((o) => writeI64(o, 0, -0x8000_0000)),
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f],
    );
    assert.deepEqual(
      bytes((o) => writeI64(o, -1, 0x7fff_ffff)),
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
    );
  });
  test("values out of range are RangeErrors", () => {
    assert.throws(() => writeU32([], -1), RangeError);
    assert.throws(() => writeU32([], 2 ** 32), RangeError);
    assert.throws(() => writeI32([], 2 ** 31), RangeError);
    assert.throws(() => writeI32([], 1.5), RangeError);
  });
});

describe("wasm encoder: modules", () => {
  test("an i64 function runs with the constants it was given", () => {
    const b = new ModuleBuilder();
    const t = b.type([I64], [I64]);
    // x * 0x1_0000_0001 + INT64_MIN
    const body = new Code()
      .local(Op.local_get, 0)
      .i64(1, 1)
      .op(Op.i64_mul)
      .i64(0, -0x8000_0000)
      .op(Op.i64_add);
    b.export("f", b.func(t, [], body));
    const { f } = instance(b);
    assert.equal(f!(3n), BigInt.asIntN(64, 3n * 0x1_0000_0001n - 2n ** 63n));
  });
  test("loops, blocks, br_if, locals and an imported memory and function", () => {
    const b = new ModuleBuilder();
    b.importMemory("env", "mem", 1, 1);
    const log = b.importFunc("env", "log", b.type([I32], []));
    const t = b.type([I32], [I32]);
    // sum = 0; i = 0; loop { sum += i; i++; if i < n continue }; mem[8] = sum; log(sum); sum
    const w = new Code();
    w.open(Op.block).open(Op.loop);
    w.local(Op.local_get, 1).local(Op.local_get, 2).op(Op.i32_add).local(Op.local_set, 1);
    w.local(Op.local_get, 2).i32(1).op(Op.i32_add).local(Op.local_tee, 2);
    w.local(Op.local_get, 0).op(Op.i32_lt_u).br(Op.br_if, 0);
    w.op(Op.end).op(Op.end);
    w.i32(0).local(Op.local_get, 1).mem(Op.i32_store, 2, 8);
    w.local(Op.local_get, 1).call(log);
    w.local(Op.local_get, 1);
    b.export("sum", b.func(t, [I32, I32], w));
    const mem = new W.Memory({ initial: 1, maximum: 1 });
    const seen: number[] = [];
    const { sum } = instance(b, { env: { mem, log: (x: number) => seen.push(x) } });
    assert.equal(sum!(1000), 499500);
    assert.equal(new Int32Array(mem.buffer)[2], 499500);
    assert.deepEqual(seen, [499500]);
  });
  test("types are shared, imports come before functions, memory.fill zeroes", () => {
    const b = new ModuleBuilder();
    assert.equal(b.type([I32], []), b.type([I32], []));
    assert.notEqual(b.type([I32], []), b.type([I64], []));
    b.importMemory("env", "mem", 1);
    const w = new Code().i32(16).i32(0).i32(8).memoryFill();
    b.export("clear", b.func(b.type([], []), [], w));
    assert.throws(() => b.importFunc("env", "late", 0), /before defining/);
    const mem = new W.Memory({ initial: 1, maximum: 2 });
    new Uint8Array(mem.buffer).fill(7, 0, 32);
    instance(b, { env: { mem } }).clear!();
    const u8 = new Uint8Array(mem.buffer);
    assert.deepEqual([...u8.subarray(14, 26)], [7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]);
  });
});
