/**
 * The ELF64 reader on the host's own binaries (/bin/true, libc.so.6) against binutils:
 * program headers against `readelf -lW`, every `.dynsym` entry against
 * `readelf --dyn-syms -W`, defined symbols' values against `nm -D`, and the file
 * offsets uprobes take (uprobe-symbols) against the PT_LOAD segments readelf prints.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import {
  ELFError,
  type ElfFile,
  ET_DYN,
  loadCollectionSpec,
  parseELF,
  SegmentType,
} from "../src/elf/index.ts";
import { resolveBinary } from "../src/kernel/links/uprobe-library.ts";
import { functionOffset, functionSymbols } from "../src/kernel/links/uprobe-symbols.ts";

function have(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const TRUE = "/bin/true";
const libc = (() => {
  try {
    return resolveBinary("libc.so.6");
  } catch {
    return undefined;
  }
})();
const skip =
  !have("readelf") || !have("nm")
    ? "binutils (readelf, nm) is not installed"
    : !existsSync(TRUE)
      ? `no ${TRUE}`
      : libc === undefined
        ? "libc.so.6 not found in /etc/ld.so.cache"
        : false;
const BINARIES = (): string[] => [TRUE, libc as string];

const run = (tool: string, args: string[]) =>
  execFileSync(tool, args, { encoding: "utf8", maxBuffer: 64 << 20 });
const hex = (s: string) => Number.parseInt(s, 16);
const read = (path: string): ElfFile => parseELF(new Uint8Array(readFileSync(path)));

interface ReadelfSegment {
  type: string;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** `readelf -lW`'s program headers. */
function readelfSegments(path: string): ReadelfSegment[] {
  const out: ReadelfSegment[] = [];
  for (const line of run("readelf", ["-lW", path]).split("\n")) {
    const m =
      /^\s+([A-Z_]+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+)/.exec(
        line,
      );
    if (m) {
      out.push({
        type: m[1]!,
        offset: hex(m[2]!),
        vaddr: hex(m[3]!),
        filesz: hex(m[4]!),
        memsz: hex(m[5]!),
      });
    }
  }
  return out;
}

const SEGMENT_TYPES: Record<string, number> = {
  NULL: SegmentType.NULL,
  LOAD: SegmentType.LOAD,
  DYNAMIC: SegmentType.DYNAMIC,
  INTERP: SegmentType.INTERP,
  NOTE: SegmentType.NOTE,
  PHDR: SegmentType.PHDR,
  TLS: SegmentType.TLS,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
};

test("program headers match readelf -lW", { skip }, () => {
  for (const path of BINARIES()) {
    const elf = read(path);
    assert.equal(elf.header.type, ET_DYN, path);
    const want = readelfSegments(path);
    assert.ok(
      want.some((s) => s.type === "LOAD"),
      `${path}: readelf shows no LOAD`,
    );
    assert.equal(elf.segments.length, want.length, `${path}: segment count`);
    elf.segments.forEach((s, i) => {
      const w = want[i]!;
      const type = SEGMENT_TYPES[w.type];
      if (type !== undefined) assert.equal(s.type, type, `${path} segment ${i} type ${w.type}`);
      assert.deepEqual(
        { offset: s.offset, vaddr: s.vaddr, filesz: s.filesz, memsz: s.memsz },
        { offset: w.offset, vaddr: w.vaddr, filesz: w.filesz, memsz: w.memsz },
        `${path} segment ${i}`,
      );
    });
  }
});

const SYM_TYPES: Record<string, number> = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
  COMMON: 5,
  TLS: 6,
  IFUNC: 10,
};
const SYM_BINDS: Record<string, number> = { LOCAL: 0, GLOBAL: 1, WEAK: 2, UNIQUE: 10 };

test(".dynsym matches readelf --dyn-syms -W entry by entry", { skip }, () => {
  for (const path of BINARIES()) {
    const elf = read(path);
    const lines = run("readelf", ["--dyn-syms", "-W", path])
      .split("\n")
      .map((l) => /^\s*(\d+): ([0-9a-f]+)\s+(\S+) (\S+)\s+(\S+)\s+\S+\s+(\S+) ?([^@ ]*)/.exec(l))
      .filter((m) => m !== null);
    assert.ok(lines.length > 1, `${path}: readelf printed no .dynsym`);
    assert.equal(elf.dynamicSymbols.length, lines.length, `${path}: .dynsym entries`);
    for (const m of lines) {
      const i = Number(m[1]);
      const sym = elf.dynamicSymbols[i]!;
      const size = m[3]!.startsWith("0x") ? hex(m[3]!.slice(2)) : Number(m[3]);
      const ndx = m[6] === "UND" ? 0 : m[6] === "ABS" ? 0xfff1 : Number(m[6]);
      assert.deepEqual(
        { name: sym.name, value: sym.value, size: sym.size, shndx: sym.shndx },
        { name: m[7], value: hex(m[2]!), size, shndx: ndx },
        `${path} .dynsym ${i}`,
      );
      if (SYM_TYPES[m[4]!] !== undefined) assert.equal(sym.type, SYM_TYPES[m[4]!], `${path} ${i}`);
      if (SYM_BINDS[m[5]!] !== undefined)
        assert.equal(sym.binding, SYM_BINDS[m[5]!], `${path} ${i}`);
    }
  }
});

test("defined dynamic symbols have nm -D's values", { skip }, () => {
  for (const path of BINARIES()) {
    const want = new Map<string, Set<number>>();
    let defined = 0;
    for (const line of run("nm", ["-D", "--defined-only", path]).split("\n")) {
      const m = /^([0-9a-f]+) (\S) ([^@\s]+)/.exec(line);
      if (!m || m[2] === "A") continue; // version definitions, not symbols
      defined++;
      const set = want.get(m[3]!) ?? new Set();
      set.add(hex(m[1]!));
      want.set(m[3]!, set);
    }
    const ours = read(path).dynamicSymbols.filter((s) => s.shndx !== 0 && s.shndx !== 0xfff1);
    assert.equal(ours.length, defined, `${path}: defined .dynsym symbols`);
    for (const s of ours) {
      assert.ok(want.get(s.name)?.has(s.value), `${path}: ${s.name} at 0x${s.value.toString(16)}`);
    }
  }
});

test("uprobe file offsets: libc's functions through readelf's PT_LOAD segments", { skip }, () => {
  const path = libc as string;
  const loads = readelfSegments(path).filter((s) => s.type === "LOAD");
  const syms = functionSymbols(path);
  assert.ok(syms.length > 1000, `${syms.length} functions in ${path}`);
  for (const s of syms) {
    const a = Number(s.address);
    const seg = loads.find((l) => a >= l.vaddr && a < l.vaddr + l.filesz);
    assert.ok(seg, `${s.name}: 0x${a.toString(16)} in no LOAD segment readelf prints`);
    assert.equal(s.fileOffset, BigInt(a - seg.vaddr + seg.offset), s.name);
  }
  // getpid as nm -D gives it, through the executable segment.
  const nmLine = run("nm", ["-D", "--defined-only", path])
    .split("\n")
    .find((l) => / [TW] getpid(@|$)/.test(l));
  assert.ok(nmLine, "nm -D lists getpid");
  const addr = hex(nmLine.split(" ")[0]!);
  const seg = loads.find((l) => addr >= l.vaddr && addr < l.vaddr + l.filesz)!;
  assert.equal(functionOffset(path, "getpid"), BigInt(addr - seg.vaddr + seg.offset));
  // /bin/true defines no functions of its own in .dynsym: every FUNC there is imported.
  assert.deepEqual(
    functionSymbols(TRUE).filter((f) => f.table === ".dynsym"),
    [],
  );
});

test("a host binary is read, but loadCollectionSpec refuses it as no BPF object", { skip }, () => {
  const bytes = new Uint8Array(readFileSync(TRUE));
  assert.equal(parseELF(bytes).header.machine, 62); // EM_X86_64
  assert.throws(
    () => loadCollectionSpec(bytes),
    (e: unknown) =>
      e instanceof ELFError &&
      /machine 62 is not EM_BPF \(247\): not a BPF object/.test(e.message) &&
      e.offset === 18,
  );
});
