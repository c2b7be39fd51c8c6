/**
 * Labels from a map key: its BTF fields by name when the map has a key type (enum
 * keys by enumerator name, `char` arrays as text), else one label (default `key`)
 * holding the key as a number (1, 2, 4 or 8 bytes, little-endian) or as hex.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { readUnsigned } from "../hist/index.ts";
import { flattenFields, type MapTypes } from "./btf-fields.ts";
import type { Labels } from "./types.ts";

/** How keys become labels. */
export interface KeyLabelOptions {
  /** The map's BTF (labels named by the key's fields when it has a key type). */
  readonly types?: MapTypes;
  /** The label of a key that is not a struct (default "key"). */
  readonly keyLabel?: string;
  /** Bytes of the key to leave out (a histogram's slot): `[start, end)`. */
  readonly skip?: readonly [number, number];
}

function hex(bytes: Uint8Array): string {
  let s = "0x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The key's bytes as a label value: a little-endian number up to 8 bytes, else hex. */
export function rawKeyText(key: Uint8Array): string {
  return [1, 2, 4, 8].includes(key.length)
    ? readUnsigned(key, 0, key.length, "the key").toString()
    : hex(key);
}

/**
 * The labels of `key`.
 *
 * @example
 * ```ts
 * // struct key { __u16 dport; __u8 family; } with BTF: { dport: "443", family: "2" }
 * keyLabels(key, { types });
 * // no BTF, a u32 key: { key: "7" }
 * keyLabels(new Uint8Array([7, 0, 0, 0]));
 * ```
 */
export function keyLabels(key: Uint8Array, opts: KeyLabelOptions = {}): Labels {
  const keyLabel = opts.keyLabel ?? "key";
  const [from, to] = opts.skip ?? [0, 0];
  const labels: Record<string, string> = {};
  if (opts.types?.keyTypeId) {
    for (const f of flattenFields(opts.types.btf, opts.types.keyTypeId, key)) {
      if (f.offset >= from && f.offset < to) continue;
      labels[f.path === "" ? keyLabel : f.path] = String(f.value);
    }
    return labels;
  }
  const rest = new Uint8Array(key.length - (to - from));
  rest.set(key.subarray(0, from), 0);
  rest.set(key.subarray(to), from);
  if (rest.length > 0) labels[keyLabel] = rawKeyText(rest);
  return labels;
}
