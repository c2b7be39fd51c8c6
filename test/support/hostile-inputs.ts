/**
 * The hostile inputs of issue 9 that once made tsbpf crawl, hang or overflow its stack,
 * each next to a benign input of the same shape. The tests (test/btf-hostile,
 * test/parser-limits, test/vm-format-width) check that each hostile input takes the
 * bounded path (a typed error, a capped output); bench/hostile-input.ts times it
 * against its benign twin. One builder each, shared by both.
 * @module
 */

import { readFileSync } from "node:fs";
import { forEachRawType, RawKind, rawKind, rawVlen } from "../../src/btf/raw-types.ts";
import { parseELF } from "../../src/elf/index.ts";

/** An object with BTF of every kind clang emits (structs, unions, enums, datasecs...). */
export const KITCHEN_OBJ = "test/testdata/btf/kitchen.bpf.o";
/** An object with maps and a .bss section. */
export const BSS_OBJ = "test/testdata/elf/xdp-maps.bpf.o";

/** Raw little-endian BTF from type records (as u32 words) and a string section. */
export function rawBTF(types: number[][], strings: string): Uint8Array {
  const words = types.flat();
  const str = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + words.length * 4 + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, words.length * 4, true);
  v.setUint32(16, words.length * 4, true);
  v.setUint32(20, str.length, true);
  for (let i = 0; i < words.length; i++) v.setUint32(24 + i * 4, (words[i] as number) >>> 0, true);
  out.set(str, 24 + words.length * 4);
  return out;
}

/** A BTF type's info word. */
export const info = (kind: number, vlen = 0, kflag = false): number =>
  ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;

/** An INT record named by string offset `name`, of `size` bytes. */
export const INT = (name: number, size: number): number[] => [name, info(1), size, size * 8];

/**
 * `n` anonymous 4-byte INT records, appended to a hand-built blob so that parsing it is
 * real work (the bench compares a hostile blob with its twin, not an Error's cost).
 */
export const filler = (n: number): number[][] =>
  Array.from({ length: n }, () => [0, info(1), 4, 32]);

/** An object's bytes (a fresh copy, free to mutate) and where its .BTF section starts. */
export function objectWithBTF(path = KITCHEN_OBJ): { bytes: Uint8Array; btfAt: number } {
  const bytes = new Uint8Array(readFileSync(path));
  const sec = parseELF(bytes).section(".BTF");
  if (!sec) throw new Error(`${path} has no .BTF section`);
  return { bytes, btfAt: sec.offset };
}

/** The kitchen object with one .BTF header field (at byte `at` of the header) set to `value`. */
export function objectWithBTFHeader(at: number, value: number): Uint8Array {
  const { bytes, btfAt } = objectWithBTF();
  new DataView(bytes.buffer).setUint32(btfAt + at, value, true);
  return bytes;
}

/** A .BTF str_len of 0x3fffffff (the name walk of the datasec fixup crawled for 15 s). */
export const strLenObject = (): Uint8Array => objectWithBTFHeader(20, 0x3fffffff);

/** .BTF headers whose hdr_len, type_len or type_off point far past the data: [byte, value]. */
export const HEADER_PAST_DATA: readonly (readonly [number, number])[] = [
  [4, 0x7fffffff],
  [12, 0x3ffffffc],
  [8, 0x40000000],
];

/**
 * `struct s { int a; int b; }` with b at bit `bOffset` (32 is benign; 0x7fff0000 lies
 * far past the struct, 48 ends past its 8 bytes), then `more` {@link filler} records.
 */
export const structBTF = (bOffset: number, more = 0): Uint8Array =>
  rawBTF(
    [INT(1, 4), [5, info(4, 2), 8, 7, 1, 0, 9, 1, bOffset], ...filler(more)],
    "\0int\0s\0a\0b\0",
  );

/**
 * `struct s { int a; }` whose member's type is const -> volatile -> const ... (a loop),
 * then `more` {@link filler} records.
 */
export const modifierLoopBTF = (more = 0): Uint8Array =>
  rawBTF(
    [[0, info(10), 2], [0, info(9), 1], [1, info(4, 1), 8, 3, 1, 0], ...filler(more)],
    "\0s\0a\0",
  );

/** The benign twin of {@link modifierLoopBTF}: the chain ends at an int. */
export const modifierChainBTF = (more = 0): Uint8Array =>
  rawBTF(
    [[0, info(10), 2], [0, info(9), 4], [1, info(4, 1), 8, 3, 1, 0], INT(5, 4), ...filler(more)],
    "\0s\0a\0int\0",
  );

/** A typedef `t` of a pointer to a pointer to itself (a declarator that never ends). */
export const pointerLoopBTF = (): Uint8Array =>
  rawBTF(
    [
      [0, info(2), 2],
      [0, info(2), 1],
      [1, info(8), 1],
    ],
    "\0t\0",
  );

/**
 * The benign twin of {@link pointerLoopBTF}: `typedef int **...* t` with `depth`
 * pointers (the dump's walk goes about as deep as the loop's, when `depth` is near
 * MAX_DUMP_DEPTH).
 */
export function pointerChainBTF(depth = 2): Uint8Array {
  // [1] typedef t -> [2]; [2..depth+1] pointers, each to the next; [depth+2] int.
  const pointers = Array.from({ length: depth }, (_, i) => [0, info(2), i + 3]);
  return rawBTF([[1, info(8), 2], ...pointers, INT(3, 4)], "\0t\0int\0");
}

/** An anonymous struct holding itself by value (parse it with checkReferences: false). */
export const anonSelfStructBTF = (): Uint8Array =>
  rawBTF(
    [
      [0, info(4, 1), 8, 1, 1, 0],
      [3, info(8), 1],
    ],
    "\0a\0t\0",
  );

/** `struct big { int a; }` of 0xfffffff0 bytes: its C dump is 4 GiB of padding, legitimately. */
export const hugeStructBTF = (): Uint8Array =>
  rawBTF([INT(1, 4), [5, info(4, 1), 0xfffffff0, 9, 1, 0]], "\0int\0big\0a\0");

/**
 * The kitchen object with the first member of its first non-empty STRUCT moved to bit
 * 0x7fff0000, far past the struct (with `mutate` false: the object as it is).
 */
export function memberPastStructObject(mutate = true): Uint8Array {
  const { bytes, btfAt } = objectWithBTF();
  if (!mutate) return bytes;
  const btf = bytes.subarray(btfAt);
  const v = new DataView(btf.buffer, btf.byteOffset);
  let member: number | undefined;
  forEachRawType(btf, (_id, at, inf) => {
    if (member === undefined && rawKind(inf) === RawKind.STRUCT && rawVlen(inf) > 0) {
      member = at + 12; // the first btf_member: name_off, type, offset
    }
  });
  if (member === undefined) throw new Error(`${KITCHEN_OBJ} has no struct with members`);
  v.setUint16(member + 8 + 2, 0x7fff, true);
  return bytes;
}

/** An object whose .bss is `size` bytes (0x7fffffff is past KMALLOC_MAX_SIZE). */
export function objectWithBss(size: bigint): Uint8Array {
  const bytes = new Uint8Array(readFileSync(BSS_OBJ));
  const elf = parseELF(bytes);
  const bss = elf.section(".bss");
  if (!bss) throw new Error(`${BSS_OBJ} has no .bss section`);
  // sh_size of its section header.
  new DataView(bytes.buffer).setBigUint64(elf.header.shoff + bss.index * 64 + 32, size, true);
  return bytes;
}

/** An assembler text whose first line is `r0 = 1` followed by `pairs` times " <". */
export const longAsmLine = (pairs: number): string => `r0 = 1 ${" <".repeat(pairs)}\nexit\n`;

/** An ordinary assembler text of about `chars` characters: `r0 = 1` lines, then exit. */
export const ordinaryAsm = (chars: number): string =>
  `${"r0 = 1\n".repeat(Math.max(1, Math.floor(chars / 7)))}exit\n`;

/** A string section holding one string of `bytes` - 2 'a's. */
export function oneLongString(bytes = 1 << 20): Uint8Array {
  const out = new Uint8Array(bytes).fill(0x61);
  out[0] = 0;
  out[out.length - 1] = 0;
  return out;
}

/** A string section of `bytes` bytes holding "abc" strings (the benign twin). */
export function shortStrings(bytes = 1 << 20): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 1; i < bytes; i++) out[i] = i % 4 === 0 ? 0 : 0x60 + (i % 4);
  out[bytes - 1] = 0;
  return out;
}

/** printf widths the kernel caps: 999999999 threw a RangeError, 500000000 built 500 MB. */
export const HUGE_WIDTHS: readonly string[] = ["999999999", "500000000", "9".repeat(1000)];
