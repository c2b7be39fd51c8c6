/**
 * User-space addresses of a process to function names for stack traces: the address's
 * mapping in /proc/PID/maps gives the file and the offset in it (address - start +
 * the mapping's file offset); the file's `.symtab` and `.dynsym` functions, located by
 * file offset through its PT_LOAD segments (src/elf), give the name. Each file is read
 * once per run, whichever processes map it. The file is opened through
 * /proc/PID/root, so a process in another mount namespace (a container) resolves too.
 * Code a JIT compiled (node --perf-basic-prof, Java agents) is named by the process's
 * /tmp/perf-PID.map, as perf and BCC read it.
 *
 * @module
 */

import { readFileSync, statSync } from "node:fs";
import { functionSymbols } from "../../kernel/links/uprobe-symbols.ts";
import { countAtOrBelow } from "./kernel-symbol-table.ts";

/** One executable file mapping of /proc/PID/maps. */
export interface FileMapping {
  /** First address. */
  readonly start: bigint;
  /** One past the last address. */
  readonly end: bigint;
  /** Offset in the file of `start`. */
  readonly offset: bigint;
  /** The file's path (as the process sees it). */
  readonly path: string;
}

/**
 * The executable mappings of files in a /proc/PID/maps text
 * (`"7f12a000-7f12b000 r-xp 00028000 fe:01 1234   /usr/lib/libc.so.6"`); anonymous
 * memory, `[vdso]` and the like, and deleted files are left out.
 */
export function parseProcMaps(text: string): FileMapping[] {
  const out: FileMapping[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S*x\S* ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m || m[4]?.endsWith(" (deleted)")) continue;
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      offset: BigInt(`0x${m[3]}`),
      path: m[4] as string,
    });
  }
  return out;
}

/** A file's functions sorted by file offset, for lookups by offset. */
export class FileFunctions {
  readonly #starts: readonly bigint[];
  readonly #ends: readonly bigint[];
  readonly #names: readonly string[];

  private constructor(entries: readonly { start: bigint; size: bigint; name: string }[]) {
    this.#starts = entries.map((e) => e.start);
    this.#ends = entries.map((e) => e.start + e.size);
    this.#names = entries.map((e) => e.name);
  }

  /**
   * The functions of the executable or shared library at `path`.
   * @throws ELFError naming the file when it is not an ELF file tsbpf reads
   */
  static read(path: string): FileFunctions {
    const rank = (s: { local: boolean; name: string }) =>
      (s.local ? 2 : 0) + (s.name.startsWith("_") ? 1 : 0);
    const syms = functionSymbols(path)
      .map((s) => ({ start: s.fileOffset, size: s.size, name: s.name, local: s.local }))
      // At one offset (aliases: getpid and __getpid) the global name without leading
      // underscores comes first, and is the one kept.
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : rank(a) - rank(b)));
    return new FileFunctions(syms.filter((s, i) => i === 0 || syms[i - 1]?.start !== s.start));
  }

  /** The function whose code holds file offset `offset`; undefined when none does. */
  name(offset: bigint): string | undefined {
    const lo = countAtOrBelow(this.#starts.length, (i) => (this.#starts[i] as bigint) <= offset);
    // The nearest function below may be a small one next to a larger one holding the
    // offset (nested symbols); a symbol without a size holds whatever follows it.
    for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) {
      const start = this.#starts[i] as bigint;
      const end = this.#ends[i] as bigint;
      if (end === start ? i === lo - 1 : offset < end) return this.#names[i];
    }
    return undefined;
  }
}

/** Files already read, by device and inode (undefined: not an ELF file tsbpf reads). */
const FILES = new Map<string, FileFunctions | undefined>();

function fileFunctions(path: string): FileFunctions | undefined {
  let key: string;
  try {
    const st = statSync(path);
    key = `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
  if (!FILES.has(key)) {
    let fns: FileFunctions | undefined;
    try {
      fns = FileFunctions.read(path);
    } catch {
      // not an ELF64 file, or unreadable: its addresses stay unknown
    }
    FILES.set(key, fns);
  }
  return FILES.get(key);
}

/**
 * The functions of a perf map (`/tmp/perf-PID.map`: a line per function, `START SIZE
 * NAME` with START and SIZE in hex), sorted by start; lines that do not parse are
 * skipped.
 */
export function parsePerfMap(text: string): { start: bigint; end: bigint; name: string }[] {
  const out: { start: bigint; end: bigint; name: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^(?:0x)?([0-9a-fA-F]+) (?:0x)?([0-9a-fA-F]+) (.+)$/.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    out.push({ start, end: start + BigInt(`0x${m[2]}`), name: m[3] as string });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The user-space symbols of one process, from its maps as they are now. */
export class ProcessSymbols {
  readonly #pid: number;
  readonly #mappings: readonly FileMapping[];
  #perfMap?: { start: bigint; end: bigint; name: string }[];

  /** Reads /proc/PID/maps; a process that has exited resolves nothing. */
  constructor(pid: number) {
    this.#pid = pid;
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/maps`, "utf8");
    } catch {
      // gone: every address is unknown
    }
    this.#mappings = parseProcMaps(text);
  }

  /** The function at `address` in the process, or undefined. */
  name(address: bigint): string | undefined {
    const m = this.#mappings.find((x) => address >= x.start && address < x.end);
    if (!m) return this.#jitName(address);
    return fileFunctions(`/proc/${this.#pid}/root${m.path}`)?.name(address - m.start + m.offset);
  }

  /** The JIT-compiled function at `address`, from /tmp/perf-PID.map (read once). */
  #jitName(address: bigint): string | undefined {
    if (!this.#perfMap) {
      let text = "";
      try {
        text = readFileSync(`/tmp/perf-${this.#pid}.map`, "utf8");
      } catch {
        // no JIT, or it writes no map
      }
      this.#perfMap = parsePerfMap(text);
    }
    const fns = this.#perfMap;
    const f = fns[countAtOrBelow(fns.length, (i) => (fns[i]?.start as bigint) <= address) - 1];
    return f && address < f.end ? f.name : undefined;
  }
}
