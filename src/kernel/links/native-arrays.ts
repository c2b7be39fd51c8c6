/**
 * Arrays handed to the kernel by address in BPF_LINK_CREATE (kprobe.multi symbol names,
 * addresses and cookies; uprobe.multi path, offsets and cookies): native memory the
 * caller frees, all at once, after the call.
 *
 * @module
 */

import { allocNative, type NativeMemory } from "../sys/index.ts";

/** `values` as a native array of little-endian u64; the memory is added to `mems`. */
export function nativeU64Array(values: readonly bigint[], mems: NativeMemory[]): NativeMemory {
  const m = allocNative(values.length * 8);
  mems.push(m);
  const v = new DataView(m.bytes.buffer, m.bytes.byteOffset, values.length * 8);
  values.forEach((x, i) => {
    v.setBigUint64(i * 8, BigInt.asUintN(64, x), true);
  });
  return m;
}

/** `text` as a NUL-terminated native C string; the memory is added to `mems`. */
export function nativeCString(text: string, mems: NativeMemory[]): NativeMemory {
  const b = new TextEncoder().encode(text);
  const m = allocNative(b.length + 1);
  mems.push(m);
  m.bytes.set(b);
  return m;
}
