import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLogMessage, type LogArg, parseLogFormat } from "./log-format.ts";
import type { LogArgType } from "./log-sites.ts";

function fmt(format: string, ...args: LogArg[]): string {
  return formatLogMessage(
    parseLogFormat(
      format,
      args.map((a) => a.type),
    ),
    args,
  );
}
const s32 = (value: number): LogArg => ({ type: "s32", value });
const arg = (type: LogArgType, value: number | bigint | string): LogArg => ({ type, value });

test("integers print as C's printf prints them after integer promotion", () => {
  assert.equal(
    fmt("%5d|%-5d|%05d|%+d|% d", s32(42), s32(42), s32(42), s32(5), s32(5)),
    "   42|42   |00042|+5| 5",
  );
  assert.equal(
    fmt("%d %u %x %X", s32(-1), s32(-1), s32(-1), s32(255)),
    "-1 4294967295 ffffffff FF",
  );
  assert.equal(fmt("%d %x", arg("u8", 255), arg("s8", -1)), "255 ffffffff");
  assert.equal(fmt("%lld %llu", arg("s64", -2n), arg("s64", -2n)), "-2 18446744073709551614");
  assert.equal(fmt("%#x %#o %#x %o", s32(255), s32(8), s32(0), s32(8)), "0xff 010 0 10");
  assert.equal(fmt("%.4d|%08.3d", s32(7), s32(7)), "0007|     007");
  assert.equal(fmt("%c%c", arg("s8", 79), arg("u32", 75)), "OK");
  assert.equal(fmt("%p %lx", arg("ptr", 0xffffn), arg("ptr", 0xabn)), "0xffff ab");
});

test("strings, addresses and literal percent signs", () => {
  assert.equal(
    fmt(
      "[%s] [%.3s] [%6s] [%-6s]",
      arg("kstr", "bash"),
      arg("kstr", "abcdef"),
      arg("ustr", "ab"),
      arg("kstr", "ab"),
    ),
    "[bash] [abc] [    ab] [ab    ]",
  );
  assert.equal(fmt("100%% %s", { type: "ustr", value: "", fault: "EFAULT" }), "100% (EFAULT)");
  assert.equal(fmt("%pI4", arg("u32", 0x0100007f)), "127.0.0.1");
  assert.equal(fmt("%pM", arg("mac", "02:00:00:aa:bb:cc")), "02:00:00:aa:bb:cc");
  assert.equal(fmt("no conversions"), "no conversions");
});

test("a format that does not fit its arguments says what and where", () => {
  assert.throws(
    () => parseLogFormat("x=%f", ["s32"]),
    /^Error: %f at offset 2 is not a supported conversion$/,
  );
  assert.throws(
    () => parseLogFormat("%*d", ["s32"]),
    /%\* at offset 0 is not a supported conversion/,
  );
  assert.throws(() => parseLogFormat("%d %d", ["s32"]), /2 conversions for 1 arguments/);
  assert.throws(() => parseLogFormat("%d", ["s32", "u8"]), /1 conversions for 2 arguments/);
  assert.throws(
    () => parseLogFormat("pid=%s", ["u32"]),
    /%s at offset 4 is given argument 1, a u32/,
  );
  assert.throws(() => parseLogFormat("%d", ["kstr"]), /%d at offset 0 is given argument 1, a kstr/);
  assert.throws(() => parseLogFormat("%pM", ["u64"]), /%pM at offset 0 is given argument 1, a u64/);
  assert.throws(
    () => parseLogFormat("trailing %", []),
    /% at offset 9 is not a supported conversion/,
  );
});
