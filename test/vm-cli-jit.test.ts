/**
 * `tsbpf vm run ... [jit|interpret]` as a subprocess: both engines print the same r0,
 * the same `Return value` line shape and the same one-line fault; the engine word is
 * only taken last. Needs no root.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";

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

const work = mkdtempSync(join(tmpdir(), "tsbpf-vm-cli-jit-"));
after(() => rmSync(work, { recursive: true, force: true }));

// r0 = 0; r1 = 0; loop: r0 += r1; r1 += 1; if r1 < 1000 goto loop; exit
const SUM =
  "b700000000000000 b701000000000000 0f10000000000000 0701000001000000 a501fdffe8030000 9500000000000000";

test("vm run < PROGRAM: jit, interpret and the default agree", () => {
  for (const engine of [[], ["jit"], ["interpret"]]) {
    const r = vm(SUM, "run", ...engine);
    assert.deepEqual(r, { code: 0, stdout: "0x79f2c\n", stderr: "" }, engine.join(""));
  }
});

test("vm run < PROGRAM: a fault is the same line in both engines", () => {
  // r0 = *(u64 *)(r10 + 0); exit
  const prog = "79a0000000000000 9500000000000000";
  const a = vm(prog, "run", "jit");
  const b = vm(prog, "run", "interpret");
  assert.equal(a.code, 1);
  assert.equal(a.stderr, b.stderr);
  assert.match(a.stderr, /instruction 0 .*invalid read of 8 bytes/);
});

test("vm run OBJ PROG ... repeat N jit|interpret", () => {
  const obj = join(ROOT, "test/testdata/elf/map-in-map.bpf.o");
  const data = join(work, "pkt");
  writeFileSync(data, new Uint8Array(64));
  const lines = ["jit", "interpret"].map((e) => {
    const r = vm("", "run", obj, "tail_b", "data_in", data, "repeat", "10", e);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.replace(/\d+ns/, "Nns");
  });
  assert.equal(lines[0], lines[1]);
  assert.match(lines[0]!, /^Return value: \d+, duration \(average\): Nns\n$/);
  // Not a word the OBJ form knows in the middle.
  const r = vm("", "run", obj, "tail_b", "jit", "data_in", data);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /expected no more arguments.*got: 'jit'/);
});
