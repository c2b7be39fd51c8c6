/**
 * `tsbpf prog` and `tsbpf btf` side by side with bpftool on the same kernel objects:
 * a program compiled from C (maps, a bpf-to-bpf call, helpers, BTF line info) loaded by
 * bpftool, and programs loaded by tsbpf from assembly and raw bytes. Plain and JSON
 * output must match bpftool's except for load times; nothing may leak a descriptor or
 * leave a pin behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  assertSameRun,
  bpftool,
  compareSkip,
  compareWithBpftool,
  fdSnapshot,
  pinDir,
  type Run,
  tsbpf,
} from "./cli-run.ts";

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } config SEC(".maps");
static __attribute__((noinline)) int bump(__u32 k) {
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return v ? 1 : 0;
}
SEC("xdp") int tsbpf_cli_test_program_with_long_name(struct xdp_md *ctx) {
  __u32 zero = 0;
  __u32 *mode = bpf_map_lookup_elem(&config, &zero);
  int r = bump(bpf_get_prandom_u32() & 7);
  if (mode && *mode == 1) return XDP_DROP;
  return r ? XDP_PASS : XDP_TX;
}
char LICENSE[] SEC("license") = "GPL";
`;

const clang = spawnSync("clang-19", ["--version"]).status === 0;
const skip =
  compareSkip || (!clang && "clang-19 is not installed (needed to build the test program)");

let work = "";
let pins = { dir: "", cleanup: () => {} };
let elfPin = "";
let asmPin = "";
let progId = 0;

const same = (t: Run, b: Run, what: string) => assertSameRun(t, b, what, { normalise: true });

const compare = (...args: string[]) => compareWithBpftool(args, { normalise: true });

before(() => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "tsbpf-cli-prog-"));
  pins = pinDir("prog");
  writeFileSync(join(work, "t.bpf.c"), SOURCE);
  const cc = spawnSync(
    "clang-19",
    [
      "-g",
      "-O2",
      "-target",
      "bpf",
      "-I/usr/include/x86_64-linux-gnu",
      "-c",
      "t.bpf.c",
      "-o",
      "t.bpf.o",
    ],
    { cwd: work, encoding: "utf8" },
  );
  assert.equal(cc.status, 0, cc.stderr);
  elfPin = join(pins.dir, "elf");
  const l = bpftool("prog", "load", join(work, "t.bpf.o"), elfPin);
  assert.equal(l.code, 0, l.stderr);
  progId = JSON.parse(bpftool("-j", "prog", "show", "pinned", elfPin).stdout).id;
});

after(() => {
  pins.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("prog show: same as bpftool for a program loaded from C, by id, pin, name and tag", {
  skip,
}, async () => {
  const before = fdSnapshot();
  const info = JSON.parse(bpftool("-j", "prog", "show", "id", String(progId)).stdout);
  // The kernel keeps 15 characters of the name; both print the full one from BTF.
  assert.equal(info.name, "tsbpf_cli_test_program_with_long_name");
  await compare("prog", "show", "id", String(progId));
  await compare("prog", "show", "pinned", elfPin);
  await compare("prog", "show", "name", info.name);
  await compare("prog", "show", "tag", info.tag);
  await compare("p", "s", "i", String(progId));
  same(
    await tsbpf("-f", "prog", "show", "id", String(progId)),
    bpftool("-f", "prog", "show", "id", String(progId)),
    "-f",
  );
  same(
    await tsbpf("-jf", "prog", "show", "id", String(progId)),
    bpftool("-jf", "prog", "show", "id", String(progId)),
    "-jf",
  );
  assert.deepEqual(fdSnapshot(), before);
});

test("prog dump xlated: same as bpftool, with opcodes, linum, JSON, and to a file", {
  skip,
}, async () => {
  const before = fdSnapshot();
  const id = String(progId);
  await compare("prog", "dump", "xlated", "id", id);
  await compare("prog", "dump", "xlated", "id", id, "opcodes");
  await compare("prog", "dump", "xlated", "id", id, "linum");
  await compare("prog", "d", "x", "pinned", elfPin, "op");
  const t = join(work, "t.bin");
  const b = join(work, "b.bin");
  same(
    await tsbpf("prog", "dump", "xlated", "id", id, "file", t),
    bpftool("prog", "dump", "xlated", "id", id, "file", b),
    "file",
  );
  assert.deepEqual(readFileSync(t), readFileSync(b));
  const text = (await tsbpf("prog", "dump", "xlated", "id", id)).stdout;
  assert.match(text, /call pc\+\d+#bpf_prog_[0-9a-f]+_bump/); // bpf-to-bpf call, named from kallsyms
  assert.match(text, /r1 = map\[id:\d+\]/);
  assert.match(text, /^int tsbpf_cli_test_program_with_long_name\(struct xdp_md \* ctx\):$/m);
  assert.deepEqual(fdSnapshot(), before);
});

test("prog load from assembly and from raw bytes (a dump loads again)", { skip }, async () => {
  const before = fdSnapshot();
  const asm = join(work, "ret2.s");
  writeFileSync(asm, "r0 = 2\nexit\n");
  asmPin = join(pins.dir, "asm");
  const l = await tsbpf("prog", "load", asm, asmPin, "type", "xdp");
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, "");
  const show = JSON.parse((await tsbpf("-j", "prog", "show", "pinned", asmPin)).stdout);
  assert.equal(show.type, "xdp");
  assert.equal(show.name, "ret2");
  await compare("prog", "show", "pinned", asmPin);
  await compare("prog", "dump", "xlated", "pinned", asmPin, "opcodes");

  // The raw bytes of a dump load again.
  const raw = join(work, "raw.bin");
  await tsbpf("prog", "dump", "xlated", "pinned", asmPin, "file", raw);
  const rawPin = join(pins.dir, "raw");
  const r = await tsbpf("-j", "prog", "load", raw, rawPin, "type", "socket");
  assert.equal(r.stdout, "null\n");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    JSON.parse((await tsbpf("-j", "prog", "show", "pinned", rawPin)).stdout).type,
    "socket_filter",
  );

  // ELF objects load too (test/cli-prog-elf.test.ts compares them with bpftool).
  const elf = await tsbpf("prog", "load", join(work, "t.bpf.o"), join(pins.dir, "elf2"));
  assert.equal(elf.code, 0, elf.stderr);
  const bad = join(work, "bad.s");
  writeFileSync(bad, "r0 = 2\n");
  const v = await tsbpf("prog", "load", bad, join(pins.dir, "nope"));
  assert.equal(v.code, 255);
  assert.match(v.stderr, /last insn is not an exit or jmp/);
  const syntax = join(work, "syntax.s");
  writeFileSync(syntax, "r0 = \n");
  assert.match(
    (await tsbpf("prog", "load", syntax, join(pins.dir, "nope"))).stderr,
    /line 1, column \d+/,
  );
  assert.deepEqual(fdSnapshot(), before);
});

test("prog run: bpftool's output, exit codes and data dump", { skip }, async () => {
  const before = fdSnapshot();
  const pkt = join(work, "pkt.bin");
  writeFileSync(
    pkt,
    Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
  );
  for (const extra of [
    ["data_out", "-"],
    ["repeat", "10"],
    ["data_out", "-", "repeat", "5"],
  ]) {
    await compare("prog", "run", "pinned", elfPin, "data_in", pkt, ...extra);
    await compare("prog", "run", "pinned", asmPin, "data_in", pkt, ...extra);
  }
  const plain = (await tsbpf("prog", "run", "pinned", asmPin, "data_in", pkt)).stdout;
  assert.match(plain, /^Return value: 2, duration: \d+ns\n$/);
  const out = join(work, "out.bin");
  await tsbpf("prog", "run", "pinned", asmPin, "data_in", pkt, "data_out", out);
  assert.deepEqual(readFileSync(out), readFileSync(pkt));
  await compare("prog", "run", "pinned", asmPin, "data_in", join(work, "missing"));
  await compare("prog", "run", "pinned", asmPin, "data_in", pkt, "d", out);
  await compare("prog", "run", "pinned", asmPin, "data_in", pkt, "bogus", "1");

  // Hostile sizes: a u32 field parsed with a range check, a huge but valid size costs
  // no huge buffer (the kernel writes what the program produced), devices are refused.
  const huge = await tsbpf(
    "prog",
    "run",
    "pinned",
    asmPin,
    "data_in",
    pkt,
    "data_size_out",
    "99999999999999999999",
  );
  assert.equal(huge.code, 255);
  assert.equal(
    huge.stderr,
    "Error: can't parse 99999999999999999999 as output data size: out of range (0 to 4294967295)\n",
  );
  const rss = process.memoryUsage().rss;
  const max = await tsbpf(
    "prog",
    "run",
    "pinned",
    asmPin,
    "data_in",
    pkt,
    "data_out",
    out,
    "data_size_out",
    "4294967295",
  );
  assert.equal(max.code, 0, max.stderr);
  assert.deepEqual(readFileSync(out), readFileSync(pkt));
  assert.ok(process.memoryUsage().rss - rss < 256 << 20, "no 4 GiB output buffer");
  const dev = await tsbpf("prog", "run", "pinned", asmPin, "data_in", "/dev/zero");
  assert.equal(
    dev.stderr,
    "Error: failed to open /dev/zero: is a character device, not a regular file\n",
  );
  assert.deepEqual(fdSnapshot(), before);
});

test("prog pin: pins what a selector names; errors as bpftool", { skip }, async () => {
  const before = fdSnapshot();
  const p = join(pins.dir, "again");
  const r = await tsbpf("prog", "pin", "id", String(progId), p);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(bpftool("-j", "prog", "show", "pinned", p).stdout).id, progId);
  same(
    await tsbpf("prog", "pin", "id", String(progId), p),
    bpftool("prog", "pin", "id", String(progId), p),
    "pin twice",
  );
  same(
    await tsbpf("prog", "pin", "id", String(progId)),
    bpftool("prog", "pin", "id", String(progId)),
    "too few",
  );
  assert.deepEqual(fdSnapshot(), before);
});

test("btf show: the program's BTF with its programs and maps, as bpftool", { skip }, async () => {
  const btfId = JSON.parse(bpftool("-j", "prog", "show", "id", String(progId)).stdout).btf_id;
  assert.ok(btfId > 0);
  await compare("btf", "show", "id", String(btfId));
  await compare("btf", "show", "id", "1");
  const list = await tsbpf("btf", "list");
  assert.match(list.stdout, /^1: name \[vmlinux\] {2}size \d+B$/m);
});
