/**
 * The ELF facts clang leaves out of `.BTF`: it writes every DATASEC with size 0 and
 * its variables at offset 0, and `.kconfig` variables as externs. The kernel refuses
 * such BTF, so, like libbpf's `btf_fixup_datasec`, the loader fills in each DATASEC's
 * size from its ELF section and each variable's offset from its ELF symbol, marks
 * variables and functions of hidden symbols static, and gives `.kconfig` variables their place in
 * the `.kconfig` map (as allocated globals).
 *
 * What is left for the writer of kernel BTF (src/btf): `.ksyms` externs (libbpf
 * rewrites them into a dummy variable) and kinds an older kernel does not know.
 *
 * @module
 */

import { parseHeader } from "../btf/parse.ts";
import { forEachRawType, RawKind, rawKind, rawString, rawVlen } from "../btf/raw-types.ts";
import { copyBytes, viewOf } from "../uapi/bytes.ts";
import { ELFError } from "./errors.ts";

/**
 * Limits of the fixup's walk, checked before it reads a name or an entry:
 *
 * | what                     | limit                                          |
 * |--------------------------|------------------------------------------------|
 * | header                   | parseHeader: sections inside the blob          |
 * | a name                   | KSYM_NAME_LEN (512) bytes, inside the strings  |
 * | a DATASEC's entries      | inside the type section (a cut record ends it) |
 * | a VAR record             | inside the type section                        |
 */
const MAX_NAME_BYTES = 512;

/** `enum btf_func_linkage` (a FUNC's vlen). */
const FUNC_STATIC = 0;
const FUNC_GLOBAL = 1;

/** `enum btf_var_linkage`. */
const VAR_STATIC = 0;
const VAR_GLOBAL_ALLOCATED = 1;

/** What the fixup needs to know about the ELF object. */
export interface DatasecFacts {
  /** The size of the ELF section `name`, or undefined when there is none. */
  sectionSize(name: string): number | undefined;
  /** The offset of variable `name` in section `section`, and whether its symbol is hidden. */
  variable(section: string, name: string): { offset: number; hidden: boolean } | undefined;
  /**
   * True when `name` is a global or weak function with hidden or internal visibility:
   * its BTF FUNC becomes static, as libbpf does, so the verifier checks it in its
   * callers' context instead of alone (libbpf's usdt.bpf.h relies on it).
   */
  hiddenFunction?(name: string): boolean;
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
  // The header first: no name is read and no record walked before the sections it
  // points at are known to lie inside the blob (a str_len of 0x3fffffff made the name
  // walk below crawl for 15 s).
  parseHeader(bytes);
  const out = copyBytes(bytes);
  // Offsets of every type record, by id, so DATASEC entries can find their VARs.
  const layout = forEachRawType(out);
  if (layout === undefined) return out;
  const v = viewOf(out);
  const { strStart, offsets: at } = layout;
  const strEnd = Math.min(layout.strEnd, out.length);
  const typeEnd = Math.min(layout.typeEnd, out.length);
  const name = (off: number): string => {
    const start = strStart + off;
    if (start >= strEnd) return "";
    return rawString(out, start, Math.min(strEnd, start + MAX_NAME_BYTES));
  };
  for (const rec of at) {
    if (rec === 0) continue;
    const info = v.getUint32(rec + 4, true);
    if (rawKind(info) === RawKind.FUNC) {
      if (rawVlen(info) === FUNC_GLOBAL && facts.hiddenFunction?.(name(v.getUint32(rec, true)))) {
        v.setUint32(rec + 4, (info & ~0xffff) | FUNC_STATIC, true);
      }
      continue;
    }
    if (rawKind(info) !== RawKind.DATASEC) continue;
    const sec = name(v.getUint32(rec, true));
    // Entries cut off by the end of the type section are left to the parser's error.
    const vlen = Math.min(rawVlen(info), Math.floor((typeEnd - rec - 12) / 12));
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
      if (varRec === undefined || varRec + 16 > typeEnd) continue;
      if (rawKind(v.getUint32(varRec + 4, true)) !== RawKind.VAR) continue;
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
