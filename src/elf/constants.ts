/**
 * ELF constants (from the System V ABI and `<elf.h>`) that BPF objects and host
 * executables use, and the BPF relocation types (from LLVM's `ELFRelocs/BPF.def` and the kernel's
 * Documentation/bpf/llvm_reloc.rst).
 *
 * @module
 */

/** `\x7fELF`. */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
/** e_ident[EI_CLASS]: 64-bit objects. */
export const ELFCLASS64 = 2;
/** e_ident[EI_DATA]: little-endian. */
export const ELFDATA2LSB = 1;
/** e_ident[EI_DATA]: big-endian. */
export const ELFDATA2MSB = 2;
/** e_ident[EI_VERSION] and e_version. */
export const EV_CURRENT = 1;
/** e_type of relocatable objects (what clang -c writes). */
export const ET_REL = 1;
/** e_type of executables. */
export const ET_EXEC = 2;
/** e_type of shared objects and position-independent executables. */
export const ET_DYN = 3;
/** e_machine of BPF objects. */
export const EM_BPF = 247;

/** Size of the ELF64 file header. */
export const EHDR_SIZE = 64;
/** Size of one ELF64 program header. */
export const PHDR_SIZE = 56;
/** Size of one ELF64 section header. */
export const SHDR_SIZE = 64;
/** Size of one ELF64 symbol. */
export const SYM_SIZE = 24;
/** Size of one ELF64 REL relocation. */
export const REL_SIZE = 16;
/** Size of one ELF64 RELA relocation. */
export const RELA_SIZE = 24;

/** Section types (sh_type). */
export const SectionType = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
} as const;

/** Program header (segment) types (p_type). */
export const SegmentType = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  PHDR: 6,
  TLS: 7,
} as const;

/** Section flags (sh_flags). */
export const SectionFlags = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
} as const;

/** Special section indexes (st_shndx). */
export const SHN_UNDEF = 0;
/** First reserved section index. */
export const SHN_LORESERVE = 0xff00;
/** Absolute symbols. */
export const SHN_ABS = 0xfff1;
/** Common symbols. */
export const SHN_COMMON = 0xfff2;
/** The real index is in SHT_SYMTAB_SHNDX (not used by BPF objects). */
export const SHN_XINDEX = 0xffff;

/** Symbol types (low nibble of st_info). */
export const SymbolType = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
  /** STT_GNU_IFUNC: a function whose address a resolver picks at load time. */
  GNU_IFUNC: 10,
} as const;

/** Symbol bindings (high nibble of st_info). */
export const SymbolBinding = {
  LOCAL: 0,
  GLOBAL: 1,
  WEAK: 2,
} as const;

/** BPF relocation types (ELF64_R_TYPE of r_info). */
export const BpfReloc = {
  /** No relocation. */
  R_BPF_NONE: 0,
  /** lddw immediate (64-bit split over two imm fields): map, global data, function address. */
  R_BPF_64_64: 1,
  /** 64-bit absolute data (e.g. map-in-map initial values in `.maps`, DWARF). */
  R_BPF_64_ABS64: 2,
  /** 32-bit absolute data (DWARF, .BTF.ext). */
  R_BPF_64_ABS32: 3,
  /** 32-bit data not to be resolved by dynamic loaders (.BTF, .BTF.ext section offsets). */
  R_BPF_64_NODYLD32: 4,
  /** Call immediate (bpf-to-bpf calls, kfuncs): PC-relative in instructions. */
  R_BPF_64_32: 10,
} as const;

/** Names of {@link BpfReloc} values, as llvm-readelf prints them. */
export function bpfRelocName(type: number): string {
  for (const [k, v] of Object.entries(BpfReloc)) if (v === type) return k;
  return `R_BPF_unknown(${type})`;
}
