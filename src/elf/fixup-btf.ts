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

import { forEachRawType, RawKind, rawKind, rawVlen } from "../btf/raw-types.ts";
import { plainBytes, viewOf } from "../uapi/bytes.ts";
import { ELFError } from "./errors.ts";

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
  const out = plainBytes(bytes).slice();
  // Offsets of every type record, by id, so DATASEC entries can find their VARs.
  const layout = forEachRawType(out);
  if (layout === undefined) return out;
  const v = viewOf(out);
  const { strStart, strEnd, offsets: at } = layout;
  const name = (off: number): string => {
    let end = strStart + off;
    while (end < strEnd && out[end] !== 0) end++;
    return new TextDecoder().decode(out.subarray(strStart + off, end));
  };
  for (const rec of at) {
    if (rec === 0) continue;
    const info = v.getUint32(rec + 4, true);
    if (rawKind(info) !== RawKind.DATASEC) continue;
    const sec = name(v.getUint32(rec, true));
    const vlen = rawVlen(info);
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
