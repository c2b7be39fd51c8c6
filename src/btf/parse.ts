/**
 * Reading a BTF blob (`.BTF` section, `/sys/kernel/btf/vmlinux`, `BPF_BTF_GET_INFO`)
 * into the type model of `types.ts`.
 *
 * Limits, each checked before the work it bounds (the kernel's btf.c checks the same):
 *
 * | what                  | limit                                                     |
 * |-----------------------|-----------------------------------------------------------|
 * | header                | magic, version 1, hdr_len >= 24 and inside the blob       |
 * | type, string sections | inside the blob, not overlapping, types in 4-byte words   |
 * | a type record         | whole inside the type section before its entries are read |
 * | entries (vlen)        | 16 bits by encoding; bounded by the record check above    |
 * | kinds, linkages       | known values only                                         |
 * | string offsets        | inside the string section (which ends with a NUL)         |
 * | INT                   | bits + bit offset within its size                         |
 * | struct/union members  | start and end inside the struct; a union's at offset 0    |
 * | type references       | below the type count                                      |
 * | modifier chains       | any depth (iterative), a loop is an error                 |
 *
 * Work is linear in the blob; names are decoded on first use.
 *
 * @module
 */

import { newBytes, newFloat64s, newInt32s, plainBytes } from "../uapi/bytes.ts";
import { BTF } from "./btf.ts";
import { BTFError } from "./errors.ts";
import { RAW_FIXED_WORDS, RAW_WORDS_PER_VLEN } from "./raw-types.ts";
import { LINKAGES } from "./records.ts";
import { StringTable } from "./strings.ts";
import type { BTFHeader } from "./types.ts";

/** BTF magic number as stored in `btf_header.magic`. */
export const BTF_MAGIC = 0xeb9f;
/** The only BTF version there is. */
export const BTF_VERSION = 1;
/** Size of `struct btf_header` as defined today. */
export const BTF_HEADER_SIZE = 24;
/** True when this machine stores numbers little-endian (so a Uint32Array reads LE words). */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

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
  /**
   * The base BTF (vmlinux) for split BTF (a kernel module's): this blob's type ids
   * continue after the base's last id and its string offsets after the base's strings.
   */
  readonly base?: BTF;
  /**
   * The blob comes from the running kernel (/sys/kernel/btf, `BPF_BTF_GET_INFO`), which
   * checked every record when it took the blob in: only the walk over the records
   * runs (kinds, lengths, string offsets of names), not the checks of members,
   * linkages and references. Saves ~30 ms on vmlinux's first parse. Default false.
   */
  readonly kernelChecked?: boolean;
}

/** Extra words after the 3-word `struct btf_type` for each kind (raw-types.ts). */
const PER_VLEN = RAW_WORDS_PER_VLEN;
const FIXED = RAW_FIXED_WORDS;
const KIND_NAMES = [
  "UNKN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
];

/**
 * Parses a complete BTF blob: header, string section and every type. Names and member
 * lists are decoded on first use; everything that can be wrong with the blob (offsets,
 * kinds, lengths, string offsets, type references) is checked here.
 *
 * @example
 * ```ts
 * const btf = parseBTF(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
 * const attr = btf.findByName("UNION", "bpf_attr");
 * // a kernel module's BTF, split on top of vmlinux:
 * const mod = parseBTF(readFileSync("/sys/kernel/btf/nf_tables"), { base: btf });
 * ```
 * @throws {BTFError} naming the offset and what is wrong
 */
export function parseBTF(input: Uint8Array, options: ParseOptions = {}): BTF {
  const bytes = plainBytes(input);
  const header = parseHeader(bytes);
  const base = options.base;
  if (header.typeOff % 4 !== 0 || header.typeLen % 4 !== 0) {
    throw new BTFError(
      `type section (offset ${header.typeOff}, length ${header.typeLen}) is not made of 4-byte words`,
      8,
    );
  }
  const strBase = header.hdrLen + header.strOff;
  const strings = new StringTable(
    bytes.subarray(strBase, strBase + header.strLen),
    strBase,
    base?.strings,
  );
  const typeStart = header.hdrLen + header.typeOff;
  const words = typeWords(bytes, typeStart, header.typeLen, header.littleEndian);
  const firstId = base ? base.count : 1;
  const nWords = words.length;
  const strLimit = strings.length;
  const trusted = options.kernelChecked === true;
  /**
   * Word index of each new type's record: how BTF.type(id) decodes it, and where the
   * name index and the checks' error offsets read it. Every record is at least 3
   * words, so this many always suffice.
   */
  const starts = newInt32s(Math.ceil(nWords / 3));
  let nStarts = 0;

  // The walk: uniform work per record, so V8 optimises it once. What depends on the
  // kind is in checkFields, a function of its own.
  let w = 0;
  while (w < nWords) {
    if (w + 3 > nWords) {
      throw new BTFError(
        `truncated type record [${firstId + nStarts}]: needs 12 bytes, ${(nWords - w) * 4} left in the type section`,
        typeStart + w * 4,
      );
    }
    const nameOff = words[w]!;
    const info = words[w + 1]!;
    const kindNum = (info >>> 24) & 0x1f;
    if (kindNum === 0 || kindNum >= PER_VLEN.length) {
      throw new BTFError(
        `type [${firstId + nStarts}] has unknown kind ${kindNum}`,
        typeStart + w * 4,
      );
    }
    if (nameOff >= strLimit) {
      throw new BTFError(
        `string offset ${nameOff} is out of range (string section is ${strLimit} bytes)`,
        typeStart + w * 4,
      );
    }
    const extra = FIXED[kindNum]! + (info & 0xffff) * PER_VLEN[kindNum]!;
    if (w + 3 + extra > nWords)
      truncated(firstId + nStarts, kindNum, extra, nWords - w - 3, typeStart + w * 4);
    if (!trusted) checkFields(words, w, firstId + nStarts, typeStart, strings);
    starts[nStarts++] = w;
    w += 3 + extra;
  }

  const own = starts.subarray(0, nStarts);
  if (options.checkReferences !== false && !trusted) {
    checkReferences(words, own, firstId, firstId + nStarts, typeStart, strings);
    checkMemberEnds(words, own, firstId, base, typeStart, strings);
  }
  return new BTF(header, undefined, strings, { base, firstId, bytes, raw: { words, starts: own } });
}

/** Throws for a record whose entries run past the type section. */
function truncated(id: number, kindNum: number, extra: number, left: number, at: number): never {
  const what =
    kindNum === 4 || kindNum === 5
      ? "members"
      : kindNum === 6 || kindNum === 19
        ? "enumerators"
        : kindNum === 13
          ? "parameters"
          : kindNum === 15
            ? "DATASEC entries"
            : `${KIND_NAMES[kindNum]} data`;
  throw new BTFError(
    `truncated type [${id}] ${what}: needs ${extra * 4} bytes, ${left * 4} left in the type section`,
    at,
  );
}

/**
 * The checks of one record (at word `w`, whole inside the section) that depend on its
 * kind: an INT's bits within its size, members inside their struct (a union's at
 * offset 0), linkages, and the string offsets of members, enumerators and parameters.
 */
function checkFields(
  words: Uint32Array,
  w: number,
  id: number,
  typeStart: number,
  strings: StringTable,
): void {
  const nameOff = words[w]!;
  const info = words[w + 1]!;
  const st = words[w + 2]!;
  const body = w + 3;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const strLimit = strings.length;
  const at = typeStart + w * 4;
  const kind = (info >>> 24) & 0x1f;
  switch (kind) {
    case 1: {
      const enc = words[body]!;
      const bits = enc & 0xff;
      const bitOffset = (enc >>> 16) & 0xff;
      if (bitOffset + bits > st * 8) {
        throw new BTFError(
          `type [${id}] INT '${strings.get(nameOff)}' has ${bits} bits at bit ${bitOffset}, more than its ${st} bytes`,
          at,
        );
      }
      return;
    }
    case 4:
    case 5: {
      const union = kind === 5;
      for (let i = 0, m = body; i < vlen; i++, m += 3) {
        checkStr(words[m]!, strLimit, typeStart + m * 4);
        // btf_struct_check_meta: a member starts inside its struct; a union's at 0.
        const bitOff = kflag ? words[m + 2]! & 0xffffff : words[m + 2]!;
        if (union && bitOff !== 0) {
          throw new BTFError(
            `type [${id}] UNION '${strings.get(nameOff)}' member ${i} has bit offset ${bitOff}, not 0`,
            typeStart + (m + 2) * 4,
          );
        }
        if (Math.floor(bitOff / 8) > st) {
          throw new BTFError(
            `type [${id}] STRUCT '${strings.get(nameOff)}' member ${i} starts at bit ${bitOff}, past its ${st} bytes`,
            typeStart + (m + 2) * 4,
          );
        }
      }
      return;
    }
    case 6:
    case 13:
      for (let i = 0, m = body; i < vlen; i++, m += 2) {
        checkStr(words[m]!, strLimit, typeStart + m * 4);
      }
      return;
    case 19:
      for (let i = 0, m = body; i < vlen; i++, m += 3) {
        checkStr(words[m]!, strLimit, typeStart + m * 4);
      }
      return;
    case 12:
      if (LINKAGES[vlen] === undefined) {
        throw new BTFError(
          `type [${id}] FUNC '${strings.get(nameOff)}' has unknown linkage ${vlen}`,
          at,
        );
      }
      return;
    case 14:
      if (LINKAGES[words[body]!] === undefined) {
        throw new BTFError(
          `type [${id}] VAR '${strings.get(nameOff)}' has unknown linkage ${words[body]!}`,
          at,
        );
      }
      return;
    default:
      return;
  }
}

function checkStr(off: number, limit: number, at: number): void {
  if (off >= limit) {
    throw new BTFError(
      `string offset ${off} is out of range (string section is ${limit} bytes)`,
      at,
    );
  }
}

/**
 * The type section as native-endian words: a view when the blob is aligned and in
 * this machine's byte order, else a copy (byte-swapped for the other order).
 */
function typeWords(bytes: Uint8Array, start: number, len: number, le: boolean): Uint32Array {
  const abs = bytes.byteOffset + start;
  if (le === HOST_LE && abs % 4 === 0) return new Uint32Array(bytes.buffer, abs, len / 4);
  const out = new Uint32Array(len / 4);
  const view = new DataView(bytes.buffer, abs, len);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, le);
  return out;
}

/** Throws if a type refers to an id that does not exist. Works on the raw words. */
function checkReferences(
  words: Uint32Array,
  starts: Int32Array,
  firstId: number,
  n: number,
  typeStart: number,
  strings: StringTable,
): void {
  const fail = (i: number, ref: number, role: string): never => {
    const w = starts[i]!;
    const kind = KIND_NAMES[(words[w + 1]! >>> 24) & 0x1f];
    const name = strings.get(words[w]!);
    throw new BTFError(
      `type [${firstId + i}] ${kind} '${name}' refers to ${role} type [${ref}], but the last type is [${n - 1}]`,
      typeStart + w * 4,
    );
  };
  for (let i = 0; i < starts.length; i++) {
    const w = starts[i]!;
    const info = words[w + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const st = words[w + 2]!;
    const body = w + 3;
    switch (kind) {
      case 2:
      case 8:
      case 9:
      case 10:
      case 11:
      case 12:
      case 14:
      case 17:
      case 18:
        if (st >= n) fail(i, st, "its target");
        break;
      case 3:
        if (words[body]! >= n) fail(i, words[body]!, "element");
        if (words[body + 1]! >= n) fail(i, words[body + 1]!, "index");
        break;
      case 4:
      case 5:
        for (let j = 0, m = body; j < vlen; j++, m += 3) {
          if (words[m + 1]! >= n) fail(i, words[m + 1]!, `member '${strings.get(words[m]!)}'`);
        }
        break;
      case 13:
        if (st >= n) fail(i, st, "return");
        for (let j = 0, m = body; j < vlen; j++, m += 2) {
          if (words[m + 1]! >= n) fail(i, words[m + 1]!, `parameter '${strings.get(words[m]!)}'`);
        }
        break;
      case 15:
        for (let j = 0, m = body; j < vlen; j++, m += 3) {
          if (words[m]! >= n) fail(i, words[m]!, "variable");
        }
        break;
      default:
        break;
    }
  }
}

/**
 * Sizes of types, resolved through modifiers, typedefs and arrays; -1 for types without
 * one (void, FWD, FUNC_PROTO...). Iterative with memo, so the depth of a chain costs no
 * stack; a chain that comes back to itself (a modifier loop the kernel refuses) is a
 * BTFError. A base's types (split BTF) are asked of the base.
 */
function typeSizes(
  words: Uint32Array,
  starts: Int32Array,
  firstId: number,
  base: BTF | undefined,
  typeStart: number,
): Float64Array {
  const n = firstId + starts.length;
  const size = newFloat64s(n).fill(Number.NaN);
  const visiting = newBytes(n);
  size[0] = -1;
  // What a type's size comes from: the next id (-1: none) and a multiplier, or when
  // there is no next id, the type's own size (-1: none). Set by step().
  let next = -1;
  let value = 0;
  const step = (id: number): void => {
    if (id < firstId) {
      const t = (base as BTF).type(id);
      next = -1;
      value = -1;
      switch (t.kind) {
        case "INT":
        case "ENUM":
        case "ENUM64":
        case "FLOAT":
        case "STRUCT":
        case "UNION":
          value = t.size;
          break;
        case "PTR":
          value = 8;
          break;
        case "TYPEDEF":
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "TYPE_TAG":
          next = t.type;
          value = 1;
          break;
        case "ARRAY":
          next = t.type;
          value = t.nelems;
          break;
        default:
          break;
      }
      return;
    }
    const w = starts[id - firstId]!;
    switch ((words[w + 1]! >>> 24) & 0x1f) {
      case 1:
      case 4:
      case 5:
      case 6:
      case 16:
      case 19:
        next = -1;
        value = words[w + 2]!;
        return;
      case 2:
        next = -1;
        value = 8;
        return;
      case 8:
      case 9:
      case 10:
      case 11:
      case 18:
        next = words[w + 2]!;
        value = 1;
        return;
      case 3:
        next = words[w + 3]!;
        value = words[w + 5]!;
        return;
      default:
        next = -1;
        value = -1;
        return;
    }
  };
  const chain = newInt32s(n);
  for (let id = 1; id < n; id++) {
    if (!Number.isNaN(size[id]!)) continue;
    let cur = id;
    let depth = 0;
    while (Number.isNaN(size[cur]!)) {
      if (visiting[cur]) {
        const at = cur >= firstId ? typeStart + starts[cur - firstId]! * 4 : 0;
        throw new BTFError(`type [${cur}] is part of a loop of modifiers, typedefs or arrays`, at);
      }
      visiting[cur] = 1;
      chain[depth++] = cur;
      step(cur);
      if (next < 0) {
        size[cur] = value;
        break;
      }
      cur = next;
    }
    // Unwind: each type's size from the one it refers to.
    for (let i = depth - 1; i >= 0; i--) {
      const t = chain[i]!;
      visiting[t] = 0;
      if (!Number.isNaN(size[t]!)) continue;
      step(t);
      const inner = size[next]!;
      size[t] = inner < 0 ? -1 : inner * value;
    }
  }
  return size;
}

/**
 * The kernel's "Member exceeds struct_size": every member of a struct ends inside it
 * (a bitfield by its bit size, an old-style INT bitfield by its encoding, anything
 * else by its type's size). Checked before anything lays the struct out, so a changed
 * offset cannot make a C dump print gigabytes of padding.
 */
function checkMemberEnds(
  words: Uint32Array,
  starts: Int32Array,
  firstId: number,
  base: BTF | undefined,
  typeStart: number,
  strings: StringTable,
): void {
  let sizes: Float64Array | undefined;
  for (let i = 0; i < starts.length; i++) {
    const w = starts[i]!;
    const info = words[w + 1]!;
    const kind = (info >>> 24) & 0x1f;
    if (kind !== 4 && kind !== 5) continue;
    sizes ??= typeSizes(words, starts, firstId, base, typeStart);
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const structBits = words[w + 2]! * 8;
    for (let j = 0, m = w + 3; j < vlen; j++, m += 3) {
      const type = words[m + 1]!;
      const raw = words[m + 2]!;
      const bitOff = kflag ? raw & 0xffffff : raw;
      const bitfield = kflag ? raw >>> 24 : 0;
      let end: number;
      if (bitfield > 0) end = bitOff + bitfield;
      else {
        const sz = sizes[type]!;
        if (sz < 0) continue;
        end = bitOff + sz * 8;
        // An old-style bitfield: an INT member whose encoding says how many bits.
        const tw = type >= firstId ? starts[type - firstId] : undefined;
        if (tw !== undefined && ((words[tw + 1]! >>> 24) & 0x1f) === 1) {
          const enc = words[tw + 3]!;
          const bits = enc & 0xff;
          const off = (enc >>> 16) & 0xff;
          end = bitOff - (bitOff % 8) + Math.ceil(((bitOff % 8) + off + bits) / 8) * 8;
        }
      }
      if (Math.ceil(end / 8) * 8 > structBits) {
        const name = strings.get(words[w]!);
        throw new BTFError(
          `type [${firstId + i}] ${kind === 4 ? "STRUCT" : "UNION"} '${name}' member '${strings.get(words[m]!)}' ends at bit ${end}, past its ${structBits / 8} bytes`,
          typeStart + (m + 2) * 4,
        );
      }
    }
  }
}
