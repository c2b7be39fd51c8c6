/**
 * Hostile input files for the commands that read a user's file: a device that never
 * ends, a FIFO that pours in more than any format allows, a directory. Each must end
 * within 2 s with one line naming the path (issue 9, item 4). No kernel needed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputFileError, readInputFile } from "../src/kernel/input-file.ts";
import { tsbpf } from "./cli-run.ts";
import { scaled } from "./support/time.ts";

const OBJ = "examples/xdp-count/xdp-count.bpf.o";
const work = mkdtempSync(join(tmpdir(), "tsbpf-hostile-"));
after(() => rmSync(work, { recursive: true, force: true }));

async function timed(...args: string[]) {
  const t0 = performance.now();
  const r = await tsbpf(...args);
  return { ...r, ms: performance.now() - t0 };
}

for (const dev of ["/dev/zero", "/dev/urandom"]) {
  for (const [args, prefix] of [
    [["btf", "dump", "file", dev], `failed to load BTF from ${dev}`],
    [["btf", "dump", "file", dev, "format", "c"], `failed to load BTF from ${dev}`],
    [["gen", "types", dev], `failed to open BPF object file ${dev}`],
    [["vm", "load", dev], `failed to open ${dev}`],
    [["vm", "run", dev, "xdp_count"], `failed to open ${dev}`],
    [["vm", "run", OBJ, "xdp_count", "data_in", dev], `failed to open ${dev}`],
  ] as const) {
    test(`${args.join(" ")}: refused at once, naming the file`, async () => {
      const r = await timed(...args);
      assert.ok(r.ms < scaled(2000), `took ${r.ms} ms`);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr, `Error: ${prefix}: is a character device, not a regular file\n`);
    });
  }
}

test("a directory is refused as one", async () => {
  const r = await tsbpf("vm", "load", work);
  assert.equal(r.stderr, `Error: failed to open ${work}: is a directory, not a regular file\n`);
});

test("readInputFile: a FIFO is read, up to the cap", async () => {
  const fifo = join(work, "fifo");
  const mk = spawn("mkfifo", [fifo]);
  await new Promise((r) => mk.on("exit", r));
  // A writer that pours 8 MiB into the FIFO; the reader's cap is 1 MiB.
  const writer = spawn("sh", ["-c", `head -c 8388608 /dev/zero > ${fifo}`]);
  const t0 = performance.now();
  assert.throws(
    () => readInputFile(fifo, 1 << 20, "packet"),
    (e: unknown) =>
      e instanceof InputFileError &&
      e.message === `${fifo}: larger than 1 MiB, the most a packet may be`,
  );
  assert.ok(performance.now() - t0 < scaled(2000), `took ${performance.now() - t0} ms`);
  writer.kill();
  await new Promise((r) => writer.on("exit", r));
  // Under the cap it is read whole.
  const small = spawn("sh", ["-c", `printf abc > ${fifo}`]);
  assert.deepEqual(readInputFile(fifo, 1 << 20), new TextEncoder().encode("abc"));
  await new Promise((r) => small.on("exit", r));
});

test("readInputFile: a regular file larger than the cap is refused before reading", () => {
  assert.throws(() => readInputFile(OBJ, 100, "BPF object"), {
    name: "InputFileError",
    message: `${OBJ}: larger than 100 bytes, the most a BPF object may be`,
  });
  assert.throws(() => readInputFile(join(work, "none"), 100), { code: "ENOENT" });
});
