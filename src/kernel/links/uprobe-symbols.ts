/**
 * Where a function lives in an executable or shared library, for uprobes: the uprobe
 * PMU wants a file offset, the symbol table gives a virtual address, and the program
 * headers (PT_LOAD segments) map one to the other. The file is read with src/elf's
 * reader, once per call.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import {
  ELFError,
  type ElfFile,
  parseELF,
  SectionType,
  SymbolBinding,
  SymbolType,
} from "../../elf/index.ts";

/** A function symbol found in a binary. */
export interface FunctionSymbol {
  /** The symbol's name, without a `@VERSION` suffix. */
  readonly name: string;
  /** st_value: the virtual address. */
  readonly address: bigint;
  /** st_size: the function's size in bytes (0 when the symbol does not say). */
  readonly size: bigint;
  /** The offset in the file, what uprobes take. */
  readonly fileOffset: bigint;
  /** From `.symtab` or `.dynsym`. */
  readonly table: ".symtab" | ".dynsym";
  /** STB_LOCAL (a `static` function). */
  readonly local: boolean;
  /**
   * STT_GNU_IFUNC: the symbol is a resolver the dynamic linker runs once to pick the
   * implementation (glibc's strlen, memcpy); a uprobe on it sees that run, not the calls.
   */
  readonly ifunc: boolean;
}

/**
 * The executable or shared library at `path`, parsed.
 *
 * @throws {ELFError} naming the file when it is not a readable ELF64 little-endian file
 */
export function readBinaryElf(path: string): ElfFile {
  const bytes = new Uint8Array(readFileSync(path));
  try {
    return parseELF(bytes);
  } catch (e) {
    if (!(e instanceof ELFError)) throw e;
    throw new ELFError(
      `${path} is not an ELF file tsbpf can read: ${e.reason}`,
      {
        ...(e.section !== undefined && { section: e.section }),
        ...(e.offset !== undefined && { offset: e.offset }),
      },
      { cause: e },
    );
  }
}

/**
 * Every defined function symbol of the executable or shared library at `path`, from
 * `.symtab` (if not stripped) and `.dynsym`, in the order of those sections in the
 * file. Names keep no `@VERSION` suffix; symbols in no loadable segment are left out.
 *
 * @throws {ELFError} naming the file when it is not a readable ELF64 little-endian file
 */
export function functionSymbols(path: string): FunctionSymbol[] {
  const elf = readBinaryElf(path);
  const out: FunctionSymbol[] = [];
  for (const section of elf.sections) {
    if (section.type !== SectionType.SYMTAB && section.type !== SectionType.DYNSYM) continue;
    const dynamic = section.type === SectionType.DYNSYM;
    const table = dynamic ? ".dynsym" : ".symtab";
    for (const sym of (dynamic ? elf.dynamicSymbols : elf.symbols).slice(1)) {
      if (sym.type !== SymbolType.FUNC && sym.type !== SymbolType.GNU_IFUNC) continue;
      if (sym.shndx === 0 || sym.value === 0) continue;
      const fileOffset = elf.fileOffset(sym.value);
      if (fileOffset === undefined) continue;
      out.push({
        name: sym.name.replace(/@.*$/, ""),
        address: BigInt(sym.value),
        size: BigInt(sym.size),
        fileOffset: BigInt(fileOffset),
        table,
        local: sym.binding === SymbolBinding.LOCAL,
        ifunc: sym.type === SymbolType.GNU_IFUNC,
      });
    }
  }
  return out;
}

/**
 * The file offset of function `name` in the executable or shared library at `path`
 * (what a uprobe attaches to), as libbpf finds it: `.symtab` first, then `.dynsym`.
 *
 * @throws Error naming the file when it has no such function, or several different
 * ones of that name.
 * @example
 * ```ts
 * functionOffset("/lib/x86_64-linux-gnu/libc.so.6", "getpid"); // 0xe0a30n, say
 * ```
 */
export function functionOffset(path: string, name: string): bigint {
  const named = functionSymbols(path).filter((s) => s.name === name);
  const globals = named.filter((s) => !s.local);
  const all = globals.length ? globals : named;
  if (all.length === 0) {
    throw new Error(`${path} has no function named ${name} in .symtab or .dynsym`);
  }
  const offsets = new Set(all.map((s) => s.fileOffset));
  if (offsets.size > 1) {
    throw new Error(
      `${path} has ${offsets.size} different functions named ${name} (at file offsets ${[...offsets].map((o) => `0x${o.toString(16)}`).join(", ")}): give an offset instead`,
    );
  }
  return (all[0] as FunctionSymbol).fileOffset;
}
