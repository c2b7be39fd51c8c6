/**
 * The one formatter for the program rows of `cgroup show` and `cgroup tree`: a
 * {@link CgroupProgView} as bpftool 7.1 prints it in plain text (fixed columns) or as
 * a JSON object, so the two never drift apart.
 */
import { attachTypeName } from "../../uapi/index.ts";
import type { JsonWriter } from "../format/json-writer.ts";

/** One program attached to a cgroup, as the show commands print it. */
export interface CgroupProgView {
  readonly id: number;
  readonly attachType: number;
  /** `multi`, `override`, "" (exclusive), `unknown(N)`; undefined in an effective query. */
  readonly attachFlags: string | undefined;
  readonly name: string;
  /** The vmlinux BTF type the program attaches to (bpftool's attach_btf_name). */
  readonly attachBtfName: string | undefined;
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
}

const left = (v: string | number, width: number) => String(v).padEnd(width);

/** The header line: with an AttachFlags column unless the query is effective. */
export function cgroupHeaderPlain(effective: boolean): string {
  return effective
    ? `${left("ID", 8)} ${left("AttachType", 15)} ${left("Name", 15)}\n`
    : `${left("ID", 8)} ${left("AttachType", 15)} ${left("AttachFlags", 15)} ${left("Name", 15)}\n`;
}

/** One row; `nested` indents it (a cgroup below the tree's root). */
export function cgroupProgPlain(v: CgroupProgView, nested: boolean): string {
  const type = attachTypeName(v.attachType);
  let line = `${nested ? "    " : ""}${left(v.id, 8)} `;
  line += type !== undefined ? left(type, 15) : `type ${left(v.attachType, 10)}`;
  line +=
    v.attachFlags === undefined
      ? ` ${left(v.name, 15)}`
      : ` ${left(v.attachFlags, 15)} ${left(v.name, 15)}`;
  if (v.attachBtfName !== undefined) line += ` ${left(v.attachBtfName, 15)}`;
  else if (v.attachBtfId) {
    line += ` attach_btf_obj_id=${v.attachBtfObjId | 0} attach_btf_id=${v.attachBtfId | 0}`;
  }
  return `${line}\n`;
}

/** One row as a JSON object. */
export function cgroupProgJson(w: JsonWriter, v: CgroupProgView): void {
  w.startObject().field("id", v.id);
  w.field("attach_type", attachTypeName(v.attachType) ?? v.attachType);
  if (v.attachFlags !== undefined) w.field("attach_flags", v.attachFlags);
  w.field("name", v.name);
  if (v.attachBtfName !== undefined) w.field("attach_btf_name", v.attachBtfName);
  w.field("attach_btf_obj_id", v.attachBtfObjId).field("attach_btf_id", v.attachBtfId);
  w.endObject();
}
