/**
 * ELF objects: an ELF64 reader (BPF objects, executables, shared libraries),
 * libbpf's SEC() conventions, and the object loader that turns clang's output into a
 * `CollectionSpec`.
 *
 * Pure: no `node:` imports; it takes bytes, so it runs in browsers too.
 *
 * @module
 */

export { describeSection, programTypeForSection } from "./attach-descriptor.ts";
export * from "./constants.ts";
export { ELFError } from "./errors.ts";
export { loadCollectionSpec } from "./load-collection-spec.ts";
export {
  type ElfFile,
  type ElfHeader,
  type ElfRelocation,
  type ElfSection,
  type ElfSegment,
  type ElfSymbol,
  parseELF,
} from "./read-elf.ts";
export {
  type ProgramSection,
  parseSectionName,
  SECTION_DEFS,
  type SectionDef,
  type SectionRequirement,
  sectionMatches,
} from "./section-def.ts";
export {
  parseUsdtArg,
  parseUsdtArgs,
  USDT_MAX_ARGS,
  type UsdtArch,
  UsdtArgError,
  UsdtArgKind,
  type UsdtArgSpec,
} from "./usdt-args.ts";
export {
  MAX_USDT_NOTES,
  NT_STAPSDT,
  parseStapsdtNotes,
  STAPSDT_BASE_SECTION,
  STAPSDT_NOTE_SECTION,
  type StapsdtNote,
  type UsdtProbe,
  usdtProbes,
} from "./usdt-notes.ts";
