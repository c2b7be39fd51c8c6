/**
 * What a loaded program's BTF adds to bpftool's output: the full function name (the
 * kernel keeps only 15 characters), function prototypes and source lines in
 * `prog dump xlated`.
 */
import { type BTF, type FuncProtoType, parseBTF, type TypeId } from "../../btf/index.ts";
import { btfBytesById } from "../../kernel/btf/btf-info.ts";
import type { ProgramInfo } from "../../kernel/programs/prog-info.ts";
import { BPF_OBJ_NAME_LEN } from "../../uapi/index.ts";

const cache = new Map<number, BTF | undefined>();

/** The parsed BTF object with `id`, cached; undefined when it cannot be read. */
export function btfById(id: number): BTF | undefined {
  if (cache.has(id)) return cache.get(id);
  let btf: BTF | undefined;
  try {
    const bytes = btfBytesById(id);
    btf = bytes ? parseBTF(bytes) : undefined;
  } catch {
    btf = undefined;
  }
  cache.set(id, btf);
  return btf;
}

/** One `struct bpf_func_info`: where a function starts and its BTF FUNC type. */
export interface FuncInfo {
  readonly insnOff: number;
  readonly typeId: number;
}

/** The program's func_info records. */
export function funcInfos(info: ProgramInfo): FuncInfo[] {
  const out: FuncInfo[] = [];
  const rec = info.funcInfoRecordSize;
  if (rec < 8) return out;
  const v = new DataView(info.funcInfo.buffer, info.funcInfo.byteOffset, info.funcInfo.byteLength);
  for (let off = 0; off + 8 <= info.funcInfo.byteLength; off += rec) {
    out.push({ insnOff: v.getUint32(off, true), typeId: v.getUint32(off + 4, true) });
  }
  return out;
}

/** One `struct bpf_line_info`. */
export interface LineInfo {
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly line: number;
  readonly col: number;
}

/** The program's line_info records. */
export function lineInfos(info: ProgramInfo): LineInfo[] {
  const out: LineInfo[] = [];
  const rec = info.lineInfoRecordSize;
  if (rec < 16) return out;
  const v = new DataView(info.lineInfo.buffer, info.lineInfo.byteOffset, info.lineInfo.byteLength);
  for (let off = 0; off + 16 <= info.lineInfo.byteLength; off += rec) {
    const lc = v.getUint32(off + 12, true);
    out.push({
      insnOff: v.getUint32(off, true),
      fileNameOff: v.getUint32(off + 4, true),
      lineOff: v.getUint32(off + 8, true),
      line: lc >>> 10,
      col: lc & 0x3ff,
    });
  }
  return out;
}

/**
 * bpftool's get_prog_full_name: the kernel's name, or — when it was cut at 15
 * characters and the program has BTF — the name of its first function.
 */
export function progFullName(info: ProgramInfo): string {
  if (info.name.length < BPF_OBJ_NAME_LEN - 1) return info.name;
  if (!info.btfId || info.funcInfoCount === 0) return info.name;
  const first = funcInfos(info)[0];
  const btf = btfById(info.btfId);
  if (!first || !btf) return info.name;
  try {
    const t = btf.type(first.typeId);
    return t.kind === "FUNC" && t.name ? t.name : info.name;
  } catch {
    return info.name;
  }
}

/** A type as C spells it in a declaration of `name` (bpftool's btf_dumper_type_only). */
function typeName(btf: BTF, id: TypeId, name = ""): string {
  const sep = (s: string) => (name ? `${s} ${name}` : s);
  let t: ReturnType<BTF["type"]>;
  try {
    t = btf.type(id);
  } catch {
    return sep("?");
  }
  switch (t.kind) {
    case "VOID":
      return sep("void");
    case "INT":
    case "FLOAT":
    case "TYPEDEF":
      return sep(t.name);
    case "STRUCT":
      return sep(`struct ${t.name}`);
    case "UNION":
      return sep(`union ${t.name}`);
    case "ENUM":
    case "ENUM64":
      return sep(`enum ${t.name}`);
    case "FWD":
      return sep(`${t.fwdKind === "union" ? "union" : "struct"} ${t.name}`);
    case "PTR":
      return typeName(btf, t.type, `* ${name}`.trimEnd());
    case "CONST":
      return typeName(btf, t.type, `const ${name}`.trimEnd());
    case "VOLATILE":
      return typeName(btf, t.type, `volatile ${name}`.trimEnd());
    case "RESTRICT":
      return typeName(btf, t.type, `restrict ${name}`.trimEnd());
    case "TYPE_TAG":
      return typeName(btf, t.type, name);
    case "ARRAY":
      return typeName(btf, t.type, `${name}[${t.nelems}]`);
    default:
      return sep(t.name || "?");
  }
}

/** `int xdp_count(struct xdp_md * ctx)`: a FUNC's prototype as bpftool prints it. */
export function funcSignature(btf: BTF, funcTypeId: number): string {
  let f: ReturnType<BTF["type"]>;
  try {
    f = btf.type(funcTypeId);
  } catch {
    return "";
  }
  if (f.kind !== "FUNC") return "";
  const proto = btf.type(f.type) as FuncProtoType;
  if (proto.kind !== "FUNC_PROTO") return "";
  const params = proto.params.map((p) =>
    p.type === 0 && !p.name ? "..." : typeName(btf, p.type, p.name),
  );
  return `${typeName(btf, proto.returnType, f.name)}(${params.length ? params.join(", ") : "void"})`;
}
