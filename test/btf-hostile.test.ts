/**
 * BTF that would make tsbpf crawl or overflow its stack (issue 9, item 4): each case
 * ends with a typed error that names what was wrong, or (the C dump of a legitimately
 * huge struct) streams in bounded chunks with bounded memory. How fast each ends, against
 * the same entry point on a benign input, is bench/hostile-input.ts's job; here a hang
 * still fails on the test runner's timeout.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BTFError, dumpC, dumpCTo, parseBTF } from "../src/btf/index.ts";
import { ELFError, loadCollectionSpec } from "../src/elf/index.ts";
import { tsbpf } from "./cli-run.ts";
import {
  anonSelfStructBTF,
  HEADER_PAST_DATA,
  hugeStructBTF,
  INT,
  info,
  memberPastStructObject,
  modifierLoopBTF,
  objectWithBss,
  objectWithBTFHeader,
  pointerLoopBTF,
  rawBTF,
  strLenObject,
  structBTF,
} from "./support/hostile-inputs.ts";

const tmp: string[] = [];
after(() => {
  for (const f of tmp) rmSync(f, { force: true });
});

test("a .BTF str_len of 0x3fffffff: ELFError naming the header field (was a 15 s crawl)", () => {
  assert.throws(
    () => loadCollectionSpec(strLenObject()),
    (e: unknown) =>
      e instanceof ELFError &&
      e.section === ".BTF" &&
      e.offset === 20 &&
      /^string section \(offset \d+, length 1073741823\) runs past the end of the data/.test(
        e.reason,
      ),
  );
});

test("a .BTF hdr_len or type_len past the data: ELFError naming the header field", () => {
  for (const [at, value] of HEADER_PAST_DATA) {
    assert.throws(
      () => loadCollectionSpec(objectWithBTFHeader(at, value)),
      (e: unknown) =>
        e instanceof ELFError &&
        e.section === ".BTF" &&
        // hdr_len is its own field; type_off and type_len are checked as one section.
        e.offset === (at === 4 ? 4 : 12) &&
        /(header length|type section) .* beyond|runs past the end of the data/.test(e.reason),
      `header byte ${at} = 0x${value.toString(16)}`,
    );
  }
});

test("a member past its struct's size is a BTFError naming it (the kernel's rule)", () => {
  // struct s { int a; int b; } with b moved to bit 0x7fff0000, then to bit 48 (ends past 8 bytes).
  parseBTF(structBTF(32));
  for (const [off, re] of [
    [0x7fff0000, /^type \[2\] STRUCT 's' member 1 starts at bit 2147418112, past its 8 bytes$/],
    [48, /^type \[2\] STRUCT 's' member 'b' ends at bit 80, past its 8 bytes$/],
  ] as const) {
    assert.throws(
      () => parseBTF(structBTF(off)),
      (e: unknown) => e instanceof BTFError && re.test(e.reason),
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
  assert.throws(
    () => parseBTF(modifierLoopBTF()),
    (e: unknown) =>
      e instanceof BTFError &&
      /^type \[1\] is part of a loop of modifiers/.test(e.reason) &&
      e.offset === 24,
  );
});

test("C dump: a loop of pointers is a typed error, not a stack overflow", () => {
  // ptr -> ptr -> itself; a typedef of it; the dump must not recurse without end.
  const btf = parseBTF(pointerLoopBTF());
  assert.throws(
    () => dumpC(btf),
    (e: unknown) => {
      return e instanceof BTFError && /deeper than 1000 levels at type \[1\]/.test(e.message);
    },
  );
  // An anonymous struct holding itself by value.
  const anon = parseBTF(anonSelfStructBTF(), { checkReferences: false });
  assert.throws(() => dumpC(anon), /unsatisfiable type cycle through type \[1\]/);
});

test("C dump of a 4 GiB struct streams: 50 MB out in 64 KiB chunks, in bounded memory", () => {
  const btf = parseBTF(hugeStructBTF());
  const stop = new Error("enough");
  let seen = 0;
  let chunks = 0;
  let biggest = 0;
  let first = "";
  const heap = process.memoryUsage().heapUsed;
  let peak = 0;
  assert.throws(
    () =>
      dumpCTo(btf, (chunk) => {
        if (chunks++ === 0) first = chunk;
        seen += chunk.length;
        biggest = Math.max(biggest, chunk.length);
        peak = Math.max(peak, process.memoryUsage().heapUsed - heap);
        if (seen > 50_000_000) throw stop;
      }),
    (e) => e === stop,
  );
  // The text came in many small pieces (a dump built whole, then cut, would be 4 GiB
  // first), and it is the struct being written.
  assert.ok(biggest < 1 << 20, `a chunk of ${biggest}`);
  assert.ok(chunks > 50, `${chunks} chunks`);
  assert.match(first, /struct big \{\n\tint a;\n/);
  assert.ok(peak < 100 << 20, `heap grew ${peak} bytes`);
});

test("btf dump ... format c of a mutated object: one line naming the member", async () => {
  // The first member of the first struct pushed to bit 0x7fff0000, far past the struct.
  const file = join(tmpdir(), `tsbpf-mutated-${process.pid}.o`);
  tmp.push(file);
  writeFileSync(file, memberPastStructObject());
  const r = await tsbpf("btf", "dump", "file", file, "format", "c");
  assert.equal(r.code, 255);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^Error: failed to load BTF from .*STRUCT '\w+' member 0 starts at bit 2147418112, past its \d+ bytes.*\n$/,
  );
  assert.equal(r.stderr.split("\n").length, 2);
});

test("a .bss of 0x7fffffff bytes: ELFError naming the section, also from vm load", async () => {
  const bytes = objectWithBss(0x7fffffffn);
  assert.throws(
    () => loadCollectionSpec(bytes),
    (e: unknown) =>
      e instanceof ELFError &&
      e.section === ".bss" &&
      /^section is 2147483647 bytes, more than .* KMALLOC_MAX_SIZE/.test(e.reason),
  );
  const file = join(tmpdir(), `tsbpf-bigbss-${process.pid}.o`);
  tmp.push(file);
  writeFileSync(file, bytes);
  const r = await tsbpf("vm", "load", file);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^Error: failed to load .*section \.bss.*\n$/);
  assert.doesNotMatch(r.stderr, /Invalid typed array length/);
});
