/**
 * Writing BTF back to bytes (for BPF_BTF_LOAD, or to save a trimmed or sanitised
 * copy): header, type section, string section with each name stored once.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import { BTFError } from "./errors.ts";
import { BTF_HEADER_SIZE, BTF_MAGIC, BTF_VERSION } from "./parse.ts";
import { type BTFFeatures, sanitizeTypes } from "./sanitize.ts";
import { BTFKindNumber, type BTFType } from "./types.ts";

/** Options for {@link encodeBTF}. */
export interface EncodeOptions {
  /**
   * What the target kernel understands; kinds it lacks are rewritten the way libbpf
   * does (see {@link sanitizeTypes}). Default: everything (no rewriting).
   */
  readonly features?: BTFFeatures;
  /** Byte order of the output; default little-endian. */
  readonly littleEndian?: boolean;
}

const LINKAGE_NUM = { static: 0, global: 1, extern: 2 } as const;

/** Number of bytes a type takes in the type section. */
function recordSize(t: BTFType): number {
  switch (t.kind) {
    case "INT":
    case "VAR":
    case "DECL_TAG":
      return 16;
    case "ARRAY":
      return 24;
    case "STRUCT":
    case "UNION":
      return 12 + 12 * t.members.length;
    case "ENUM":
      return 12 + 8 * t.values.length;
    case "ENUM64":
      return 12 + 12 * t.values.length;
    case "FUNC_PROTO":
      return 12 + 8 * t.params.length;
    case "DATASEC":
      return 12 + 12 * t.vars.length;
    case "VOID":
      throw new BTFError("cannot encode VOID: it is type 0 and not stored");
    default:
      return 12;
  }
}

/**
 * Encodes types as a BTF blob. `types` are the types to write, in id order; for
 * split BTF pass the base, and `types` are then the ids after the base's.
 *
 * @throws {BTFError} when a list is longer than BTF can say (65535 entries)
 */
export function encodeTypes(
  types: readonly BTFType[],
  opts: { base?: BTF | undefined; littleEndian?: boolean } = {},
): Uint8Array {
  const le = opts.littleEndian ?? true;
  const strBase = opts.base ? opts.base.strings.length : 0;
  const strOffsets = new Map<string, number>();
  const strParts: string[] = [];
  let strLen = 1; // the leading "" (NUL)
  const enc = new TextEncoder();
  // Name offsets: ASCII names take their length in bytes; others are measured.
  const str = (s: string): number => {
    if (s === "") return 0;
    let off = strOffsets.get(s);
    if (off === undefined) {
      off = strBase + strLen;
      strOffsets.set(s, off);
      strParts.push(s);
      strLen += byteLength(s, enc) + 1;
    }
    return off;
  };

  let typeLen = 0;
  for (const t of types) typeLen += recordSize(t);
  const words = new Uint32Array(typeLen / 4);
  let w = 0;
  const info = (t: BTFType, vlen: number, kflag: boolean): number => {
    if (vlen > 0xffff) {
      throw new BTFError(
        `type [${t.id}] ${t.kind} '${t.name}' has ${vlen} entries; BTF allows 65535`,
      );
    }
    const kind = BTFKindNumber[t.kind as keyof typeof BTFKindNumber];
    return ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
  };
  const head = (t: BTFType, vlen: number, kflag: boolean, sizeOrType: number): void => {
    words[w++] = str(t.name);
    words[w++] = info(t, vlen, kflag);
    words[w++] = sizeOrType >>> 0;
  };

  for (const t of types) {
    switch (t.kind) {
      case "INT": {
        head(t, 0, false, t.size);
        const e = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
        words[w++] = ((e << 24) | (t.bitOffset << 16) | t.bits) >>> 0;
        break;
      }
      case "PTR":
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        head(t, 0, false, t.type);
        break;
      case "ARRAY":
        head(t, 0, false, 0);
        words[w++] = t.type;
        words[w++] = t.indexType;
        words[w++] = t.nelems;
        break;
      case "STRUCT":
      case "UNION": {
        const ms = t.members;
        const kflag = ms.some((m) => m.bitfieldSize > 0);
        head(t, ms.length, kflag, t.size);
        for (const m of ms) {
          words[w++] = str(m.name);
          words[w++] = m.type;
          words[w++] = kflag ? ((m.bitfieldSize << 24) | m.bitOffset) >>> 0 : m.bitOffset;
        }
        break;
      }
      case "ENUM":
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          words[w++] = str(v.name);
          words[w++] = v.value >>> 0;
        }
        break;
      case "ENUM64":
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          words[w++] = str(v.name);
          words[w++] = Number(u & 0xffffffffn);
          words[w++] = Number(u >> 32n);
        }
        break;
      case "FWD":
        head(t, 0, t.fwdKind === "union", 0);
        break;
      case "FUNC":
        head(t, LINKAGE_NUM[t.linkage], false, t.type);
        break;
      case "FUNC_PROTO":
        head(t, t.params.length, false, t.returnType);
        for (const p of t.params) {
          words[w++] = str(p.name);
          words[w++] = p.type;
        }
        break;
      case "VAR":
        head(t, 0, false, t.type);
        words[w++] = LINKAGE_NUM[t.linkage];
        break;
      case "DATASEC":
        head(t, t.vars.length, false, t.size);
        for (const v of t.vars) {
          words[w++] = v.type;
          words[w++] = v.offset;
          words[w++] = v.size;
        }
        break;
      case "FLOAT":
        head(t, 0, false, t.size);
        break;
      case "DECL_TAG":
        head(t, 0, false, t.type);
        words[w++] = t.componentIdx >>> 0;
        break;
      case "VOID":
        break;
    }
  }

  const total = BTF_HEADER_SIZE + typeLen + strLen;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, le);
  view.setUint8(2, BTF_VERSION);
  view.setUint8(3, 0);
  view.setUint32(4, BTF_HEADER_SIZE, le);
  view.setUint32(8, 0, le);
  view.setUint32(12, typeLen, le);
  view.setUint32(16, typeLen, le);
  view.setUint32(20, strLen, le);
  const hostLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  if (le === hostLE) {
    out.set(new Uint8Array(words.buffer), BTF_HEADER_SIZE);
  } else {
    for (let i = 0; i < words.length; i++) view.setUint32(BTF_HEADER_SIZE + i * 4, words[i]!, le);
  }
  // Strings: one encode of all names joined by NULs.
  const strBytes = enc.encode(strParts.length ? `\0${strParts.join("\0")}\0` : "\0");
  out.set(strBytes, BTF_HEADER_SIZE + typeLen);
  return out;
}

function byteLength(s: string, enc: { encode(s: string): Uint8Array }): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return enc.encode(s).length;
  }
  return s.length;
}

/**
 * Writes `btf` as a blob the kernel (or `parseBTF`) reads. For split BTF only its own
 * types are written, with ids and string offsets continuing the base's, as the kernel
 * expects for module BTF. With `features`, kinds the kernel lacks are rewritten first.
 *
 * @example
 * ```ts
 * const bytes = encodeBTF(btf, { features: { ...ALL_BTF_FEATURES, enum64: false } });
 * ```
 */
export function encodeBTF(btf: BTF, options: EncodeOptions = {}): Uint8Array {
  const own = options.features ? sanitizeTypes(btf, options.features) : btf.ownTypes;
  return encodeTypes(own, { base: btf.base, littleEndian: options.littleEndian ?? true });
}
