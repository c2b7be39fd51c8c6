/**
 * The BTF string section: NUL-terminated strings addressed by byte offset.
 *
 * Strings are decoded lazily. When the section is pure ASCII (vmlinux's is) it is
 * decoded once into one JavaScript string and every lookup is a `slice` of it, which
 * costs next to nothing; otherwise each string is decoded as UTF-8 on first use.
 *
 * @module
 */

import { BTFError } from "./errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });
const utf8 = new TextEncoder();

/**
 * Limits: a string ends at the section's last byte (a NUL, checked); lookups scan at
 * most LONG_SCAN bytes before the NUL positions are indexed (one pass, 4 bytes per
 * string), so a lookup never costs more than the section's size once.
 */
const LONG_SCAN = 4096;

/**
 * A read-only view of a BTF string section. Offset 0 is the empty string. For split
 * BTF the table continues its base's: offsets below `base.length` are the base's
 * strings, the rest are this section's, shifted by `base.length`.
 */
export class StringTable {
  readonly #bytes: Uint8Array;
  /** Offset of the section in the whole blob, for error messages. */
  readonly #where: number;
  /** The string table of the base BTF, for split BTF. */
  readonly base: StringTable | undefined;
  readonly #baseLen: number;
  /** The whole section as one string when it is ASCII. */
  #ascii: string | undefined;
  #cache: Map<number, string> | undefined;
  /** Positions of every NUL, once a lookup had to scan far (see #end). */
  #nuls: Int32Array | undefined;

  /**
   * @param bytes the section (must start and end with a NUL byte unless empty)
   * @param where byte offset of the section in the blob, reported in errors
   * @param base the base BTF's strings, for split BTF
   */
  constructor(bytes: Uint8Array, where = 0, base?: StringTable) {
    if (bytes.length > 0 && bytes[0] !== 0 && base === undefined) {
      throw new BTFError("string section does not start with a NUL byte", where);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 0) {
      throw new BTFError("string section does not end with a NUL byte", where + bytes.length - 1);
    }
    this.#bytes = bytes;
    this.#where = where;
    this.base = base;
    this.#baseLen = base?.length ?? 0;
    // One decode of the whole section; when every byte became one UTF-16 unit (ASCII),
    // byte offsets are string indexes and lookups are slices.
    const all = decoder.decode(bytes);
    if (all.length === bytes.length) this.#ascii = all;
    else this.#cache = new Map();
  }

  /**
   * The NUL ending the string at `off` (the section ends with one). A scan, until one
   * scan runs past {@link LONG_SCAN} bytes: then every NUL's position is indexed once
   * and each lookup is a binary search, so many offsets into one long string (records
   * of a hostile .BTF.ext) cost a log each, not the string's length each.
   */
  #end(off: number): number {
    const nuls = this.#nuls;
    if (nuls !== undefined) {
      let lo = 0;
      let hi = nuls.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((nuls[mid] as number) < off) lo = mid + 1;
        else hi = mid;
      }
      return nuls[lo] as number;
    }
    // A native search (of the decoded string when there is one, where indexes are the
    // same): a dump's lookups run mostly before V8 optimizes anything, where a byte
    // loop in JavaScript cost ~3x as much.
    const b = this.#bytes;
    const ascii = this.#ascii;
    const end = ascii !== undefined ? ascii.indexOf("\0", off) : b.indexOf(0, off);
    if (end - off > LONG_SCAN) {
      let n = 0;
      for (let i = 0; i < b.length; i++) if (b[i] === 0) n++;
      const idx = new Int32Array(n);
      for (let i = 0, k = 0; i < b.length; i++) if (b[i] === 0) idx[k++] = i;
      this.#nuls = idx;
    }
    return end;
  }

  /** Size of the section in bytes, counting the base's for split BTF (the first offset past the end). */
  get length(): number {
    return this.#baseLen + this.#bytes.length;
  }

  /** This section's own bytes (without the base's). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** True when `offset` is inside the table (base included). */
  has(offset: number): boolean {
    return offset < this.#baseLen + this.#bytes.length;
  }

  /**
   * Every offset (base included, for split BTF) at which the string `name` can be
   * read, in increasing order: where it is stored, and where it is the tail of a longer
   * string (a writer may point a name into another string's tail). A native substring
   * search when the section is ASCII.
   */
  offsetsOf(name: string): number[] {
    const out = this.base ? this.base.offsetsOf(name) : [];
    if (name === "" || name.includes("\0")) return out;
    const ascii = this.#ascii;
    if (ascii !== undefined) {
      const needle = `${name}\0`;
      for (let i = ascii.indexOf(needle); i >= 0; i = ascii.indexOf(needle, i + 1)) {
        out.push(this.#baseLen + i);
      }
      return out;
    }
    const q = utf8.encode(name);
    const b = this.#bytes;
    for (let end = b.indexOf(0, q.length); end >= 0; end = b.indexOf(0, end + 1)) {
      const off = end - q.length;
      let k = 0;
      while (k < q.length && b[off + k] === q[k]) k++;
      if (k === q.length) out.push(this.#baseLen + off);
    }
    return out;
  }

  /**
   * Every string of this section (not its base's) that contains `needle`, once each,
   * in section order. On an ASCII section it is a native substring search over the
   * whole section, a millisecond on vmlinux's 2.5 MB.
   */
  stringsContaining(needle: string): string[] {
    const out: string[] = [];
    if (needle === "") return out;
    const ascii = this.#ascii;
    if (ascii !== undefined) {
      for (let i = ascii.indexOf(needle); i >= 0; ) {
        const start = ascii.lastIndexOf("\0", i) + 1;
        const end = ascii.indexOf("\0", i);
        out.push(ascii.slice(start, end));
        i = ascii.indexOf(needle, end);
      }
      return out;
    }
    const b = this.#bytes;
    // From 0: a split section's first string starts there.
    for (let off = 0; off < b.length; ) {
      const end = b.indexOf(0, off);
      const s = this.get(this.#baseLen + off);
      if (s.includes(needle)) out.push(s);
      off = end + 1;
    }
    return out;
  }

  /**
   * True when the string at `offset` is empty (offset 0, or a NUL there), without
   * making the string.
   *
   * @throws {BTFError} when the offset is outside the section
   */
  isEmpty(offset: number): boolean {
    if (offset === 0) return true;
    if (offset < this.#baseLen) return (this.base as StringTable).isEmpty(offset);
    const off = offset - this.#baseLen;
    if (off >= this.#bytes.length) return this.get(offset) === "";
    return this.#bytes[off] === 0;
  }

  /**
   * The string at `offset`.
   *
   * @param offset byte offset within the string section (base included for split BTF)
   * @param where byte offset in the blob of the record that refers to it, for the error
   * @throws {BTFError} when the offset is outside the section
   */
  get(offset: number, where?: number): string {
    if (offset === 0) return "";
    if (offset < this.#baseLen) return (this.base as StringTable).get(offset, where);
    const off = offset - this.#baseLen;
    const ascii = this.#ascii;
    if (ascii !== undefined && off < ascii.length) {
      return ascii.slice(off, this.#end(off));
    }
    if (off >= this.#bytes.length) {
      throw new BTFError(
        `string offset ${offset} is out of range (string section is ${this.length} bytes)`,
        where ?? this.#where,
      );
    }
    const cache = this.#cache as Map<number, string>;
    const cached = cache.get(off);
    if (cached !== undefined) return cached;
    const s = decoder.decode(this.#bytes.subarray(off, this.#end(off)));
    cache.set(off, s);
    return s;
  }
}
