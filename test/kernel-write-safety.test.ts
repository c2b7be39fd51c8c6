/**
 * No plain JavaScript operation on a value tsbpf returns may crash the process (issue
 * 9, item 3): a write to a ring buffer record was a SIGSEGV, because records were
 * views of the kernel's read-only data pages. The writes run in a child process, so a
 * crash is seen as this test failing, not as the test runner dying.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { kernelSkip } from "./support/kernel.ts";

test("writing to every byte array tsbpf hands out from mapped memory does not crash", {
  skip: kernelSkip,
}, () => {
  const script = fileURLToPath(new URL("./testdata/write-everything.ts", import.meta.url));
  const r = spawnSync(process.execPath, ["--import", "tsx", script], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.signal, null, `the child died of ${r.signal}:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /wrote ring onRecord/);
  assert.match(r.stdout, /wrote variable drop_port \(\.rodata, read-only\)/);
  assert.match(r.stdout, /survived\n$/);
});
