/**
 * The one formatter for BTF objects: `btf show|list` (bpftool's plain line and JSON
 * object) and the JSON form of `btf dump ... format raw` (the plain form is
 * `dumpRaw` of src/btf).
 */
import type { BTFType, IntType } from "../../btf/index.ts";
import type { BtfInfo } from "../../kernel/btf/btf-info.ts";
import type { JsonWriter } from "../format/json-writer.ts";

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

/** bpftool's kind names for `btf dump -j` (id 0, void, is "UNKNOWN"). */
function kindName(t: BTFType): string {
  return t.kind === "VOID" ? "UNKNOWN" : t.kind;
}

const anon = (name: string): string => (name === "" ? "(anon)" : name);

/**
 * One type of `btf dump ... format raw` with `-j`, as bpftool's dump_btf_type writes
 * it: `{"id":1,"kind":"INT","name":"int","size":4,...}`. Unsigned enumerator values
 * are printed as what they are (bpftool sign-extends values of 2^31 and above).
 */
export function rawTypeJson(w: JsonWriter, t: BTFType): void {
  w.startObject();
  w.field("id", t.id).field("kind", kindName(t)).field("name", anon(t.name));
  switch (t.kind) {
    case "INT":
      w.field("size", t.size).field("bits_offset", t.bitOffset).field("nr_bits", t.bits);
      w.field("encoding", intEncoding(t));
      break;
    case "PTR":
    case "CONST":
    case "VOLATILE":
    case "RESTRICT":
    case "TYPEDEF":
    case "TYPE_TAG":
      w.field("type_id", t.type);
      break;
    case "ARRAY":
      w.field("type_id", t.type).field("index_type_id", t.indexType).field("nr_elems", t.nelems);
      break;
    case "STRUCT":
    case "UNION":
      w.field("size", t.size).field("vlen", t.members.length).name("members").startArray();
      for (const m of t.members) {
        w.value({
          name: anon(m.name),
          type_id: m.type,
          bits_offset: m.bitOffset,
          bitfield_size: m.bitfieldSize || undefined,
        });
      }
      w.endArray();
      break;
    case "ENUM":
    case "ENUM64":
      w.field("encoding", t.signed ? "SIGNED" : "UNSIGNED").field("size", t.size);
      w.field("vlen", t.values.length).name("values").startArray();
      for (const v of t.values) w.value({ name: anon(v.name), val: v.value });
      w.endArray();
      break;
    case "FWD":
      w.field("fwd_kind", t.fwdKind);
      break;
    case "FUNC":
      w.field("type_id", t.type).field("linkage", t.linkage);
      break;
    case "FUNC_PROTO":
      w.field("ret_type_id", t.returnType).field("vlen", t.params.length).name("params");
      w.startArray();
      for (const p of t.params) w.value({ name: anon(p.name), type_id: p.type });
      w.endArray();
      break;
    case "VAR":
      w.field("type_id", t.type).field("linkage", t.linkage);
      break;
    case "DATASEC":
      w.field("size", t.size).field("vlen", t.vars.length).name("vars").startArray();
      for (const v of t.vars) w.value({ type_id: v.type, offset: v.offset, size: v.size });
      w.endArray();
      break;
    case "FLOAT":
      w.field("size", t.size);
      break;
    case "DECL_TAG":
      w.field("type_id", t.type).field("component_idx", t.componentIdx);
      break;
  }
  w.endObject();
}

function intEncoding(t: IntType): string {
  const n = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
  return n === 0 ? "(none)" : n === 1 ? "SIGNED" : n === 2 ? "CHAR" : n === 4 ? "BOOL" : "UNKN";
}
