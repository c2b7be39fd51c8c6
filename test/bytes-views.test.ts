/**
 * Every pure-core entry point that takes bytes gives the same answer for a Node
 * Buffer (whose `slice` is a view into a shared pool), a plain Uint8Array copy, and a
 * view at an odd offset inside a larger buffer filled with garbage — and leaves the
 * caller's bytes untouched. A DataView built over `bytes.buffer` without
 * `byteOffset`, or a `slice()` expected to copy, shows up here as a difference.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import { dumpRaw, parseBTF, parseBTFExt } from "../src/btf/index.ts";
import { loadCollectionSpec, parseELF } from "../src/elf/index.ts";
import { decodeProgram, disassembleKernel, disassembleLlvm } from "../src/isa/index.ts";
import { VirtualMachine } from "../src/vm/index.ts";

const ROOT = resolve(import.meta.dirname, "..");

function objects(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") objects(p, out);
    else if (e.isFile() && e.name.endsWith(".bpf.o")) out.push(p);
  }
  return out;
}

/** The three shapes a caller may hand in, over the same bytes. */
function variants(buf: Buffer): [string, Uint8Array][] {
  const pad = 13; // odd, so 4- and 8-byte alignment of the original is lost too
  const big = new Uint8Array(buf.length + 2 * pad).fill(0xaa);
  big.set(buf, pad);
  return [
    ["Buffer", buf],
    ["Uint8Array copy", new Uint8Array(buf)],
    ["view at offset 13", big.subarray(pad, pad + buf.length)],
  ];
}

/** A structural fingerprint: byte arrays as hex, class instances by their fields, cycles cut. */
function canon(x: unknown, seen = new Map<object, number>()): unknown {
  if (x instanceof Uint8Array)
    return `bytes:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex")}`;
  if (typeof x === "bigint") return `${x}n`;
  if (typeof x === "function" || x === null || typeof x !== "object") return x;
  const id = seen.get(x);
  if (id !== undefined) return `<ref ${id}>`;
  seen.set(x, seen.size);
  if (x instanceof Map) return [...x].map(([k, v]) => [canon(k, seen), canon(v, seen)]);
  if (x instanceof Set) return [...x].map((v) => canon(v, seen));
  if (Array.isArray(x) || ArrayBuffer.isView(x))
    return Array.from(x as ArrayLike<unknown>, (v) => canon(v, seen));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x)) out[k] = canon((x as Record<string, unknown>)[k], seen);
  return out;
}

function same(what: string, results: [string, unknown][]): void {
  const [first, ...rest] = results;
  if (!first) return;
  const expected = canon(first[1]);
  for (const [name, r] of rest)
    assert.deepStrictEqual(canon(r), expected, `${what}: ${name} differs from ${first[0]}`);
}

function untouched(what: string, input: Uint8Array, before: Buffer): void {
  assert.ok(
    Buffer.from(input.buffer, input.byteOffset, input.byteLength).equals(before),
    `${what} changed its input`,
  );
}

const files = [...objects(join(ROOT, "test/testdata")), ...objects(join(ROOT, "examples"))].sort();

describe("Buffer, Uint8Array copy and offset view give the same result", () => {
  for (const file of files) {
    const name = relative(ROOT, file);
    test(name, () => {
      const buf = readFileSync(file);
      const before = Buffer.from(buf);
      const runs = variants(buf);

      same(
        `loadCollectionSpec(${name})`,
        runs.map(([n, b]) => {
          try {
            return [n, loadCollectionSpec(b)];
          } catch (e) {
            return [n, { error: (e as Error).message }];
          }
        }),
      );
      for (const [n, b] of runs) untouched(`loadCollectionSpec on a ${n}`, b, before);

      const elves = runs.map(([n, b]) => [n, parseELF(b)] as const);
      same(
        `parseELF(${name})`,
        elves.map(([n, e]) => [n, { header: e.header, sections: e.sections, symbols: e.symbols }]),
      );

      const btfSection = elves[0]![1].sections.find((s) => s.name === ".BTF");
      const extSection = elves[0]![1].sections.find((s) => s.name === ".BTF.ext");
      if (btfSection) {
        const raw = Buffer.from(btfSection.data);
        const btfs = variants(raw).map(([n, b]) => [n, parseBTF(b)] as const);
        same(
          `parseBTF(${name} .BTF)`,
          btfs.map(([n, t]) => [n, t.types]),
        );
        if (extSection) {
          const ext = Buffer.from(extSection.data);
          same(
            `parseBTFExt(${name})`,
            variants(ext).map(([n, b]) => [n, parseBTFExt(b, btfs[0]![1])]),
          );
        }
      }

      for (const s of elves[0]![1].sections) {
        if (!(s.flags & 0x4) || s.size === 0 || s.size % 8 !== 0) continue; // SHF_EXECINSTR
        const text = Buffer.from(s.data);
        let decoded: [string, unknown][];
        try {
          decoded = variants(text).map(([n, b]) => [n, decodeProgram(b)]);
        } catch {
          continue; // not all executable sections are loadable programs; decoding is checked elsewhere
        }
        same(`decodeProgram(${name} ${s.name})`, decoded);
        same(
          `disassembleLlvm(${name} ${s.name})`,
          variants(text).map(([n, b]) => [n, disassembleLlvm(b)]),
        );
        same(
          `disassembleKernel(${name} ${s.name})`,
          variants(text).map(([n, b]) => [n, disassembleKernel(b)]),
        );
      }
    });
  }

  test("VirtualMachine.load: same maps, programs and variables from each shape", () => {
    const file = join(ROOT, "examples/xdp-count/xdp-count.bpf.o");
    const runs = variants(readFileSync(file)).map(([n, b]) => {
      using vm = VirtualMachine.load(loadCollectionSpec(b));
      return [
        n,
        {
          maps: Object.keys(vm.maps),
          programs: Object.keys(vm.programs),
          variables: Object.keys(vm.variables),
        },
      ] as [string, unknown];
    });
    same("VirtualMachine.load", runs);
  });

  test("parseBTF of vmlinux", { skip: readable("/sys/kernel/btf/vmlinux") }, () => {
    // The raw listing covers every type and string; canon() of 130,000 linked types
    // would not fit in memory three times.
    const raw = readFileSync("/sys/kernel/btf/vmlinux");
    same(
      "parseBTF(vmlinux)",
      variants(raw).map(([n, b]) => [n, dumpRaw(parseBTF(b))]),
    );
  });
});

function readable(path: string): string | false {
  try {
    readFileSync(path, { flag: "r" }).subarray(0, 1);
    return false;
  } catch {
    return `${path} is not readable`;
  }
}
