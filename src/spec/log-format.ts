/**
 * printf-style formats of `tsbpf_log.h` calls, formatted in userspace: `%d %i %u %x %X
 * %o %c %s %p %%` with flags `-0+ #`, a width, a precision and ignored length modifiers
 * (`hh h l ll z j t`: the argument's C type, recorded at compile time, gives its width
 * and sign), plus the kernel printk's `%pI4` (IPv4 in a 32-bit integer, network byte
 * order) and `%pM` (a MAC address).
 *
 * Pure: no `node:` imports.
 *
 * @module
 */
import type { LogArgType } from "./log-sites.ts";

/** A conversion of a format: which argument, how. */
export interface FormatConversion {
  /** The argument's index. */
  readonly arg: number;
  /** The conversion: d i u x X o c s p, or "pI4" / "pM". */
  readonly conv: string;
  /** Flags among `-0+ #`. */
  readonly flags: string;
  /** Minimum width (0: none). */
  readonly width: number;
  /** Precision (undefined: none): digits for integers, characters for strings. */
  readonly precision: number | undefined;
}

/** Literal text, or a conversion. */
export type FormatPiece = string | FormatConversion;

/** A decoded argument: its type and value. */
export interface LogArg {
  /** Its C type class. */
  readonly type: LogArgType;
  /**
   * Integers up to 32 bits: a number; 64-bit integers and pointers: a bigint; strings:
   * the text read (lossy UTF-8; "" when the read failed); a MAC: "aa:bb:cc:dd:ee:ff".
   */
  readonly value: number | bigint | string;
  /** For a string the program failed to read: the errno name (EFAULT...). */
  readonly fault?: string;
}

const INTEGER = new Set<LogArgType>(["u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64"]);
const BITS: Partial<Record<LogArgType, number>> = {
  u8: 8,
  s8: 8,
  u16: 16,
  s16: 16,
  u32: 32,
  s32: 32,
  u64: 64,
  s64: 64,
  ptr: 64,
};

/** The argument types each conversion prints. */
function accepts(conv: string, type: LogArgType): boolean {
  switch (conv) {
    case "s":
      return type === "kstr" || type === "ustr";
    case "pM":
      return type === "mac";
    case "pI4":
    case "c":
      return INTEGER.has(type);
    default: // d i u x X o p
      return INTEGER.has(type) || type === "ptr";
  }
}

const SPEC = /%([-0+ #]*)(\d*)(?:\.(\d*))?(?:hh|h|ll|l|z|j|t)?(pI4|pM|[diuxXocsp%])?/y;

/**
 * Parses `format` for arguments of `types`: literal text and conversions, each
 * checked against its argument.
 *
 * @throws Error saying what is wrong and where (`%f at offset 4 is not supported`,
 * `2 conversions for 3 arguments`, `%s for argument 1, a s32`).
 */
export function parseLogFormat(format: string, types: readonly LogArgType[]): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let text = "";
  let arg = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      text += format.slice(i);
      break;
    }
    text += format.slice(i, pct);
    SPEC.lastIndex = pct;
    const m = SPEC.exec(format);
    const conv = m?.[4];
    if (!m || conv === undefined) {
      const what = format.slice(pct, pct + 2);
      throw new Error(`${what} at offset ${pct} is not a supported conversion`);
    }
    i = SPEC.lastIndex;
    if (conv === "%") {
      text += "%";
      continue;
    }
    const type = types[arg];
    if (type === undefined)
      throw new Error(`${countConversions(format)} conversions for ${types.length} arguments`);
    if (!accepts(conv, type))
      throw new Error(`%${conv} at offset ${pct} is given argument ${arg + 1}, a ${type}`);
    if (text) pieces.push(text);
    text = "";
    const precision = m[3] === undefined ? undefined : Number(m[3] || "0");
    pieces.push({ arg, conv, flags: m[1] ?? "", width: Number(m[2] || "0"), precision });
    arg++;
  }
  if (text) pieces.push(text);
  if (arg !== types.length) throw new Error(`${arg} conversions for ${types.length} arguments`);
  return pieces;
}

function countConversions(format: string): number {
  return (format.replaceAll("%%", "").match(/%/g) ?? []).length;
}

function pad(s: string, c: FormatConversion, numeric: boolean): string {
  if (s.length >= c.width) return s;
  if (c.flags.includes("-")) return s.padEnd(c.width);
  if (numeric && c.flags.includes("0") && c.precision === undefined) {
    const sign = /^[-+ ]|^0[xX]/.exec(s)?.[0] ?? "";
    return sign + s.slice(sign.length).padStart(c.width - sign.length, "0");
  }
  return s.padStart(c.width);
}

function integer(c: FormatConversion, a: LogArg): string {
  // C's integer promotion: narrower arguments become an int (their value kept), so
  // %x of an s8 -1 is ffffffff and %d of a u8 255 is 255.
  const bits = Math.max(32, BITS[a.type] ?? 64);
  const raw = BigInt(a.value as number | bigint);
  const conv = c.conv;
  if (conv === "c") return String.fromCharCode(Number(BigInt.asUintN(8, raw)));
  if (conv === "pI4") {
    const v = Number(BigInt.asUintN(32, raw));
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].join(".");
  }
  const signed = conv === "d" || conv === "i";
  const n = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  const neg = n < 0n;
  const base = conv === "x" || conv === "X" || conv === "p" ? 16 : conv === "o" ? 8 : 10;
  let digits = (neg ? -n : n).toString(base);
  if (conv === "X") digits = digits.toUpperCase();
  if (c.precision !== undefined) digits = digits.padStart(c.precision, "0");
  let prefix = neg
    ? "-"
    : signed && c.flags.includes("+")
      ? "+"
      : signed && c.flags.includes(" ")
        ? " "
        : "";
  if (conv === "p" || (c.flags.includes("#") && n !== 0n && (conv === "x" || conv === "X")))
    prefix += conv === "X" ? "0X" : "0x";
  if (c.flags.includes("#") && conv === "o" && !digits.startsWith("0")) digits = `0${digits}`;
  return prefix + digits;
}

/**
 * The message of a record: `pieces` (from {@link parseLogFormat}) filled with `args`,
 * which must have the types the pieces were parsed for.
 */
export function formatLogMessage(pieces: readonly FormatPiece[], args: readonly LogArg[]): string {
  let out = "";
  for (const p of pieces) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    const a = args[p.arg];
    if (a === undefined)
      throw new RangeError(`format wants argument ${p.arg + 1} of ${args.length}`);
    if (p.conv === "s") {
      let s = a.fault === undefined ? String(a.value) : `(${a.fault})`;
      if (p.precision !== undefined) s = s.slice(0, p.precision);
      out += pad(s, p, false);
    } else if (p.conv === "pM") {
      out += pad(String(a.value), p, false);
    } else {
      out += pad(integer(p, a), p, p.conv !== "c" && p.conv !== "pI4");
    }
  }
  return out;
}
