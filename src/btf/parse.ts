/**
 * Reading a BTF blob (`.BTF` section, `/sys/kernel/btf/vmlinux`, `BPF_BTF_GET_INFO`)
 * into the type model of `types.ts`.
 *
 * @module
 */

import { BTF } from "./btf.ts";
import { BTFError } from "./errors.ts";
import { StringTable } from "./strings.ts";
import type {
  BTFHeader,
  BTFType,
  Enum64Value,
  EnumValue,
  FuncLinkage,
  Member,
  Param,
  VarSecinfo,
} from "./types.ts";

/** BTF magic number as stored in `btf_header.magic`. */
export const BTF_MAGIC = 0xeb9f;
/** The only BTF version there is. */
export const BTF_VERSION = 1;
/** Size of `struct btf_header` as defined today. */
export const BTF_HEADER_SIZE = 24;
/** Size of `struct btf_type` (name_off, info, size/type). */
const TYPE_RECORD_SIZE = 12;

const LINKAGE: readonly FuncLinkage[] = ["static", "global", "extern"];

/**
 * Reads the BTF header at the start of `bytes`, checking magic, version and that the
 * sections it points at lie within the blob.
 *
 * @throws {BTFError} on a truncated or malformed header
 */
export function parseHeader(bytes: Uint8Array): BTFHeader {
  if (bytes.length < BTF_HEADER_SIZE) {
    throw new BTFError(
      `truncated header: ${bytes.length} bytes, need at least ${BTF_HEADER_SIZE}`,
      0,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else {
    throw new BTFError(
      `bad magic 0x${view.getUint16(0, true).toString(16).padStart(4, "0")}, expected 0xeb9f`,
      0,
    );
  }
  const version = view.getUint8(2);
  if (version !== BTF_VERSION) {
    throw new BTFError(`unsupported version ${version}, expected ${BTF_VERSION}`, 2);
  }
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_HEADER_SIZE) {
    throw new BTFError(`header length ${hdrLen} is less than ${BTF_HEADER_SIZE}`, 4);
  }
  if (hdrLen > bytes.length) {
    throw new BTFError(
      `header length ${hdrLen} is beyond the end of the data (${bytes.length})`,
      4,
    );
  }
  for (let i = BTF_HEADER_SIZE; i < hdrLen; i++) {
    if (bytes[i] !== 0) throw new BTFError("unknown non-zero field in extended header", i);
  }
  const header: BTFHeader = {
    magic: BTF_MAGIC,
    version,
    flags,
    hdrLen,
    typeOff: view.getUint32(8, le),
    typeLen: view.getUint32(12, le),
    strOff: view.getUint32(16, le),
    strLen: view.getUint32(20, le),
    littleEndian: le,
  };
  const data = bytes.length - hdrLen;
  if (header.typeOff % 4 !== 0) {
    throw new BTFError(`type section offset ${header.typeOff} is not 4-byte aligned`, 8);
  }
  if (header.typeOff + header.typeLen > data) {
    throw new BTFError(
      `type section (offset ${header.typeOff}, length ${header.typeLen}) runs past the end of the data (${data} bytes after the header)`,
      12,
    );
  }
  if (header.strOff + header.strLen > data) {
    throw new BTFError(
      `string section (offset ${header.strOff}, length ${header.strLen}) runs past the end of the data (${data} bytes after the header)`,
      20,
    );
  }
  const tEnd = header.typeOff + header.typeLen;
  const sEnd = header.strOff + header.strLen;
  if (header.typeLen > 0 && header.strLen > 0 && header.typeOff < sEnd && header.strOff < tEnd) {
    throw new BTFError("type and string sections overlap", 8);
  }
  return header;
}

/** Options for {@link parseBTF}. */
export interface ParseOptions {
  /**
   * Check that every type id referred to exists (default true). Turn off only for
   * BTF split from a base that is not at hand.
   */
  readonly checkReferences?: boolean;
}

/**
 * Parses a complete BTF blob: header, string section and every type.
 *
 * @example
 * ```ts
 * const btf = parseBTF(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
 * const attr = btf.findByName("UNION", "bpf_attr");
 * ```
 * @throws {BTFError} naming the offset and what is wrong
 */
export function parseBTF(bytes: Uint8Array, options: ParseOptions = {}): BTF {
  const header = parseHeader(bytes);
  const le = header.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const strBase = header.hdrLen + header.strOff;
  const strings = new StringTable(bytes.subarray(strBase, strBase + header.strLen), strBase);

  const types: BTFType[] = [{ kind: "VOID", id: 0, name: "" }];
  /** Blob offset of each type record, for error messages. */
  const offsets: number[] = [0];
  let off = header.hdrLen + header.typeOff;
  const end = off + header.typeLen;

  const need = (n: number, what: string, at: number): void => {
    if (off + n > end) {
      throw new BTFError(
        `truncated ${what}: needs ${n} bytes, ${end - off} left in the type section`,
        at,
      );
    }
  };

  while (off < end) {
    const at = off;
    const id = types.length;
    need(TYPE_RECORD_SIZE, `type record [${id}]`, at);
    const nameOff = view.getUint32(off, le);
    const info = view.getUint32(off + 4, le);
    const sizeOrType = view.getUint32(off + 8, le);
    off += TYPE_RECORD_SIZE;
    const vlen = info & 0xffff;
    const kindNum = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    const name = strings.get(nameOff, at);
    const what = `type [${id}]`;
    let t: BTFType;
    switch (kindNum) {
      case 1: {
        need(4, `${what} INT data`, at);
        const enc = view.getUint32(off, le);
        off += 4;
        const bits = enc & 0xff;
        const bitOffset = (enc >>> 16) & 0xff;
        const encoding = (enc >>> 24) & 0x0f;
        if (bitOffset + bits > sizeOrType * 8) {
          throw new BTFError(
            `${what} INT '${name}' has ${bits} bits at bit ${bitOffset}, more than its ${sizeOrType} bytes`,
            at,
          );
        }
        t = {
          kind: "INT",
          id,
          name,
          size: sizeOrType,
          signed: (encoding & 1) !== 0,
          char: (encoding & 2) !== 0,
          bool: (encoding & 4) !== 0,
          bitOffset,
          bits,
        };
        break;
      }
      case 2:
        t = { kind: "PTR", id, name, type: sizeOrType };
        break;
      case 3: {
        need(12, `${what} ARRAY data`, at);
        t = {
          kind: "ARRAY",
          id,
          name,
          type: view.getUint32(off, le),
          indexType: view.getUint32(off + 4, le),
          nelems: view.getUint32(off + 8, le),
        };
        off += 12;
        break;
      }
      case 4:
      case 5: {
        need(vlen * 12, `${what} members`, at);
        const members: Member[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const mName = strings.get(view.getUint32(off, le), off);
          const mType = view.getUint32(off + 4, le);
          const mOff = view.getUint32(off + 8, le);
          members[i] = kindFlag
            ? { name: mName, type: mType, bitOffset: mOff & 0xffffff, bitfieldSize: mOff >>> 24 }
            : { name: mName, type: mType, bitOffset: mOff, bitfieldSize: 0 };
          off += 12;
        }
        t = { kind: kindNum === 4 ? "STRUCT" : "UNION", id, name, size: sizeOrType, members };
        break;
      }
      case 6: {
        need(vlen * 8, `${what} enumerators`, at);
        const values: EnumValue[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const vName = strings.get(view.getUint32(off, le), off);
          const value = kindFlag ? view.getInt32(off + 4, le) : view.getUint32(off + 4, le);
          values[i] = { name: vName, value };
          off += 8;
        }
        t = { kind: "ENUM", id, name, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case 7:
        t = { kind: "FWD", id, name, fwdKind: kindFlag ? "union" : "struct" };
        break;
      case 8:
        t = { kind: "TYPEDEF", id, name, type: sizeOrType };
        break;
      case 9:
        t = { kind: "VOLATILE", id, name, type: sizeOrType };
        break;
      case 10:
        t = { kind: "CONST", id, name, type: sizeOrType };
        break;
      case 11:
        t = { kind: "RESTRICT", id, name, type: sizeOrType };
        break;
      case 12: {
        const linkage = LINKAGE[vlen];
        if (linkage === undefined)
          throw new BTFError(`${what} FUNC '${name}' has unknown linkage ${vlen}`, at);
        t = { kind: "FUNC", id, name, type: sizeOrType, linkage };
        break;
      }
      case 13: {
        need(vlen * 8, `${what} parameters`, at);
        const params: Param[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          params[i] = {
            name: strings.get(view.getUint32(off, le), off),
            type: view.getUint32(off + 4, le),
          };
          off += 8;
        }
        t = { kind: "FUNC_PROTO", id, name, returnType: sizeOrType, params };
        break;
      }
      case 14: {
        need(4, `${what} VAR data`, at);
        const l = view.getUint32(off, le);
        off += 4;
        const linkage = LINKAGE[l];
        if (linkage === undefined)
          throw new BTFError(`${what} VAR '${name}' has unknown linkage ${l}`, at);
        t = { kind: "VAR", id, name, type: sizeOrType, linkage };
        break;
      }
      case 15: {
        need(vlen * 12, `${what} DATASEC entries`, at);
        const vars: VarSecinfo[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          vars[i] = {
            type: view.getUint32(off, le),
            offset: view.getUint32(off + 4, le),
            size: view.getUint32(off + 8, le),
          };
          off += 12;
        }
        t = { kind: "DATASEC", id, name, size: sizeOrType, vars };
        break;
      }
      case 16:
        t = { kind: "FLOAT", id, name, size: sizeOrType };
        break;
      case 17: {
        need(4, `${what} DECL_TAG data`, at);
        t = { kind: "DECL_TAG", id, name, type: sizeOrType, componentIdx: view.getInt32(off, le) };
        off += 4;
        break;
      }
      case 18:
        t = { kind: "TYPE_TAG", id, name, type: sizeOrType };
        break;
      case 19: {
        need(vlen * 12, `${what} enumerators`, at);
        const values: Enum64Value[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const vName = strings.get(view.getUint32(off, le), off);
          const lo = BigInt(view.getUint32(off + 4, le));
          const hi = BigInt(view.getUint32(off + 8, le));
          const raw = (hi << 32n) | lo;
          values[i] = { name: vName, value: kindFlag ? BigInt.asIntN(64, raw) : raw };
          off += 12;
        }
        t = { kind: "ENUM64", id, name, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      default:
        throw new BTFError(`${what} has unknown kind ${kindNum}`, at);
    }
    types.push(t);
    offsets.push(at);
  }

  if (options.checkReferences !== false) checkReferences(types, offsets);
  return new BTF(header, types, strings);
}

/** Throws if a type refers to an id that does not exist. */
function checkReferences(types: readonly BTFType[], offsets: readonly number[]): void {
  const n = types.length;
  const check = (t: BTFType, ref: number, role: string): void => {
    if (ref >= n) {
      throw new BTFError(
        `type [${t.id}] ${t.kind} '${t.name}' refers to ${role} type [${ref}], but the last type is [${n - 1}]`,
        offsets[t.id],
      );
    }
  };
  for (const t of types) {
    switch (t.kind) {
      case "PTR":
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
      case "FUNC":
      case "VAR":
      case "DECL_TAG":
        check(t, t.type, "its target");
        break;
      case "ARRAY":
        check(t, t.type, "element");
        check(t, t.indexType, "index");
        break;
      case "STRUCT":
      case "UNION":
        for (const m of t.members) check(t, m.type, `member '${m.name}'`);
        break;
      case "FUNC_PROTO":
        check(t, t.returnType, "return");
        for (const p of t.params) check(t, p.type, `parameter '${p.name}'`);
        break;
      case "DATASEC":
        for (const v of t.vars) check(t, v.type, "variable");
        break;
      default:
        break;
    }
  }
}
