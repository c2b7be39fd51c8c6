/**
 * tsbpf's BTF dumps against bpftool's, line by line: `format c` (vmlinux.h) and
 * `format raw`, on the running kernel's BTF and on clang objects' BTF.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type BTF, dumpC, dumpRaw, parseBTF } from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";
import { assertSameLines } from "./btf-compare.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const DATA = join(import.meta.dirname, "testdata", "btf");
const OBJECTS = ["kitchen.bpf.o", "core.bpf.o"];

const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const noBpftool = hasBpftool ? false : "bpftool is not installed";

/** bpftool's output for `btf dump file F [-B base] format FMT`. */
function bpftool(file: string, format: "c" | "raw", base?: string): string {
  const args = ["btf", "dump", "file", file, ...(base ? ["-B", base] : []), "format", format];
  return execFileSync("bpftool", args, { maxBuffer: 1 << 30, encoding: "utf8" });
}

function objectBTF(name: string): BTF {
  const elf = parseELF(new Uint8Array(readFileSync(join(DATA, name))));
  const sec = elf.sections.find((s) => s.name === ".BTF");
  assert.ok(sec, `${name} has a .BTF section`);
  return parseBTF(sec.data);
}

describe("btf dump vs bpftool on vmlinux", {
  skip: noBpftool || (!existsSync(VMLINUX) && "no vmlinux BTF"),
}, () => {
  const btf = existsSync(VMLINUX) ? parseBTF(new Uint8Array(readFileSync(VMLINUX))) : undefined;

  test("format c is identical", () => {
    assertSameLines(dumpC(btf as BTF), bpftool(VMLINUX, "c"), "format c of vmlinux");
  });

  test("format raw is identical", () => {
    assertSameLines(dumpRaw(btf as BTF), bpftool(VMLINUX, "raw"), "format raw of vmlinux");
  });
});

describe("btf dump vs bpftool on clang objects", { skip: noBpftool }, () => {
  for (const name of OBJECTS) {
    test(`${name}: format c is identical`, () => {
      assertSameLines(
        dumpC(objectBTF(name)),
        bpftool(join(DATA, name), "c"),
        `format c of ${name}`,
      );
    });
    test(`${name}: format raw is identical`, () => {
      assertSameLines(
        dumpRaw(objectBTF(name)),
        bpftool(join(DATA, name), "raw"),
        `format raw of ${name}`,
      );
    });
  }
});

describe("C dump without bpftool", () => {
  test("kitchen.bpf.o: packed, padding, bitfields, enums, function pointers", () => {
    const c = dumpC(objectBTF("kitchen.bpf.o"), { header: false });
    for (const line of [
      "} __attribute__((packed));",
      "\tunsigned long long d: 40;",
      "\tlong: 64;",
      "\tBIG_B = 18446744073709551615ULL,",
      "\tSB_A = -4294967296LL,",
      "\tvoid (*cb[2])(struct nested *, enum color);",
      "\tint (* (*fpp)(int))[3];",
      "typedef int (*handler_t)(void *, int, ...);",
      '\tint __attribute__((btf_type_tag("user"))) *tagged;',
      "struct cyc_b;",
    ]) {
      assert.ok(c.includes(line), `the dump has ${JSON.stringify(line)}`);
    }
    assert.ok(!c.startsWith("#ifndef"), "no header when header: false");
  });
});
