/**
 * The pure parts of scripts/test-kernels.mjs (the kernel matrix under qemu): its command
 * line, picking Debian's newest cloud kernel package, node:test's summary, the cpio
 * archive the guest boots from, module load order and the guest's output protocol.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  cpioRecord,
  cpioTrailer,
  EXIT_MARK,
  findKernelPayload,
  formatSummary,
  initScript,
  lineWriter,
  missingParents,
  modinfoDepends,
  moduleLoadOrder,
  parseArgs,
  parseGuestOutput,
  parseTestSummary,
  pickPackage,
  READY_MARK,
  shQuote,
  UsageError,
} from "../scripts/test-kernels-lib.mjs";
import { toolSkip } from "./support/kernel.ts";

describe("parseArgs", () => {
  test("defaults: every kernel, every test", () => {
    const o = parseArgs([]);
    assert.deepEqual(o.kernels, ["6.1", "6.12", "host"]);
    assert.deepEqual(o.words, []);
    assert.equal(o.command, undefined);
  });
  test("kernel and words, in any order; all expands; duplicates drop", () => {
    const o = parseArgs(["kernel-", "--kernel", "6.12", "cli-", "--kernel=6.12,6.1"]);
    assert.deepEqual(o.kernels, ["6.12", "6.1"]);
    assert.deepEqual(o.words, ["kernel-", "cli-"]);
    assert.deepEqual(parseArgs(["--kernel", "all"]).kernels, ["6.1", "6.12", "host"]);
  });
  test("a command after --, options after it belong to the command", () => {
    const o = parseArgs(["--kernel", "6.1", "--", "node", "--version", "--kernel"]);
    assert.deepEqual(o.command, ["node", "--version", "--kernel"]);
    assert.deepEqual(o.kernels, ["6.1"]);
  });
  test("bad input names the argument", () => {
    assert.throws(() => parseArgs(["--kernel", "5.15"]), /--kernel 5\.15: unknown kernel/);
    assert.throws(() => parseArgs(["--kernel"]), UsageError);
    assert.throws(
      () => parseArgs(["--memory", "0"]),
      /--memory needs a positive whole number, got 0/,
    );
    assert.throws(() => parseArgs(["--frob"]), /unknown option --frob/);
    assert.throws(() => parseArgs(["--kernel", "6.1", "--"]), /-- needs a command/);
    assert.throws(() => parseArgs(["--", "true"]), /runs on one kernel/);
    assert.throws(() => parseArgs(["x", "--kernel", "6.1", "--", "true"]), /exclude each other/);
  });
});

test("lineWriter: whole prefixed lines, the last one on end(); no prefix passes through", () => {
  const out: string[] = [];
  const w = lineWriter("[6.1] ", (t: string) => out.push(t));
  w.write("ok 1 - a\nok 2");
  w.write(" - b\n");
  w.write("# pass 2");
  assert.deepEqual(out, ["[6.1] ok 1 - a\n", "[6.1] ok 2 - b\n"]);
  w.end();
  assert.equal(out.at(-1), "[6.1] # pass 2\n");
  const raw: string[] = [];
  const p = lineWriter("", (t: string) => raw.push(t));
  p.write("no newline");
  p.end();
  assert.deepEqual(raw, ["no newline"]);
});

test("parseArgs: --jobs takes a positive number", () => {
  assert.equal(parseArgs(["--jobs", "2"]).jobs, 2);
  assert.equal(parseArgs([]).jobs, undefined);
  assert.throws(() => parseArgs(["--jobs", "0"]), /--jobs needs a positive whole number/);
});

test("pickPackage: the newest ABI (6.1) or upstream release (6.12), numerically", () => {
  const names = [
    "linux-image-6.1.0-9-cloud-amd64-unsigned",
    "linux-image-6.1.0-57-cloud-amd64-unsigned",
    "linux-image-6.1.0-57-cloud-amd64",
    "linux-image-6.1.0-57-cloud-amd64-dbg",
    "linux-image-6.1.0-100-amd64-unsigned",
    "linux-image-6.12.99+deb12-cloud-amd64-unsigned",
    "linux-image-6.12.118+deb12-cloud-amd64-unsigned",
    "linux-image-6.12.118+deb12-amd64-unsigned",
  ];
  assert.equal(pickPackage("6.1", names), "linux-image-6.1.0-57-cloud-amd64-unsigned");
  assert.equal(pickPackage("6.12", names), "linux-image-6.12.118+deb12-cloud-amd64-unsigned");
  assert.equal(pickPackage("6.12", ["linux-image-6.1.0-5-cloud-amd64-unsigned"]), undefined);
  assert.throws(() => pickPackage("host", names), /no Debian package for kernel host/);
});

describe("parseTestSummary", () => {
  test("TAP: the last summary counts; skipped adds todo; cancelled are failures", () => {
    const tap = [
      "TAP version 13",
      "# Subtest: a",
      "    # pass 99", // a nested summary-looking line is indented: not ours
      "ok 1 - a",
      "1..1",
      "# tests 10",
      "# suites 2",
      "# pass 6",
      "# fail 1",
      "# cancelled 1",
      "# skipped 1",
      "# todo 1",
      "# duration_ms 5.2",
    ].join("\n");
    assert.deepEqual(parseTestSummary(tap), { passed: 6, failed: 2, skipped: 2 });
  });
  test("spec reporter", () => {
    const spec = "\u2139 tests 3\n\u2139 pass 2\n\u2139 fail 0\n\u2139 skipped 1\n";
    assert.deepEqual(parseTestSummary(spec), { passed: 2, failed: 0, skipped: 1 });
  });
  test("no summary: undefined, and the line says the run did not finish", () => {
    assert.equal(parseTestSummary("ok 1 - a\n# pass 1\n"), undefined);
    assert.match(formatSummary("6.1.0-57", undefined), /^KERNEL 6\.1\.0-57: no test summary/);
    assert.equal(
      formatSummary("6.12.1", { passed: 3, failed: 0, skipped: 2 }),
      "KERNEL 6.12.1: 3 passed, 0 failed, 2 skipped",
    );
  });
});

test("shQuote: plain words stay, others are single-quoted", () => {
  assert.equal(shQuote("scripts/test.mjs"), "scripts/test.mjs");
  assert.equal(shQuote("a b"), "'a b'");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote(""), "''");
});

test("cpio: records are newc, 4-byte aligned, and busybox cpio reads them back", {
  skip: toolSkip("busybox", "true"),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-cpio-"));
  try {
    const seen = new Set<string>();
    const parts: Buffer[] = [];
    for (const d of missingParents("a/b/c.txt", seen))
      parts.push(cpioRecord({ path: d, type: "dir" }));
    parts.push(
      cpioRecord({ path: "a/b/c.txt", type: "file", data: Buffer.from("hello\n"), mode: 0o600 }),
    );
    parts.push(cpioRecord({ path: "a/link", type: "symlink", data: Buffer.from("b/c.txt") }));
    parts.push(cpioTrailer());
    for (const p of parts) assert.equal(p.length % 4, 0);
    const archive = Buffer.concat(parts);
    assert.equal(archive.subarray(0, 6).toString(), "070701");
    writeFileSync(join(dir, "x.cpio"), archive);
    const r = spawnSync("busybox", ["cpio", "-i", "-d", "-F", "x.cpio"], {
      cwd: dir,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, "a/link"), "utf8"), "hello\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cpio: parents come once, before their children; a bad type is refused", () => {
  const seen = new Set<string>();
  assert.deepEqual(missingParents("/x/y/z", seen), ["x", "x/y"]);
  assert.deepEqual(missingParents("x/y/w", seen), []);
  assert.throws(
    // @ts-expect-error: a type the writer does not know
    () => cpioRecord({ path: "p", type: "fifo" }),
    /cpio entry p: unknown type fifo/,
  );
});

test("modules: depends= from .modinfo, dependencies load first, absent ones reported", () => {
  const ko = Buffer.from("\0\0license=GPL\0depends=nf_defrag_ipv4,libcrc32c\0intree=Y\0");
  assert.deepEqual(modinfoDepends(ko), ["nf_defrag_ipv4", "libcrc32c"]);
  assert.deepEqual(modinfoDepends(Buffer.from("\0depends=\0")), []);
  const deps: Record<string, string[]> = {
    veth: [],
    act_bpf: ["cls_lib"],
    cls_lib: ["base"],
    base: [],
  };
  const r = moduleLoadOrder(["veth", "act-bpf", "netkit"], (n) => deps[n]);
  assert.deepEqual(r.order, ["veth", "base", "cls_lib", "act_bpf"]);
  assert.deepEqual(r.missing, ["netkit"]);
});

test("guest protocol: the init runs the command quoted in cwd; output between the marks", () => {
  const init = initScript({
    release: "6.1.0-57-cloud-amd64",
    modules: ["kernel/drivers/net/veth.ko"],
    cwd: "/work/my repo",
    command: ["node", "scripts/test.mjs", "a b"],
  });
  assert.match(init, /^#!\/bin\/busybox sh\n/);
  assert.match(init, /insmod "\$m"/);
  assert.match(init, /\/lib\/modules\/6\.1\.0-57-cloud-amd64\/kernel\/drivers\/net\/veth\.ko/);
  assert.match(init, /cd '\/work\/my repo'/);
  assert.match(init, /\{ node scripts\/test\.mjs 'a b'; echo \$\?/);
  const text = `[boot noise]\r\n${READY_MARK}\r\nline 1\r\nline 2\r\n${EXIT_MARK}3@@\r\n`;
  assert.deepEqual(parseGuestOutput(text), { ready: true, status: 3, output: "line 1\nline 2\n" });
  assert.deepEqual(parseGuestOutput(`${READY_MARK}\npartial`), {
    ready: true,
    status: undefined,
    output: "partial",
  });
  assert.equal(parseGuestOutput("kernel panic").ready, false);
});

test("findKernelPayload: the setup header's payload offset, else the first magic", () => {
  const img = Buffer.alloc(0x2000);
  img.writeUInt32LE(0x53726448, 0x202); // "HdrS"
  img[0x1f1] = 3; // setup sectors: protected-mode code at 4 * 512
  img.writeUInt32LE(0x100, 0x248);
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]).copy(img, 0x800 + 0x100);
  Buffer.from([0x1f, 0x8b, 0x08]).copy(img, 0x300); // an earlier gzip-looking byte run
  assert.deepEqual(findKernelPayload(img), { offset: 0x900, tool: "zstd" });
  img.writeUInt32LE(0, 0x202);
  assert.deepEqual(findKernelPayload(img), { offset: 0x300, tool: "gzip" });
  assert.equal(findKernelPayload(Buffer.alloc(16)), undefined);
});
