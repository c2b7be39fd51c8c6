/**
 * Reading `.BTF.ext`: the per-section function info, line info and CO-RE relocation
 * records clang emits beside `.BTF` (layout from the kernel's BTF documentation,
 * `struct btf_ext_header`, `struct bpf_func_info`, `struct bpf_line_info`,
 * `struct bpf_core_relo`).
 *
 * Each info block starts with its record size, so records that grow in a future
 * version are still read: the known leading fields are decoded and the rest skipped.
 *
 * @module
 */

import { plainBytes } from "../uapi/bytes.ts";
import { CoreReloKind } from "../uapi/index.ts";
import type { BTF } from "./btf.ts";
import { BTFError } from "./errors.ts";
import type { TypeId } from "./types.ts";

/** `.BTF.ext` magic, the same as BTF's. */
export const BTF_EXT_MAGIC = 0xeb9f;
/** Size of the header up to and including the line info fields. */
export const BTF_EXT_HEADER_MIN = 24;
/** Size of the header with the CO-RE relocation fields. */
export const BTF_EXT_HEADER_CORE = 32;

/*
 * Limits, each checked before the work it bounds: the header inside the section; each
 * info block (offset, length) inside the section; a record size of at least the fields
 * decoded and a multiple of 4; a group's records (num_info x record size) inside its
 * block; every type id below the BTF's count; every string offset inside the BTF's
 * strings (looked up in O(log n), see strings.ts). The work is linear in the section.
 */

/** Smallest record sizes: the fields tsbpf decodes. */
const FUNC_INFO_MIN = 8;
const LINE_INFO_MIN = 16;
const CORE_RELO_MIN = 16;

/** `struct bpf_func_info`: the FUNC type of the function starting at an instruction. */
export interface FuncInfo {
  /** Byte offset of the function's first instruction in its ELF section (as clang writes it). */
  readonly insnOff: number;
  /** The FUNC type id. */
  readonly typeId: TypeId;
}

/** `struct bpf_line_info`: the source line an instruction came from. */
export interface LineInfo {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  /** Offset of the file name in the BTF string section. */
  readonly fileNameOff: number;
  /** Offset of the source line's text in the BTF string section. */
  readonly lineOff: number;
  /** The file name. */
  readonly fileName: string;
  /** The source line's text. */
  readonly line: string;
  /** 1-based line number (`line_col >> 10`). */
  readonly lineNumber: number;
  /** Column (`line_col & 0x3ff`). */
  readonly column: number;
}

/** `enum bpf_core_relo_kind` (from the generated uapi): what a CO-RE relocation computes. */
export { CoreReloKind };

const CORE_KIND_NAMES = Object.fromEntries(
  Object.entries(CoreReloKind).map(([k, v]) => [v, k.toLowerCase()]),
) as Record<number, string>;

/** libbpf's name for a relocation kind (`byte_off`-style names are libbpf's; we use the enum's). */
export function coreReloKindName(kind: number): string {
  return CORE_KIND_NAMES[kind] ?? `unknown(${kind})`;
}

/** `struct bpf_core_relo`: one CO-RE relocation. */
export interface CoreRelo {
  /** Byte offset of the relocated instruction in its ELF section. */
  readonly insnOff: number;
  /** The local (program's own BTF) root type id. */
  readonly typeId: TypeId;
  /** Offset of the access string in the BTF string section. */
  readonly accessStrOff: number;
  /** The access string, e.g. "0:1:2" (field path) or "0" (type or enum value index). */
  readonly accessStr: string;
  /** What to compute. */
  readonly kind: CoreReloKind;
}

/** A parsed `.BTF.ext`. Maps are keyed by ELF section name, in file order. */
export interface BTFExt {
  /** Header fields. */
  readonly header: {
    readonly version: number;
    readonly flags: number;
    readonly hdrLen: number;
  };
  /** Record sizes as found in the file (what the kernel needs for `func_info_rec_size` etc.). */
  readonly recordSizes: {
    readonly funcInfo: number;
    readonly lineInfo: number;
    readonly coreRelo: number;
  };
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreRelo[]>;
}

/**
 * Parses a `.BTF.ext` section. Names (section names, file names, source lines,
 * access strings) are looked up in `btf`'s string section, which must be the `.BTF`
 * of the same object.
 *
 * @example
 * ```ts
 * const btf = parseBTF(btfBytes);
 * const ext = parseBTFExt(extBytes, btf);
 * for (const [sec, funcs] of ext.funcInfo) console.log(sec, funcs.length);
 * ```
 * @throws {BTFError} naming the offset in the `.BTF.ext` section and what is wrong
 */
export function parseBTFExt(input: Uint8Array, btf: BTF): BTFExt {
  const bytes = plainBytes(input);
  if (bytes.length < BTF_EXT_HEADER_MIN) {
    throw new BTFError(
      `.BTF.ext: truncated header: ${bytes.length} bytes, need at least ${BTF_EXT_HEADER_MIN}`,
      0,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_EXT_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_EXT_MAGIC) le = false;
  else {
    throw new BTFError(
      `.BTF.ext: bad magic 0x${view.getUint16(0, true).toString(16).padStart(4, "0")}, expected 0xeb9f`,
      0,
    );
  }
  const version = view.getUint8(2);
  if (version !== 1) throw new BTFError(`.BTF.ext: unsupported version ${version}`, 2);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_EXT_HEADER_MIN || hdrLen > bytes.length) {
    throw new BTFError(
      `.BTF.ext: header length ${hdrLen} is not between ${BTF_EXT_HEADER_MIN} and the section size ${bytes.length}`,
      4,
    );
  }
  const str = (off: number, where: number): string => btf.strings.get(off, where);

  /** Walks one info block: record size, then (sec_name_off, num_info, records) groups. */
  const block = (
    what: string,
    offField: number,
    minRec: number,
    read: (at: number) => unknown,
  ): { recSize: number; map: Map<string, unknown[]> } => {
    const map = new Map<string, unknown[]>();
    const off = view.getUint32(offField, le);
    const len = view.getUint32(offField + 4, le);
    if (len === 0) return { recSize: 0, map };
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length) {
      throw new BTFError(
        `.BTF.ext: ${what} (offset ${off}, length ${len}) runs past the end of the section (${bytes.length - hdrLen} bytes after the header)`,
        offField,
      );
    }
    if (len < 4)
      throw new BTFError(`.BTF.ext: ${what} is ${len} bytes, too short for its record size`, start);
    const recSize = view.getUint32(start, le);
    if (recSize < minRec || recSize % 4 !== 0) {
      throw new BTFError(
        `.BTF.ext: ${what} record size ${recSize} is invalid (need a multiple of 4, at least ${minRec})`,
        start,
      );
    }
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) throw new BTFError(`.BTF.ext: truncated ${what} section header`, p);
      const nameOff = view.getUint32(p, le);
      const n = view.getUint32(p + 4, le);
      const name = str(nameOff, p);
      if (n === 0)
        throw new BTFError(`.BTF.ext: ${what} for section '${name}' has no records`, p + 4);
      p += 8;
      if (p + n * recSize > end) {
        throw new BTFError(
          `.BTF.ext: ${what} for section '${name}' has ${n} records of ${recSize} bytes, more than the ${end - p} bytes left`,
          p - 4,
        );
      }
      const recs: unknown[] = new Array(n);
      for (let i = 0; i < n; i++, p += recSize) recs[i] = read(p);
      const prev = map.get(name);
      // A loop, not push(...recs): 200,000 records spread as arguments overflow the stack.
      if (prev) for (const r of recs) prev.push(r);
      else map.set(name, recs);
    }
    return { recSize, map };
  };

  const nTypes = btf.count;
  const func = block("func_info", 8, FUNC_INFO_MIN, (at): FuncInfo => {
    const typeId = view.getUint32(at + 4, le);
    if (typeId >= nTypes) {
      throw new BTFError(
        `.BTF.ext: func_info refers to type [${typeId}], but the last type is [${nTypes - 1}]`,
        at + 4,
      );
    }
    return { insnOff: view.getUint32(at, le), typeId };
  });
  const line = block("line_info", 16, LINE_INFO_MIN, (at): LineInfo => {
    const fileNameOff = view.getUint32(at + 4, le);
    const lineOff = view.getUint32(at + 8, le);
    const lineCol = view.getUint32(at + 12, le);
    return {
      insnOff: view.getUint32(at, le),
      fileNameOff,
      lineOff,
      fileName: str(fileNameOff, at + 4),
      line: str(lineOff, at + 8),
      lineNumber: lineCol >>> 10,
      column: lineCol & 0x3ff,
    };
  });
  let core = { recSize: 0, map: new Map<string, unknown[]>() };
  if (hdrLen >= BTF_EXT_HEADER_CORE) {
    core = block("core_relo", 24, CORE_RELO_MIN, (at): CoreRelo => {
      const typeId = view.getUint32(at + 4, le);
      if (typeId >= nTypes) {
        throw new BTFError(
          `.BTF.ext: core_relo refers to type [${typeId}], but the last type is [${nTypes - 1}]`,
          at + 4,
        );
      }
      const accessStrOff = view.getUint32(at + 8, le);
      const kind = view.getUint32(at + 12, le);
      if (kind > CoreReloKind.TYPE_MATCHES) {
        throw new BTFError(`.BTF.ext: core_relo has unknown kind ${kind}`, at + 12);
      }
      return {
        insnOff: view.getUint32(at, le),
        typeId,
        accessStrOff,
        accessStr: str(accessStrOff, at + 8),
        kind: kind as CoreReloKind,
      };
    });
  }
  return {
    header: { version, flags, hdrLen },
    recordSizes: { funcInfo: func.recSize, lineInfo: line.recSize, coreRelo: core.recSize },
    funcInfo: func.map as Map<string, FuncInfo[]>,
    lineInfo: line.map as Map<string, LineInfo[]>,
    coreRelos: core.map as Map<string, CoreRelo[]>,
  };
}
