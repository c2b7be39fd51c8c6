import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readLdSoCache, resolveBinary } from "./uprobe-library.ts";
import { functionOffset, functionSymbols } from "./uprobe-symbols.ts";

const hasCache = existsSync("/etc/ld.so.cache");

test("ld.so.cache names libc", { skip: !hasCache && "no /etc/ld.so.cache" }, () => {
  const cache = readLdSoCache();
  assert.ok(cache.size > 0);
  assert.match(cache.get("libc.so.6") ?? "", /\/libc\.so\.6$/);
});

test("library and program names resolve to paths", { skip: !hasCache && "no cache" }, () => {
  const libc = resolveBinary("libc.so.6");
  assert.match(libc, /libc\.so\.6$/);
  assert.equal(resolveBinary("c"), libc);
  assert.equal(resolveBinary("libc"), libc);
  assert.match(resolveBinary("sh"), /\/sh$/);
  assert.throws(() => resolveBinary("libnope-tsbpf.so"), /cannot find library libnope-tsbpf\.so/);
  assert.throws(() => resolveBinary("/nope/x"), /does not exist/);
});

test("libc's getpid: one function in .dynsym, file offset inside the file", {
  skip: !hasCache && "no cache",
}, () => {
  const libc = resolveBinary("libc.so.6");
  const all = functionSymbols(libc);
  const syms = all.filter((s) => s.name === "getpid");
  assert.ok(syms.length >= 1);
  assert.ok(syms.every((s) => !s.ifunc));
  // glibc picks strlen's implementation for the CPU: the symbol is its resolver.
  assert.ok(all.some((s) => s.name === "strlen" && s.ifunc));
  assert.ok(syms.some((s) => s.table === ".dynsym"));
  const off = functionOffset(libc, "getpid");
  assert.ok(off > 0n);
  assert.throws(() => functionOffset(libc, "tsbpf_no_such_function"), /has no function named/);
  // a file of text (made here: /etc/hostname is not on every machine, e.g. the qemu guests)
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-uprobe-"));
  try {
    writeFileSync(join(dir, "text"), "tsbpf-guest\n");
    assert.throws(() => functionSymbols(join(dir, "text")), /is not an ELF file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
