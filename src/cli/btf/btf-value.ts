/**
 * Map entries printed through the map's BTF, as bpftool's do_dump_btf does: an object
 * with "key" and "value" (or "values": one `{"cpu": N, "value": ...}` per CPU for
 * per-CPU maps), written by the BTF value walk of src/btf/format-value.ts into the
 * CLI's {@link JsonWriter} — pretty and with bpftool's plain-text tokens for
 * `map dump`/`lookup` without `-j`, as the "formatted" member with `-j`.
 */

import { formatValue } from "../../btf/format-value.ts";
import type { BTF } from "../../btf/index.ts";
import { writerSink } from "../../btf/value-text.ts";
import { KernelBTF, vmlinuxBTF } from "../../kernel/btf/kernel-btf.ts";
import type { MapInfo } from "../../kernel/maps/map-info.ts";
import type { JsonWriter } from "../format/json-writer.ts";
import { CliError } from "../format/output.ts";
import type { MapEntry } from "../map/format-map.ts";
import { reason } from "../objects/selectors.ts";

/** The sink over the CLI's JSON writer (src/btf/value-text.ts). */
export { writerSink };

/** What BTF formatting needs to know about a map. */
export type MapBtfInfo = Pick<
  MapInfo,
  "type" | "btfId" | "btfKeyTypeId" | "btfValueTypeId" | "btfVmlinuxValueTypeId"
>;

/** The types a map's entries are printed with. */
export interface MapBtf {
  readonly btf: BTF;
  /** Key type id, 0 when the map has none (bpftool then prints no "key"). */
  readonly keyTypeId: number;
  /** Value type id (the vmlinux type for struct_ops maps). */
  readonly valueTypeId: number;
}

/**
 * bpftool's get_map_kv_btf: the BTF to print a map's entries with — vmlinux's for a
 * struct_ops map, the map's own BTF object when it has a value type — or undefined
 * when the map has no BTF value type.
 *
 * @throws {CliError} "failed to get btf" when the BTF object cannot be read
 */
export function mapBtf(info: MapBtfInfo): MapBtf | undefined {
  if (info.btfVmlinuxValueTypeId) {
    let btf: BTF;
    try {
      btf = vmlinuxBTF();
    } catch (e) {
      throw new CliError(`failed to get kernel btf: ${reason(e)}`);
    }
    return { btf, keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfVmlinuxValueTypeId };
  }
  if (!info.btfValueTypeId) return undefined;
  let btf: BTF;
  let k: KernelBTF | undefined;
  try {
    k = KernelBTF.fromId(info.btfId);
    if (!k) throw new Error("No such file or directory");
    btf = k.btf();
  } catch (e) {
    throw new CliError(`failed to get btf (id ${info.btfId}): ${reason(e)}`);
  } finally {
    k?.close();
  }
  return { btf, keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId };
}

/**
 * One entry as bpftool's do_dump_btf writes it: `{"key": ..., "value": ...}`, or
 * `"values": [{"cpu": 0, "value": ...}, ...]` for per-CPU values.
 *
 * @throws {BTFError} when a value cannot be printed with its type (too short, a type
 * without values); what was opened is closed first
 */
export function entryBtf(w: JsonWriter, mb: MapBtf, e: MapEntry, plainText: boolean): void {
  const sink = writerSink(w);
  const opts = { plainText };
  const depth = w.depth;
  w.startObject();
  try {
    if (mb.keyTypeId) {
      w.name("key");
      formatValue(mb.btf, mb.keyTypeId, e.key, sink, opts);
    }
    if (!e.values) {
      w.name("value");
      formatValue(mb.btf, mb.valueTypeId, e.value ?? new Uint8Array(), sink, opts);
    } else {
      w.name("values").startArray();
      e.values.forEach((v, cpu) => {
        w.startObject().field("cpu", cpu).name("value");
        formatValue(mb.btf, mb.valueTypeId, v, sink, opts);
        w.endObject();
      });
      w.endArray();
    }
  } finally {
    // On an error part way, close what the walk opened (the writer knows each closer).
    while (w.depth > depth) w.endObject();
  }
}
