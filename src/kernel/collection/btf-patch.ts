/**
 * The extern rewrite on raw `.BTF` bytes, as libbpf does before loading: an extern VAR
 * becomes an allocated 4-byte `int` variable, an extern FUNC a global one (unnamed
 * parameters named), and the `.ksyms` DATASEC lists them 4 bytes apart. Every string
 * offset and type id is kept (line info points into the strings), new strings and
 * types are appended; the records are found through src/btf's raw walker.
 *
 * @module
 */

import { RawKind as K, rawKind, rawString, rawTypeOffsets, rawVlen } from "../../btf/raw-types.ts";
import { copyBytes, viewOf } from "../../uapi/bytes.ts";

/** The name libbpf gives the dummy variable and unnamed extern parameters. */
export const DUMMY_KSYM_NAME = "dummy_ksym";
const DUMMY_NAME = DUMMY_KSYM_NAME;
/** Made once: a TextEncoder costs more to make than a name to encode. */
const ENCODER = new TextEncoder();

/**
 * The extern fixes on a copy of raw little-endian BTF, keeping every string offset and
 * type id; new strings and types are appended. Undefined when the blob is not
 * little-endian BTF this walk understands.
 */
export function patchExternsRaw(bytes: Uint8Array): Uint8Array | undefined {
  const layout = rawTypeOffsets(bytes);
  if (layout === undefined) return undefined;
  const { hdrLen, typeStart, typeEnd, strStart, strEnd } = layout;
  const typeLen = typeEnd - typeStart;
  const strLen = strEnd - strStart;
  if (typeStart !== hdrLen || strStart !== typeEnd || strEnd > bytes.length) return undefined;
  const out = copyBytes(bytes.subarray(0, hdrLen + typeLen + strLen));
  const v = viewOf(out);
  const name = (off: number) => rawString(out, strStart + off, out.length);
  const at = layout.offsets;
  const kindAt = (p: number) => rawKind(v.getUint32(p + 4, true));
  const newStrings: string[] = [];
  let newStrLen = 0;
  const addString = (s: string): number => {
    const off = strLen + newStrLen;
    newStrings.push(s);
    newStrLen += ENCODER.encode(s).length + 1;
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
    const kind = rawKind(info);
    if (kind === K.FUNC && rawVlen(info) === 2) {
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
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) {
      sorted = v.getUint32(p + 16 + (i - 1) * 12, true) <= v.getUint32(p + 16 + i * 12, true);
    }
    if (sorted) continue;
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
  for (const s of newStrings) {
    const bytes = ENCODER.encode(s);
    result.set(bytes, w);
    w += bytes.length + 1;
  }
  rv.setUint32(12, typeLen + addTypes, true);
  rv.setUint32(16, typeLen + addTypes, true);
  rv.setUint32(20, strLen + newStrLen, true);
  return result;
}
