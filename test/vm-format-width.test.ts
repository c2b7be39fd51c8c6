/**
 * printf widths in trace_printk and bpf_snprintf formatting are capped as the kernel
 * caps them (issue 9, item 4): `%999999999d` threw `RangeError: Invalid string length`
 * and `%500000000d` built a 500 MB string. The cut is checked here; how fast a huge width
 * formats, against `%5d`, is measured in bench/hostile-input.ts.
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
import { HUGE_WIDTHS } from "./support/hostile-inputs.ts";

const noMachine = {} as Machine;
const enc = (s: string) => new TextEncoder().encode(`${s}\0`);

test("trace_printk: huge widths are cut at the kernel's 511-character line", () => {
  for (const w of HUGE_WIDTHS) {
    // vsnprintf writes the padding up to the end of its 512-byte buffer and drops the
    // rest: the digits and the "b" after them never show
    const s = formatPrintk(noMachine, `a%${w}db`, [42n]);
    assert.equal(s, `a${" ".repeat(PRINTK_LINE_MAX - 1)}`);
    assert.equal(formatPrintk(noMachine, `%0${w}d`, [-5n]), `-${"0".repeat(PRINTK_LINE_MAX - 1)}`);
    const left = formatPrintk(noMachine, `%-${w}d|`, [7n]);
    assert.equal(left.length, PRINTK_LINE_MAX);
    assert.ok(left.startsWith("7 "));
  }
  // Ordinary widths are unchanged; a field cut by the end of the line keeps its start.
  assert.equal(formatPrintk(noMachine, "%5d|%-3x|%05d", [42n, 10n, -7n]), "   42|a  |-0007");
  assert.equal(formatPrintk(noMachine, "%5d", [123456n], 3), "123");
  assert.equal(formatPrintk(noMachine, "%8d", [42n], 7), "      4");
});

test("bpf_snprintf: widths clamp at FIELD_WIDTH_MAX and the text at BPRINTF_TEXT_MAX", () => {
  for (const w of HUGE_WIDTHS) {
    const fmt = enc(`%${w}d%${w}d`);
    const specs = parseBprintf(fmt, 2);
    assert.ok(Array.isArray(specs));
    assert.equal(specs[0]?.width, FIELD_WIDTH_MAX);
    assert.equal(specs[1]?.width, FIELD_WIDTH_MAX);
    const { text: s, length } = formatBprintf(fmt, specs, [1n, 2n], () => undefined);
    assert.equal(length, 2 * FIELD_WIDTH_MAX, "the whole text's length, counted");
    assert.equal(s.length, BPRINTF_TEXT_MAX);
    assert.equal(s, " ".repeat(BPRINTF_TEXT_MAX), "the first field's padding fills the text");
  }
  const fmt = enc("%5d|%-3x|%05d");
  const specs = parseBprintf(fmt, 3);
  assert.ok(Array.isArray(specs));
  assert.equal(
    formatBprintf(fmt, specs, [42n, 10n, BigInt.asUintN(64, -7n)], () => undefined).text,
    "   42|a  |-0007",
  );
});
