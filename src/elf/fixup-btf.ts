/**
 * The ELF facts clang leaves out of `.BTF`: it writes every DATASEC with size 0 and
 * its variables at offset 0, and `.kconfig` variables as externs. The kernel refuses
 * such BTF, so, like libbpf's `btf_fixup_datasec`, the loader fills in each DATASEC's
 * size from its ELF section and each variable's offset from its ELF symbol, marks
 * variables of hidden symbols static, and gives `.kconfig` variables their place in
 * the `.kconfig` map (as allocated globals).
 *
 * What is left for the writer of kernel BTF (src/btf): `.ksyms` externs (libbpf
 * rewrites them into a dummy variable) and kinds an older kernel does not know.
 *
 * @module
 */

import { BTF_HEADER_SIZE } from "../btf/index.ts";
import { ELFError } from "./errors.ts";

/** BTF_KIND_* numbers this walk needs. */
const KIND = {
  INT: 1,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  DECL_TAG: 17,
  ENUM64: 19,
} as const;
/** `enum btf_var_linkage`. */
const VAR_STATIC = 0;
const VAR_GLOBAL_ALLOCATED = 1;

/** What the fixup needs to know about the ELF object. */
export interface DatasecFacts {
  /** The size of the ELF section `name`, or undefined when there is none. */
  sectionSize(name: string): number | undefined;
  /** The offset of variable `name` in section `section`, and whether its symbol is hidden. */
  variable(section: string, name: string): { offset: number; hidden: boolean } | undefined;
  /** For `.kconfig`: its size and each extern's offset. */
  readonly kconfig?: { size: number; offsets: ReadonlyMap<string, number> };
}

/**
 * A copy of the raw BTF `bytes` with DATASEC sizes and variable offsets filled in.
 * Only little-endian BTF is patched (BPF objects for this host are little-endian).
 *
 * @throws {ELFError} when a variable of a data section has no ELF symbol to place it
 */
export function fixupDatasecs(bytes: Uint8Array, facts: DatasecFacts): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (out.length < BTF_HEADER_SIZE || v.getUint16(0, true) !== 0xeb9f) return out;
  const hdrLen = v.getUint32(4, true);
  const typeStart = hdrLen + v.getUint32(8, true);
  const typeEnd = typeStart + v.getUint32(12, true);
  const strStart = hdrLen + v.getUint32(16, true);
  const strEnd = strStart + v.getUint32(20, true);
  const name = (off: number): string => {
    let end = strStart + off;
    while (end < strEnd && out[end] !== 0) end++;
    return new TextDecoder().decode(out.subarray(strStart + off, end));
  };
  // Offsets of every type record, by id, so DATASEC entries can find their VARs.
  const at: number[] = [0];
  let p = typeStart;
  while (p + 12 <= typeEnd) {
    at.push(p);
    const info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    p += 12 + trailing(kind, vlen);
  }
  for (const rec of at) {
    if (rec === 0) continue;
    const info = v.getUint32(rec + 4, true);
    if (((info >>> 24) & 0x1f) !== KIND.DATASEC) continue;
    const sec = name(v.getUint32(rec, true));
    const vlen = info & 0xffff;
    if (sec === ".ksyms") continue;
    const kconfig = sec === ".kconfig" ? facts.kconfig : undefined;
    if (sec === ".kconfig" && kconfig === undefined) continue;
    const size = kconfig ? kconfig.size : facts.sectionSize(sec);
    if (size === undefined) continue;
    const fixOffsets = v.getUint32(rec + 8, true) === 0 || kconfig !== undefined;
    v.setUint32(rec + 8, size, true);
    for (let i = 0; i < vlen; i++) {
      const vsi = rec + 12 + i * 12;
      const varRec = at[v.getUint32(vsi, true)];
      if (varRec === undefined) continue;
      if (((v.getUint32(varRec + 4, true) >>> 24) & 0x1f) !== KIND.VAR) continue;
      const varName = name(v.getUint32(varRec, true));
      if (kconfig) {
        const off = kconfig.offsets.get(varName);
        if (off === undefined) continue;
        v.setUint32(vsi + 4, off, true);
        v.setUint32(varRec + 12, VAR_GLOBAL_ALLOCATED, true);
        continue;
      }
      const linkage = v.getUint32(varRec + 12, true);
      const found = facts.variable(sec, varName);
      if (found === undefined) {
        if (linkage === VAR_STATIC && !fixOffsets) continue;
        throw new ELFError(`BTF variable '${varName}' of DATASEC '${sec}' has no ELF symbol`, {
          section: sec,
        });
      }
      if (fixOffsets) v.setUint32(vsi + 4, found.offset, true);
      if (found.hidden && linkage === VAR_GLOBAL_ALLOCATED) {
        v.setUint32(varRec + 12, VAR_STATIC, true);
      }
    }
  }
  return out;
}

/** Bytes after the 12-byte `struct btf_type` for a kind. */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case KIND.INT:
    case KIND.VAR:
    case KIND.DECL_TAG:
      return 4;
    case KIND.ARRAY:
      return 12;
    case KIND.STRUCT:
    case KIND.UNION:
    case KIND.DATASEC:
    case KIND.ENUM64:
      return 12 * vlen;
    case KIND.ENUM:
    case KIND.FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}
