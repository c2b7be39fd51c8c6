/**
 * Parser limits checked before proportional work (issue 9): a hostile line for the
 * assembler, many lookups into one long BTF string. How fast they end, against benign
 * input of the same shape, is measured in bench/hostile-input.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StringTable } from "../src/btf/index.ts";
import { assemble, MAX_ASM_LINE } from "../src/isa/assemble.ts";
import { AssemblerError } from "../src/isa/errors.ts";
import { longAsmLine, oneLongString } from "./support/hostile-inputs.ts";

test("assembler: a line longer than MAX_ASM_LINE is an AssemblerError before parsing", () => {
  assert.throws(
    () => assemble(longAsmLine(200_000)),
    (e: unknown) =>
      e instanceof AssemblerError &&
      e.line === 1 &&
      e.column === MAX_ASM_LINE + 1 &&
      // The length check, not a parse error: nothing of the line was parsed.
      e.reason === "the line is 400007 characters long, more than 4096",
  );
  // The longest allowed line of that shape is parsed, and refused by the parser.
  const longest = longAsmLine((MAX_ASM_LINE - 8) / 2);
  assert.equal(longest.indexOf("\n"), MAX_ASM_LINE - 1);
  assert.throws(
    () => assemble(longest),
    (e: unknown) =>
      e instanceof AssemblerError && e.line === 1 && /^expected end of instruction/.test(e.reason),
  );
});

test("BTF strings: 200,000 offsets into one 1 MB string, each the right string", () => {
  const bytes = oneLongString(1 << 20);
  const strings = new StringTable(bytes);
  // The string at offset i runs to the NUL at the end: bytes.length - 1 - i characters.
  let total = 0;
  let expected = 0;
  for (let i = 1; i < 200_000; i++) {
    total += strings.get(i).length;
    expected += bytes.length - 1 - i;
  }
  assert.equal(total, expected);
  assert.equal(strings.get(bytes.length - 2), "a");
  assert.equal(strings.get(bytes.length - 1), "");
});
