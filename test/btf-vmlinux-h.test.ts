/**
 * A vmlinux.h written by tsbpf compiles with clang-19, and a CO-RE program
 * (BPF_CORE_READ, field/type/enum relocations) builds against it; its .BTF.ext holds
 * the CO-RE relocations the program asked for.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CoreReloKind, dumpC, parseBTF, parseBTFExt } from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const DATA = join(import.meta.dirname, "testdata", "btf");
const hasClang = spawnSync("clang-19", ["--version"]).status === 0;
const hasLibbpf = existsSync("/usr/include/bpf/bpf_core_read.h");
const skip = !existsSync(VMLINUX)
  ? "no /sys/kernel/btf/vmlinux"
  : !hasClang
    ? "clang-19 is not installed"
    : !hasLibbpf
      ? "libbpf-dev headers (bpf/bpf_core_read.h) are not installed"
      : false;

test("vmlinux.h from dumpC compiles and a CO-RE program builds against it", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-vmlinux-h-"));
  try {
    const btf = parseBTF(new Uint8Array(readFileSync(VMLINUX)));
    writeFileSync(join(dir, "vmlinux.h"), dumpC(btf));
    const obj = join(dir, "core.bpf.o");
    const r = spawnSync(
      "clang-19",
      [
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-Werror",
        `-I${dir}`,
        "-I/usr/include/x86_64-linux-gnu",
        "-c",
        join(DATA, "core.bpf.c"),
        "-o",
        obj,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, `clang-19 failed:\n${r.stderr}`);

    const elf = parseELF(new Uint8Array(readFileSync(obj)));
    const own = parseBTF(elf.sections.find((s) => s.name === ".BTF")!.data);
    const ext = parseBTFExt(elf.sections.find((s) => s.name === ".BTF.ext")!.data, own);
    const relos = ext.coreRelos.get("tracepoint/syscalls/sys_enter_openat") ?? [];
    const kinds = new Set(relos.map((r) => r.kind));
    for (const k of [
      CoreReloKind.FIELD_BYTE_OFFSET,
      CoreReloKind.FIELD_EXISTS,
      CoreReloKind.TYPE_EXISTS,
      CoreReloKind.TYPE_SIZE,
      CoreReloKind.ENUMVAL_EXISTS,
      CoreReloKind.ENUMVAL_VALUE,
    ]) {
      assert.ok(kinds.has(k), `a CO-RE relocation of kind ${k}`);
    }
    // Every relocation's root type is the local struct/enum it names.
    for (const r of relos) {
      const t = own.resolve(r.typeId);
      assert.ok(
        ["STRUCT", "UNION", "ENUM", "ENUM64"].includes(t.kind),
        `${t.kind} for ${r.accessStr}`,
      );
      assert.match(r.accessStr, /^\d+(:\d+)*$/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
