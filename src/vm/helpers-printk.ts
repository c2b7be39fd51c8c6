/**
 * trace_printk and trace_vprintk: the kernel's bpf_trace_printk formatting (%d %i %u
 * %x %X %c %s %p, l/ll modifiers, flags and width), lines to the run's printk sink.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import { FIELD_WIDTH_MAX, padField } from "./helpers-string.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";

/** Reads a NUL-terminated string of at most `max` bytes at `addr` (fewer at a region's end). */
function readCString(m: Machine, addr: bigint, max: number): string {
  const { id, offset } = m.memory.locate(addr);
  if (id < 0 || id >= m.memory.count) return "(fault)";
  const end = Math.min(offset + max, m.access.readHi[id]!);
  if (offset < m.access.readLo[id]! || offset >= end) return "(fault)";
  const b = m.memory.bytes[id]!;
  let s = "";
  for (let i = offset; i < end && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Limits of the formatting (the kernel's): a field width is at most FIELD_WIDTH_MAX
 * (vsprintf's 24-bit field), and the line is cut at MAX_BPRINTF_BUF - 1 characters
 * (bpf_trace_printk formats into a MAX_BPRINTF_BUF = 512 byte buffer). Padding is never
 * built beyond the cut, so `%999999999d` costs no more than `%d`.
 */
/** Characters of one trace_printk line (MAX_BPRINTF_BUF - 1). */
export const PRINTK_LINE_MAX = 511;

/**
 * Formats like the kernel's bpf_trace_printk: %d %i %u %x %X %c %s %p with the l/ll
 * length modifiers, flags `-0+ ` and a width; at most 3 arguments. The result is cut
 * at `limit` characters (default {@link PRINTK_LINE_MAX}).
 */
export function formatPrintk(
  m: Machine,
  fmt: string,
  args: readonly bigint[],
  limit = PRINTK_LINE_MAX,
): string {
  let out = "";
  let argi = 0;
  const re = /%([-0+ #]*)(\d*)(l{0,2}|h{0,2}|z)?([diuxXcsp%])/g;
  let last = 0;
  for (let mt = re.exec(fmt); mt && out.length < limit; mt = re.exec(fmt)) {
    out += fmt.slice(last, mt.index);
    last = re.lastIndex;
    const [, flags = "", width = "", len = "", conv] = mt;
    if (conv === "%") {
      out += "%";
      continue;
    }
    const raw = args[argi++] ?? 0n;
    const wide = len === "l" || len === "ll" || len === "z" || conv === "p";
    let s: string;
    switch (conv) {
      case "d":
      case "i":
        s = (wide ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw)).toString();
        if (flags.includes("+") && !s.startsWith("-")) s = `+${s}`;
        break;
      case "u":
        s = (wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw)).toString();
        break;
      case "x":
      case "X":
        s = (wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw)).toString(16);
        if (conv === "X") s = s.toUpperCase();
        if (flags.includes("#") && raw !== 0n) s = `0x${s}`;
        break;
      case "c":
        s = String.fromCharCode(Number(raw & 0xffn));
        break;
      case "s":
        s = readCString(m, raw, 4096);
        break;
      default:
        s = `0x${BigInt.asUintN(64, raw).toString(16)}`;
    }
    // Only the digits that can matter are read (a 1,000-digit width is FIELD_WIDTH_MAX),
    // and no padding is built past the cut.
    const w = width.length > 8 ? FIELD_WIDTH_MAX : Number(width || 0);
    out += padField(s, w, flags, conv !== "s" && conv !== "c", limit - out.length);
  }
  out += fmt.slice(last);
  return out.length > limit ? out.slice(0, limit) : out;
}

/** trace_printk and trace_vprintk, by id. */
export function printkHelpers(): [number, HelperFunction][] {
  const h = new Map<number, HelperFunction>();
  h.set(HelperId.trace_printk, (m) => {
    const size = m.argU32(2);
    if (size === 0) return -Errno.EINVAL;
    const bytes = m.argPtr(1, size, "read");
    if (bytes[size - 1] !== 0) return -Errno.EINVAL;
    let fmt = "";
    for (let i = 0; i < size - 1 && bytes[i] !== 0; i++) fmt += String.fromCharCode(bytes[i]!);
    const text = formatPrintk(m, fmt, [m.arg(3), m.arg(4), m.arg(5)]);
    m.printk.push(text.endsWith("\n") ? text.slice(0, -1) : text);
    return text.length;
  });
  h.set(HelperId.trace_vprintk, (m) => {
    // bpf_trace_vprintk(fmt, fmt_size, data, data_len): the arguments as an array of
    // u64 (at most MAX_BPRINTF_VARARGS = 12), like trace_printk otherwise.
    const size = m.argU32(2);
    const dataLen = m.argU32(4);
    if (size === 0 || dataLen % 8 !== 0 || dataLen > 12 * 8) return -Errno.EINVAL;
    if (dataLen > 0 && m.arg(3) === 0n) return -Errno.EINVAL;
    const bytes = m.argPtr(1, size, "read");
    if (bytes[size - 1] !== 0) return -Errno.EINVAL;
    let fmt = "";
    for (let i = 0; i < size - 1 && bytes[i] !== 0; i++) fmt += String.fromCharCode(bytes[i]!);
    const args: bigint[] = [];
    if (dataLen > 0) {
      const data = m.argPtr(3, dataLen, "read");
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let o = 0; o < dataLen; o += 8) args.push(dv.getBigUint64(o, true));
    }
    const text = formatPrintk(m, fmt, args);
    m.printk.push(text.endsWith("\n") ? text.slice(0, -1) : text);
    return text.length;
  });
  return [...h];
}
