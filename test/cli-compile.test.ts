/**
 * `tsbpf compile`: a .bpf.c (with a header beside it and -D) becomes an object the VM
 * runs and, as root, the kernel loads; clang's errors come out as file:line:column with
 * exit code 255; usage errors name what is wrong.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { defaultOutput } from "../src/cli/compile/compile-file.ts";
import { findClang } from "../src/compile/index.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/index.ts";
import { VirtualMachine } from "../src/vm/index.ts";
import { tsbpf } from "./cli-run.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = (await findClang().catch(() => undefined)) ? false : "no clang >= 14 on this machine";
const TMP = mkdtempSync(join(tmpdir(), "tsbpf-cli-compile-"));
const savedCache = process.env.XDG_CACHE_HOME;
before(() => {
  // The CLI's default cache directory, kept out of the home directory.
  process.env.XDG_CACHE_HOME = join(TMP, "cache");
});
after(() => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  rmSync(TMP, { recursive: true, force: true });
});

const SOURCE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "answer.h"

SEC("xdp")
int answer(struct xdp_md *ctx)
{
	return ANSWER + BONUS;
}

char LICENSE[] SEC("license") = "GPL";
`;

function project(name: string): string {
  const dir = join(TMP, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "answer.h"), "#define ANSWER 40\n");
  writeFileSync(join(dir, "answer.bpf.c"), SOURCE);
  return join(dir, "answer.bpf.c");
}

test("compile FILE -D: writes FILE.bpf.o beside it, an object the VM runs and the kernel loads", {
  skip,
}, async (t) => {
  const file = project("ok");
  const r = await tsbpf("compile", file, "-D", "BONUS=2");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "");
  const out = join(TMP, "ok", "answer.bpf.o");
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(out)));
  using vm = VirtualMachine.load(spec);
  assert.equal(vm.program("answer").run({ data: new Uint8Array(64) }).retval, 42);
  if (kernelSkip) {
    t.diagnostic(`kernel load skipped: ${kernelSkip}`);
    return;
  }
  using coll = Collection.load(spec);
  assert.equal(coll.program("answer").run({ data: new Uint8Array(64) }).retval, 42);
});

test("compile -o OUT -DBONUS, and -j reports the output and the cache", { skip }, async () => {
  const file = project("json");
  const out = join(TMP, "json", "elsewhere.o");
  const first = await tsbpf("-j", "compile", file, "-o", out, "-DBONUS");
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { file, output: out, cached: false, diagnostics: [] });
  assert.ok(existsSync(out));
  assert.ok(!existsSync(defaultOutput(file)));
  const again = await tsbpf("-j", "compile", file, "-o", out, "-DBONUS");
  assert.equal(JSON.parse(again.stdout).cached, true);
});

test("a compile error: clang's diagnostics at file:line:column, exit code 255, no object", {
  skip,
}, async () => {
  const file = project("bad");
  writeFileSync(file, SOURCE.replace("ANSWER + BONUS", "ANSWER +"));
  const r = await tsbpf("compile", file);
  assert.equal(r.code, 255);
  assert.match(r.stderr, new RegExp(`^${file}:8:\\d+: error: expected expression$`, "m"));
  assert.match(
    r.stderr,
    new RegExp(
      `^Error: compiling ${file} failed: ${file}:8:\\d+: error: expected expression$`,
      "m",
    ),
  );
  assert.ok(!existsSync(defaultOutput(file)));
});

test("usage errors and help", async () => {
  const none = await tsbpf("compile", "-o", "x.o");
  assert.equal(none.code, 255);
  assert.match(none.stderr, /^Error: compile: no source FILE$/m);
  const bad = await tsbpf("compile", "a.c", "-D", "1X");
  assert.match(bad.stderr, /^Error: compile: -D 1X: '1X' is not a C identifier$/m);
  const opt = await tsbpf("compile", "a.c", "--frob");
  assert.match(opt.stderr, /^Error: compile: Unknown option '--frob'$/m);
  const missing = await tsbpf("compile", join(TMP, "nope.bpf.c"));
  assert.match(missing.stderr, /^Error: cannot read .*nope\.bpf\.c: ENOENT$/m);
  const help = await tsbpf("compile", "help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: tsbpf compile FILE \[-o OUT\]/);
  assert.equal(defaultOutput("a/b.bpf.c"), "a/b.bpf.o");
  assert.equal(defaultOutput("prog"), "prog.o");
});
