/**
 * Kernel addresses to function names for stack traces, from /proc/kallsyms: every
 * text symbol (types t, T, w, W; module functions too) sorted by address once, then
 * a binary search per address finds the function it falls in — the last symbol at or
 * below it, as BCC's ksym does.
 *
 * @module
 */

import { readFileSync } from "node:fs";

/** Text symbols: local and global functions, weak ones. */
const TEXT_TYPES = new Set(["t", "T", "w", "W"]);

/** The kernel's function symbols, sorted by address. */
export class KernelSymbolTable {
  readonly #addresses: BigUint64Array;
  readonly #names: readonly string[];

  private constructor(addresses: BigUint64Array, names: readonly string[]) {
    this.#addresses = addresses;
    this.#names = names;
  }

  /**
   * The table of /proc/kallsyms's text (`"ffffffff81000000 T _stext"` lines, a module's
   * with `\t[module]` after the name). Lines of address 0 (hidden by
   * kernel.kptr_restrict) are left out, so such a table is empty.
   */
  static parse(text: string): KernelSymbolTable {
    const entries: [bigint, string][] = [];
    for (const line of text.split("\n")) {
      const [addr, type, name] = line.split(/[ \t]/, 3);
      if (!addr || !type || !name || !TEXT_TYPES.has(type)) continue;
      const address = BigInt(`0x${addr}`);
      if (address !== 0n) entries.push([address, name]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new KernelSymbolTable(
      BigUint64Array.from(entries, (e) => e[0]),
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
    const a = this.#addresses;
    let lo = 0;
    let hi = a.length;
    // first index whose address is above `address`
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((a[mid] as bigint) <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.#names[lo - 1];
  }
}
