/**
 * A BTF value as text, laid out as `tsbpf map dump` (and bpftool) print one: the
 * value walk of format-value.ts written through the bpftool-compatible
 * {@link JsonWriter}. The CLI's map and program views and the playground's ring buffer
 * records share it, so the same bytes read the same everywhere.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BTF } from "./btf.ts";
import { formatValue, type ValueSink } from "./format-value.ts";
import { JsonWriter } from "./json-writer.ts";
import type { TypeId } from "./types.ts";

/** A {@link ValueSink} over a {@link JsonWriter}. */
export function writerSink(w: JsonWriter): ValueSink {
  return {
    startObject: () => void w.startObject(),
    endObject: () => void w.endObject(),
    startArray: () => void w.startArray(),
    endArray: () => void w.endArray(),
    name: (n) => void w.name(n),
    string: (s) => void w.value(s),
    raw: (t) => void w.raw(t),
  };
}

/**
 * The value of type `typeId` held in `data` (from byte 0) as one piece of text: with
 * `plainText`, bpftool's plain `map dump` tokens in its pretty layout; otherwise
 * compact JSON (what `-j` prints as "formatted").
 *
 * @example
 * ```ts
 * valueText(btf, eventTypeId, record, true); // '{\n    "pid": 42, ...'
 * ```
 * @throws {BTFError} when `data` is shorter than the type, or the type has no value
 */
export function valueText(btf: BTF, typeId: TypeId, data: Uint8Array, plainText: boolean): string {
  let text = "";
  const w = new JsonWriter((t) => {
    text += t;
  }, plainText);
  formatValue(btf, typeId, data, writerSink(w), { plainText });
  return text;
}
