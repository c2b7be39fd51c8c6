/**
 * BTF that would make tsbpf crawl or overflow its stack (issue 9, item 4): each case
 * ends within 2 s with a typed error, or (the C dump of a legitimately huge struct)
 * streams with bounded memory.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BTFError, dumpC, dumpCTo, parseBTF } from "../src/btf/index.ts";
import { ELFError, loadCollectionSpec, parseELF } from "../src/elf/index.ts";
import { tsbpf } from "./cli-run.ts";
import { scaled } from "./support/time.ts";

const OBJ = "test/testdata/btf/kitchen.bpf.o";
const tmp: string[] = [];
after(() => {
  for (const f of tmp) rmSync(f, { force: true });
});

/** Raw little-endian BTF from type records (as u32 words) and a string section. */
function rawBTF(types: number[][], strings: string): Uint8Array {
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
const info = (kind: number, vlen = 0, kflag = false) =>
  ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;
const INT = (name: number, size: number) => [name, info(1), size, size * 8];

/** Runs `f`, which must end within `ms` on a real CPU (scaled for slow machines). */
function within<T>(ms: number, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const took = performance.now() - t0;
    assert.ok(took < scaled(ms), `took ${took.toFixed(0)} ms (limit ${scaled(ms)})`);
  }
}

/** The object's bytes and where its .BTF section starts. */
function objectWithBTF(): { bytes: Uint8Array; btfAt: number } {
  const bytes = new Uint8Array(readFileSync(OBJ));
  const sec = parseELF(bytes).section(".BTF");
  assert.ok(sec);
  return { bytes, btfAt: sec.offset };
}

test("a .BTF str_len of 0x3fffffff: ELFError at once (was a 15 s crawl)", () => {
  const { bytes, btfAt } = objectWithBTF();
  new DataView(bytes.buffer).setUint32(btfAt + 20, 0x3fffffff, true);
  assert.throws(
    () => within(2000, () => loadCollectionSpec(bytes)),
    (e: unknown) =>
      e instanceof ELFError && e.section === ".BTF" && /string section/.test(e.message),
  );
});

test("a .BTF hdr_len or type_len past the data: ELFError at once", () => {
  for (const [at, value] of [
    [4, 0x7fffffff],
    [12, 0x3ffffffc],
    [8, 0x40000000],
  ] as const) {
    const { bytes, btfAt } = objectWithBTF();
    new DataView(bytes.buffer).setUint32(btfAt + at, value, true);
    assert.throws(() => within(2000, () => loadCollectionSpec(bytes)), ELFError);
  }
});

test("a member past its struct's size is a BTFError naming it (the kernel's rule)", () => {
  // struct s { int a; int b; } with b moved to bit 0x7fff0000, then to bit 48 (ends past 8 bytes).
  for (const off of [0x7fff0000, 48]) {
    const btf = rawBTF([INT(1, 4), [5, info(4, 2), 8, 7, 1, 0, 9, 1, off]], "\0int\0s\0a\0b\0");
    assert.throws(
      () => within(2000, () => parseBTF(btf)),
      (e: unknown) => {
        return e instanceof BTFError && /STRUCT 's' member/.test(e.message);
      },
    );
  }
  // A union member must be at 0.
  const u = rawBTF([INT(1, 4), [5, info(5, 1), 4, 7, 1, 8]], "\0int\0u\0a\0");
  assert.throws(() => parseBTF(u), /UNION 'u' member 0 has bit offset 8/);
  // Old-style INT bitfields and kflag bitfields that fit are fine.
  const ok = rawBTF(
    [
      INT(1, 4),
      [0, info(1), 4, (28 << 16) | 4],
      [5, info(4, 2, true), 4, 7, 1, (4 << 24) | 28, 9, 2, 0],
    ],
    "\0int\0s\0a\0b\0",
  );
  parseBTF(ok);
});

test("a loop of modifiers is a BTFError, not a hang", () => {
  // const -> volatile -> const ...
  const btf = rawBTF(
    [
      [0, info(10), 2],
      [0, info(9), 1],
      [1, info(4, 1), 8, 3, 1, 0],
    ],
    "\0s\0a\0",
  );
  assert.throws(() => within(2000, () => parseBTF(btf)), /loop of modifiers/);
});

test("C dump: a loop of pointers is a typed error, not a stack overflow", () => {
  // ptr -> ptr -> itself; a typedef of it; the dump must not recurse without end.
  const btf = parseBTF(
    rawBTF(
      [
        [0, info(2), 2],
        [0, info(2), 1],
        [1, info(8), 1],
      ],
      "\0t\0",
    ),
  );
  assert.throws(
    () => within(2000, () => dumpC(btf)),
    (e: unknown) => {
      return e instanceof BTFError && /deeper than \d+ levels/.test(e.message);
    },
  );
  // An anonymous struct holding itself by value.
  const anon = parseBTF(
    rawBTF(
      [
        [0, info(4, 1), 8, 1, 1, 0],
        [3, info(8), 1],
      ],
      "\0a\0t\0",
    ),
    {
      checkReferences: false,
    },
  );
  assert.throws(() => within(2000, () => dumpC(anon)), BTFError);
});

test("C dump of a 4 GiB struct streams: 50 MB out in chunks, in seconds, in bounded memory", () => {
  const btf = parseBTF(
    rawBTF([INT(1, 4), [5, info(4, 1), 0xfffffff0, 7, 1, 0]], "\0int\0big\0a\0"),
  );
  const stop = new Error("enough");
  let seen = 0;
  let biggest = 0;
  const heap = process.memoryUsage().heapUsed;
  let peak = 0;
  assert.throws(
    () =>
      within(5000, () =>
        dumpCTo(btf, (chunk) => {
          seen += chunk.length;
          biggest = Math.max(biggest, chunk.length);
          peak = Math.max(peak, process.memoryUsage().heapUsed - heap);
          if (seen > 50_000_000) throw stop;
        }),
      ),
    (e) => e === stop,
  );
  assert.ok(biggest < 1 << 20, `a chunk of ${biggest}`);
  assert.ok(peak < 100 << 20, `heap grew ${peak} bytes`);
});

test("btf dump ... format c of a mutated object: one line, at once", async () => {
  const { bytes, btfAt } = objectWithBTF();
  // Find a STRUCT member in the raw types and push its offset far past the struct.
  const v = new DataView(bytes.buffer);
  const hdr = v.getUint32(btfAt + 4, true);
  const tstart = btfAt + hdr + v.getUint32(btfAt + 8, true);
  const tend = tstart + v.getUint32(btfAt + 12, true);
  let done = false;
  for (let p = tstart; p < tend && !done; ) {
    const inf = v.getUint32(p + 4, true);
    const kind = (inf >>> 24) & 0x1f;
    const vlen = inf & 0xffff;
    if (kind === 4 && vlen > 0) {
      v.setUint16(p + 12 + 8 + 2, 0x7fff, true);
      done = true;
    }
    const per = [0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3][kind] ?? 0;
    const fixed = [0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0][kind] ?? 0;
    p += 12 + 4 * (fixed + per * vlen);
  }
  assert.ok(done);
  const file = join(tmpdir(), `tsbpf-mutated-${process.pid}.o`);
  tmp.push(file);
  writeFileSync(file, bytes);
  const t0 = performance.now();
  const r = await tsbpf("btf", "dump", "file", file, "format", "c");
  const took = performance.now() - t0;
  assert.ok(took < scaled(2000), `took ${took.toFixed(0)} ms`);
  assert.equal(r.code, 255);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^Error: failed to load BTF from .*member.*past its \d+ bytes.*\n$/);
  assert.equal(r.stderr.split("\n").length, 2);
});

test("a .bss of 0x7fffffff bytes: ELFError naming the section, also from vm load", async () => {
  const bytes = new Uint8Array(readFileSync("test/testdata/elf/xdp-maps.bpf.o"));
  const elf = parseELF(bytes);
  const bss = elf.section(".bss");
  assert.ok(bss);
  new DataView(bytes.buffer).setBigUint64(
    elf.header.shoff + bss.index * 64 + 32,
    0x7fffffffn,
    true,
  );
  assert.throws(
    () => within(2000, () => loadCollectionSpec(bytes)),
    (e: unknown) =>
      e instanceof ELFError && e.section === ".bss" && /KMALLOC_MAX_SIZE/.test(e.message),
  );
  const file = join(tmpdir(), `tsbpf-bigbss-${process.pid}.o`);
  tmp.push(file);
  writeFileSync(file, bytes);
  const r = await tsbpf("vm", "load", file);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^Error: failed to load .*section \.bss.*\n$/);
  assert.doesNotMatch(r.stderr, /Invalid typed array length/);
});
