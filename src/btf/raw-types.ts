/**
 * The raw layout of the BTF type section: how long each `struct btf_type` record is
 * for its kind, and a walk over the records of a little-endian blob. The one place
 * that knows the record sizes: the parser reads them from here, and so do the code
 * that patches raw bytes in place (the ELF loader's DATASEC fixup, the kernel
 * loader's extern rewrite), so that their type ids and string offsets stay valid.
 *
 * @module
 */

import { BTFKindNumber } from "./types.ts";

const UTF8 = new TextDecoder();

/**
 * The NUL-terminated string at byte `start` of raw BTF, read no further than `stop`
 * (without a NUL before it, the bytes up to `stop`). ASCII names, nearly all of them,
 * are made from char codes: a decoder call per name cost more than the name.
 */
export function rawString(bytes: Uint8Array, start: number, stop: number): string {
  let s = "";
  for (let i = start; i < stop; i++) {
    const b = bytes[i] as number;
    if (b === 0) return s;
    if (b >= 0x80) {
      let end = i;
      while (end < stop && bytes[end] !== 0) end++;
      return UTF8.decode(bytes.subarray(start, end));
    }
    s += String.fromCharCode(b);
  }
  return s;
}

/** Size of the common `struct btf_type` (name_off, info, size/type) in bytes. */
export const BTF_TYPE_SIZE = 12;

/** Extra 32-bit words after the common record, per `vlen` entry, by kind number. */
export const RAW_WORDS_PER_VLEN: readonly number[] = [
  0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3,
];
/** Extra 32-bit words after the common record, fixed, by kind number. */
export const RAW_FIXED_WORDS: readonly number[] = [
  0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
];

/** The kind number in a record's `info` word. */
export function rawKind(info: number): number {
  return (info >>> 24) & 0x1f;
}

/** The `vlen` in a record's `info` word. */
export function rawVlen(info: number): number {
  return info & 0xffff;
}

/** Bytes a record with this `info` word takes, common part included (12 for unknown kinds). */
export function rawTypeSize(info: number): number {
  const kind = rawKind(info);
  return (
    BTF_TYPE_SIZE +
    4 * ((RAW_FIXED_WORDS[kind] ?? 0) + (RAW_WORDS_PER_VLEN[kind] ?? 0) * rawVlen(info))
  );
}

/** Where the sections of a little-endian BTF blob are, and where each type record starts. */
export interface RawTypeLayout {
  /** `hdr_len`. */
  readonly hdrLen: number;
  /** Byte offset of the type section in the blob. */
  readonly typeStart: number;
  /** Byte offset just past the type section. */
  readonly typeEnd: number;
  /** Byte offset of the string section in the blob. */
  readonly strStart: number;
  /** Byte offset just past the string section. */
  readonly strEnd: number;
  /** Byte offset of each type's record by id; `offsets[0]` (void) is 0. */
  readonly offsets: readonly number[];
}

/**
 * Calls `cb` for each record of the type section of little-endian `bytes`, with its
 * id (from 1), byte offset in `bytes` and `info` word, and returns the layout; or
 * returns undefined when `bytes` is not little-endian BTF. A record cut off by the end
 * of the type section ends the walk.
 *
 * @example
 * ```ts
 * forEachRawType(bytes, (id, at, info) => {
 *   if (rawKind(info) === BTFKindNumber.DATASEC) console.log(id, at);
 * });
 * ```
 */
export function forEachRawType(
  bytes: Uint8Array,
  cb?: (id: number, at: number, info: number) => void,
): RawTypeLayout | undefined {
  if (bytes.length < 24) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) return undefined;
  const hdrLen = v.getUint32(4, true);
  const typeStart = hdrLen + v.getUint32(8, true);
  const typeEnd = typeStart + v.getUint32(12, true);
  const strStart = hdrLen + v.getUint32(16, true);
  const strEnd = strStart + v.getUint32(20, true);
  const offsets: number[] = [0];
  for (let p = typeStart; p + BTF_TYPE_SIZE <= typeEnd && p + BTF_TYPE_SIZE <= bytes.length; ) {
    const info = v.getUint32(p + 4, true);
    offsets.push(p);
    cb?.(offsets.length - 1, p, info);
    p += rawTypeSize(info);
  }
  return { hdrLen, typeStart, typeEnd, strStart, strEnd, offsets };
}

/** {@link forEachRawType}'s layout alone: every record's offset by id. */
export function rawTypeOffsets(bytes: Uint8Array): RawTypeLayout | undefined {
  return forEachRawType(bytes);
}

/** The kind numbers raw walkers compare with (`BTF_KIND_*`). */
export const RawKind = BTFKindNumber;
