/**
 * Where a function lives in an executable or shared library, for uprobes: the uprobe
 * PMU wants a file offset, the symbol table gives a virtual address, and the program
 * headers (PT_LOAD segments) map one to the other.
 *
 * A minimal ELF64 reader of its own: src/elf reads BPF relocatable objects
 * (EM_BPF, `.symtab` only), while this one reads the host's executables and shared
 * libraries (program headers and `.dynsym` too). It reads the file once per call.
 *
 * @module
 */

import { readFileSync } from "node:fs";

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;

/** A function symbol found in a binary. */
export interface FunctionSymbol {
  readonly name: string;
  /** st_value: the virtual address. */
  readonly address: bigint;
  readonly size: bigint;
  /** The offset in the file, what uprobes take. */
  readonly fileOffset: bigint;
  /** From `.symtab` or `.dynsym`. */
  readonly table: ".symtab" | ".dynsym";
  /** STB_LOCAL (a `static` function). */
  readonly local: boolean;
}

interface Segment {
  readonly vaddr: bigint;
  readonly memsz: bigint;
  readonly offset: bigint;
}

interface Section {
  readonly type: number;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

const decoder = new TextDecoder();

function cstr(bytes: Uint8Array, off: number): string {
  let end = off;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(off, end));
}

function parse(bytes: Uint8Array, path: string): { segments: Segment[]; sections: Section[] } {
  if (
    bytes.length < 64 ||
    bytes[0] !== 0x7f ||
    bytes[1] !== 0x45 ||
    bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  ) {
    throw new Error(`${path} is not an ELF file`);
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) {
    throw new Error(`${path} is not a 64-bit little-endian ELF file`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const shoff = Number(v.getBigUint64(40, true));
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > bytes.length) throw new Error(`${path}: program header ${i} is past the end`);
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    segments.push({
      offset: v.getBigUint64(o + 8, true),
      vaddr: v.getBigUint64(o + 16, true),
      memsz: v.getBigUint64(o + 40, true),
    });
  }
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (o + 64 > bytes.length) throw new Error(`${path}: section header ${i} is past the end`);
    sections.push({
      type: v.getUint32(o + 4, true),
      addr: v.getBigUint64(o + 16, true),
      offset: Number(v.getBigUint64(o + 24, true)),
      size: Number(v.getBigUint64(o + 32, true)),
      link: v.getUint32(o + 40, true),
      entsize: Number(v.getBigUint64(o + 56, true)),
    });
  }
  return { segments, sections };
}

/**
 * Converts a virtual address of `path`'s image to a file offset through its PT_LOAD
 * segments.
 * @throws Error when no loadable segment holds the address.
 */
function toFileOffset(segments: readonly Segment[], address: bigint, what: string): bigint {
  for (const s of segments) {
    if (address >= s.vaddr && address < s.vaddr + s.memsz) return address - s.vaddr + s.offset;
  }
  throw new Error(`${what}: address 0x${address.toString(16)} is in no loadable segment`);
}

/**
 * Every defined function symbol of the executable or shared library at `path`, from
 * `.symtab` (if not stripped) and `.dynsym`. Names keep no `@VERSION` suffix.
 */
export function functionSymbols(path: string): FunctionSymbol[] {
  const bytes = new Uint8Array(readFileSync(path));
  const { segments, sections } = parse(bytes, path);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: FunctionSymbol[] = [];
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const strtab = sections[s.link];
    if (!strtab || s.entsize < 24) continue;
    const table = s.type === SHT_SYMTAB ? ".symtab" : ".dynsym";
    const strings = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
    for (let o = s.offset + s.entsize; o + 24 <= s.offset + s.size; o += s.entsize) {
      const info = v.getUint8(o + 4);
      const type = info & 0xf;
      const shndx = v.getUint16(o + 6, true);
      const address = v.getBigUint64(o + 8, true);
      if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0 || address === 0n) continue;
      const name = cstr(strings, v.getUint32(o, true)).replace(/@.*$/, "");
      let fileOffset: bigint;
      try {
        fileOffset = toFileOffset(segments, address, `${path}: ${name}`);
      } catch {
        continue;
      }
      out.push({
        name,
        address,
        size: v.getBigUint64(o + 16, true),
        fileOffset,
        table,
        local: info >> 4 === STB_LOCAL,
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
