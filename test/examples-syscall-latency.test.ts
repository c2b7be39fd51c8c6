/**
 * examples/syscall-latency (issue 15's "per-process syscall latency histogram from
 * TypeScript"): compiled at run time, run on a child that stats in a loop, it prints a
 * BCC-style log2 histogram for that process alone.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findClang } from "../src/compile/index.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

const ROOT = join(import.meta.dirname, "..");
const noClang = (await findClang().catch(() => undefined))
  ? false
  : "no clang >= 14 on this machine";

test("examples/syscall-latency: one histogram, for the PID asked, in BCC's layout", {
  skip: kernelSkip || noClang,
  timeout: 120_000,
}, async () => {
  // compile()'s cache in a directory of the test's own, not the user's ~/.cache.
  const cache = mkdtempSync(join(tmpdir(), "tsbpf-syscall-latency-"));
  const busy = spawn(process.execPath, ["-e", 'setInterval(() => require("fs").statSync("/"), 1)']);
  try {
    const r = spawnSync(
      process.execPath,
      [
        ...FROM_SOURCE,
        join("examples", "syscall-latency", "syscall-latency.ts"),
        "1",
        String(busy.pid),
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "", XDG_CACHE_HOME: cache },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Tracing syscalls of PID ${busy.pid} for 1 s`));
    const sections = r.stdout.split("\n").filter((l) => l.startsWith("pid = "));
    assert.deepEqual(sections, [`pid = ${busy.pid}`], r.stdout);
    assert.match(r.stdout, /^ {5}usecs {15}: count {5}distribution$/m);
    assert.match(r.stdout, /^ {9}0 -> 1 {10}: \d+ +\|\**\s*\|$/m);
  } finally {
    busy.kill();
    rmSync(cache, { recursive: true, force: true });
  }
});
