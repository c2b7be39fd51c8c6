/**
 * printf widths in trace_printk and bpf_snprintf formatting are capped as the kernel
 * caps them (issue 9, item 4): `%999999999d` threw `RangeError: Invalid string length`
 * and `%500000000d` built a 500 MB string.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPrintk, PRINTK_LINE_MAX } from "../src/vm/helpers-printk.ts";
import {
  BPRINTF_TEXT_MAX,
  FIELD_WIDTH_MAX,
  formatBprintf,
  parseBprintf,
} from "../src/vm/helpers-string.ts";
import type { Machine } from "../src/vm/interpreter.ts";
import { scaled } from "./support/time.ts";

const noMachine = {} as Machine;
const enc = (s: string) => new TextEncoder().encode(`${s}\0`);

test("trace_printk: huge widths end at once, cut at the kernel's 511-character line", () => {
  for (const w of ["999999999", "500000000", "9".repeat(1000)]) {
    const t0 = performance.now();
    const s = formatPrintk(noMachine, `a%${w}db`, [42n]);
    assert.ok(performance.now() - t0 < scaled(200), `%${w.slice(0, 12)}d took too long`);
    assert.equal(s.length, PRINTK_LINE_MAX);
    assert.ok(s.startsWith("a   "));
    const left = formatPrintk(noMachine, `%-${w}d|`, [7n]);
    assert.equal(left.length, PRINTK_LINE_MAX);
    assert.ok(left.startsWith("7 "));
  }
  // Ordinary widths are unchanged.
  assert.equal(formatPrintk(noMachine, "%5d|%-3x|%05d", [42n, 10n, -7n]), "   42|a  |-0007");
});

test("bpf_snprintf: widths clamp at FIELD_WIDTH_MAX and the text at BPRINTF_TEXT_MAX", () => {
  for (const w of ["999999999", "500000000", "9".repeat(1000)]) {
    const fmt = enc(`%${w}d%${w}d`);
    const specs = parseBprintf(fmt, 2);
    assert.ok(Array.isArray(specs));
    assert.equal(specs[0]?.width, FIELD_WIDTH_MAX);
    const t0 = performance.now();
    const s = formatBprintf(fmt, specs, [1n, 2n], () => undefined);
    assert.ok(performance.now() - t0 < scaled(500));
    assert.equal(s.length, BPRINTF_TEXT_MAX);
    assert.ok(s.endsWith(" 1"), "the first field, right-aligned, fills the text");
  }
  const fmt = enc("%5d|%-3x|%05d");
  const specs = parseBprintf(fmt, 3);
  assert.ok(Array.isArray(specs));
  assert.equal(
    formatBprintf(fmt, specs, [42n, 10n, BigInt.asUintN(64, -7n)], () => undefined),
    "   42|a  |-0007",
  );
});
