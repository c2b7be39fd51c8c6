/**
 * bpftool's argument grammar: keywords that may be abbreviated to a prefix, words
 * consumed left to right (`id 5`, `pinned PATH`, `key hex 01 02`), numbers in C's
 * strtoul(…, 0) notation (decimal, `0x` hex, leading-zero octal), and the exact error
 * messages bpftool prints when something is missing.
 */
import { CliError, UsageError } from "./format/output.ts";

/** True when `pfx` is a prefix of `word` (bpftool's is_prefix: "" matches everything). */
export function isPrefix(pfx: string | undefined, word: string): boolean {
  return pfx !== undefined && word.startsWith(pfx);
}

/**
 * bpftool's detect_common_prefix: fails when `arg` is a prefix of two or more of
 * `words` ("ambiguous prefix: 'd' could be 'data_in' or 'data_out'").
 */
export function checkAmbiguous(arg: string, ...words: string[]): void {
  const hits = words.filter((w) => isPrefix(arg, w));
  if (hits.length >= 2) {
    throw new CliError(`ambiguous prefix: '${arg}' could be '${hits.join("' or '")}'`);
  }
}

/**
 * Picks the first entry whose name starts with `word`, in table order — bpftool's
 * cmd_select, where order settles abbreviations (`p` is `prog`, not `perf`).
 */
export function matchCommand<T extends { readonly name: string }>(
  table: readonly T[],
  word: string,
): T | undefined {
  return table.find((c) => c.name === word) ?? table.find((c) => isPrefix(word, c.name));
}

/**
 * Limits of argument parsing: a number has at most {@link MAX_U64_DIGITS} significant
 * digits before it saturates (as strtoul does), byte lists are as long as the map's key
 * or value size (from the kernel), and every word is consumed once.
 *
 * Parses an unsigned integer the way C's strtoul(s, &end, base) does and bpftool then
 * checks `*end == '\0'`: base 0 accepts `0x1f`, `017` (octal) and `42`. Returns
 * undefined when the text is not entirely a number.
 */
export function parseCUnsigned(text: string, base: 0 | 10 | 16 = 0): bigint | undefined {
  let s = text.trim();
  let neg = false;
  if (s.startsWith("+")) s = s.slice(1);
  else if (s.startsWith("-")) {
    neg = true;
    s = s.slice(1);
  }
  let b: number = base;
  if ((b === 0 || b === 16) && /^0[xX][0-9a-fA-F]/.test(s)) {
    s = s.slice(2);
    b = 16;
  } else if (b === 0) {
    b = s.length > 1 && s.startsWith("0") ? 8 : 10;
  }
  const digits = b === 16 ? /^[0-9a-fA-F]+$/ : b === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) return undefined;
  // strtoul saturates at ULONG_MAX on overflow; so does this, before converting more
  // digits than a u64 has (a 128 KiB argument of digits took 0.3 s to convert).
  s = s.replace(/^0+(?=.)/, "");
  const prefix = b === 16 ? "0x" : b === 8 ? "0o" : "";
  const v = s.length > MAX_U64_DIGITS ? U64_MAX : BigInt(prefix + s);
  const sat = v > U64_MAX ? U64_MAX : v;
  return neg ? -sat : sat;
}

/** strtoul's ULONG_MAX on a 64-bit host. */
const U64_MAX = (1n << 64n) - 1n;
/** More digits than any u64 needs in any base (22 octal digits). */
const MAX_U64_DIGITS = 24;

/** A u32 in strtoul notation, or undefined (out of range counts as not a number). */
export function parseU32(text: string): number | undefined {
  const v = parseCUnsigned(text);
  if (v === undefined) return undefined;
  // strtoul wraps negative input modulo 2^64; bpftool then truncates to 32 bits.
  return Number(BigInt.asUintN(32, v));
}

/** A cursor over the words of a command, consumed left to right. */
export class Args {
  readonly #words: readonly string[];
  #pos = 0;

  constructor(words: readonly string[]) {
    this.#words = words;
  }

  /** Words left. */
  get count(): number {
    return this.#words.length - this.#pos;
  }

  /** The current word, not consumed. */
  peek(offset = 0): string | undefined {
    return this.#words[this.#pos + offset];
  }

  /** The word before the current one (for bpftool's "'X' needs at least ..."). */
  get previous(): string {
    return this.#words[this.#pos - 1] ?? "";
  }

  /** True when the current word abbreviates `keyword`. */
  is(keyword: string): boolean {
    return isPrefix(this.peek(), keyword);
  }

  /** The remaining words, not consumed. */
  rest(): readonly string[] {
    return this.#words.slice(this.#pos);
  }

  /** Consumes and returns the current word; running out is a usage error (NEXT_ARG). */
  next(): string {
    const w = this.#words[this.#pos];
    if (w === undefined) throw new UsageError();
    this.#pos++;
    return w;
  }

  /** Skips the current word (which must exist). */
  skip(): void {
    this.next();
  }

  /** bpftool's REQ_ARGS(n). */
  require(n: number): void {
    if (this.count < n) {
      throw new CliError(`'${this.previous}' needs at least ${n} arguments, ${this.count} found`);
    }
  }

  /** bpftool's BAD_ARG: fails when words are left over. */
  end(): void {
    if (this.count > 0) throw new CliError(`what is '${this.peek()}'?`);
  }

  /** bpftool's parse_u32_arg after the keyword: the next word as a u32. */
  u32(what: string): number {
    const w = this.next();
    const v = parseU32(w);
    if (v === undefined) throw new CliError(`can't parse ${w} as ${what}`);
    return v;
  }
}

/**
 * bpftool's parse_bytes: `n` bytes from the words, each in strtoul notation (or
 * hexadecimal without `0x` after the keyword `hex`). Returns the bytes; `args` is left
 * after them.
 */
export function parseBytes(args: Args, name: string, n: number): Uint8Array {
  let base: 0 | 16 = 0;
  if (args.is("hex")) {
    base = 16;
    args.skip();
  }
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n && args.count > 0) {
    const w = args.next();
    const v = parseCUnsigned(w, base);
    if (v === undefined) throw new CliError(`error parsing byte: ${w}`);
    out[i++] = Number(BigInt.asUintN(8, v));
  }
  if (i !== n) throw new CliError(`${name} expected ${n} bytes got ${i}`);
  return out;
}
