/**
 * `tsbpf vm` as a subprocess: exit codes, what it prints, and the one-line reasons of
 * programs that cannot run (bad hex, odd length, empty program, out-of-bounds access);
 * division by zero is defined (0) and exits 0. Needs no root.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "src/cli/main.ts");

function vm(stdin: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, "vm", ...args], {
    cwd: ROOT,
    input: stdin,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, exit 1, nothing on stdout. */
function fails(r: ReturnType<typeof vm>, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

const work = mkdtempSync(join(tmpdir(), "tsbpf-vm-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("tsbpf vm run < PROGRAM", () => {
  test("prints r0 in lowercase hex without padding", () => {
    const r = vm("b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n", "run");
    assert.deepEqual(r, { code: 0, stdout: "0x2a\n", stderr: "" });
  });
  test("all 64 bits of r0", () => {
    // r0 = -1 (64-bit); exit
    assert.equal(vm("b7000000ffffffff9500000000000000", "run").stdout, "0xffffffffffffffff\n");
  });
  test("--mem: r1 points at the bytes, r2 holds their length", () => {
    // r0 = *(u32 *)(r1 + 0); r0 += r2; exit
    const prog = "6110000000000000 0f20000000000000 9500000000000000";
    assert.equal(vm(prog, "run", "--mem", "01 00 00 10 ff").stdout, "0x10000006\n");
  });
  test("division by zero is 0, modulo by zero leaves the dividend; exit 0", () => {
    // r0 = 7; r0 /= 0; exit
    assert.equal(vm("b700000007000000 3700000000000000 9500000000000000", "run").stdout, "0x0\n");
    // r0 = 7; r0 %= 0; exit
    assert.equal(vm("b700000007000000 9700000000000000 9500000000000000", "run").stdout, "0x7\n");
  });
  test("bad hex names the character", () => fails(vm("b7 0g", "run"), /'g' is not a hex digit/));
  test("an odd number of digits", () => fails(vm("b70", "run"), /odd number of hex digits/));
  test("an empty program", () => fails(vm(" \n", "run"), /empty/));
  test("a length that is not whole instructions", () =>
    fails(vm("b700000007000000 95", "run"), /not a whole number of 8-byte instructions/));
  test("out-of-bounds access names the instruction and the region", () =>
    fails(
      vm("6110080000000000 9500000000000000", "run", "--mem", "00112233"),
      /instruction 0 .*invalid read of 4 bytes .*byte 8\.\.12 of input memory/,
    ));
  test("a program without exit", () =>
    fails(vm("b700000007000000", "run"), /last instruction must be exit or a jump/));
  test("bad --mem hex", () =>
    fails(vm("9500000000000000", "run", "--mem", "0x12"), /--mem: 'x' is not a hex digit/));
  test("--elf runs the object's first program", () => {
    const hex = readFileSync(join(ROOT, "test/testdata/elf/map-in-map.bpf.o")).toString("hex");
    assert.deepEqual(vm(hex, "run", "--elf"), { code: 0, stdout: "0x1\n", stderr: "" });
  });
  test("--elf with bytes that are not an ELF object", () =>
    fails(vm("0011223344556677", "run", "--elf"), /ELF/));
});

describe("tsbpf vm run OBJ PROG / vm load OBJ", () => {
  const obj = join(ROOT, "test/testdata/elf/map-in-map.bpf.o");
  test("run mirrors prog run's output", () => {
    const data = join(work, "pkt");
    writeFileSync(data, new Uint8Array(64));
    const r = vm("", "run", obj, "tail_b", "data_in", data, "repeat", "10");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Return value: 2, duration \(average\): \d+ns\n$/);
    const one = vm("", "run", obj, "entry", "data_in", data, "data_out", "-");
    assert.match(one.stdout, /^0000000\t0000 0000 /);
    assert.match(one.stdout, /Return value: 0, duration: \d+ns\n$/);
  });
  test("a tracepoint program takes its raw record as data_in", () => {
    const rec = join(work, "record");
    writeFileSync(rec, new Uint8Array(64));
    const tp = join(ROOT, "examples/open-load-attach/open-load-attach.bpf.o");
    const r = vm("", "run", tp, "count_openat", "data_in", rec);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Return value: 0, duration: \d+ns\n$/);
  });
  test("an XDP program without data_in says the packet is required", () => {
    const xdp = join(ROOT, "test/testdata/elf/xdp-maps.bpf.o");
    const r = vm("", "run", xdp, "xdp_count");
    assert.equal(r.code, 255);
    assert.match(r.stderr, /data \(the packet\) is required.*without data_in \(EINVAL\)/);
  });
  test("run names a missing program and what the object has", () => {
    const r = vm("", "run", obj, "nope", "data_in", "/dev/null");
    assert.equal(r.code, 255);
    assert.match(r.stderr, /no program "nope" .*tail_a, tail_b, entry/);
  });
  test("load lists programs and maps", () => {
    const r = vm("", "load", obj);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^prog entry {2}type sched_cls {2}insns \d+$/m);
    assert.match(
      r.stdout,
      /^map outer {2}type array_of_maps {2}key 4B {2}value 4B {2}max_entries 4$/m,
    );
    const j = spawnSync(process.execPath, ["--import", "tsx", MAIN, "-j", "vm", "load", obj], {
      encoding: "utf8",
    });
    const parsed = JSON.parse(j.stdout) as { programs: { name: string }[]; maps: unknown[] };
    assert.deepEqual(
      parsed.programs.map((p) => p.name),
      ["tail_a", "tail_b", "entry"],
    );
    assert.equal(parsed.maps.length, 5);
  });
  test("load of a file that is not an object fails with the reason", () => {
    const bad = join(work, "bad.o");
    writeFileSync(bad, "not elf");
    const r = vm("", "load", bad);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /^Error: failed to load .*bad\.o: /);
  });
  test("--mem without its value is a tsbpf error: `Error: ...`, exit 255", () => {
    const r = vm("9500000000000000", "run", "--mem");
    assert.equal(r.code, 255, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "Error: option '--mem <hex>' argument missing\n");
  });
  test("--mem belongs to vm run only", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", MAIN, "prog", "show", "--mem", "00"],
      {
        encoding: "utf8",
      },
    );
    assert.notEqual(r.status, 0);
  });
});
