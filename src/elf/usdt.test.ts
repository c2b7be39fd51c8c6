import assert from "node:assert/strict";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { describe, test } from "node:test";
import { ELFError } from "./errors.ts";
import { parseELF } from "./read-elf.ts";
import { parseUsdtArg, parseUsdtArgs, UsdtArgError, UsdtArgKind } from "./usdt-args.ts";
import { parseStapsdtNotes, usdtProbes } from "./usdt-notes.ts";

const P = "p:probe";

describe("USDT argument specs (x86-64)", () => {
  const cases: [string, Partial<ReturnType<typeof parseUsdtArg>>][] = [
    ["-4@%eax", { kind: UsdtArgKind.REG, regOffset: 80, size: 4, signed: true, bitshift: 32 }],
    ["8@%rbp", { kind: UsdtArgKind.REG, regOffset: 32, size: 8, signed: false, bitshift: 0 }],
    ["8@%r12", { kind: UsdtArgKind.REG, regOffset: 24 }],
    ["2@%r9w", { kind: UsdtArgKind.REG, regOffset: 64, size: 2, bitshift: 48 }],
    ["-1@%sil", { kind: UsdtArgKind.REG, regOffset: 104, size: 1, signed: true, bitshift: 56 }],
    ["1@%al", { kind: UsdtArgKind.REG, regOffset: 80, size: 1 }],
    ["4@%r15d", { kind: UsdtArgKind.REG, regOffset: 0 }],
    ["8@-8(%rbp)", { kind: UsdtArgKind.REG_DEREF, regOffset: 32, valueOffset: 2n ** 64n - 8n }],
    ["-4@112(%rsp)", { kind: UsdtArgKind.REG_DEREF, regOffset: 152, valueOffset: 112n }],
    ["8@16(%rsp)", { kind: UsdtArgKind.REG_DEREF, regOffset: 152, valueOffset: 16n }],
    ["8@(%rdi)", { kind: UsdtArgKind.REG_DEREF, regOffset: 112, valueOffset: 0n }],
    ["8@0x10(%rip)", { kind: UsdtArgKind.REG_DEREF, regOffset: 128, valueOffset: 16n }],
    ["4@$5", { kind: UsdtArgKind.CONST, valueOffset: 5n, regOffset: 0, size: 4 }],
    ["-4@$-9", { kind: UsdtArgKind.CONST, valueOffset: 2n ** 64n - 9n, signed: true }],
  ];
  for (const [text, want] of cases) {
    test(text, () => {
      const got = parseUsdtArg(text, P, 0);
      for (const [k, v] of Object.entries(want)) {
        assert.equal(got[k as keyof typeof got], v, `${text}: ${k}`);
      }
    });
  }

  test("bad operands name the probe, the argument and what is wrong", () => {
    const bad: [string, RegExp][] = [
      ["3@%eax", /size 3 is not 1, 2, 4 or 8/],
      ["%eax", /not of the form SIZE@OPERAND/],
      ["8@%xyz", /unknown x86_64 register "xyz"/],
      ["1@%ah", /unknown x86_64 register "ah"/],
      ["8@-4(%rbp,%rax,8)", /scaled-index addressing/],
      ["8@foo(%rip)", /a symbol as offset/],
      ["8@*%rax", /not an x86-64 operand/],
      ["8@$18446744073709551616", /does not fit 64 bits/],
      ["8@-9223372036854775809(%rbp)", /does not fit 64 bits/],
    ];
    for (const [text, re] of bad) {
      assert.throws(
        () => parseUsdtArgs(`8@%rax ${text}`, "python:line"),
        (e: unknown) =>
          e instanceof UsdtArgError &&
          e.index === 1 &&
          e.arg === text &&
          /^USDT probe python:line: argument #2 /.test(e.message) &&
          re.test(e.message),
        text,
      );
    }
  });

  test("at most 12 arguments; none at all is fine", () => {
    assert.deepEqual(parseUsdtArgs("", P), []);
    assert.equal(parseUsdtArgs(Array(12).fill("8@%rax").join(" "), P).length, 12);
    assert.throws(() => parseUsdtArgs(Array(13).fill("8@%rax").join(" "), P), /more than 12/);
  });
});

describe("USDT argument specs (aarch64)", () => {
  test("registers, memory and constants", () => {
    const [a, b, c, d] = parseUsdtArgs("-4@w1 8@[sp, 16] 8@[x29] 4@7", P, "aarch64");
    assert.deepEqual([a?.kind, a?.regOffset, a?.signed], [UsdtArgKind.REG, 8, true]);
    assert.deepEqual([b?.kind, b?.regOffset, b?.valueOffset], [UsdtArgKind.REG_DEREF, 248, 16n]);
    assert.deepEqual([c?.regOffset, c?.valueOffset], [232, 0n]);
    assert.deepEqual([d?.kind, d?.valueOffset], [UsdtArgKind.CONST, 7n]);
    assert.throws(() => parseUsdtArg("8@x31", P, 0, "aarch64"), /unknown aarch64 register/);
  });
});

/** One stapsdt note: header, "stapsdt\0", descriptor, padded to 4 bytes. */
function note(desc: Uint8Array, owner = "stapsdt\0", type = 3): Uint8Array {
  const name = new TextEncoder().encode(owner);
  const pad = (n: number) => (n + 3) & ~3;
  const out = new Uint8Array(12 + pad(name.length) + pad(desc.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, name.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(name, 12);
  out.set(desc, 12 + pad(name.length));
  return out;
}

function desc(pc: bigint, base: bigint, sema: bigint, strings: string): Uint8Array {
  const s = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + s.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, pc, true);
  v.setBigUint64(8, base, true);
  v.setBigUint64(16, sema, true);
  out.set(s, 24);
  return out;
}

describe("stapsdt notes", () => {
  const good = note(desc(0x1234n, 0x9000n, 0x5000n, "prov\0probe\x008@%rdi -4@%esi\0"));

  test("a note's addresses and strings; other owners are skipped", () => {
    const bytes = new Uint8Array([...note(new Uint8Array(4), "GNU\0", 3), ...good]);
    const [n, more] = parseStapsdtNotes(bytes);
    assert.equal(more, undefined);
    assert.deepEqual(
      { ...n },
      {
        provider: "prov",
        name: "probe",
        pc: 0x1234n,
        base: 0x9000n,
        semaphore: 0x5000n,
        args: "8@%rdi -4@%esi",
        noteOffset: 20,
      },
    );
  });

  test("hostile notes are ELFErrors naming .note.stapsdt and the offset", () => {
    const bad: [Uint8Array, RegExp][] = [
      [good.subarray(0, 10), /truncated note header: 10 bytes left, 12 needed/],
      [good.subarray(0, good.length - 8), /runs past the section/],
      [note(desc(1n, 2n, 3n, "")), /descriptor of 24 bytes/],
      [note(desc(1n, 2n, 3n, "prov\0probe\0args")), /argument string is not NUL-terminated/],
      [note(desc(1n, 2n, 3n, "provider-without-end")), /provider is not NUL-terminated/],
    ];
    for (const [bytes, re] of bad) {
      assert.throws(
        () => parseStapsdtNotes(bytes),
        (e: unknown) =>
          e instanceof ELFError &&
          e.section === ".note.stapsdt" &&
          e.offset === 0 &&
          re.test(e.message),
        String(re),
      );
    }
    // A huge descsz must be caught before anything is read.
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    assert.throws(() => parseStapsdtNotes(huge), /runs past the section/);
  });
});

const python = existsSync("/usr/bin/python3") ? realpathSync("/usr/bin/python3") : undefined;

describe("USDT probes of Debian's python3", {
  skip: python ? false : "no /usr/bin/python3",
}, () => {
  test("python:function__entry: site, semaphore and arguments", () => {
    const elf = parseELF(new Uint8Array(readFileSync(python as string)));
    const all = usdtProbes(elf);
    const names = all.map((p) => `${p.provider}:${p.name}`);
    for (const n of ["function__entry", "function__return", "gc__start", "gc__done", "line"]) {
      assert.ok(names.includes(`python:${n}`), `${n} in ${names}`);
    }
    const [entry, none] = usdtProbes(elf, { provider: "python", name: "function__entry" });
    assert.equal(none, undefined);
    assert.ok(entry);
    assert.equal(entry.address, entry.pc); // not prelinked
    assert.notEqual(entry.semaphore, 0n);
    // The site's bytes are the nop sys/sdt.h puts there.
    assert.equal(elf.bytes[Number(entry.fileOffset)], 0x90);
    const seg = elf.segments.find(
      (s) =>
        s.type === 1 &&
        BigInt(s.vaddr) <= entry.semaphoreAddress &&
        entry.semaphoreAddress < BigInt(s.vaddr + s.filesz),
    );
    assert.ok(seg && (seg.flags & 2) !== 0, "the semaphore is in a writable segment");
    assert.deepEqual(
      entry.argSpecs.map((a) => [a.kind, a.size, a.signed]),
      [
        [UsdtArgKind.REG, 8, false],
        [UsdtArgKind.REG, 8, false],
        [UsdtArgKind.REG, 4, true],
      ],
    );
  });
});

describe("hostile notes and arguments: typed errors only", () => {
  /** A small deterministic generator, so a failure reproduces. */
  function lcg(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }
  const notes = new Uint8Array([
    ...note(desc(0x1000n, 0x2000n, 0x3000n, "python\0gc__start\0-4@112(%rsp)\0")),
    ...note(desc(0x1100n, 0x2000n, 0n, "python\0line\x008@%r14 8@%rax -4@%ebp\0")),
  ]);

  test("every truncation and 2000 random byte changes of two notes", () => {
    const expectTyped = (bytes: Uint8Array) => {
      try {
        parseStapsdtNotes(bytes);
      } catch (e) {
        assert.ok(e instanceof ELFError, `untyped ${(e as Error).stack}`);
      }
    };
    for (let n = 0; n <= notes.length; n++) expectTyped(notes.subarray(0, n));
    const rnd = lcg(15);
    for (let i = 0; i < 2000; i++) {
      const b = notes.slice();
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      }
      expectTyped(b);
    }
  });

  test("2000 random changes of argument strings", () => {
    const rnd = lcg(3);
    const alphabet = "-+0123456789@%$(),[]#xrabcdeilpsw ";
    const base = "-4@112(%rsp) 8@%r14 4@$-5 8@(%rdi)";
    for (let i = 0; i < 2000; i++) {
      const chars = [...base];
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) {
        chars[Math.floor(rnd() * chars.length)] = alphabet[
          Math.floor(rnd() * alphabet.length)
        ] as string;
      }
      try {
        parseUsdtArgs(chars.join(""), P);
      } catch (e) {
        assert.ok(e instanceof UsdtArgError, `untyped for "${chars.join("")}": ${e}`);
      }
    }
  });
});
