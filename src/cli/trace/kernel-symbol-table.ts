/**
 * Kernel addresses to function names for stack traces, from /proc/kallsyms: every
 * text symbol (types t, T, w, W; module functions too) sorted by address once, then
 * a binary search per address finds the function it falls in — the last symbol at or
 * below it, as BCC's ksym does.
 *
 * @module
 */

import { readFileSync } from "node:fs";

/**
 * How many of the `count` sorted entries are at or below a value: the index after the
 * last one `atOrBelow(i)` says so for (binary search; `atOrBelow` is true up to some
 * index, false after it).
 */
export function countAtOrBelow(count: number, atOrBelow: (i: number) => boolean): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBelow(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Text symbols: local and global functions, weak ones. */
const TEXT_TYPES = new Set(["t", "T", "w", "W"]);

/** The kernel's function symbols, sorted by address. */
export class KernelSymbolTable {
  // Addresses as 16-digit hex strings: kallsyms prints them so, and strings of one
  // width compare as their numbers do (no BigInt per line: the file has 100,000+).
  readonly #addresses: readonly string[];
  readonly #names: readonly string[];

  private constructor(addresses: readonly string[], names: readonly string[]) {
    this.#addresses = addresses;
    this.#names = names;
  }

  /**
   * The table of /proc/kallsyms's text (`"ffffffff81000000 T _stext"` lines, a module's
   * with `\t[module]` after the name). Lines of address 0 (hidden by
   * kernel.kptr_restrict) are left out, so such a table is empty.
   */
  static parse(text: string): KernelSymbolTable {
    const entries: [string, string][] = [];
    for (let at = 0; at < text.length; ) {
      let end = text.indexOf("\n", at);
      if (end < 0) end = text.length;
      const sp = text.indexOf(" ", at);
      if (sp > at && sp + 3 < end && TEXT_TYPES.has(text[sp + 1] as string)) {
        const addr = text.slice(at, sp).padStart(16, "0").toLowerCase();
        const rest = text.slice(sp + 3, end);
        const tab = rest.indexOf("\t");
        const name = tab < 0 ? rest : rest.slice(0, tab);
        if (!/^0+$/.test(addr)) entries.push([addr, name]);
      }
      at = end + 1;
    }
    // Nearly sorted already (modules and a few sections apart): a quick sort.
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new KernelSymbolTable(
      entries.map((e) => e[0]),
      entries.map((e) => e[1]),
    );
  }

  /** Reads /proc/kallsyms; an empty table when it cannot be read. */
  static load(path = "/proc/kallsyms"): KernelSymbolTable {
    let text = "";
    try {
      text = readFileSync(path, "latin1");
    } catch {
      // no /proc: every address stays unknown
    }
    return KernelSymbolTable.parse(text);
  }

  /** How many symbols it holds (0: kallsyms unreadable or its addresses hidden). */
  get size(): number {
    return this.#addresses.length;
  }

  /** The function `address` falls in: the last symbol at or below it; undefined below the first. */
  name(address: bigint): string | undefined {
    if (address < 0n || address > 0xffffffffffffffffn) return undefined;
    const hex = address.toString(16).padStart(16, "0");
    const a = this.#addresses;
    const n = countAtOrBelow(a.length, (i) => (a[i] as string) <= hex);
    return n === 0 ? undefined : this.#names[n - 1];
  }
}
