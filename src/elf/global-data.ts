/**
 * Global data: every `.data*`, `.rodata*` and `.bss*` section becomes an ARRAY map
 * with one entry whose value is the section's contents (libbpf's internal maps), and
 * the variables its DATASEC lists become {@link VariableSpec}s.
 *
 * @module
 */

import type { BTF } from "../btf/index.ts";
import type { MapSpec, VariableSpec } from "../spec/index.ts";
import { copyBytes } from "../uapi/bytes.ts";
import { MapFlags, MapType } from "../uapi/index.ts";
import { SectionFlags, SectionType, SymbolType } from "./constants.ts";
import { ELFError } from "./errors.ts";
import type { ElfFile, ElfSection } from "./read-elf.ts";

/**
 * The largest global-data section: its map is one ARRAY value, and the kernel refuses
 * a value_size above KMALLOC_MAX_SIZE (4 MiB with 4 KiB pages) with E2BIG. Checked
 * before anything allocates the value (a `.bss` of 0x7fffffff bytes).
 */
export const MAX_GLOBAL_DATA_BYTES = 4 << 20;

/** True for a section that holds global data: `.data`, `.rodata.str1.1`, `.bss.foo`... */
export function isGlobalDataSection(sec: ElfSection): boolean {
  return (
    /^\.(data|rodata|bss)(\.|$)/.test(sec.name) &&
    (sec.type === SectionType.PROGBITS || sec.type === SectionType.NOBITS) &&
    (sec.flags & SectionFlags.ALLOC) !== 0 &&
    (sec.flags & SectionFlags.EXECINSTR) === 0
  );
}

/** True for read-only data (frozen after loading, BPF_F_RDONLY_PROG). */
export function isReadOnlySection(name: string): boolean {
  return /^\.rodata(\.|$)/.test(name);
}

/** The map and variables of one global-data section. */
export interface GlobalData {
  readonly map: MapSpec;
  readonly variables: VariableSpec[];
}

/**
 * The ARRAY map for a global-data section and the variables in it. `.rodata*` maps
 * are BPF_F_RDONLY_PROG and frozen; all are BPF_F_MMAPABLE (as libbpf creates them).
 * `.bss` has no initial contents (the kernel zeroes maps).
 */
export function readGlobalData(elf: ElfFile, sec: ElfSection, btf: BTF | undefined): GlobalData {
  if (sec.size > MAX_GLOBAL_DATA_BYTES) {
    throw new ELFError(
      `section is ${sec.size} bytes, more than an ARRAY map value may be (${MAX_GLOBAL_DATA_BYTES}, the kernel's KMALLOC_MAX_SIZE)`,
      { section: sec.name },
    );
  }
  const readOnly = isReadOnlySection(sec.name);
  const datasec = btf?.findByName("DATASEC", sec.name);
  const nobits = sec.type === SectionType.NOBITS;
  const map: MapSpec = {
    name: sec.name,
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: sec.size,
    maxEntries: 1,
    flags: MapFlags.MMAPABLE | (readOnly ? MapFlags.RDONLY_PROG : 0),
    ...(datasec !== undefined && { btfValueTypeId: datasec.id }),
    ...(!nobits && { contents: [{ key: new Uint8Array(4), value: copyBytes(sec.data) }] }),
    ...(readOnly && { freeze: true }),
  };
  const variables: VariableSpec[] = [];
  if (datasec !== undefined && btf !== undefined) {
    const symbols = elf.symbols.filter(
      (s) => s.shndx === sec.index && s.type === SymbolType.OBJECT,
    );
    for (const vsi of datasec.vars) {
      const v = btf.type(vsi.type);
      if (v.kind !== "VAR") continue;
      // clang fills DATASEC offsets for BPF; the symbol table is the fallback.
      const sym = symbols.find((s) => s.name === v.name);
      const offset = datasec.size === sec.size ? vsi.offset : (sym?.value ?? vsi.offset);
      const size = vsi.size || sym?.size || 0;
      if (offset + size > sec.size) {
        throw new ELFError(
          `variable '${v.name}' (${size} bytes at ${offset}) lies outside the section (${sec.size} bytes)`,
          { section: sec.name, offset },
        );
      }
      variables.push({
        name: v.name,
        map: sec.name,
        offset,
        size,
        typeId: v.type,
        linkage: v.linkage,
        readOnly,
      });
    }
  }
  return { map, variables };
}
