/**
 * The error every malformed ELF object raises.
 *
 * @module
 */

/**
 * An ELF object that cannot be read or loaded: truncated, not ELF64 little-endian BPF,
 * a section or string out of range, a relocation that makes no sense. `section` names
 * the section where the problem is (when there is one) and `offset` the byte offset in
 * the file (or, with `section`, in that section), so `llvm-readelf`/`xxd` lead to it.
 *
 * @example
 * ```ts
 * try {
 *   loadCollectionSpec(bytes);
 * } catch (e) {
 *   if (e instanceof ELFError) console.error(e.section, e.offset, e.reason);
 * }
 * ```
 */
export class ELFError extends Error {
  override readonly name: string = "ELFError";
  /** What is wrong, without the place. */
  readonly reason: string;
  /** The section concerned, by name (or `#index` when its name cannot be read). */
  readonly section: string | undefined;
  /** Byte offset: in `section` when it is set, else in the file. */
  readonly offset: number | undefined;

  constructor(
    reason: string,
    where: { section?: string; offset?: number } = {},
    options?: { cause?: unknown },
  ) {
    const at: string[] = [];
    if (where.section !== undefined) at.push(`section ${where.section}`);
    if (where.offset !== undefined) at.push(`offset 0x${where.offset.toString(16)}`);
    super(at.length > 0 ? `ELF: ${reason} (${at.join(", ")})` : `ELF: ${reason}`, options);
    this.reason = reason;
    this.section = where.section;
    this.offset = where.offset;
  }
}
