/**
 * Parser limits checked before proportional work (issue 9): a hostile line for the
 * assembler, many lookups into one long BTF string.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StringTable } from "../src/btf/index.ts";
import { assemble, MAX_ASM_LINE } from "../src/isa/assemble.ts";
import { AssemblerError } from "../src/isa/errors.ts";
import { scaled } from "./support/time.ts";

test("assembler: a line longer than MAX_ASM_LINE is an AssemblerError, at once", () => {
  const t0 = performance.now();
  assert.throws(
    () => assemble(`r0 = 1 ${" <".repeat(200_000)}\nexit\n`),
    (e: unknown) => e instanceof AssemblerError && e.line === 1 && /more than 4096/.test(e.message),
  );
  assert.ok(performance.now() - t0 < scaled(500), `${performance.now() - t0} ms`);
  // The longest allowed line of that shape still ends quickly.
  const t1 = performance.now();
  assert.throws(
    () => assemble(`r0 = 1 ${" <".repeat((MAX_ASM_LINE - 8) / 2)}\nexit\n`),
    AssemblerError,
  );
  assert.ok(performance.now() - t1 < scaled(2000), `${performance.now() - t1} ms`);
});

test("BTF strings: 200,000 offsets into one 1 MB string cost a log each, not 1 MB each", () => {
  const bytes = new Uint8Array(1 << 20).fill(0x61);
  bytes[0] = 0;
  bytes[bytes.length - 1] = 0;
  const strings = new StringTable(bytes);
  const t0 = performance.now();
  let total = 0;
  for (let i = 1; i < 200_000; i++) total += strings.get(i).length;
  assert.ok(performance.now() - t0 < scaled(2000), `${performance.now() - t0} ms`);
  assert.equal(strings.get(bytes.length - 2), "a");
  assert.ok(total > 0);
});
