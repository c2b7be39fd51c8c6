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

/**
 * Small typed arrays carved from shared slabs. V8 gives every typed array over 64
 * bytes an ArrayBuffer of its own, and on the object load path (a dozen or more a
 * load: the BTF copy, instructions, line info, the parser's tables) each cost a few µs
 * in allocation and GC work (`--cpu-prof` of loadCollectionSpec on a 13 KB object:
 * the 2.4 KB `.BTF` copy alone ~9 µs of a ~90 µs parse). A slab is one ArrayBuffer
 * of {@link SLAB_BYTES} handed out front to back, 8-byte aligned, never reused: an
 * array from it starts zeroed as a new one does, and keeps the slab alive while it
 * lives (as Node's Buffer pool does: at worst a slab held by one small array). Arrays
 * from here are views at an offset of a larger buffer: read them with {@link viewOf}
 * or their own offset, never through `.buffer` alone.
 */
const SLAB_BYTES = 32 * 1024;
/** Larger requests get their own buffer. */
const SLAB_MAX = 4 * 1024;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

/** Where in the current slab `bytes` bytes go (a new slab when it is full). */
function carve(bytes: number): number {
  if (slabUsed + bytes > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += (bytes + 7) & ~7;
  return at;
}

/** A zeroed Uint8Array of `n` bytes (from a slab when small). */
export function newBytes(n: number): Uint8Array {
  if (!(n > 0 && n <= SLAB_MAX)) return new Uint8Array(n);
  const at = carve(n);
  return new Uint8Array(slab, at, n);
}

/** A zeroed Int32Array of `n` entries (from a slab when small). */
export function newInt32s(n: number): Int32Array {
  if (!(n > 0 && n * 4 <= SLAB_MAX)) return new Int32Array(n);
  const at = carve(n * 4);
  return new Int32Array(slab, at, n);
}

/** A zeroed Float64Array of `n` entries (from a slab when small). */
export function newFloat64s(n: number): Float64Array {
  if (!(n > 0 && n * 8 <= SLAB_MAX)) return new Float64Array(n);
  const at = carve(n * 8);
  return new Float64Array(slab, at, n);
}

/** A copy of `bytes` in a new plain Uint8Array ({@link newBytes}: from a slab when small). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = newBytes(bytes.length);
  out.set(bytes);
  return out;
}
