/**
 * Mutations of real inputs for the ELF and BTF fuzzers: bit flips, byte and word
 * stores of boundary values, truncations, and format-aware changes — offset and size
 * inflation in the ELF header and section headers, BTF header fields, type records
 * (kind, vlen, size, member offsets) and string tables (NULs removed).
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Rng } from "./rng.ts";

const ROOT = join(import.meta.dirname, "..");

/** Every committed BPF object of the repository (tests and examples), sorted by path. */
export function objectCorpus(): { path: string; bytes: Uint8Array }[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== "node_modules") walk(p);
      else if (e.isFile() && e.name.endsWith(".bpf.o")) out.push(p);
    }
  };
  walk(join(ROOT, "test", "testdata"));
  walk(join(ROOT, "examples"));
  return out.sort().map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
}

/** Values that break size and offset arithmetic. */
const BOUNDARY32 = [
  0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000,
  0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff,
];

function boundary(rng: Rng, near?: number): number {
  if (near !== undefined && rng.chance(0.3)) {
    const d = rng.below(17) - 8;
    return Math.max(0, Math.min(0xffffffff, near + d)) >>> 0;
  }
  return rng.chance(0.8) ? rng.pick(BOUNDARY32) : rng.u32();
}

/** Where a `.BTF`-like section lies in an ELF object (offset and size), if any. */
export interface Region {
  readonly offset: number;
  readonly size: number;
}

function u16(b: Uint8Array, at: number): number {
  return at + 2 <= b.length ? b[at]! | (b[at + 1]! << 8) : 0;
}
function u32(b: Uint8Array, at: number): number {
  return at + 4 <= b.length
    ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : 0;
}
function put32(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 4 > b.length) return;
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}
function put64(b: Uint8Array, at: number, v: number): void {
  put32(b, at, v >>> 0);
  put32(b, at + 4, Math.floor(v / 2 ** 32) >>> 0);
}

/** Section headers of a well-formed ELF64 LE object: [offset of the header, name]. */
export function sectionHeaders(
  b: Uint8Array,
): { at: number; name: string; offset: number; size: number }[] {
  const shoff = u32(b, 0x28);
  const shnum = u16(b, 0x3c);
  const shstrndx = u16(b, 0x3e);
  if (shoff === 0 || shoff + shnum * 64 > b.length || shnum > 4096) return [];
  const strAt = shoff + shstrndx * 64;
  const strOff = u32(b, strAt + 24);
  const out: { at: number; name: string; offset: number; size: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 64;
    let name = "";
    for (let p = strOff + u32(b, at); p < b.length && b[p] !== 0 && name.length < 64; p++) {
      name += String.fromCharCode(b[p]!);
    }
    out.push({ at, name, offset: u32(b, at + 24), size: u32(b, at + 32) });
  }
  return out;
}

/** Offsets of the fields a BTF mutation aims at, inside a BTF blob at `base`. */
function btfTargets(
  b: Uint8Array,
  base: number,
  size: number,
): { words: number[]; strings: Region } {
  const hdr = u32(b, base + 4);
  const typeStart = base + hdr + u32(b, base + 8);
  const typeLen = u32(b, base + 12);
  const strStart = base + hdr + u32(b, base + 16);
  const strLen = u32(b, base + 20);
  const words: number[] = [];
  const end = Math.min(typeStart + typeLen, base + size, b.length);
  // Record starts and their size/member words, walking as the kernel would.
  const perVlen = [0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3];
  const fixed = [0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0];
  let p = typeStart;
  for (let n = 0; p + 12 <= end && n < 100_000; n++) {
    const info = u32(b, p + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    words.push(p, p + 4, p + 8);
    const len = 12 + 4 * ((fixed[kind] ?? 0) + (perVlen[kind] ?? 0) * vlen);
    for (let w = p + 12; w < p + len && w + 4 <= end; w += 4) words.push(w);
    p += len;
  }
  return {
    words,
    strings: { offset: strStart, size: Math.max(0, Math.min(strLen, b.length - strStart)) },
  };
}

/** Applies one to four mutations to a copy of `input`; `btf` is where a BTF blob lies in it. */
export function mutate(rng: Rng, input: Uint8Array, btf?: Region, elf = true): Uint8Array {
  let b = input.slice();
  const n = 1 + rng.below(4);
  for (let k = 0; k < n; k++) {
    const what = rng.below(elf ? 10 : 7);
    switch (what) {
      case 0: {
        // bit flips
        for (let j = 1 + rng.below(4); j > 0 && b.length > 0; j--) {
          const at = rng.below(b.length);
          b[at] = b[at]! ^ (1 << rng.below(8));
        }
        break;
      }
      case 1: {
        if (b.length === 0) break;
        const at = rng.below(b.length);
        b[at] = rng.pick([0, 0xff, 0x7f, 0x80, 1, rng.below(256)]);
        break;
      }
      case 2: {
        if (b.length < 4) break;
        put32(b, rng.below(b.length >> 2) * 4, boundary(rng));
        break;
      }
      case 3: {
        // truncation (or a tail of zeros)
        if (rng.chance(0.8)) b = b.slice(0, rng.below(b.length + 1));
        else {
          const grown = new Uint8Array(b.length + 1 + rng.below(4096));
          grown.set(b);
          b = grown;
        }
        break;
      }
      case 4:
      case 5:
      case 6: {
        if (!btf || btf.offset + 24 > b.length) {
          if (b.length > 0) b[rng.below(b.length)] = rng.u32() & 0xff;
          break;
        }
        const t = btfTargets(b, btf.offset, btf.size);
        const choice = rng.below(4);
        if (choice === 0) {
          // header: hdr_len, type_off, type_len, str_off, str_len
          const field = rng.pick([4, 8, 12, 16, 20]);
          put32(b, btf.offset + field, boundary(rng, u32(b, btf.offset + field)));
        } else if (choice === 1 && t.words.length > 0) {
          // a type record word: name, info (kind/vlen/kflag), size/type, member/entry words
          const at = rng.pick(t.words);
          const old = u32(b, at);
          const v = rng.chance(0.5) ? boundary(rng, old) : (old ^ (1 << rng.below(32))) >>> 0;
          put32(b, at, v);
        } else if (choice === 2 && t.strings.size > 0) {
          // the string table: NULs removed, or a byte changed
          for (let j = 1 + rng.below(8); j > 0; j--) {
            const at = t.strings.offset + rng.below(t.strings.size);
            if (at < b.length) b[at] = rng.chance(0.7) ? 0x41 + rng.below(26) : rng.u32() & 0xff;
          }
        } else if (t.words.length > 0) {
          // a 2-byte change in a member offset or size (the dump case)
          const at = rng.pick(t.words) + 2;
          if (at + 2 <= b.length) {
            b[at] = rng.u32() & 0xff;
            b[at + 1] = rng.u32() & 0xff;
          }
        }
        break;
      }
      default: {
        // ELF structure: header fields, section header offsets and sizes
        const shdrs = sectionHeaders(b);
        if (rng.chance(0.3) || shdrs.length === 0) {
          const field = rng.pick([
            [0x20, 8],
            [0x28, 8],
            [0x36, 2],
            [0x38, 2],
            [0x3a, 2],
            [0x3c, 2],
            [0x3e, 2],
            [0x04, 1],
            [0x05, 1],
          ] as const);
          const v = boundary(rng);
          if (field[1] === 8) put64(b, field[0], v);
          else if (field[1] === 2 && field[0] + 2 <= b.length) {
            b[field[0]] = v & 0xff;
            b[field[0] + 1] = (v >>> 8) & 0xff;
          } else if (field[0] < b.length) b[field[0]] = v & 0xff;
        } else {
          const s = rng.pick(shdrs);
          // sh_name 0, sh_type 4, sh_flags 8, sh_offset 24, sh_size 32, sh_link 40,
          // sh_info 44, sh_addralign 48, sh_entsize 56
          const [off, size] = rng.pick([
            [24, 8],
            [32, 8],
            [32, 8],
            [0, 4],
            [4, 4],
            [40, 4],
            [44, 4],
            [48, 8],
            [56, 8],
          ] as const);
          const v = boundary(rng, off === 32 ? s.size : off === 24 ? s.offset : undefined);
          if (size === 8) put64(b, s.at + off, v);
          else put32(b, s.at + off, v);
        }
      }
    }
  }
  return b;
}
