/**
 * Maps of the legacy `maps` section: an array of `struct bpf_map_def`
 * (`type, key_size, value_size, max_entries, map_flags`, u32 each), one per symbol.
 * libbpf 1.0 dropped them; older objects and tutorials still have them.
 *
 * @module
 */

import type { MapSpec } from "../spec/index.ts";
import type { MapType } from "../uapi/index.ts";
import type { ElfMap } from "./btf-maps.ts";
import { SymbolType } from "./constants.ts";
import { ELFError } from "./errors.ts";
import type { ElfFile, ElfSection } from "./read-elf.ts";

/** The five fields every `struct bpf_map_def` has. */
const MIN_DEF_SIZE = 20;

/**
 * Reads every map of a legacy `maps` section, named by its symbols.
 *
 * @throws {ELFError} for a definition too short, overlapping another or past the end
 */
export function readLegacyMaps(elf: ElfFile, sec: ElfSection): ElfMap[] {
  const syms = elf.symbols
    .filter((s) => s.shndx === sec.index && s.type !== SymbolType.SECTION && s.name !== "")
    .sort((a, b) => a.value - b.value);
  if (syms.length === 0) {
    if (sec.size === 0) return [];
    throw new ELFError("legacy maps section has no symbols to name its maps", {
      section: sec.name,
    });
  }
  // Without sizes, definitions share the section equally (as libbpf did).
  const even = Math.floor(sec.size / syms.length);
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const out: ElfMap[] = [];
  for (const [i, s] of syms.entries()) {
    const size = s.size || even;
    const next = syms[i + 1]?.value ?? sec.size;
    if (size < MIN_DEF_SIZE || s.value + size > sec.size || s.value + size > next) {
      throw new ELFError(
        `map '${s.name}': definition of ${size} bytes at ${s.value} does not fit (need ${MIN_DEF_SIZE}, section has ${sec.size})`,
        { section: sec.name, offset: s.value },
      );
    }
    if (sec.data.length < sec.size) {
      throw new ELFError(`map '${s.name}': the section has no contents`, { section: sec.name });
    }
    const u32 = (k: number) => view.getUint32(s.value + 4 * k, true);
    const flags = u32(4);
    const spec: MapSpec = {
      name: s.name,
      type: u32(0) as MapType,
      keySize: u32(1),
      valueSize: u32(2),
      maxEntries: u32(3),
      ...(flags !== 0 && { flags }),
    };
    out.push({ spec, shndx: sec.index, offset: s.value });
  }
  return out;
}
