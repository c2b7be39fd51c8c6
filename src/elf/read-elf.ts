/**
 * An ELF64 little-endian reader, for BPF objects and the host's executables and shared
 * libraries alike: header, program headers (segments), section headers, string
 * tables, `.symtab` and `.dynsym` symbols and REL/RELA relocations. Every malformed
 * input raises an {@link ELFError} naming the section and offset; nothing else escapes.
 * The machine is not checked here: the BPF object loader insists on EM_BPF.
 *
 * Layouts follow the System V gABI (`Elf64_Ehdr`, `Elf64_Phdr`, `Elf64_Shdr`,
 * `Elf64_Sym`, `Elf64_Rel`, `Elf64_Rela`).
 *
 * @module
 */

import { plainBytes } from "../uapi/bytes.ts";
import {
  EHDR_SIZE,
  ELF_MAGIC,
  ELFCLASS64,
  ELFDATA2LSB,
  EV_CURRENT,
  PHDR_SIZE,
  REL_SIZE,
  RELA_SIZE,
  SectionType,
  SegmentType,
  SHDR_SIZE,
  SHN_LORESERVE,
  SHN_XINDEX,
  SYM_SIZE,
} from "./constants.ts";
import { ELFError } from "./errors.ts";

/**
 * Limits of the reader, each checked before the work it bounds:
 *
 * | what                          | limit                                             |
 * |-------------------------------|---------------------------------------------------|
 * | header, section/program table | inside the file (count x entry size <= file size) |
 * | offsets and sizes (u64)       | below 2^53, and inside the file for file-backed   |
 * | a section's contents          | inside the file (NOBITS: no contents)             |
 * | a name (section, symbol)      | MAX_NAME_BYTES, NUL-terminated inside its table   |
 * | symbols, relocations          | table size a multiple of the entry size           |
 * | symbol/section indexes        | inside their tables                               |
 *
 * The work is then linear in the file: one pass over the headers, one per symbol and
 * relocation table, and each distinct name decoded once.
 */
/** The longest section or symbol name: 16 KiB (long C++/Rust names in host binaries). */
export const MAX_NAME_BYTES = 16 << 10;

/** The parts of `Elf64_Ehdr` tsbpf uses. */
export interface ElfHeader {
  /** e_type: ET_REL for objects from `clang -c`, ET_EXEC or ET_DYN for binaries. */
  readonly type: number;
  /** e_machine: EM_BPF (247) for BPF objects, EM_X86_64 (62) for this host's binaries. */
  readonly machine: number;
  /** e_flags. */
  readonly flags: number;
  /** e_entry: the entry point's virtual address (0 for objects). */
  readonly entry: number;
  /** Offset of the program header table (0 when there is none). */
  readonly phoff: number;
  /** Number of program headers (0 for relocatable objects). */
  readonly phnum: number;
  /** Offset of the section header table. */
  readonly shoff: number;
  /** Number of section headers. */
  readonly shnum: number;
  /** Index of the section-name string table. */
  readonly shstrndx: number;
}

/** One program header (`Elf64_Phdr`): a segment of the image the loader maps. */
export interface ElfSegment {
  /** Index in the program header table. */
  readonly index: number;
  /** p_type (`SegmentType`). */
  readonly type: number;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4. */
  readonly flags: number;
  /** p_offset: where the segment starts in the file. */
  readonly offset: number;
  /** p_vaddr: where it is mapped, relative to the load base for ET_DYN. */
  readonly vaddr: number;
  /** p_paddr. */
  readonly paddr: number;
  /** p_filesz: bytes from the file. */
  readonly filesz: number;
  /** p_memsz: bytes in memory (the rest, past `filesz`, is zeroed). */
  readonly memsz: number;
  /** p_align. */
  readonly align: number;
}

/** One section (`Elf64_Shdr` plus its name and contents). */
export interface ElfSection {
  /** Index in the section header table. */
  readonly index: number;
  /** Name from the section-name string table. */
  readonly name: string;
  /** sh_type (`SectionType`). */
  readonly type: number;
  /** sh_flags (`SectionFlags` bits). */
  readonly flags: number;
  /** sh_addr: the address in the image (0 for sections not loaded, and in objects). */
  readonly addr: bigint;
  /** sh_offset: where the contents start in the file. */
  readonly offset: number;
  /** sh_size. For NOBITS sections (.bss) this is the size in memory; `data` is empty. */
  readonly size: number;
  /** sh_link. */
  readonly link: number;
  /** sh_info (for REL/RELA: the section the relocations apply to). */
  readonly info: number;
  /** sh_addralign. */
  readonly addralign: number;
  /** sh_entsize. */
  readonly entsize: number;
  /** The contents: a view into the file's bytes (empty for NOBITS). */
  readonly data: Uint8Array;
}

/** One symbol of `.symtab` or `.dynsym`. */
export interface ElfSymbol {
  /** Index in the symbol table. */
  readonly index: number;
  /** Name ("" for section symbols; see {@link ElfFile.symbolName}). */
  readonly name: string;
  /**
   * st_value: for relocatable objects, the offset in its section; for executables and
   * shared libraries, the virtual address (see {@link ElfFile.fileOffset}).
   */
  readonly value: number;
  /** st_size. */
  readonly size: number;
  /** `SymbolType` (low nibble of st_info). */
  readonly type: number;
  /** `SymbolBinding` (high nibble of st_info). */
  readonly binding: number;
  /** st_other & 3: STV_DEFAULT 0, INTERNAL 1, HIDDEN 2, PROTECTED 3. */
  readonly visibility: number;
  /** st_shndx: the section it is defined in (SHN_UNDEF 0 for externs). */
  readonly shndx: number;
}

/** One relocation. */
export interface ElfRelocation {
  /** r_offset: byte offset in the section relocated. */
  readonly offset: number;
  /** ELF64_R_TYPE (`BpfReloc`). */
  readonly type: number;
  /** The symbol (ELF64_R_SYM). */
  readonly symbol: ElfSymbol;
  /** r_addend for RELA; 0 for REL. */
  readonly addend: bigint;
}

/** A parsed ELF64 little-endian file. Build one with {@link parseELF}. */
export class ElfFile {
  /** The file's bytes. */
  readonly bytes: Uint8Array;
  /** The header. */
  readonly header: ElfHeader;
  /** Every program header, by index; empty for relocatable objects. */
  readonly segments: readonly ElfSegment[];
  /** Every section, by index (index 0 is the null section). */
  readonly sections: readonly ElfSection[];
  /** Every symbol of `.symtab`, by index (index 0 is the null symbol); empty without one. */
  readonly symbols: readonly ElfSymbol[];
  /**
   * Every symbol of `.dynsym` (names from its string table, `.dynstr`), by index
   * (index 0 is the null symbol); empty without one. Version suffixes are not read.
   */
  readonly dynamicSymbols: readonly ElfSymbol[];
  /** Relocation sections by the index of the section they apply to. */
  readonly #relocs = new Map<number, ElfSection[]>();

  constructor(
    bytes: Uint8Array,
    header: ElfHeader,
    sections: readonly ElfSection[],
    symbols: readonly ElfSymbol[],
    segments: readonly ElfSegment[] = [],
    dynamicSymbols: readonly ElfSymbol[] = [],
  ) {
    this.bytes = bytes;
    this.header = header;
    this.segments = segments;
    this.sections = sections;
    this.symbols = symbols;
    this.dynamicSymbols = dynamicSymbols;
    for (const s of sections) {
      if (s.type !== SectionType.REL && s.type !== SectionType.RELA) continue;
      const list = this.#relocs.get(s.info);
      if (list) list.push(s);
      else this.#relocs.set(s.info, [s]);
    }
  }

  /** The first section of each name, built on first use. */
  #byName: Map<string, ElfSection> | undefined;

  /** The first section named `name`, or undefined (a map lookup, not a scan). */
  section(name: string): ElfSection | undefined {
    if (this.#byName === undefined) {
      this.#byName = new Map();
      for (const s of this.sections) if (!this.#byName.has(s.name)) this.#byName.set(s.name, s);
    }
    return this.#byName.get(name);
  }

  /**
   * The section at `index`.
   *
   * @throws {ELFError} when there is none
   */
  sectionAt(index: number, context?: string): ElfSection {
    const s = this.sections[index];
    if (index === 0 || s === undefined) {
      throw new ElfRangeError(index, this.sections.length, context);
    }
    return s;
  }

  /**
   * The file offset of virtual address `address`, through the PT_LOAD segment whose
   * file-backed part holds it (what a uprobe takes for a function); undefined when no
   * loadable segment does.
   *
   * @example
   * ```ts
   * const sym = elf.dynamicSymbols.find((s) => s.name === "getpid")!;
   * elf.fileOffset(sym.value); // where getpid's code is in the file
   * ```
   */
  fileOffset(address: number): number | undefined {
    for (const seg of this.segments) {
      if (seg.type !== SegmentType.LOAD) continue;
      if (address >= seg.vaddr && address < seg.vaddr + seg.filesz) {
        return address - seg.vaddr + seg.offset;
      }
    }
    return undefined;
  }

  /** A symbol's name, or for a section symbol the name of its section. */
  symbolName(sym: ElfSymbol): string {
    if (sym.name !== "") return sym.name;
    const s = sym.shndx > 0 && sym.shndx < SHN_LORESERVE ? this.sections[sym.shndx] : undefined;
    return s?.name ?? "";
  }

  /**
   * The relocations that apply to the section at `index` (from every REL/RELA
   * section whose sh_info is `index`), in file order.
   *
   * @throws {ELFError} on a relocation section of the wrong size, a bad symbol index
   * or an offset outside the relocated section
   */
  relocationsFor(index: number): ElfRelocation[] {
    const target = this.sections[index];
    const out: ElfRelocation[] = [];
    for (const rs of this.#relocs.get(index) ?? []) {
      // Relocations of a shared library's dynamic sections refer to .dynsym.
      const symbols =
        this.sections[rs.link]?.type === SectionType.DYNSYM ? this.dynamicSymbols : this.symbols;
      const rela = rs.type === SectionType.RELA;
      const size = rela ? RELA_SIZE : REL_SIZE;
      if (rs.size % size !== 0) {
        throw new ELFError(`size ${rs.size} is not a multiple of the ${size}-byte entry`, {
          section: rs.name,
          offset: 0,
        });
      }
      const view = viewOf(rs.data);
      for (let off = 0; off < rs.data.length; off += size) {
        const rOffset = u64(view, off, rs.name);
        // r_info's halves read as numbers: a BigInt per relocation is measurable here.
        const type = view.getUint32(off + 8, true);
        const symIdx = view.getUint32(off + 12, true);
        const symbol = symbols[symIdx];
        if (symbol === undefined) {
          throw new ELFError(
            `relocation refers to symbol ${symIdx}, the symbol table has ${symbols.length}`,
            { section: rs.name, offset: off + 8 },
          );
        }
        if (target !== undefined && target.type !== SectionType.NOBITS && rOffset >= target.size) {
          throw new ELFError(
            `relocation offset 0x${rOffset.toString(16)} is outside ${target.name} (${target.size} bytes)`,
            { section: rs.name, offset: off },
          );
        }
        const addend = rela ? view.getBigInt64(off + 16, true) : 0n;
        out.push({ offset: rOffset, type, symbol, addend });
      }
    }
    return out;
  }
}

class ElfRangeError extends ELFError {
  constructor(index: number, count: number, context?: string) {
    super(
      `${context ? `${context}: ` : ""}section index ${index} is out of range (the file has ${count} sections)`,
    );
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A u64 field as a number, refusing values past 2^53 (no real object has them). */
function u64(view: DataView, off: number, section?: string): number {
  // Two 32-bit halves: getBigUint64 allocates a BigInt per field read.
  const hi = view.getUint32(off + 4, true);
  if (hi > 0x1fffff) {
    const v = view.getBigUint64(off, true);
    throw new ELFError(`64-bit value 0x${v.toString(16)} is too large to be an offset or size`, {
      ...(section !== undefined && { section }),
      offset: off,
    });
  }
  return hi * 0x1_0000_0000 + view.getUint32(off, true);
}

/**
 * String tables decoded whole, once, when they are ASCII (a BPF object's always are):
 * each name is then a native `indexOf` and `slice` of that string, not a byte loop
 * and a decode per name. `null` marks a table that is not ASCII.
 */
const asciiTables = new WeakMap<Uint8Array, string | null>();
/** Names of non-ASCII tables already read, by table and offset. */
const nameCache = new WeakMap<Uint8Array, Map<number, string>>();
const NON_ASCII = /[\u0080-\uffff]/;
/** One byte, one character (windows-1252: ASCII bytes are themselves). */
const BYTES_AS_CHARS = new TextDecoder("latin1");

function asciiTable(d: Uint8Array): string | null {
  const known = asciiTables.get(d);
  if (known !== undefined) return known;
  const all = BYTES_AS_CHARS.decode(d);
  const s = NON_ASCII.test(all) ? null : all;
  asciiTables.set(d, s);
  return s;
}

/**
 * Reads a NUL-terminated string at `off` of a string table section, at most
 * {@link MAX_NAME_BYTES} long: without the cap, 40,000 symbols naming the start of one
 * 1 MB string would decode 40 GB.
 */
function readString(table: ElfSection, off: number, what: string): string {
  const d = table.data;
  if (off >= d.length) {
    if (off === 0 && d.length === 0) return "";
    throw new ELFError(
      `${what}: string offset ${off} is out of range (${table.name || "string table"} has ${d.length} bytes)`,
      { section: table.name || `#${table.index}`, offset: off },
    );
  }
  const stop = Math.min(d.length, off + MAX_NAME_BYTES + 1);
  const ascii = asciiTable(d);
  if (ascii !== null) {
    const nul = ascii.indexOf("\0", off);
    if (nul >= 0 && nul < stop) return ascii.slice(off, nul);
    throw unterminated(table, off, what, stop === d.length);
  }
  let cache = nameCache.get(d);
  const hit = cache?.get(off);
  if (hit !== undefined) return hit;
  const nul = d.subarray(off, stop).indexOf(0);
  if (nul < 0) throw unterminated(table, off, what, stop === d.length);
  const name = DECODER.decode(d.subarray(off, off + nul));
  if (cache === undefined) {
    cache = new Map();
    nameCache.set(d, cache);
  }
  cache.set(off, name);
  return name;
}

function unterminated(table: ElfSection, off: number, what: string, atEnd: boolean): ELFError {
  return new ELFError(
    atEnd
      ? `${what}: string at ${off} is not NUL-terminated`
      : `${what}: string at ${off} is longer than ${MAX_NAME_BYTES} bytes`,
    { section: table.name || `#${table.index}`, offset: off },
  );
}

const DECODER = new TextDecoder("utf-8", { fatal: false });

/**
 * Parses an ELF64 little-endian file (a BPF object, an executable, a shared library):
 * checks the identification (magic, class, byte order, version), reads the program
 * headers, every section header and its name, and the `.symtab` and `.dynsym` symbol
 * tables. Any machine is accepted; relocations are read on demand with
 * {@link ElfFile.relocationsFor}.
 *
 * @example
 * ```ts
 * const elf = parseELF(bytes);
 * for (const s of elf.sections) console.log(s.index, s.name, s.size);
 * ```
 * @throws {ELFError} naming the section and offset of the first problem
 */
export function parseELF(input: Uint8Array): ElfFile {
  // Sections are views of these bytes; a plain Uint8Array makes their slice() copy.
  const bytes = plainBytes(input);
  if (bytes.length < EHDR_SIZE) {
    throw new ELFError(`truncated header: ${bytes.length} bytes, need ${EHDR_SIZE}`, {
      offset: 0,
    });
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== ELF_MAGIC[i]) {
      const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
      throw new ELFError(`bad magic ${got.join(" ")}, expected 7f 45 4c 46 ("\\x7fELF")`, {
        offset: i,
      });
    }
  }
  if (bytes[4] !== ELFCLASS64) {
    throw new ELFError(`class ${bytes[4]} is not ELFCLASS64 (2): BPF objects are 64-bit`, {
      offset: 4,
    });
  }
  if (bytes[5] !== ELFDATA2LSB) {
    throw new ELFError(
      `data encoding ${bytes[5]} is not little-endian (1)${bytes[5] === 2 ? ": a big-endian object (-target bpfeb) cannot run on this host" : ""}`,
      { offset: 5 },
    );
  }
  if (bytes[6] !== EV_CURRENT) {
    throw new ELFError(`ident version ${bytes[6]} is not 1`, { offset: 6 });
  }
  const view = viewOf(bytes);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  const entry = u64(view, 24);
  const phoff = u64(view, 32);
  const shoff = u64(view, 40);
  const flags = view.getUint32(48, true);
  const ehsize = view.getUint16(52, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  const shentsize = view.getUint16(58, true);
  let shnum = view.getUint16(60, true);
  let shstrndx = view.getUint16(62, true);
  if (ehsize < EHDR_SIZE) {
    throw new ELFError(`header size ${ehsize} is less than ${EHDR_SIZE}`, { offset: 52 });
  }
  if (shoff === 0) {
    throw new ELFError("no section header table (e_shoff is 0)", { offset: 40 });
  }
  if (shentsize !== SHDR_SIZE) {
    throw new ELFError(`section header size ${shentsize} is not ${SHDR_SIZE}`, { offset: 58 });
  }
  if (shoff + SHDR_SIZE > bytes.length) {
    throw new ELFError(
      `section header table at 0x${shoff.toString(16)} is past the end of the file (${bytes.length} bytes)`,
      { offset: 40 },
    );
  }
  // Extended numbering: counts that do not fit 16 bits live in section 0.
  if (shnum === 0) shnum = u64(view, shoff + 32);
  if (shstrndx === SHN_XINDEX) shstrndx = view.getUint32(shoff + 40, true);
  if (shoff + shnum * SHDR_SIZE > bytes.length) {
    throw new ELFError(
      `${shnum} section headers at 0x${shoff.toString(16)} run past the end of the file (${bytes.length} bytes)`,
      { offset: 60 },
    );
  }
  if (shstrndx === 0 || shstrndx >= shnum) {
    throw new ELFError(
      `section-name string table index ${shstrndx} is out of range (${shnum} sections)`,
      { offset: 62 },
    );
  }
  const header: ElfHeader = { type, machine, flags, entry, phoff, phnum, shoff, shnum, shstrndx };
  const segments = readSegments(bytes, view, phoff, phentsize, phnum);

  // Headers first, names once the name table is known.
  const sections: { -readonly [K in keyof ElfSection]: ElfSection[K] }[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const where = `section header ${i}`;
    const secType = view.getUint32(o + 4, true);
    const offset = u64(view, o + 24);
    const size = u64(view, o + 32);
    if (secType !== SectionType.NOBITS && secType !== SectionType.NULL) {
      if (offset + size > bytes.length) {
        throw new ELFError(
          `${where}: contents at 0x${offset.toString(16)}+${size} run past the end of the file (${bytes.length} bytes)`,
          { offset: o + 24 },
        );
      }
    }
    sections.push({
      index: i,
      name: "",
      type: secType,
      flags: view.getUint32(o + 8, true), // the low half: no flag lives above bit 31
      addr: view.getBigUint64(o + 16, true),
      offset,
      size,
      link: view.getUint32(o + 40, true),
      info: view.getUint32(o + 44, true),
      addralign: u64(view, o + 48),
      entsize: u64(view, o + 56),
      data:
        secType === SectionType.NOBITS || secType === SectionType.NULL
          ? new Uint8Array(0)
          : bytes.subarray(offset, offset + size),
    });
  }
  const shstr = sections[shstrndx]!;
  // Name the name table itself first, so its errors can say which section it is.
  const ownName = view.getUint32(shoff + shstrndx * SHDR_SIZE, true);
  if (ownName < shstr.data.length && shstr.data.indexOf(0, ownName) >= 0) {
    shstr.name = readString(shstr, ownName, "section-name table");
  }
  if (shstr.type !== SectionType.STRTAB) {
    throw new ELFError(`section-name string table (section ${shstrndx}) is not a STRTAB`, {
      offset: shoff + shstrndx * SHDR_SIZE + 4,
    });
  }
  for (const sec of sections) {
    if (sec === shstr && shstr.name !== "") continue;
    sec.name = readString(
      shstr,
      view.getUint32(shoff + sec.index * SHDR_SIZE, true),
      `section ${sec.index} name`,
    );
  }

  const symbols = readSymbols(sections, SectionType.SYMTAB);
  const dynamicSymbols = readSymbols(sections, SectionType.DYNSYM);
  return new ElfFile(bytes, header, sections, symbols, segments, dynamicSymbols);
}

function readSegments(
  bytes: Uint8Array,
  view: DataView,
  phoff: number,
  phentsize: number,
  phnum: number,
): ElfSegment[] {
  if (phnum === 0) return [];
  if (phentsize !== PHDR_SIZE) {
    throw new ELFError(`program header size ${phentsize} is not ${PHDR_SIZE}`, { offset: 54 });
  }
  if (phoff === 0 || phoff + phnum * PHDR_SIZE > bytes.length) {
    throw new ELFError(
      `${phnum} program headers at 0x${phoff.toString(16)} run past the end of the file (${bytes.length} bytes)`,
      { offset: 32 },
    );
  }
  const out: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const offset = u64(view, o + 8);
    const filesz = u64(view, o + 32);
    if (offset + filesz > bytes.length) {
      throw new ELFError(
        `program header ${i}: contents at 0x${offset.toString(16)}+${filesz} run past the end of the file (${bytes.length} bytes)`,
        { offset: o + 8 },
      );
    }
    out.push({
      index: i,
      type: view.getUint32(o, true),
      flags: view.getUint32(o + 4, true),
      offset,
      vaddr: u64(view, o + 16),
      paddr: u64(view, o + 24),
      filesz,
      memsz: u64(view, o + 40),
      align: u64(view, o + 48),
    });
  }
  return out;
}

/** The symbols of the one section of type `type` (SYMTAB or DYNSYM); [] without one. */
function readSymbols(sections: readonly ElfSection[], type: number): ElfSymbol[] {
  const symtabs = sections.filter((s) => s.type === type);
  if (symtabs.length === 0) return [];
  if (symtabs.length > 1) {
    throw new ELFError(`${symtabs.length} symbol tables; an object has one`, {
      section: symtabs[1]!.name,
    });
  }
  const symtab = symtabs[0]!;
  if (symtab.size % SYM_SIZE !== 0) {
    throw new ELFError(`size ${symtab.size} is not a multiple of the ${SYM_SIZE}-byte symbol`, {
      section: symtab.name,
      offset: 0,
    });
  }
  const strtab = sections[symtab.link];
  if (symtab.link === 0 || strtab === undefined || strtab.type !== SectionType.STRTAB) {
    throw new ELFError(`sh_link ${symtab.link} does not name a string table`, {
      section: symtab.name,
    });
  }
  const view = viewOf(symtab.data);
  const out: ElfSymbol[] = [];
  for (let off = 0, i = 0; off < symtab.data.length; off += SYM_SIZE, i++) {
    const info = view.getUint8(off + 4);
    const shndx = view.getUint16(off + 6, true);
    if (shndx !== 0 && shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw new ELFError(
        `symbol ${i}: section index ${shndx} is out of range (${sections.length} sections)`,
        { section: symtab.name, offset: off + 6 },
      );
    }
    out.push({
      index: i,
      name: readString(strtab, view.getUint32(off, true), `symbol ${i} name`),
      value: u64(view, off + 8, symtab.name),
      size: u64(view, off + 16, symtab.name),
      type: info & 0xf,
      binding: info >> 4,
      visibility: view.getUint8(off + 5) & 3,
      shndx,
    });
  }
  return out;
}
