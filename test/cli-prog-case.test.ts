/**
 * `tsbpf prog load CASE.json [log_level N]`: the kernel's verdict on a program given as
 * data — `verified` and exit 0, or `insn N: <error line>` and exit 1; the log when asked;
 * JSON with -j; a bad case names its field; nothing pinned or left open.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { fdSnapshot, tsbpf } from "./cli-run.ts";
import { assertFdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-case-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function caseFile(name: string, c: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof c === "string" ? c : JSON.stringify(c));
  return file;
}

const hex = (src: string) => Buffer.from(encodeProgram(assemble(src))).toString("hex");

const NULL_DEREF = {
  prog_type: "xdp",
  insns: hex(`r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    r1 = map[id:0]
    call 1
    r0 = *(u64 *)(r0 + 0)
    r0 = 0
    exit`),
  maps: [{ type: "hash", key_size: 4, value_size: 8, max_entries: 4 }],
};

describe("prog load CASE.json", { skip: kernelSkip }, () => {
  test("accepted: verified, exit 0", async () => {
    const before = fdSnapshot();
    const r = await tsbpf(
      "prog",
      "load",
      caseFile("ok.json", { prog_type: "xdp", insns: hex("r0 = 2\nexit") }),
    );
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "verified\n", ""]);
    assertFdCounts(before);
  });

  test("rejected: the error line with its instruction, exit 1", async () => {
    const before = fdSnapshot();
    const file = caseFile("null.json", NULL_DEREF);
    const r = await tsbpf("prog", "load", file);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "insn 7: R0 invalid mem access 'map_value_or_null'\n");
    assert.equal(r.stderr, "");
    assertFdCounts(before);
  });

  test("log_level prints the log before the verdict; -d is level 2", async () => {
    const file = caseFile("null.json", NULL_DEREF);
    const r = await tsbpf("prog", "load", file, "log_level", "5");
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), "insn 7: R0 invalid mem access 'map_value_or_null'");
    assert.ok(lines.includes("7: (79) r0 = *(u64 *)(r0 +0)"), r.stdout);
    assert.ok(
      lines.some((l) => /^verification time \d+ usec$/.test(l)),
      r.stdout,
    );
    const d = await tsbpf("-d", "prog", "load", file);
    assert.match(d.stdout, /; R1(_w)?=map_ptr\(/);
    for (const bad of ["0", "8", "x"]) {
      const b = await tsbpf("prog", "load", file, "log_level", bad);
      assert.equal(b.code, 255);
      assert.match(b.stderr, /log_level/);
    }
  });

  test("-j: the verdict as JSON", async () => {
    const r = await tsbpf("-j", "prog", "load", caseFile("null.json", NULL_DEREF));
    assert.equal(r.code, 1);
    const v = JSON.parse(r.stdout);
    assert.equal(v.accepted, false);
    assert.equal(v.error, "R0 invalid mem access 'map_value_or_null'");
    assert.equal(v.insn, 7);
    assert.equal(v.errno, "EACCES");
    assert.equal(v.stats.processed, 7);
    assert.equal(v.log, undefined);
    const ok = await tsbpf(
      "-j",
      "prog",
      "load",
      caseFile("ok.json", { prog_type: "xdp", insns: hex("r0 = 2\nexit") }),
      "log_level",
      "1",
    );
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.stdout).accepted, true);
    assert.equal(typeof JSON.parse(ok.stdout).log, "string");
  });

  test("a bad case names the field; a missing file says so", async () => {
    const file = caseFile("bad.json", {
      ...NULL_DEREF,
      maps: [{ ...NULL_DEREF.maps[0], type: "hashh" }],
    });
    const r = await tsbpf("prog", "load", file);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /bad\.json: maps\[0\]\.type: "hashh" is not a map type/);
    const m = await tsbpf("prog", "load", join(dir, "missing.json"));
    assert.equal(m.code, 255);
    assert.match(m.stderr, /failed to open case file/);
    const x = await tsbpf("prog", "load", file, "pinmaps", "/sys/fs/bpf/x");
    assert.equal(x.code, 255);
    assert.match(x.stderr, /only log_level N/);
  });
});
