/**
 * Byte arrays as every layer takes them. Callers hand in Node Buffers (whose
 * `slice()` is a view into a pool shared with other Buffers), plain Uint8Array
 * copies, or views at any offset of a larger ArrayBuffer. Two rules keep the answers
 * identical for all three:
 *
 * - entry points call {@link plainBytes} first, so `slice()` below them always
 *   copies and a mutation never reaches the caller's memory;
 * - a DataView or wider typed array over bytes is made with {@link viewOf}, which
 *   respects `byteOffset` and `byteLength` (`new DataView(b.buffer)` does not).
 * @module
 */

/**
 * `bytes` as a plain Uint8Array over the same memory (no copy): a Buffer or another
 * subclass becomes a Uint8Array whose `slice()` copies and `subarray()` views.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A DataView over exactly `bytes` (its offset and length in its buffer respected). */
export function viewOf(bytes: ArrayBufferView): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
