/**
 * `tsbpf map dump|lookup` printing keys and values through the map's BTF, side by side
 * with bpftool 7.1, on the maps of a clang object loaded by `bpftool prog loadall`:
 * structs with nested structs, anonymous unions, enums, bitfields, char arrays,
 * pointers and 128-bit integers filled with random bytes; per-CPU values; global data
 * (.data, .bss, .rodata, .data.tagged) printed by variable; several maps at once.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CompositeType, parseBTF } from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";
import { bpftool, compareSkip, compareWithBpftool, fdSnapshot, pinDir, tsbpf } from "./cli-run.ts";

const OBJ = join(import.meta.dirname, "testdata", "cli", "btf-values.bpf.o");

const compare = (...args: string[]) => compareWithBpftool(args);

/** A seeded xorshift generator: failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) & 0xff;
  };
}

/** The object's `struct rich` member offsets (bytes), from its BTF. */
function richOffsets(): Record<string, number> {
  const elf = parseELF(new Uint8Array(readFileSync(OBJ)));
  const sec = elf.section(".BTF");
  assert.ok(sec);
  const rich = parseBTF(sec.data).findByName("STRUCT", "rich") as CompositeType;
  return Object.fromEntries(rich.members.map((m) => [m.name, m.bitOffset >> 3]));
}

/**
 * Random bytes, except where bpftool prints what tsbpf prints differently on purpose:
 * `'` and `\` (bpftool's JSON writer escapes them as `\'` and `\n`).
 */
function randomBytes(next: () => number, n: number): number[] {
  return Array.from({ length: n }, () => {
    const b = next();
    return b === 0x27 || b === 0x5c ? 0x41 : b;
  });
}

const hex = (bytes: readonly number[]): string[] => ["hex", ...bytes.map((b) => b.toString(16))];

describe("map dump and lookup through BTF, as bpftool", { skip: compareSkip }, () => {
  let pins = { dir: "", cleanup: () => {} };
  const map = (name: string, dir = "maps") => ["pinned", join(pins.dir, dir, name)];
  const keys: number[][] = [];

  before(() => {
    pins = pinDir("map-btf");
    for (const d of ["a", "b"]) {
      const r = bpftool(
        "prog",
        "loadall",
        OBJ,
        join(pins.dir, d),
        "pinmaps",
        join(pins.dir, d === "a" ? "maps" : "maps2"),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const off = richOffsets();
    const next = rng(0x5eed);
    for (let i = 0; i < 12; i++) {
      const key = randomBytes(next, 16);
      const value = randomBytes(next, 160);
      // An ENUM64 value with the top bit set is unsigned in tsbpf, negative in bpftool.
      value[(off.bg as number) + 7] = (value[(off.bg as number) + 7] as number) & 0x7f;
      if (i === 0) value.fill(0); // zero: empty strings, (nil), RED
      if (i === 1) {
        // A printable name, an enumerator, a pointer, a wide integer.
        value.splice(0, 16, ...Buffer.from("tsbpf-values\0\0\0\0"));
        value.splice(off.col as number, 4, 5, 0, 0, 0);
        value.splice(off.bg as number, 8, 0, 0, 0, 0, 1, 0, 0, 0);
      }
      keys.push(key);
      const r = bpftool(
        "map",
        "update",
        ...map("flows"),
        "key",
        ...hex(key),
        "value",
        ...hex(value),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    for (const [k, v] of [
      [0, "1 0 0 0 2 0 0 0"],
      [1, "255 255 255 255 0 0 0 128"],
    ] as const) {
      const r = bpftool(
        "map",
        "update",
        ...map("percpu"),
        "key",
        String(k),
        "0",
        "0",
        "0",
        "value",
        ...v.split(" "),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    for (const [k, v] of [
      ["0 0 0 0", "r e d 0 0 0 0 0".replace(/[a-z]/g, (c) => String(c.charCodeAt(0)))],
      ["5 0 0 0", "1 2 3 0 0 0 0 0"],
      ["255 255 255 255", "98 108 117 101 0 0 0 0"],
      ["9 0 0 0", "120 120 120 120 120 120 120 120"],
    ] as const) {
      const r = bpftool(
        "map",
        "update",
        ...map("names"),
        "key",
        ...k.split(" "),
        "value",
        ...v.split(" "),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    bpftool(
      "map",
      "update",
      ...map("counters"),
      "key",
      "2",
      "0",
      "0",
      "0",
      "value",
      "0xff",
      "0",
      "0",
      "0",
      "0",
      "0",
      "0",
      "0x80",
    );
  });
  after(() => pins.cleanup());

  test("dump: structs, unions, enums, bitfields, strings, pointers, int128", async () => {
    const fds = fdSnapshot();
    await compare("map", "dump", ...map("flows"));
    await compare("map", "dump", ...map("names"));
    await compare("map", "dump", ...map("counters"));
    assert.deepEqual(fdSnapshot(), fds);
  });

  test("lookup of each key, through BTF", async () => {
    const fds = fdSnapshot();
    for (const key of keys) await compare("map", "lookup", ...map("flows"), "key", ...hex(key));
    await compare("map", "lookup", ...map("names"), "key", "5", "0", "0", "0");
    await compare("map", "lookup", ...map("percpu"), "key", "1", "0", "0", "0");
    // Not found: the same message and exit code.
    await compare("map", "lookup", ...map("names"), "key", "7", "0", "0", "0");
    assert.deepEqual(fdSnapshot(), fds);
  });

  test("per-CPU values: one per CPU, by CPU number", async () => {
    await compare("map", "dump", ...map("percpu"));
  });

  test("global data: DATASEC values by variable name", async () => {
    for (const name of ["btf_valu_data", "btf_valu_bss", "btf_valu_rodata", "_data_tagged"]) {
      await compare("map", "dump", ...map(name));
    }
  });

  test("several maps at once (`name` matching two): headers and elements", async () => {
    await compare("map", "dump", "name", "names");
    await compare("map", "dump", "name", "btf_valu.data");
  });

  test("a tsbpf-created map without BTF still dumps as hex", async () => {
    const path = join(pins.dir, "plain");
    const c = await tsbpf(
      "map",
      "create",
      path,
      "type",
      "array",
      "key",
      "4",
      "value",
      "4",
      "entries",
      "2",
      "name",
      "plain",
    );
    assert.equal(c.code, 0, c.stderr);
    await compare("map", "dump", "pinned", path);
  });
});
