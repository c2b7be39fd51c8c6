/**
 * The BTF string section: NUL-terminated strings addressed by byte offset.
 *
 * @module
 */

import { BTFError } from "./errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * A read-only view of a BTF string section. Offset 0 is the empty string.
 */
export class StringTable {
  readonly #bytes: Uint8Array;
  /** Offset of the section in the whole blob, for error messages. */
  readonly #base: number;
  readonly #cache = new Map<number, string>();

  /**
   * @param bytes the section (must start and end with a NUL byte unless empty)
   * @param base byte offset of the section in the blob, reported in errors
   */
  constructor(bytes: Uint8Array, base = 0) {
    if (bytes.length > 0 && bytes[0] !== 0) {
      throw new BTFError("string section does not start with a NUL byte", base);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 0) {
      throw new BTFError("string section does not end with a NUL byte", base + bytes.length - 1);
    }
    this.#bytes = bytes;
    this.#base = base;
  }

  /** Size of the section in bytes. */
  get length(): number {
    return this.#bytes.length;
  }

  /**
   * The string at `offset`.
   *
   * @param offset byte offset within the string section
   * @param where byte offset in the blob of the record that refers to it, for the error
   * @throws {BTFError} when the offset is outside the section
   */
  get(offset: number, where?: number): string {
    if (offset === 0) return "";
    const cached = this.#cache.get(offset);
    if (cached !== undefined) return cached;
    if (offset >= this.#bytes.length) {
      throw new BTFError(
        `string offset ${offset} is out of range (string section is ${this.#bytes.length} bytes)`,
        where ?? this.#base,
      );
    }
    const end = this.#bytes.indexOf(0, offset);
    const s = decoder.decode(this.#bytes.subarray(offset, end));
    this.#cache.set(offset, s);
    return s;
  }
}
