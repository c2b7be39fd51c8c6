/**
 * The ELF64 reader against llvm-readelf-19 (sections, symbols, relocations of every
 * test object, when the tool is installed), every kind of malformed header, and a
 * small fuzz: truncations and bit flips of real objects raise ELFError and nothing else.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ELFError, loadCollectionSpec, parseELF } from "../src/elf/index.ts";

const DIR = join(import.meta.dirname, "testdata/elf");
const OBJECTS = readdirSync(DIR)
  .filter((f) => f.endsWith(".bpf.o"))
  .sort();
const bytesOf = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));

function have(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const noReadelf = have("llvm-readelf-19") ? false : "llvm-readelf-19 is not installed";

interface ReadelfJson {
  Sections: {
    Section: {
      Index: number;
      Name: { Name: string };
      Type: { Value: number };
      Offset: number;
      Size: number;
      Link: number;
      Info: number;
    };
  }[];
  Symbols: {
    Symbol: {
      Name: { Name: string };
      Value: number;
      Size: number;
      Binding: { Value: number };
      Type: { Value: number };
      Section: { Value: number };
    };
  }[];
  Relocations: {
    SectionIndex: number;
    Relocs: { Relocation: { Offset: number; Type: { Value: number }; Symbol: { Name: string } } }[];
  }[];
}

test("sections, symbols and relocations match llvm-readelf-19", { skip: noReadelf }, () => {
  for (const f of OBJECTS) {
    const json = JSON.parse(
      execFileSync("llvm-readelf-19", ["--elf-output-style=JSON", "-S", "-s", "-r", join(DIR, f)], {
        encoding: "utf8",
      }),
    )[0] as ReadelfJson;
    const elf = parseELF(bytesOf(f));
    assert.equal(elf.sections.length, json.Sections.length, f);
    for (const { Section: s } of json.Sections) {
      const mine = elf.sections[s.Index]!;
      assert.deepEqual(
        [mine.name, mine.type, mine.offset, mine.size, mine.link, mine.info],
        [s.Name.Name, s.Type.Value, s.Offset, s.Size, s.Link, s.Info],
        `${f} section ${s.Index}`,
      );
    }
    assert.equal(elf.symbols.length, json.Symbols.length, f);
    json.Symbols.forEach(({ Symbol: s }, i) => {
      const mine = elf.symbols[i]!;
      assert.deepEqual(
        [elf.symbolName(mine), mine.value, mine.size, mine.binding, mine.type, mine.shndx],
        [s.Name.Name, s.Value, s.Size, s.Binding.Value, s.Type.Value, s.Section.Value],
        `${f} symbol ${i}`,
      );
    });
    for (const rs of json.Relocations) {
      const target = elf.sections[rs.SectionIndex]!.info;
      const mine = elf.relocationsFor(target);
      assert.deepEqual(
        mine.map((r) => [r.offset, r.type, elf.symbolName(r.symbol)]),
        rs.Relocs.map(({ Relocation: r }) => [r.Offset, r.Type.Value, r.Symbol.Name]),
        `${f} relocations of section ${target}`,
      );
    }
  }
});

/** A copy of `b` with `patch` applied at `off` (little-endian for numbers). */
function patched(b: Uint8Array, off: number, value: number, size: 1 | 2 | 4 | 8): Uint8Array {
  const c = b.slice();
  const v = new DataView(c.buffer);
  if (size === 1) v.setUint8(off, value);
  else if (size === 2) v.setUint16(off, value, true);
  else if (size === 4) v.setUint32(off, value, true);
  else v.setBigUint64(off, BigInt(value), true);
  return c;
}

function elfError(fn: () => unknown, re: RegExp): ELFError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ELFError, `expected ELFError, got ${String(e)}`);
    assert.match(e.message, re);
    return e;
  }
  assert.fail("expected an ELFError");
}

test("malformed headers name what is wrong and where", () => {
  const good = bytesOf("xdp-maps.bpf.o");
  const elf = parseELF(good);
  elfError(() => parseELF(good.subarray(0, 10)), /truncated header: 10 bytes, need 64/);
  let e = elfError(() => parseELF(patched(good, 0, 0x7e, 1)), /bad magic 7e 45 4c 46/);
  assert.equal(e.offset, 0);
  e = elfError(() => parseELF(patched(good, 4, 1, 1)), /class 1 is not ELFCLASS64/);
  assert.equal(e.offset, 4);
  elfError(() => parseELF(patched(good, 5, 2, 1)), /not little-endian.*big-endian object/);
  // Any machine reads; the BPF object loader refuses what is not EM_BPF.
  assert.equal(parseELF(patched(good, 18, 62, 2)).header.machine, 62);
  e = elfError(
    () => loadCollectionSpec(patched(good, 18, 62, 2)),
    /machine 62 is not EM_BPF \(247\)/,
  );
  assert.equal(e.offset, 18);
  elfError(
    () => parseELF(patched(good, 40, good.length, 8)),
    /section header table .* past the end/,
  );
  elfError(() => parseELF(patched(good, 60, 1000, 2)), /1000 section headers .* run past the end/);
  elfError(() => parseELF(patched(good, 62, 200, 2)), /string table index 200 is out of range/);
  // A section whose name offset is past the end of .strtab.
  const shoff = elf.header.shoff;
  e = elfError(
    () => parseELF(patched(good, shoff + 2 * 64, 0xfffff, 4)),
    /section 2 name: string offset 1048575 is out of range/,
  );
  assert.equal(e.section, ".strtab");
  // A section whose contents run past the end of the file.
  elfError(
    () => parseELF(patched(good, shoff + 4 * 64 + 32, 1 << 30, 8)),
    /section header 4: contents at 0x[0-9a-f]+\+1073741824 run past the end/,
  );
  // A symbol in a section that does not exist.
  const symtab = elf.sections.find((s) => s.name === ".symtab")!;
  e = elfError(
    () => parseELF(patched(good, symtab.offset + 3 * 24 + 6, 999, 2)),
    /symbol 3: section index 999 is out of range/,
  );
  assert.equal(e.section, ".symtab");
  // A relocation naming a symbol that does not exist.
  const rel = elf.sections.find((s) => s.name === ".relxdp")!;
  const broken = parseELF(patched(good, rel.offset + 12, 5000, 4));
  e = elfError(() => broken.relocationsFor(rel.info), /refers to symbol 5000/);
  assert.equal(e.section, ".relxdp");
  // The loader reports it the same way.
  elfError(() => loadCollectionSpec(patched(good, rel.offset + 12, 5000, 4)), /symbol 5000/);
});

/** xorshift32: the same pseudo-random sequence every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

test("fuzz: truncated and bit-flipped objects raise only ELFError", () => {
  const next = rng(0x5eed);
  let errors = 0;
  let loaded = 0;
  for (const f of OBJECTS) {
    const good = bytesOf(f);
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) cases.push(good.subarray(0, next() % good.length));
    for (let i = 0; i < 400; i++) {
      const c = good.slice();
      for (let k = 1 + (next() % 3); k > 0; k--) c[next() % c.length]! ^= 1 << (next() % 8);
      cases.push(c);
    }
    for (const c of cases) {
      try {
        loadCollectionSpec(c);
        loaded++;
      } catch (e) {
        if (!(e instanceof ELFError)) {
          assert.fail(`${f}: ${e instanceof Error ? e.stack : String(e)}`);
        }
        errors++;
      }
    }
  }
  assert.ok(errors > 0 && loaded > 0, `${errors} errors, ${loaded} loaded`);
});
