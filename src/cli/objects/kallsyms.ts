/**
 * Kernel symbol names by address, from /proc/kallsyms: what `prog dump xlated` prints
 * for helper calls (a translated program calls `__bpf_call_base + imm`) and bpf-to-bpf
 * calls (the JITed subprogram's `bpf_prog_<tag>_<name>`).
 *
 * The file is large (over 100,000 lines), so only the addresses asked for are looked
 * up, by searching the text rather than parsing every line.
 */
import { readFileSync } from "node:fs";

/** Symbol lookup over one read of /proc/kallsyms. */
export class KernelSymbols {
  readonly #text: string;
  /** `__bpf_call_base`, the address helper-call immediates are relative to (0 if hidden). */
  readonly callBase: bigint;

  private constructor(text: string) {
    this.#text = text;
    const m = /^([0-9a-f]+) \S+ __bpf_call_base$/m.exec(text);
    this.callBase = m ? BigInt(`0x${m[1]}`) : 0n;
  }

  /** Reads /proc/kallsyms; undefined when it cannot be read or addresses are hidden. */
  static load(): KernelSymbols | undefined {
    let text: string;
    try {
      text = readFileSync("/proc/kallsyms", "latin1");
    } catch {
      return undefined;
    }
    const syms = new KernelSymbols(text);
    // kernel.kptr_restrict shows every address as 0: no names can be found.
    return syms.callBase === 0n ? undefined : syms;
  }

  /** The name of the symbol at exactly `address`, if any. */
  name(address: bigint): string | undefined {
    if (address <= 0n) return undefined;
    const hex = address.toString(16).padStart(16, "0");
    let at = this.#text.startsWith(`${hex} `) ? 0 : this.#text.indexOf(`\n${hex} `);
    if (at < 0) return undefined;
    if (at > 0) at++;
    const lineEnd = this.#text.indexOf("\n", at);
    const line = this.#text.slice(at, lineEnd < 0 ? undefined : lineEnd);
    // "ffffffff814cc810 T __bpf_call_base" or "... t name\t[module]"
    const name = line.split(" ")[2];
    return name?.split("\t")[0];
  }
}
