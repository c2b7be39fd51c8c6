/**
 * String helpers: bpf_snprintf (the kernel's bpf_bprintf_prepare checks and
 * bstr_printf output) and bpf_strtol / bpf_strtoul (lib/kstrtox.c parsing rules).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";

/** `MAX_BPF_FUNC_VARARGS`: most arguments of bpf_snprintf. */
export const MAX_BPF_FUNC_VARARGS = 12;
/** vsprintf's FIELD_WIDTH_MAX: the widest field (a 24-bit signed field). */
export const FIELD_WIDTH_MAX = (1 << 23) - 1;
/**
 * Characters {@link formatBprintf} builds at most (1 MiB): bpf_snprintf writes at most
 * str_size bytes, so text past this is never seen. The would-be length it returns is
 * counted, not built: the kernel's, up to 12 fields of FIELD_WIDTH_MAX.
 */
export const BPRINTF_TEXT_MAX = 1 << 20;
/** `MAX_BPRINTF_BUF`: room for the strings and IP addresses one format copies. */
const MAX_BPRINTF_BUF = 512;
/** `BPF_STRTOX_BASE_MASK`. */
const STRTOX_BASE_MASK = 0x1fn;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
/** The kernel's isspace (lib/ctype.c: also 0xa0). */
const isSpace = (c: number) => (c >= 9 && c <= 13) || c === 0x20 || c === 0xa0;
const isPunct = (c: number) =>
  (c >= 0x21 && c <= 0x2f) ||
  (c >= 0x3a && c <= 0x40) ||
  (c >= 0x5b && c <= 0x60) ||
  (c >= 0x7b && c <= 0x7e);
const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;

/** Reads memory for %s, %pI4...: bytes at an address, or undefined where nothing is mapped. */
export type MemoryReader = (addr: bigint, len: number) => Uint8Array | undefined;

/** Reads a NUL-terminated string of at most `max - 1` bytes; "" on a fault, as the kernel does. */
function readString(read: MemoryReader, addr: bigint, max: number): string {
  let s = "";
  for (let i = 0; i < max - 1; i++) {
    const b = read(addr + BigInt(i), 1);
    if (!b) return "";
    if (b[0] === 0) break;
    s += String.fromCharCode(b[0] as number);
  }
  return s;
}

interface Spec {
  flags: string;
  width: number;
  conv: string;
  long: boolean;
  /** Start and end of the specifier in the format. */
  start: number;
  end: number;
}

/**
 * Checks `fmt` as bpf_bprintf_prepare does: printable ASCII only; conversions %d %i
 * %u %x %X (with l/ll), %c, %s, %p, %pK %px %ps %pS %pks %pus %pI4 %pi4 %pI6 %pi6;
 * flags `0 + - space` and a width; no precision; %s and plain %p followed by nothing,
 * a space or punctuation; at most `numArgs` conversions. Returns the conversions, or
 * -EINVAL.
 */
export function parseBprintf(fmt: Uint8Array, numArgs: number): Spec[] | number {
  const specs: Spec[] = [];
  const at = (i: number) => fmt[i] ?? 0;
  for (let i = 0; i < fmt.length && at(i) !== 0; i++) {
    const c = at(i);
    if ((!isPrint(c) && !isSpace(c)) || c > 0x7f) return -Errno.EINVAL;
    if (c !== 0x25) continue;
    if (at(i + 1) === 0x25) {
      i++;
      continue;
    }
    if (specs.length >= numArgs) return -Errno.EINVAL;
    const start = i;
    i++;
    let flags = "";
    while (at(i) === 0x30 || at(i) === 0x2b || at(i) === 0x2d || at(i) === 0x20) {
      flags += String.fromCharCode(at(i));
      i++;
    }
    let width = 0;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      // vsprintf keeps a width in a 24-bit field: clamp as it does, whatever the digits.
      while (isDigit(at(i))) width = Math.min(width * 10 + at(i++) - 0x30, FIELD_WIDTH_MAX);
    }
    const ch = String.fromCharCode(at(i));
    const next = at(i + 1);
    if (ch === "p") {
      if (next === 0 || isSpace(next) || isPunct(next)) {
        specs.push({ flags, width, conv: "p", long: true, start, end: i + 1 });
        continue;
      }
      const n = String.fromCharCode(next);
      if ((n === "k" || n === "u") && at(i + 2) === 0x73) {
        const after = at(i + 3);
        if (after !== 0 && !isSpace(after) && !isPunct(after)) return -Errno.EINVAL;
        specs.push({ flags, width, conv: "s", long: true, start, end: i + 3 });
        i += 2;
        continue;
      }
      if (n === "K" || n === "x" || n === "s" || n === "S") {
        specs.push({ flags, width, conv: `p${n}`, long: true, start, end: i + 2 });
        i++;
        continue;
      }
      const v = String.fromCharCode(at(i + 2));
      if ((n !== "i" && n !== "I") || (v !== "4" && v !== "6")) return -Errno.EINVAL;
      specs.push({ flags, width, conv: `p${n}${v}`, long: true, start, end: i + 3 });
      i += 2;
      continue;
    }
    if (ch === "s") {
      if (next !== 0 && !isSpace(next) && !isPunct(next)) return -Errno.EINVAL;
      specs.push({ flags, width, conv: "s", long: true, start, end: i + 1 });
      continue;
    }
    if (ch === "c") {
      specs.push({ flags, width, conv: "c", long: false, start, end: i + 1 });
      continue;
    }
    let long = false;
    if (at(i) === 0x6c) {
      long = true;
      i++;
    }
    if (at(i) === 0x6c) i++;
    const conv = String.fromCharCode(at(i));
    if (!"iduxX".includes(conv) || at(i) === 0) return -Errno.EINVAL;
    specs.push({ flags, width, conv, long, start, end: i + 1 });
  }
  return specs;
}

/**
 * The first `room` characters of `s` padded to `width` (at most FIELD_WIDTH_MAX) as
 * vsnprintf pads it: spaces before (or after, with `-`), zeros after the sign for a
 * number with `0`. Only what fits is built: vsnprintf writes the padding up to the end
 * of its buffer and drops the rest, so a field wider than the room shows its padding
 * and none of its digits.
 */
export function padField(
  s: string,
  width: number,
  flags: string,
  numeric: boolean,
  room: number,
): string {
  const fill = Math.max(0, Math.min(width, FIELD_WIDTH_MAX) - s.length);
  let head = "";
  let pad = " ";
  let body = s;
  let after = false;
  if (flags.includes("-")) after = true;
  else if (numeric && flags.includes("0")) {
    head = /^[-+ ]/.test(s) ? s.slice(0, 1) : "";
    body = s.slice(head.length);
    pad = "0";
  }
  const parts = after
    ? [body, " ".repeat(Math.min(fill, room))]
    : [head, pad.repeat(Math.min(fill, room)), body];
  let out = "";
  for (const part of parts) {
    if (out.length >= room) break;
    out += part.slice(0, room - out.length);
  }
  return out;
}

/**
 * Formats as the kernel's bstr_printf does after bpf_bprintf_prepare: `args` are the
 * raw u64 arguments; memory for %s and %pI4 comes from `read`. Plain %p and %pK print
 * the raw value as %px does (the kernel prints a hashed pointer); %ps/%pS print it in
 * hex too (the VM has no kernel symbols).
 */
export function formatBprintf(
  fmt: Uint8Array,
  specs: readonly Spec[],
  args: readonly bigint[],
  read: MemoryReader,
): BprintfText {
  let out = "";
  let length = 0; // the whole text's, as vsnprintf counts it past its buffer
  let last = 0;
  let budget = MAX_BPRINTF_BUF;
  const text = (from: number, to: number) => {
    let s = "";
    for (let i = from; i < to && fmt[i] !== 0; i++) s += String.fromCharCode(fmt[i] as number);
    return s.replace(/%%/g, "%");
  };
  specs.forEach((spec, k) => {
    const literal = text(last, spec.start);
    out += literal;
    length += literal.length;
    last = spec.end;
    const raw = BigInt.asUintN(64, args[k] ?? 0n);
    let s: string;
    let numeric = true;
    switch (spec.conv) {
      case "d":
      case "i": {
        const v = spec.long ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw);
        s = v.toString();
        if (v >= 0n && spec.flags.includes("+")) s = `+${s}`;
        else if (v >= 0n && spec.flags.includes(" ")) s = ` ${s}`;
        break;
      }
      case "u":
        s = (spec.long ? raw : BigInt.asUintN(32, raw)).toString();
        break;
      case "x":
      case "X":
        s = (spec.long ? raw : BigInt.asUintN(32, raw)).toString(16);
        if (spec.conv === "X") s = s.toUpperCase();
        break;
      case "c":
        s = String.fromCharCode(Number(raw & 0xffn));
        numeric = false;
        break;
      case "s": {
        s = readString(read, raw, Math.max(1, budget));
        budget -= s.length + 1;
        numeric = false;
        break;
      }
      case "pI4":
      case "pi4": {
        const b = read(raw, 4) ?? new Uint8Array(4);
        s = [...b]
          .map((x) => (spec.conv === "pi4" ? x.toString().padStart(3, "0") : x.toString()))
          .join(".");
        numeric = false;
        break;
      }
      case "pI6":
      case "pi6": {
        const b = read(raw, 16) ?? new Uint8Array(16);
        const groups: string[] = [];
        for (let g = 0; g < 8; g++)
          groups.push(
            (((b[2 * g] as number) << 8) | (b[2 * g + 1] as number)).toString(16).padStart(4, "0"),
          );
        s = groups.join(spec.conv === "pI6" ? ":" : "");
        numeric = false;
        break;
      }
      default:
        s = raw.toString(16).padStart(16, "0");
        numeric = false;
    }
    out += padField(s, spec.width, spec.flags, numeric, Math.max(0, BPRINTF_TEXT_MAX - out.length));
    length += Math.max(s.length, Math.min(spec.width, FIELD_WIDTH_MAX));
  });
  const tail = text(last, fmt.length);
  out += tail;
  length += tail.length;
  return { text: out.length > BPRINTF_TEXT_MAX ? out.slice(0, BPRINTF_TEXT_MAX) : out, length };
}

/** What {@link formatBprintf} makes. */
export interface BprintfText {
  /** The text, cut at {@link BPRINTF_TEXT_MAX} characters. */
  readonly text: string;
  /** The length of the whole text (bpf_snprintf returns it plus one for the NUL). */
  readonly length: number;
}

/** Reads VM memory (readable bytes of any region) for the formatter. */
function vmReader(m: Machine): MemoryReader {
  return (addr, len) => {
    try {
      return m.access.bytesAt(addr, len, "read");
    } catch {
      return undefined;
    }
  };
}

/** The kernel's `_parse_integer` after `_parse_integer_fixup_radix`: [consumed, value, overflow]. */
function parseUnsigned(s: Uint8Array, base0: number): [number, bigint, boolean] {
  let base = base0;
  let i = 0;
  const lower = (c: number) => c | 0x20;
  const isX = (c: number) => isDigit(c) || (lower(c) >= 0x61 && lower(c) <= 0x66);
  if (base === 0) {
    if (s[0] === 0x30) base = lower(s[1] ?? 0) === 0x78 && isX(s[2] ?? 0) ? 16 : 8;
    else base = 10;
  }
  if (base === 16 && s[0] === 0x30 && lower(s[1] ?? 0) === 0x78) i = 2;
  let res = 0n;
  let overflow = false;
  const b = BigInt(base);
  const start = i;
  for (; i < s.length; i++) {
    const c = s[i] as number;
    let v: number;
    if (isDigit(c)) v = c - 0x30;
    else if (lower(c) >= 0x61 && lower(c) <= 0x66) v = lower(c) - 0x61 + 10;
    else break;
    if (v >= base) break;
    res = res * b + BigInt(v);
    if (res > 0xffff_ffff_ffff_ffffn) overflow = true;
    res = BigInt.asUintN(64, res);
  }
  return [i === start ? 0 : i, res, overflow];
}

/** `__bpf_strtoull`: [consumed or negative errno, value, negative]. */
export function strtoull(buf: Uint8Array, flags: bigint): [number, bigint, boolean] {
  const base = Number(flags & STRTOX_BASE_MASK);
  if (buf.length === 0) return [-Errno.EINVAL, 0n, false];
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return [-Errno.EINVAL, 0n, false];
  if (flags & ~STRTOX_BASE_MASK) return [-Errno.EINVAL, 0n, false];
  let i = 0;
  while (i < buf.length && isSpace(buf[i] as number)) i++;
  const neg = i < buf.length && buf[i] === 0x2d;
  if (neg) i++;
  if (i >= buf.length) return [-Errno.EINVAL, 0n, neg];
  // The kernel copies at most 63 bytes and stops at a NUL.
  let rest = buf.subarray(i, Math.min(buf.length, i + 63));
  const nul = rest.indexOf(0);
  if (nul >= 0) rest = rest.subarray(0, nul);
  const [used, value, overflow] = parseUnsigned(rest, base);
  if (overflow) return [-Errno.ERANGE, 0n, neg];
  if (used === 0) return [-Errno.EINVAL, 0n, neg];
  return [i + used, value, neg];
}

/** The string helpers of this module, by id. */
export function stringHelpers(): [number, HelperFunction][] {
  const snprintf: HelperFunction = (m) => {
    const size = m.argU32(2);
    const dataLen = m.argU32(5);
    if (dataLen % 8 || dataLen > MAX_BPF_FUNC_VARARGS * 8 || (dataLen && m.arg(4) === 0n))
      return -Errno.EINVAL;
    // The format is a constant string; read up to its NUL (at most the region's end).
    const { id, offset } = m.memory.locate(m.arg(3));
    if (id < 0 || id >= m.memory.count || offset < m.access.readLo[id]!)
      throw m.error("argument r3 is not a format string in VM memory");
    const region = (m.memory.bytes[id] as Uint8Array).subarray(0, m.access.readHi[id]!);
    const end = region.indexOf(0, offset);
    if (end < 0) throw m.error("argument r3: the format string has no NUL in its region");
    const fmt = m.argPtr(3, end - offset + 1, "read");
    const specs = parseBprintf(fmt, dataLen / 8);
    if (typeof specs === "number") return specs;
    const data = dataLen ? m.argPtr(4, dataLen, "read") : new Uint8Array(0);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const args: bigint[] = [];
    for (let i = 0; i < dataLen; i += 8) args.push(v.getBigUint64(i, true));
    const { text, length } = formatBprintf(fmt, specs, args, vmReader(m));
    if (size > 0) {
      const out = m.argPtr(1, size, "write");
      const n = Math.min(text.length, size - 1);
      for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i) & 0xff;
      out[n] = 0;
    }
    return length + 1;
  };
  const strto =
    (signed: boolean): HelperFunction =>
    (m) => {
      const len = m.argU32(2);
      const res = m.argPtr(4, 8, "write");
      const rv = new DataView(res.buffer, res.byteOffset, 8);
      rv.setBigUint64(0, 0n, true);
      if (len === 0) return -Errno.EINVAL;
      const buf = m.argPtr(1, len, "read");
      const [n, value, neg] = strtoull(buf, m.arg(3));
      if (n < 0) return n;
      let out: bigint;
      if (signed) {
        if (neg) {
          if (BigInt.asIntN(64, -value) > 0n) return -Errno.ERANGE;
          out = BigInt.asUintN(64, -value);
        } else {
          if (BigInt.asIntN(64, value) < 0n) return -Errno.ERANGE;
          out = value;
        }
      } else {
        if (neg) return -Errno.EINVAL;
        out = value;
      }
      rv.setBigUint64(0, out, true);
      return n;
    };
  return [
    [HelperId.snprintf, snprintf],
    [HelperId.strtol, strto(true)],
    [HelperId.strtoul, strto(false)],
  ];
}
