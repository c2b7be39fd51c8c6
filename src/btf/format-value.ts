/**
 * A value printed through its BTF type the way bpftool's btf_dumper prints map keys
 * and values (`bpftool map dump` on a map with BTF): structs and unions as objects of
 * member names, arrays as lists, char arrays as strings when they hold a printable
 * NUL-terminated string, enums as the enumerator's name (or the number when none
 * matches), bitfields and 128-bit integers as hex, pointers as hex in plain text and
 * decimal in JSON, global-data sections as `{".data": [{"var": value}, ...]}`.
 *
 * The walk emits events to a {@link ValueSink}, so one walk serves bpftool's plain
 * text (a pretty JSON-like layout with unquoted hex) and its JSON (`"formatted"`).
 *
 * Where bpftool fails or misreads, tsbpf prints the value: floats (bpftool stops at
 * "(unsupported-kind"), type tags on member types, `_Bool` read with its own size
 * (bpftool reads 4 bytes), unsigned ENUM64 values printed unsigned.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { type BTF, describeType } from "./btf.ts";
import { BTFError } from "./errors.ts";
import type { ArrayType, BTFType, IntType, TypeId } from "./types.ts";

/** Where {@link formatValue} writes: the events of a JSON-like document. */
export interface ValueSink {
  /** `{` */
  startObject(): void;
  /** `}` */
  endObject(): void;
  /** `[` */
  startArray(): void;
  /** `]` */
  endArray(): void;
  /** An object member's name; its value follows. */
  name(name: string): void;
  /** A string value (the sink quotes and escapes it). */
  string(text: string): void;
  /** A token written as it is: numbers, `true`, bpftool's unquoted hex, `"c"`. */
  raw(text: string): void;
}

/** Options of {@link formatValue}. */
export interface FormatValueOptions {
  /**
   * bpftool's plain-text flavour (`map dump` without `-j`): pointers as `0x...` or
   * `(nil)`, bitfields and 128-bit integers as bare hex, unprintable chars as `0x..`.
   * Otherwise JSON: pointers in decimal, hex in quotes, chars as `"\u00XX"`.
   */
  readonly plainText: boolean;
}

/**
 * Writes the value of type `typeId` held in `data` (from byte 0) to `sink` as bpftool's
 * btf_dumper does.
 *
 * @example
 * ```ts
 * const parts: string[] = [];
 * formatValue(btf, valueTypeId, bytes, jsonSink(parts), { plainText: false });
 * ```
 * @throws {BTFError} when `data` is shorter than the type, or the type has no value
 * (void, functions, forward declarations)
 */
export function formatValue(
  btf: BTF,
  typeId: TypeId,
  data: Uint8Array,
  sink: ValueSink,
  opts: FormatValueOptions,
): void {
  new ValueFormatter(btf, data, sink, opts.plainText).type(typeId, 0, 0);
}

/** Reads `nbits` bits starting `bitOff` bits into `data` at byte `at`, little-endian. */
export function readBits(data: Uint8Array, at: number, bitOff: number, nbits: number): bigint {
  const first = at + (bitOff >> 3);
  const shift = bitOff & 7;
  const nbytes = (shift + nbits + 7) >> 3;
  checkRange(data, first, nbytes, `${nbits}-bit field`);
  let v = 0n;
  for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[first + i] as number);
  return (v >> BigInt(shift)) & ((1n << BigInt(nbits)) - 1n);
}

/**
 * True when an array of this type holding these bytes prints as a string in bpftool:
 * its elements are 1-byte INTs named `char` (or with CHAR encoding), qualifiers
 * skipped but not typedefs, and the bytes are printable up to a NUL within the array.
 */
export function isStringArray(btf: BTF, arr: ArrayType, data: Uint8Array, at: number): boolean {
  if (!isCharElement(btf, arr) || arr.nelems === 0) return false;
  for (let i = 0; i < arr.nelems; i++) {
    const c = data[at + i];
    if (c === undefined) return false;
    if (c === 0) return true;
    if (c <= 0x1f || c >= 0x7f) return false;
  }
  return false;
}

/** True when the array's elements are C `char`s (bpftool's rule: no typedefs skipped). */
export function isCharElement(btf: BTF, arr: ArrayType): boolean {
  let t: BTFType | undefined = btf.types[arr.type];
  while (
    t &&
    (t.kind === "CONST" || t.kind === "VOLATILE" || t.kind === "RESTRICT" || t.kind === "TYPE_TAG")
  ) {
    t = btf.types[t.type];
  }
  return !!t && t.kind === "INT" && t.size === 1 && (t.char || t.name === "char");
}

function checkRange(data: Uint8Array, at: number, size: number, what: string): void {
  if (at < 0 || at + size > data.length) {
    throw new BTFError(
      `value of ${what} needs bytes ${at}..${at + size - 1}, but the data has ${data.length}`,
    );
  }
}

/** C's isprint in the "C" locale. */
const isPrint = (c: number): boolean => c >= 0x20 && c < 0x7f;

class ValueFormatter {
  readonly #btf: BTF;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #sink: ValueSink;
  readonly #plain: boolean;

  constructor(btf: BTF, data: Uint8Array, sink: ValueSink, plain: boolean) {
    this.#btf = btf;
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#sink = sink;
    this.#plain = plain;
  }

  /** Hex as bpftool's btf_int128_print: bare in plain text, quoted in JSON. */
  #hex(v: bigint): void {
    const s = `0x${v.toString(16)}`;
    this.#sink.raw(this.#plain ? s : `"${s}"`);
  }

  /** The value of `id` at byte `at`, `bitOff` bits further in (a non-kind_flag member). */
  type(id: TypeId, at: number, bitOff: number): void {
    const t = this.#btf.type(id);
    switch (t.kind) {
      case "INT":
        this.#int(t, at, bitOff);
        return;
      case "STRUCT":
      case "UNION":
        this.#composite(t, at);
        return;
      case "ARRAY":
        this.#array(t, at);
        return;
      case "ENUM":
        this.#enum(t.size, true, t.values, at, describeType(t));
        return;
      case "ENUM64":
        this.#enum(t.size, t.signed, t.values, at, describeType(t));
        return;
      case "PTR": {
        checkRange(this.#data, at, 8, describeType(t));
        const v = this.#view.getBigUint64(at, true);
        if (!this.#plain) this.#sink.raw(v.toString());
        else this.#sink.raw(v === 0n ? "(nil)" : `0x${v.toString(16)}`);
        return;
      }
      case "TYPEDEF":
      case "CONST":
      case "VOLATILE":
      case "RESTRICT":
      case "TYPE_TAG":
        this.type(t.type, at, bitOff);
        return;
      case "VAR":
        this.#sink.startObject();
        this.#sink.name(t.name);
        this.type(t.type, at, bitOff);
        this.#sink.endObject();
        return;
      case "DATASEC":
        this.#sink.startObject();
        this.#sink.name(t.name);
        this.#sink.startArray();
        for (const v of t.vars) this.type(v.type, at + v.offset, 0);
        this.#sink.endArray();
        this.#sink.endObject();
        return;
      case "FLOAT":
        this.#float(t.size, at, describeType(t));
        return;
      case "FWD":
        throw new BTFError(`a value cannot have the forward-declared type ${describeType(t)}`);
      default:
        throw new BTFError(`a value cannot have type ${describeType(t)}`);
    }
  }

  #int(t: IntType, at: number, bitOff: number): void {
    const bits = t.bits;
    if (bitOff || t.bitOffset || bits % 8) {
      this.#hex(readBits(this.#data, at, bitOff + t.bitOffset, bits));
      return;
    }
    if (bits === 128) {
      this.#hex(readBits(this.#data, at, 0, 128));
      return;
    }
    const v = this.#view;
    const need = (n: number) => checkRange(this.#data, at, n, describeType(t));
    if (t.bool) {
      need(t.size);
      let nonzero = false;
      for (let i = 0; i < t.size; i++) if (this.#data[at + i]) nonzero = true;
      this.#sink.raw(nonzero ? "true" : "false");
      return;
    }
    if (t.char) {
      need(1);
      const c = v.getUint8(at);
      if (isPrint(c)) this.#sink.raw(`"${String.fromCharCode(c)}"`);
      else if (this.#plain) this.#sink.raw(`0x${c.toString(16)}`);
      else this.#sink.raw(`"\\u00${c.toString(16).padStart(2, "0")}"`);
      return;
    }
    switch (bits) {
      case 64:
        need(8);
        this.#sink.raw(String(t.signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true)));
        return;
      case 32:
        need(4);
        this.#sink.raw(String(t.signed ? v.getInt32(at, true) : v.getUint32(at, true)));
        return;
      case 16:
        need(2);
        this.#sink.raw(String(t.signed ? v.getInt16(at, true) : v.getUint16(at, true)));
        return;
      case 8:
        need(1);
        this.#sink.raw(String(t.signed ? v.getInt8(at) : v.getUint8(at)));
        return;
      default:
        this.#hex(readBits(this.#data, at, bitOff + t.bitOffset, bits));
    }
  }

  #composite(t: BTFType & { kind: "STRUCT" | "UNION" }, at: number): void {
    this.#sink.startObject();
    for (const m of t.members) {
      this.#sink.name(m.name);
      const byte = at + (m.bitOffset >> 3);
      if (m.bitfieldSize) this.#hex(readBits(this.#data, byte, m.bitOffset & 7, m.bitfieldSize));
      else this.type(m.type, byte, m.bitOffset & 7);
    }
    this.#sink.endObject();
  }

  #array(t: ArrayType, at: number): void {
    if (isStringArray(this.#btf, t, this.#data, at)) {
      const end = this.#data.indexOf(0, at);
      this.#sink.string(String.fromCharCode(...this.#data.subarray(at, end)));
      return;
    }
    const size = this.#btf.sizeof(t.type);
    this.#sink.startArray();
    for (let i = 0; i < t.nelems; i++) this.type(t.type, at + i * size, 0);
    this.#sink.endArray();
  }

  /** `signedOut`: print an unmatched value as signed (bpftool does for every ENUM). */
  #enum(
    size: number,
    signedOut: boolean,
    values: readonly { name: string; value: number | bigint }[],
    at: number,
    what: string,
  ): void {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new BTFError(`${what} has size ${size}: enums are 1, 2, 4 or 8 bytes`);
    }
    checkRange(this.#data, at, size, what);
    const raw = readBits(this.#data, at, 0, size * 8);
    // bpftool compares the value read as a signed integer of the enum's size with each
    // enumerator (32-bit ones sign-extended); ENUM64 compares all 64 bits.
    const sv = BigInt.asIntN(size * 8, raw);
    for (const e of values) {
      const ev = typeof e.value === "bigint" ? e.value : BigInt(e.value);
      if (BigInt.asIntN(64, ev) === BigInt.asIntN(64, sv) || ev === raw) {
        this.#sink.string(e.name);
        return;
      }
    }
    this.#sink.raw(String(signedOut ? sv : raw));
  }

  #float(size: number, at: number, what: string): void {
    checkRange(this.#data, at, size, what);
    if (size === 4) this.#sink.raw(numberText(this.#view.getFloat32(at, true)));
    else if (size === 8) this.#sink.raw(numberText(this.#view.getFloat64(at, true)));
    else this.#hex(readBits(this.#data, at, 0, size * 8));
  }
}

/** A float as a JSON token (non-finite values as strings, which JSON lacks). */
function numberText(v: number): string {
  return Number.isFinite(v) ? String(v) : `"${v}"`;
}
