/**
 * USDT probes of an executable or shared library: the SystemTap notes
 * (`.note.stapsdt`, owner "stapsdt", type 3) that `sys/sdt.h` writes for each
 * `DTRACE_PROBE`/`STAP_PROBE` site, and where each site is in the file.
 *
 * A note's descriptor holds three addresses and three strings:
 * `pc` (the probe's nop), `base` (the link-time address of `.stapsdt.base`),
 * `semaphore` (a 16-bit counter the program checks before doing the work of a probe,
 * 0 when there is none), then `provider\0name\0args\0`. When prelink moved the
 * image, `.stapsdt.base`'s address differs from the recorded base, and the pc and
 * semaphore move by the difference (as libbpf and BCC adjust them).
 *
 * Limits: at most {@link MAX_USDT_NOTES} notes; each note's sizes are checked against
 * the section before it is read, so a truncated or hostile note is an
 * {@link ELFError} naming the section and offset, never an out-of-range read.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { ELFError } from "./errors.ts";
import type { ElfFile } from "./read-elf.ts";
import { parseUsdtArgs, type UsdtArch, type UsdtArgSpec } from "./usdt-args.ts";

/** `NT_STAPSDT`: the note type of a SystemTap probe. */
export const NT_STAPSDT = 3;
/** The section the notes are in. */
export const STAPSDT_NOTE_SECTION = ".note.stapsdt";
/** The section whose address the notes record as `base`. */
export const STAPSDT_BASE_SECTION = ".stapsdt.base";
/** The most notes read from one file (libbpf has no limit; big binaries hold a few thousand). */
export const MAX_USDT_NOTES = 1 << 16;

/** e_machine of x86-64 and aarch64 binaries. */
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

/** One SystemTap probe note, as written in the file. */
export interface StapsdtNote {
  /** The provider (`python`). */
  readonly provider: string;
  /** The probe's name (`function__entry`). */
  readonly name: string;
  /** The probe site's link-time virtual address. */
  readonly pc: bigint;
  /** The link-time address of `.stapsdt.base` the note recorded. */
  readonly base: bigint;
  /** The semaphore's link-time virtual address; 0n when the probe has none. */
  readonly semaphore: bigint;
  /** The argument string (`8@%rbp 8@%r12 -4@%eax`). */
  readonly args: string;
  /** Where the note starts in `.note.stapsdt`. */
  readonly noteOffset: number;
}

/** A probe site located in its file: what attaching needs. */
export interface UsdtProbe extends StapsdtNote {
  /** The pc after the prelink adjustment (the address the site has in the image). */
  readonly address: bigint;
  /** The file offset of the site: what the uprobe takes. */
  readonly fileOffset: bigint;
  /** The semaphore's address after the prelink adjustment; 0n when none. */
  readonly semaphoreAddress: bigint;
  /** The semaphore's file offset (the uprobe's `ref_ctr_offset`); 0n when none. */
  readonly semaphoreOffset: bigint;
  /** The parsed arguments. */
  readonly argSpecs: readonly UsdtArgSpec[];
}

const decoder = new TextDecoder("utf-8", { fatal: false });

// Arithmetic, not `& ~3`: sizes reach 2^32, past what 32-bit bitwise operators keep.
const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Reads a NUL-terminated string at `off` of `bytes`, ending before `end`. */
function cString(bytes: Uint8Array, off: number, end: number, what: string, at: number) {
  const nul = bytes.subarray(off, end).indexOf(0);
  if (nul < 0) {
    throw new ELFError(`stapsdt note: the ${what} is not NUL-terminated inside the note`, {
      section: STAPSDT_NOTE_SECTION,
      offset: at,
    });
  }
  return { text: decoder.decode(bytes.subarray(off, off + nul)), next: off + nul + 1 };
}

/**
 * Every SystemTap probe note in the contents of a `.note.stapsdt` section. Notes of
 * other owners or types are skipped, as libbpf skips them.
 *
 * @throws {ELFError} naming `.note.stapsdt` and the offset for a truncated note
 * header, a name or descriptor running past the section, a descriptor too short for
 * its three addresses, or strings without their NUL
 * @example
 * ```ts
 * const notes = parseStapsdtNotes(elf.section(".note.stapsdt")!.data);
 * notes.map((n) => `${n.provider}:${n.name}`); // ["python:function__entry", ...]
 * ```
 */
export function parseStapsdtNotes(data: Uint8Array): StapsdtNote[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: StapsdtNote[] = [];
  const where = (offset: number) => ({ section: STAPSDT_NOTE_SECTION, offset });
  let off = 0;
  while (off < data.length) {
    if (data.length - off < 12) {
      throw new ELFError(
        `truncated note header: ${data.length - off} bytes left, 12 needed`,
        where(off),
      );
    }
    const namesz = view.getUint32(off, true);
    const descsz = view.getUint32(off + 4, true);
    const type = view.getUint32(off + 8, true);
    const nameStart = off + 12;
    const descStart = nameStart + align4(namesz);
    const descEnd = descStart + descsz;
    // Sizes are 32-bit: their sum fits a double, and the checks happen before any read.
    if (descStart > data.length || descEnd > data.length) {
      throw new ELFError(
        `note of ${namesz}-byte name and ${descsz}-byte descriptor runs past the section's ${data.length} bytes`,
        where(off),
      );
    }
    const owner = decoder.decode(data.subarray(nameStart, nameStart + namesz)).replace(/\0+$/, "");
    if (owner === "stapsdt" && type === NT_STAPSDT) {
      if (out.length >= MAX_USDT_NOTES) {
        throw new ELFError(`more than ${MAX_USDT_NOTES} stapsdt notes`, where(off));
      }
      if (descsz < 24 + 3) {
        throw new ELFError(
          `stapsdt note descriptor of ${descsz} bytes: 3 addresses and 3 strings need at least 27`,
          where(off),
        );
      }
      const pc = view.getBigUint64(descStart, true);
      const base = view.getBigUint64(descStart + 8, true);
      const semaphore = view.getBigUint64(descStart + 16, true);
      const provider = cString(data, descStart + 24, descEnd, "provider", off);
      const name = cString(data, provider.next, descEnd, "probe name", off);
      const args = cString(data, name.next, descEnd, "argument string", off);
      out.push({
        provider: provider.text,
        name: name.text,
        pc,
        base,
        semaphore,
        args: args.text,
        noteOffset: off,
      });
    }
    off = align4(descEnd);
  }
  return out;
}

/** The operand syntax of `elf`'s machine. */
function archOf(elf: ElfFile): UsdtArch {
  if (elf.header.machine === EM_X86_64) return "x86_64";
  if (elf.header.machine === EM_AARCH64) return "aarch64";
  throw new ELFError(
    `USDT arguments of machine ${elf.header.machine} are not supported (x86-64 and aarch64 are)`,
  );
}

/**
 * The USDT probes of an executable or shared library, located: each note with its
 * prelink-adjusted address, its file offset (through the PT_LOAD segment holding it,
 * as libbpf finds it), its semaphore's file offset and its parsed arguments.
 * `filter` picks probes by provider and name before anything is parsed.
 *
 * @throws {ELFError} for a malformed note, or a site or semaphore in no loadable
 * segment (naming the probe)
 * @throws {UsdtArgError} for an argument that cannot be read (naming the probe and the
 * argument)
 * @example
 * ```ts
 * const elf = parseELF(readFileSync("/usr/bin/python3.11"));
 * const [entry] = usdtProbes(elf, { provider: "python", name: "function__entry" });
 * entry.fileOffset; // where the uprobe goes
 * ```
 */
export function usdtProbes(
  elf: ElfFile,
  filter: { provider?: string; name?: string } = {},
): UsdtProbe[] {
  const section = elf.section(STAPSDT_NOTE_SECTION);
  if (!section) return [];
  const notes = parseStapsdtNotes(section.data).filter(
    (n) =>
      (filter.provider === undefined || n.provider === filter.provider) &&
      (filter.name === undefined || n.name === filter.name),
  );
  if (notes.length === 0) return [];
  const arch = archOf(elf);
  const baseSection = elf.section(STAPSDT_BASE_SECTION);
  return notes.map((n) => {
    const probe = `${n.provider}:${n.name}`;
    const shift = baseSection && n.base !== 0n ? baseSection.addr - n.base : 0n;
    const address = BigInt.asUintN(64, n.pc + shift);
    const semaphoreAddress = n.semaphore === 0n ? 0n : BigInt.asUintN(64, n.semaphore + shift);
    const locate = (addr: bigint, what: string): bigint => {
      const off =
        addr <= BigInt(Number.MAX_SAFE_INTEGER) ? elf.fileOffset(Number(addr)) : undefined;
      if (off === undefined) {
        throw new ELFError(
          `USDT probe ${probe}: its ${what} 0x${addr.toString(16)} is in no loadable segment`,
          { section: STAPSDT_NOTE_SECTION, offset: n.noteOffset },
        );
      }
      return BigInt(off);
    };
    return {
      ...n,
      address,
      fileOffset: locate(address, "site"),
      semaphoreAddress,
      semaphoreOffset: semaphoreAddress === 0n ? 0n : locate(semaphoreAddress, "semaphore"),
      argSpecs: parseUsdtArgs(n.args, probe, arch),
    };
  });
}
