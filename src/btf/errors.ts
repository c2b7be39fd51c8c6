/**
 * Errors raised while reading BTF.
 *
 * @module
 */

/**
 * BTF that cannot be read: truncated, malformed or referring to something that is not
 * there. `offset` is the byte offset in the BTF blob where the problem was found
 * (from the start of the blob, header included), so a hex dump leads straight to it.
 *
 * @example
 * ```ts
 * try {
 *   parseBTF(bytes);
 * } catch (e) {
 *   if (e instanceof BTFError) console.error(e.offset, e.reason);
 * }
 * ```
 */
export class BTFError extends Error {
  /** Byte offset in the blob where the problem is, or undefined when it has no place. */
  readonly offset: number | undefined;
  /** What is wrong, without the offset. */
  readonly reason: string;

  constructor(reason: string, offset?: number) {
    super(
      offset === undefined
        ? `BTF: ${reason}`
        : `BTF: ${reason} (at offset 0x${offset.toString(16)})`,
    );
    this.name = "BTFError";
    this.reason = reason;
    this.offset = offset;
  }
}
