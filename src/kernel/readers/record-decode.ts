/**
 * Ring and perf buffer records decoded into JavaScript objects with the program's BTF:
 * the record's C type (`struct event`) names the fields, the BTF engineer's
 * `decodeValue` (src/btf/decode-value.ts) applies the rules — integers, `char` arrays
 * as strings, nested structs, arrays, enums.
 *
 * Perf samples carry up to 7 bytes of padding and ring buffer records may be longer
 * than the type (a program may send a header and a variable tail), so a record may be
 * longer than its type; shorter is an error that names both sizes.
 *
 * @module
 */
import {
  type BTF,
  BTFError,
  type DecodedValue,
  decodeValue,
  describeType,
} from "../../btf/index.ts";

/** A record's type: a BTF type id, or the name of a struct, union or typedef. */
export type RecordType = number | string;

function resolveRecordType(btf: BTF, type: RecordType): number {
  if (typeof type === "number") {
    btf.type(type); // throws for an id out of range
    return type;
  }
  const t =
    btf.findByName("STRUCT", type) ??
    btf.findByName("UNION", type) ??
    btf.findByName("TYPEDEF", type);
  if (!t) throw new BTFError(`the BTF has no struct, union or typedef named "${type}"`);
  return t.id;
}

/**
 * Decodes one record as the BTF type `type` (an id, or a struct/union/typedef name).
 *
 * @example
 * ```ts
 * for await (const bytes of RingBufferReader.open(coll.maps.events)) {
 *   const ev = decodeRecord(bytes, spec.btf!, "event") as { pid: number; comm: string };
 * }
 * ```
 * @throws BTFError when the type is unknown or the record is shorter than the type.
 */
export function decodeRecord(bytes: Uint8Array, btf: BTF, type: RecordType): DecodedValue {
  return recordDecoder(btf, type)(bytes);
}

/**
 * A decoder for records of one type, resolved once: `(bytes) => value`. Use it in a
 * reader's loop rather than {@link decodeRecord}, which looks the type up each time.
 *
 * @throws BTFError when the type is unknown.
 */
export function recordDecoder<T = DecodedValue>(
  btf: BTF,
  type: RecordType,
): (bytes: Uint8Array) => T {
  const id = resolveRecordType(btf, type);
  const size = btf.sizeof(id);
  const name = describeType(btf.type(id));
  return (bytes) => {
    if (bytes.length < size) {
      throw new BTFError(
        `a record of ${bytes.length} bytes is too short for ${name} (${size} bytes)`,
      );
    }
    return decodeValue(btf, id, bytes) as T;
  };
}
