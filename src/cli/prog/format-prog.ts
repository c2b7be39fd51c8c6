/**
 * The one formatter for `prog show`: a {@link ProgView} printed as bpftool's plain text
 * or as its JSON object, so the two never drift apart.
 */

import { formatValue } from "../../btf/format-value.ts";
import { valueText } from "../../btf/value-text.ts";
import { progTypeName } from "../../uapi/index.ts";
import { writerSink } from "../btf/btf-value.ts";
import type { JsonWriter } from "../format/json-writer.ts";
import { epochSeconds, formatLocalIso } from "../objects/boot-time.ts";
import type { MetadataVar } from "./prog-metadata.ts";

/** Everything `prog show` prints about one program. */
export interface ProgView {
  readonly id: number;
  /** Numeric program type; printed by name when tsbpf knows it. */
  readonly type: number;
  /** Full name ("" when the program has none). */
  readonly name: string;
  /** 16 lowercase hex digits. */
  readonly tag: string;
  readonly gplCompatible: boolean;
  readonly runTimeNs: bigint;
  readonly runCnt: bigint;
  readonly recursionMisses: bigint;
  /** Offload device (0 when not offloaded). */
  readonly ifindex: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  /** Wall-clock load time; undefined when the kernel did not say (load_time 0). */
  readonly loadedAt: Date | undefined;
  readonly uid: number;
  readonly bytesXlated: number;
  readonly bytesJited: number;
  /** fdinfo's `memlock`, as the kernel printed it. */
  readonly memlock: string | undefined;
  readonly mapIds: readonly number[];
  readonly btfId: number;
  /** Pinned paths, when `-f` asked for them. */
  readonly pinned: readonly string[] | undefined;
  /** `bpf_metadata_*` variables of the bound `.rodata`, when there are any. */
  readonly metadata?: readonly MetadataVar[] | undefined;
}

/** A metadata value in bpftool's plain tokens, laid out as its pretty writer does. */
function metadataPlain(m: MetadataVar): string {
  return valueText(m.btf, m.typeId, m.value, true);
}

function typeText(type: number): string {
  return progTypeName(type) ?? `type ${type}`;
}

function devPlain(v: ProgView): string {
  if (!v.ifindex) return "";
  return `  offloaded_to ifindex ${v.ifindex} ns_dev ${v.netnsDev} ns_ino ${v.netnsIno}`;
}

/** The first line of `prog show` (also used by `prog dump` over several programs). */
export function progHeaderPlain(v: ProgView): string {
  let s = `${v.id}: ${typeText(v.type)}  `;
  if (v.name) s += `name ${v.name}  `;
  s += `tag ${v.tag}`;
  s += devPlain(v);
  if (v.gplCompatible) s += "  gpl";
  if (v.runTimeNs) s += ` run_time_ns ${v.runTimeNs} run_cnt ${v.runCnt}`;
  if (v.recursionMisses) s += ` recursion_misses ${v.recursionMisses}`;
  return `${s}\n`;
}

/** One program as bpftool's `prog show` prints it. */
export function progPlain(v: ProgView): string {
  let s = progHeaderPlain(v);
  if (v.loadedAt) {
    s += `\tloaded_at ${formatLocalIso(v.loadedAt)}  uid ${v.uid}\n`;
  }
  s += `\txlated ${v.bytesXlated}B`;
  s += v.bytesJited ? `  jited ${v.bytesJited}B` : "  not jited";
  if (v.memlock !== undefined) s += `  memlock ${v.memlock}B`;
  if (v.mapIds.length) s += `  map_ids ${v.mapIds.join(",")}`;
  for (const p of v.pinned ?? []) s += `\n\tpinned ${p}`;
  if (v.btfId) s += `\n\tbtf_id ${v.btfId}`;
  s += "\n";
  if (v.metadata) {
    s += "\tmetadata:";
    for (const m of v.metadata) s += `\n\t\t${m.name} = ${metadataPlain(m)}`;
    s += "\n";
  }
  return s;
}

/** The header members of the JSON object (bpftool's print_prog_header_json). */
export function progHeaderJson(w: JsonWriter, v: ProgView): void {
  w.field("id", v.id);
  const t = progTypeName(v.type);
  w.field("type", t ?? v.type);
  if (v.name) w.field("name", v.name);
  w.field("tag", v.tag);
  w.field("gpl_compatible", v.gplCompatible);
  if (v.runTimeNs) {
    w.field("run_time_ns", v.runTimeNs);
    w.field("run_cnt", v.runCnt);
  }
  if (v.recursionMisses) w.field("recursion_misses", v.recursionMisses);
}

/** One program as bpftool's `prog show -j` prints it. */
export function progJson(w: JsonWriter, v: ProgView): void {
  w.startObject();
  progHeaderJson(w, v);
  if (v.ifindex) {
    w.field("dev", { ifindex: v.ifindex, ns_dev: v.netnsDev, ns_inode: v.netnsIno });
  }
  if (v.loadedAt) {
    w.field("loaded_at", epochSeconds(v.loadedAt));
    w.field("uid", v.uid);
  }
  w.field("bytes_xlated", v.bytesXlated);
  w.field("jited", v.bytesJited > 0);
  if (v.bytesJited) w.field("bytes_jited", v.bytesJited);
  if (v.memlock !== undefined) w.field("bytes_memlock", Number.parseInt(v.memlock, 10) || 0);
  if (v.mapIds.length) w.field("map_ids", v.mapIds);
  if (v.btfId) w.field("btf_id", v.btfId);
  if (v.pinned) w.field("pinned", v.pinned);
  if (v.metadata) {
    w.name("metadata").startObject();
    for (const m of v.metadata) {
      w.name(m.name);
      formatValue(m.btf, m.typeId, m.value, writerSink(w), { plainText: false });
    }
    w.endObject();
  }
  w.endObject();
}
