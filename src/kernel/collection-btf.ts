/**
 * The object's BTF as the kernel will take it: kinds this kernel lacks rewritten
 * (src/btf's sanitiser), and externs turned into what BPF_BTF_LOAD accepts, as libbpf
 * does before loading: an extern VAR becomes an allocated 4-byte `int` variable, an
 * extern FUNC a global one (unnamed parameters named), and the `.ksyms` DATASEC lists
 * them 4 bytes apart.
 *
 * @module
 */

import type { BTF } from "../btf/btf.ts";
import { encodeTypes } from "../btf/encode.ts";
import { type BTFFeatures, sanitizeTypes } from "../btf/sanitize.ts";
import type { BTFType, IntType, TypeId } from "../btf/types.ts";

const DUMMY_NAME = "dummy_ksym";

/** BTF ready for BPF_BTF_LOAD. */
export interface KernelBTFBlob {
  readonly bytes: Uint8Array;
  /**
   * True when string offsets are those of the object's own `.BTF` (so line_info, which
   * points into its strings, stays valid); false when the blob had to be re-encoded.
   */
  readonly stringsPreserved: boolean;
}

/**
 * The object's BTF for BPF_BTF_LOAD on a kernel with `features`. When the kernel knows
 * every kind, the raw `.BTF` bytes are patched in place (strings and type ids kept, so
 * line info stays valid); otherwise the types are sanitised and re-encoded.
 *
 * @example
 * ```ts
 * const { bytes } = kernelBTF(spec.btf, spec.btfBytes, probeBTFFeatures());
 * ```
 */
export function kernelBTF(
  btf: BTF,
  raw: Uint8Array | undefined,
  features: BTFFeatures,
): KernelBTFBlob {
  const all = Object.values(features).every(Boolean);
  if (all && raw !== undefined) {
    const patched = patchExternsRaw(raw);
    if (patched) return { bytes: patched, stringsPreserved: true };
  }
  return { bytes: kernelBTFBytes(btf, features), stringsPreserved: false };
}

/** BTF_KIND numbers used by the raw patcher. */
const K = {
  INT: 1,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  DECL_TAG: 17,
  ENUM64: 19,
} as const;

function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case K.INT:
    case K.VAR:
    case K.DECL_TAG:
      return 4;
    case K.ARRAY:
      return 12;
    case K.STRUCT:
    case K.UNION:
    case K.DATASEC:
    case K.ENUM64:
      return 12 * vlen;
    case K.ENUM:
    case K.FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}

/**
 * The extern fixes on a copy of raw little-endian BTF, keeping every string offset and
 * type id; new strings and types are appended. Undefined when the blob is not
 * little-endian BTF this walk understands.
 */
export function patchExternsRaw(bytes: Uint8Array): Uint8Array | undefined {
  const v0 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24 || v0.getUint16(0, true) !== 0xeb9f) return undefined;
  const hdrLen = v0.getUint32(4, true);
  const typeOff = v0.getUint32(8, true);
  const typeLen = v0.getUint32(12, true);
  const strOff = v0.getUint32(16, true);
  const strLen = v0.getUint32(20, true);
  if (typeOff !== 0 || strOff !== typeLen || hdrLen + strOff + strLen > bytes.length)
    return undefined;
  const out = bytes.slice(0, hdrLen + typeLen + strLen);
  const v = new DataView(out.buffer);
  const strStart = hdrLen + strOff;
  const dec = new TextDecoder();
  const name = (off: number) => {
    let e = strStart + off;
    while (e < out.length && out[e] !== 0) e++;
    return dec.decode(out.subarray(strStart + off, e));
  };
  const at: number[] = [0];
  for (let p = hdrLen; p + 12 <= hdrLen + typeLen; ) {
    at.push(p);
    const info = v.getUint32(p + 4, true);
    p += 12 + trailing((info >>> 24) & 0x1f, info & 0xffff);
  }
  const kindAt = (p: number) => (v.getUint32(p + 4, true) >>> 24) & 0x1f;
  const newStrings: string[] = [];
  let newStrLen = 0;
  const addString = (s: string): number => {
    const off = strLen + newStrLen;
    newStrings.push(s);
    newStrLen += new TextEncoder().encode(s).length + 1;
    return off;
  };
  const newTypes: number[][] = [];
  let intId = 0;
  for (let id = 1; id < at.length && intId === 0; id++) {
    const p = at[id]!;
    if (
      kindAt(p) === K.INT &&
      v.getUint32(p + 8, true) === 4 &&
      (v.getUint32(p + 12, true) & 0xff) === 32
    )
      intId = id;
  }
  const needInt = (): number => {
    if (intId === 0) {
      newTypes.push([addString("int"), K.INT << 24, 4, (1 << 24) | 32]);
      intId = at.length - 1 + newTypes.length;
    }
    return intId;
  };
  let dummyName = 0;
  let dummyId = 0;
  const needDummy = (): number => {
    if (dummyId === 0) {
      const type = needInt();
      dummyName ||= addString(DUMMY_NAME);
      newTypes.push([dummyName, K.VAR << 24, type, 1]);
      dummyId = at.length - 1 + newTypes.length;
    }
    return dummyId;
  };
  for (let id = 1; id < at.length; id++) {
    const p = at[id]!;
    const info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f;
    if (kind === K.FUNC && (info & 0xffff) === 2) {
      v.setUint32(p + 4, (info & ~0xffff) | 1, true); // extern -> global
      const proto = at[v.getUint32(p + 8, true)];
      if (proto !== undefined && kindAt(proto) === K.FUNC_PROTO) {
        const n = v.getUint32(proto + 4, true) & 0xffff;
        for (let i = 0; i < n; i++) {
          const q = proto + 12 + i * 8;
          if (v.getUint32(q, true) === 0 && v.getUint32(q + 4, true) !== 0) {
            dummyName ||= addString(DUMMY_NAME);
            v.setUint32(q, dummyName, true);
          }
        }
      }
    } else if (kind === K.VAR && v.getUint32(p + 12, true) === 2) {
      v.setUint32(p + 8, needInt(), true);
      v.setUint32(p + 12, 1, true); // global allocated
    }
  }
  for (let id = 1; id < at.length; id++) {
    const p = at[id]!;
    if (kindAt(p) !== K.DATASEC || name(v.getUint32(p, true)) !== ".ksyms") continue;
    const n = v.getUint32(p + 4, true) & 0xffff;
    for (let i = 0; i < n; i++) {
      const q = p + 12 + i * 12;
      const target = at[v.getUint32(q, true)];
      if (target !== undefined && kindAt(target) === K.FUNC) v.setUint32(q, needDummy(), true);
      v.setUint32(q + 4, i * 4, true);
      v.setUint32(q + 8, 4, true);
    }
    v.setUint32(p + 8, n * 4, true);
  }
  // The kernel wants each DATASEC's variables in offset order (libbpf sorts them too).
  for (let id = 1; id < at.length; id++) {
    const p = at[id]!;
    if (kindAt(p) !== K.DATASEC) continue;
    const n = v.getUint32(p + 4, true) & 0xffff;
    const entries = Array.from({ length: n }, (_, i) =>
      [0, 4, 8].map((o) => v.getUint32(p + 12 + i * 12 + o, true)),
    );
    entries.sort((a, b) => a[1]! - b[1]!);
    entries.forEach((e, i) => {
      e.forEach((word, j) => {
        v.setUint32(p + 12 + i * 12 + j * 4, word, true);
      });
    });
  }
  if (newTypes.length === 0 && newStrings.length === 0) return out;
  const addTypes = newTypes.reduce((n, t) => n + t.length * 4, 0);
  const result = new Uint8Array(out.length + addTypes + newStrLen);
  const rv = new DataView(result.buffer);
  result.set(out.subarray(0, hdrLen + typeLen), 0);
  let w = hdrLen + typeLen;
  for (const t of newTypes)
    for (const word of t) {
      rv.setUint32(w, word >>> 0, true);
      w += 4;
    }
  result.set(out.subarray(strStart, strStart + strLen), w);
  w += strLen;
  const enc = new TextEncoder();
  for (const s of newStrings) {
    result.set(enc.encode(s), w);
    w += enc.encode(s).length + 1;
  }
  rv.setUint32(12, typeLen + addTypes, true);
  rv.setUint32(16, typeLen + addTypes, true);
  rv.setUint32(20, strLen + newStrLen, true);
  return result;
}

/**
 * Encodes `btf` for BPF_BTF_LOAD on a kernel with `features` (strings re-encoded).
 *
 * @example
 * ```ts
 * const bytes = kernelBTFBytes(spec.btf, probeBTFFeatures());
 * ```
 */
export function kernelBTFBytes(btf: BTF, features: BTFFeatures): Uint8Array {
  const types = sanitizeTypes(btf, features);
  const first = btf.firstId;
  const at = (id: TypeId) => types[id - first];
  let nextId = first + types.length;
  let intId = 0;
  const needInt = (): TypeId => {
    if (intId !== 0) return intId;
    const found = types.find((t) => t.kind === "INT" && t.size === 4 && t.bits === 32);
    if (found) {
      intId = found.id;
      return intId;
    }
    const int: IntType = {
      kind: "INT",
      id: nextId++,
      name: "int",
      size: 4,
      signed: true,
      char: false,
      bool: false,
      bitOffset: 0,
      bits: 32,
    };
    types.push(int);
    intId = int.id;
    return intId;
  };
  let dummyId = 0;
  const needDummy = (): TypeId => {
    if (dummyId !== 0) return dummyId;
    const type = needInt();
    dummyId = nextId++;
    types.push({ kind: "VAR", id: dummyId, name: DUMMY_NAME, type, linkage: "global" });
    return dummyId;
  };

  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind === "FUNC" && t.linkage === "extern") {
      types[i] = { kind: "FUNC", id: t.id, name: t.name, type: t.type, linkage: "global" };
      const proto = at(t.type);
      if (proto?.kind === "FUNC_PROTO" && proto.params.some((p) => p.type !== 0 && p.name === "")) {
        types[proto.id - first] = {
          kind: "FUNC_PROTO",
          id: proto.id,
          name: proto.name,
          returnType: proto.returnType,
          params: proto.params.map((p) => ({
            name: p.type !== 0 && p.name === "" ? DUMMY_NAME : p.name,
            type: p.type,
          })),
        };
      }
    } else if (t.kind === "VAR" && t.linkage === "extern") {
      types[i] = { kind: "VAR", id: t.id, name: t.name, type: needInt(), linkage: "global" };
    }
  }
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== "DATASEC" || t.name !== ".ksyms") continue;
    const vars = t.vars.map((v, j) => {
      const vt: BTFType | undefined = at(v.type);
      return { type: vt?.kind === "FUNC" ? needDummy() : v.type, offset: j * 4, size: 4 };
    });
    types[i] = { kind: "DATASEC", id: t.id, name: t.name, size: vars.length * 4, vars };
  }
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== "DATASEC") continue;
    const vars = [...t.vars].sort((a, b) => a.offset - b.offset);
    types[i] = { kind: "DATASEC", id: t.id, name: t.name, size: t.size, vars };
  }
  return encodeTypes(types, { base: btf.base });
}
