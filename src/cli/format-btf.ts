/** The one formatter for `btf show|list`: bpftool's plain line and JSON object. */
import type { BtfInfo } from "../kernel/btf-info.ts";
import type { JsonWriter } from "./json-writer.ts";

/** A BTF object with the programs and maps that use it. */
export interface BtfView {
  readonly info: BtfInfo;
  readonly progIds: readonly number[];
  readonly mapIds: readonly number[];
}

/** `1: name [vmlinux]  size 5516713B` / `25: name <anon>  size 921B  prog_ids 485  map_ids 59`. */
export function btfPlain(v: BtfView): string {
  const { info } = v;
  let s = `${info.id}: `;
  if (info.kernelBtf) s += `name [${info.name}]  `;
  else if (info.name) s += `name ${info.name}  `;
  else s += "name <anon>  ";
  s += `size ${info.size}B`;
  if (v.progIds.length) s += `  prog_ids ${v.progIds.join(",")}`;
  if (v.mapIds.length) s += `  map_ids ${v.mapIds.join(",")}`;
  return `${s}\n`;
}

/** bpftool's show_btf_json. */
export function btfJson(w: JsonWriter, v: BtfView): void {
  w.value({
    id: v.info.id,
    size: v.info.size,
    prog_ids: v.progIds,
    map_ids: v.mapIds,
    kernel: v.info.kernelBtf,
    name: v.info.name || undefined,
  });
}
