/**
 * src/uapi/bytes.ts: Buffers made plain, views that respect their offset, and the
 * slabs small typed arrays of the load path come from.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  copyBytes,
  newBytes,
  newFloat64s,
  newInt32s,
  plainBytes,
  viewOf,
} from "../src/uapi/bytes.ts";

test("slab arrays: zeroed, 8-byte aligned, disjoint, each its own length", () => {
  const arrays = [newBytes(5), newInt32s(3), newFloat64s(2), newBytes(100), newBytes(4096)];
  for (const a of arrays) {
    assert.equal(a.byteOffset % 8, 0, "aligned");
    assert.ok(new Uint8Array(a.buffer, a.byteOffset, a.byteLength).every((b) => b === 0));
  }
  assert.deepEqual(
    arrays.map((a) => a.length),
    [5, 3, 2, 100, 4096],
  );
  // Writing every byte of each array leaves the others as they were.
  arrays.forEach((a, i) => {
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(i + 1);
  });
  arrays.forEach((a, i) => {
    assert.ok(
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).every((b) => b === i + 1),
      `array ${i} kept its bytes`,
    );
  });
});

test("slab arrays: large or empty requests get a buffer of their own", () => {
  const big = newBytes(4097);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 4097);
  assert.equal(newInt32s(2000).buffer.byteLength, 8000);
  assert.equal(newBytes(0).length, 0);
});

test("copyBytes copies (from a Buffer too) into memory of its own", () => {
  const src = Buffer.from("hello, slab");
  const c = copyBytes(src);
  assert.equal(Object.getPrototypeOf(c), Uint8Array.prototype);
  assert.deepEqual([...c], [...src]);
  src[0] = 0x48;
  assert.equal(c[0], 0x68, "the copy does not follow its source");
  assert.equal(viewOf(c).getUint8(1), 0x65, "read through viewOf at its offset");
});

test("plainBytes: a Buffer becomes a Uint8Array over the same memory", () => {
  const b = Buffer.from([1, 2, 3]);
  const p = plainBytes(b);
  assert.equal(Object.getPrototypeOf(p), Uint8Array.prototype);
  p[0] = 9;
  assert.equal(b[0], 9);
  const u = new Uint8Array(2);
  assert.equal(plainBytes(u), u);
});
