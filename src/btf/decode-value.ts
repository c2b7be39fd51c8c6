/**
 * Bytes to JavaScript values through BTF: what a ring-buffer record, a map
 * value or a global variable holds, as a program wants to use it.
 *
 * The rules (shared with the code `tsbpf gen types` emits, which must agree):
 * - integers of up to 32 bits → `number` (signed per the type); 64 and 128 bits →
 *   `bigint`; `_Bool` → `boolean`; bitfields → `number` up to 32 bits, else `bigint`;
 * - enums → their `number` (ENUM64: `bigint`); pointers → `bigint` (an address);
 * - floats → `number` (`long double` and other sizes: the raw bytes);
 * - `char` arrays (elements named `char` or CHAR-encoded, as bpftool decides) → a
 *   `string` of the bytes before the first NUL, one character per byte (latin-1);
 * - other arrays → arrays; structs and unions → objects by member name, members of
 *   anonymous struct/union members hoisted (as C accesses them), other nameless
 *   members (padding bitfields) left out;
 * - a DATASEC → an object of its variables by name; a VAR → its type's value.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { type BTF, describeType } from "./btf.ts";
import { BTFError } from "./errors.ts";
import { isCharElement, readBits } from "./format-value.ts";
import type { BTFType, CompositeType, IntType, Member, TypeId } from "./types.ts";

/** A decoded value: see the module's rules. */
export type DecodedValue =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | DecodedValue[]
  | { [name: string]: DecodedValue };

function range(data: Uint8Array, at: number, size: number, t: BTFType): void {
  if (at < 0 || at + size > data.length) {
    throw new BTFError(
      `${describeType(t)} needs bytes ${at}..${at + size - 1}, but the data has ${data.length}`,
    );
  }
}

/**
 * The value of type `typeId` at byte `offset` of `data`, as JavaScript.
 *
 * @example
 * ```ts
 * const event = decodeValue(btf, btf.findByName("STRUCT", "event")!.id, record);
 * ```
 * @throws {BTFError} when `data` is too short or the type has no value (void, FUNC, FWD)
 */
export function decodeValue(btf: BTF, typeId: TypeId, data: Uint8Array, offset = 0): DecodedValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const walk = (id: TypeId, at: number): DecodedValue => {
    const t = btf.type(id);
    switch (t.kind) {
      case "INT":
        return decodeInt(t, data, view, at);
      case "ENUM":
      case "ENUM64": {
        range(data, at, t.size, t);
        const raw = readBits(data, at, 0, t.size * 8);
        const v = t.signed ? BigInt.asIntN(t.size * 8, raw) : raw;
        return t.kind === "ENUM64" ? v : Number(v);
      }
      case "PTR":
        range(data, at, 8, t);
        return view.getBigUint64(at, true);
      case "FLOAT":
        range(data, at, t.size, t);
        if (t.size === 4) return view.getFloat32(at, true);
        if (t.size === 8) return view.getFloat64(at, true);
        return data.slice(at, at + t.size);
      case "ARRAY": {
        const arr = t;
        if (isCharElement(btf, arr)) {
          range(data, at, arr.nelems, t);
          let end = at;
          while (end < at + arr.nelems && data[end] !== 0) end++;
          return String.fromCharCode(...data.subarray(at, end));
        }
        const size = btf.sizeof(arr.type);
        const out: DecodedValue[] = new Array(arr.nelems);
        for (let i = 0; i < arr.nelems; i++) out[i] = walk(arr.type, at + i * size);
        return out;
      }
      case "STRUCT":
      case "UNION": {
        const out: { [name: string]: DecodedValue } = {};
        decodeMembers(t, at, out);
        return out;
      }
      case "TYPEDEF":
      case "CONST":
      case "VOLATILE":
      case "RESTRICT":
      case "TYPE_TAG":
      case "VAR":
        return walk(t.type, at);
      case "DATASEC": {
        const out: { [name: string]: DecodedValue } = {};
        for (const v of t.vars) {
          const vt = btf.type(v.type);
          out[vt.name] = walk(v.type, at + v.offset);
        }
        return out;
      }
      default:
        throw new BTFError(`a value cannot have type ${describeType(t)}`);
    }
  };
  const decodeMembers = (t: CompositeType, at: number, out: Record<string, DecodedValue>) => {
    for (const m of t.members) {
      const byte = at + (m.bitOffset >> 3);
      if (m.name === "") {
        // Anonymous struct/union members are hoisted; other nameless members pad.
        const inner = btf.resolve(m.type);
        if (inner.kind === "STRUCT" || inner.kind === "UNION") decodeMembers(inner, byte, out);
        continue;
      }
      out[m.name] = decodeMember(btf, m, data, byte, walk);
    }
  };
  return walk(typeId, offset);
}

function decodeMember(
  btf: BTF,
  m: Member,
  data: Uint8Array,
  byte: number,
  walk: (id: TypeId, at: number) => DecodedValue,
): DecodedValue {
  const shift = m.bitOffset & 7;
  const target = btf.resolve(m.type);
  const bits =
    m.bitfieldSize ||
    (shift && target.kind === "INT" ? target.bits : 0) ||
    (target.kind === "INT" && target.bits % 8 ? target.bits : 0);
  if (!bits) return walk(m.type, byte);
  const raw = readBits(data, byte, shift, bits);
  const signed = (target.kind === "INT" || target.kind === "ENUM") && target.signed;
  const v = signed ? BigInt.asIntN(bits, raw) : raw;
  if (target.kind === "INT" && target.bool) return v !== 0n;
  return bits <= 32 ? Number(v) : v;
}

function decodeInt(t: IntType, data: Uint8Array, view: DataView, at: number): DecodedValue {
  range(data, at, t.size, t);
  if (t.bool) {
    for (let i = 0; i < t.size; i++) if (data[at + i]) return true;
    return false;
  }
  if (t.bitOffset || t.bits % 8) {
    const raw = readBits(data, at, t.bitOffset, t.bits);
    const v = t.signed ? BigInt.asIntN(t.bits, raw) : raw;
    return t.bits <= 32 ? Number(v) : v;
  }
  switch (t.bits) {
    case 8:
      return t.signed ? view.getInt8(at) : view.getUint8(at);
    case 16:
      return t.signed ? view.getInt16(at, true) : view.getUint16(at, true);
    case 32:
      return t.signed ? view.getInt32(at, true) : view.getUint32(at, true);
    case 64:
      return t.signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
    default: {
      const raw = readBits(data, at, 0, t.bits);
      const v = t.signed ? BigInt.asIntN(t.bits, raw) : raw;
      return t.bits <= 32 ? Number(v) : v;
    }
  }
}
