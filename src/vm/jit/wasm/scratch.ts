/**
 * Typed arrays for one compile of the wasm target, carved out of buffers kept from
 * one compile to the next.
 *
 * Why: V8 gives every typed array above 64 bytes a backing store of its own, which
 * costs ~1.5-2.5 us to allocate (Node 20: `new Int32Array(340)` ~2.5 us, a view on a
 * kept buffer ~0.07 us), and the control-flow analysis and the dataflows make about
 * 40 per program. Measured on a program of 1,000 instructions (medians): blocks 25 ->
 * 17 us, analysis 62 -> 46 us, dataflow 34 -> 30 us, of a compile of ~600 us.
 *
 * One compile at a time: compileWasm is synchronous, and a view handed out during one
 * compile is overwritten by the next. Arrays above {@link SCRATCH_MAX} elements, or
 * past the kept buffer, are allocated afresh (a large program's compile pays for them
 * once; the buffers kept stay small).
 *
 * Pure: no `node:` imports.
 * @module
 */

/** Largest array (elements) carved from the kept buffers. */
export const SCRATCH_MAX = 16_384;
/** Elements of each kept buffer. */
const KEPT = 1 << 18;

let i32Buf: Int32Array | undefined;
let i32Used = 0;
let u8Buf: Uint8Array | undefined;
let u8Used = 0;

/** Starts a compile: the views of the last one may be handed out again. */
export function scratchReset(): void {
  i32Used = 0;
  u8Used = 0;
}

/** `n` int32s, each `fill`. */
export function scratchI32(n: number, fill = 0): Int32Array {
  if (n > SCRATCH_MAX || i32Used + n > KEPT) return new Int32Array(n).fill(fill);
  i32Buf ??= new Int32Array(KEPT);
  const v = i32Buf.subarray(i32Used, i32Used + n);
  i32Used += n;
  return v.fill(fill);
}

/** `n` bytes, zero. */
export function scratchU8(n: number): Uint8Array {
  if (n > SCRATCH_MAX || u8Used + n > KEPT) return new Uint8Array(n);
  u8Buf ??= new Uint8Array(KEPT);
  const v = u8Buf.subarray(u8Used, u8Used + n);
  u8Used += n;
  return v.fill(0);
}

let body: Uint8Array | undefined;

/**
 * A byte buffer for a function body of about `n` bytes: the kept one (its bytes
 * overwritten) while `n` stays below {@link SCRATCH_MAX} * 16, else a fresh one. The
 * module's bytes are a copy, so the body may be written again by the next compile.
 */
export function scratchBody(n: number): Uint8Array {
  if (n > SCRATCH_MAX * 16) return new Uint8Array(n);
  if (body === undefined || body.length < n) body = new Uint8Array(Math.max(n, 65_536));
  return body;
}
