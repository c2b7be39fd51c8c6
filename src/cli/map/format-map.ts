/**
 * The one formatter for maps: `map show` records and map entries (`dump`, `lookup`,
 * `getnext`, `pop`, `peek`) as bpftool's plain text or JSON.
 */
import { MapType, mapTypeName, progTypeName } from "../../uapi/index.ts";
import { fprintHex, hexBytesJson } from "../format/hex.ts";
import type { JsonWriter } from "../format/json-writer.ts";

/** Everything `map show` prints about one map. */
export interface MapView {
  readonly id: number;
  readonly type: number;
  readonly name: string;
  readonly flags: number;
  readonly ifindex: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** fdinfo's `memlock`. */
  readonly memlock: string | undefined;
  /** fdinfo's `owner_prog_type` (prog arrays). */
  readonly ownerProgType: number | undefined;
  /** fdinfo's `owner_jited` (prog arrays). */
  readonly ownerJited: boolean | undefined;
  /** fdinfo's `frozen`. */
  readonly frozen: boolean;
  readonly btfId: number;
  /** Pinned paths, when `-f` asked for them. */
  readonly pinned: readonly string[] | undefined;
}

/** Program arrays. */
export function isMapOfProgs(type: number): boolean {
  return type === MapType.PROG_ARRAY;
}

/** What a map header shows: identity, type, name, flags and offload device. */
export type MapHeader = Pick<
  MapView,
  "id" | "type" | "name" | "flags" | "ifindex" | "netnsDev" | "netnsIno"
>;

function devPlain(v: MapHeader): string {
  if (!v.ifindex) return "";
  return `  offloaded_to ifindex ${v.ifindex} ns_dev ${v.netnsDev} ns_ino ${v.netnsIno}`;
}

/** The first line of `map show` (bpftool's show_map_header_plain). */
export function mapHeaderPlain(v: MapHeader): string {
  let s = `${v.id}: ${mapTypeName(v.type) ?? `type ${v.type}`}  `;
  if (v.name) s += `name ${v.name}  `;
  s += `flags 0x${v.flags.toString(16)}`;
  return `${s}${devPlain(v)}\n`;
}

/** One map as bpftool's `map show` prints it. */
export function mapPlain(v: MapView): string {
  let s = mapHeaderPlain(v);
  s += `\tkey ${v.keySize}B  value ${v.valueSize}B  max_entries ${v.maxEntries}`;
  if (v.memlock !== undefined) s += `  memlock ${v.memlock}B`;
  if (v.type === MapType.PROG_ARRAY) {
    if (v.ownerProgType !== undefined || v.ownerJited !== undefined) s += "\n\t";
    if (v.ownerProgType !== undefined) {
      const t = progTypeName(v.ownerProgType);
      s += `owner_prog_type ${t ?? v.ownerProgType}  `;
    }
    if (v.ownerJited !== undefined) s += `owner${v.ownerJited ? "" : " not"} jited`;
  }
  for (const p of v.pinned ?? []) s += `\n\tpinned ${p}`;
  if (v.btfId || v.frozen) s += "\n\t";
  if (v.btfId) s += `btf_id ${v.btfId}`;
  if (v.frozen) s += `${v.btfId ? "  " : ""}frozen`;
  return `${s}\n`;
}

/** The header members of the JSON object (bpftool's show_map_header_json). */
export function mapHeaderJson(w: JsonWriter, v: MapHeader): void {
  w.field("id", v.id);
  w.field("type", mapTypeName(v.type) ?? v.type);
  if (v.name) w.field("name", v.name);
  w.field("flags", v.flags | 0);
}

/** One map as bpftool's `map show -j` prints it. */
export function mapJson(w: JsonWriter, v: MapView): void {
  w.startObject();
  mapHeaderJson(w, v);
  if (v.ifindex) {
    w.field("dev", { ifindex: v.ifindex, ns_dev: v.netnsDev, ns_inode: v.netnsIno });
  }
  w.field("bytes_key", v.keySize);
  w.field("bytes_value", v.valueSize);
  w.field("max_entries", v.maxEntries);
  if (v.memlock !== undefined) w.field("bytes_memlock", Number.parseInt(v.memlock, 10) || 0);
  if (v.type === MapType.PROG_ARRAY) {
    if (v.ownerProgType !== undefined) {
      w.field("owner_prog_type", progTypeName(v.ownerProgType) ?? v.ownerProgType);
    }
    if (v.ownerJited !== undefined) w.field("owner_jited", v.ownerJited);
  }
  w.field("frozen", v.frozen ? 1 : 0);
  if (v.btfId) w.field("btf_id", v.btfId);
  if (v.pinned) w.field("pinned", v.pinned);
  w.endObject();
}

/** Key and value sizes and type: what entry formatting needs. */
export interface EntryShape {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
}

/** One entry: a key and either one value or one value per CPU. */
export interface MapEntry {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly values?: readonly Uint8Array[];
}

/** bpftool's print_entry_plain. */
export function entryPlain(shape: EntryShape, e: MapEntry): string {
  let s = "";
  if (!e.values) {
    const breakNames = shape.keySize > 16 || shape.valueSize > 16;
    const singleLine = shape.keySize + shape.valueSize <= 24 && !breakNames;
    if (shape.keySize) {
      s += `key:${breakNames ? "\n" : " "}${fprintHex(e.key)}`;
      s += singleLine ? "  " : "\n";
    }
    if (shape.valueSize)
      s += `value:${breakNames ? "\n" : " "}${fprintHex(e.value ?? new Uint8Array())}`;
    return `${s}\n`;
  }
  if (shape.keySize) s += `key:\n${fprintHex(e.key)}\n`;
  if (shape.valueSize) {
    e.values.forEach((v, cpu) => {
      s += `value (CPU ${String(cpu).padStart(2, "0")}):${shape.valueSize > 16 ? "\n" : " "}${fprintHex(v)}\n`;
    });
  }
  return s;
}

/**
 * bpftool's print_entry_json. `formatted` writes the entry through the map's BTF
 * (bpftool's "formatted" member) when the map has BTF.
 */
export function entryJson(w: JsonWriter, e: MapEntry, formatted?: () => void): void {
  w.startObject();
  w.field("key", hexBytesJson(e.key));
  if (!e.values) {
    w.field("value", hexBytesJson(e.value ?? new Uint8Array()));
  } else {
    w.name("values").startArray();
    e.values.forEach((v, cpu) => {
      w.value({ cpu, value: hexBytesJson(v) });
    });
    w.endArray();
  }
  if (formatted) {
    w.name("formatted");
    formatted();
  }
  w.endObject();
}

/** bpftool's print_entry_error: a key whose lookup failed during `map dump`. */
export function entryErrorPlain(shape: EntryShape, key: Uint8Array, message: string): string {
  const breakNames = shape.keySize > 16 || message.length > 16;
  const singleLine = shape.keySize + message.length <= 24 && !breakNames;
  return (
    `key:${breakNames ? "\n" : " "}${fprintHex(key)}${singleLine ? "  " : "\n"}` +
    `value:${breakNames ? "\n" : " "}${message}\n`
  );
}

/** The JSON form of a failed lookup during `map dump`. */
export function entryErrorJson(w: JsonWriter, key: Uint8Array, message: string): void {
  w.value({ key: hexBytesJson(key), value: { error: message } });
}
