/**
 * A map key or value read through its BTF type and flattened into named scalar fields,
 * the shape labels and metrics need: struct members by name (nested members joined
 * with `_`: `addr_port`), array elements by index (`slots_3`), enums as the name of
 * their enumerator, `char` arrays as strings.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import type { BTF } from "../btf/index.ts";
import { type DecodedValue, decodeValue } from "../btf/index.ts";
import type { TypeId } from "../btf/types.ts";

/** The BTF types of a map's key and value (`keyTypeId` 0: the key has none). */
export interface MapTypes {
  readonly btf: BTF;
  readonly keyTypeId: number;
  readonly valueTypeId: number;
}

/** One scalar of a flattened value. */
export interface FlatField {
  /** Member path joined with `_`; "" for a value that is itself a scalar. */
  readonly path: string;
  /** Byte offset of the scalar in the data (bitfields: of their first byte). */
  readonly offset: number;
  /** Numbers and bigints for integers and floats; strings for char arrays and enums. */
  readonly value: number | bigint | string;
  /** True for integers, floats and booleans (what a metric can hold). */
  readonly numeric: boolean;
}

/** Arrays flattened past this many elements are cut (a value of 4096 slots is a histogram). */
const MAX_FIELDS = 1024;

const join = (path: string, name: string) => (path === "" ? name : `${path}_${name}`);

/**
 * The scalars of the value of type `typeId` in `data`, in member order.
 *
 * @throws BTFError when `data` is shorter than the type
 */
export function flattenFields(btf: BTF, typeId: TypeId, data: Uint8Array): FlatField[] {
  const decoded = decodeValue(btf, typeId, data);
  const out: FlatField[] = [];
  const walk = (id: TypeId, v: DecodedValue, path: string, offset: number): void => {
    if (out.length >= MAX_FIELDS) return;
    const t = btf.resolve(id);
    if (
      (t.kind === "ENUM" || t.kind === "ENUM64") &&
      (typeof v === "number" || typeof v === "bigint")
    ) {
      const e = t.values.find((x) => BigInt(x.value) === BigInt(v));
      out.push({ path, offset, value: e ? e.name : v, numeric: false });
    } else if (t.kind === "STRUCT" || t.kind === "UNION") {
      const obj = v as Record<string, DecodedValue>;
      const members = (ct: typeof t, base: number): void => {
        for (const m of ct.members) {
          const at = base + (m.bitOffset >> 3);
          if (m.name === "") {
            const inner = btf.resolve(m.type);
            if (inner.kind === "STRUCT" || inner.kind === "UNION") members(inner, at);
            continue;
          }
          const mv = obj[m.name];
          if (mv !== undefined) walk(m.type, mv, join(path, m.name), at);
        }
      };
      members(t, offset);
    } else if (t.kind === "ARRAY" && Array.isArray(v)) {
      const size = btf.sizeof(t.type);
      v.forEach((e, i) => {
        walk(t.type, e, join(path, String(i)), offset + i * size);
      });
    } else if (typeof v === "number" || typeof v === "bigint") {
      out.push({ path, offset, value: v, numeric: true });
    } else if (typeof v === "boolean") {
      out.push({ path, offset, value: v ? 1 : 0, numeric: true });
    } else if (typeof v === "string") {
      out.push({ path, offset, value: v, numeric: false });
    }
    // Uint8Array (long double and other odd sizes): nothing a metric can hold.
  };
  walk(typeId, decoded, "", 0);
  return out;
}
