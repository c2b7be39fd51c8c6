/**
 * scripts/test.mjs on a project of its own: the summary of failed tests at the end of
 * a run, and the second run of the files they are in (FLAKY when the failure does not
 * come back, a failed run when it does); and test/support/test-exit.mjs: a file stopped
 * by SIGTERM still runs its exit handlers.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(import.meta.dirname, "..");
// The nested runs see neither this run's test context nor its retry setting.
const {
  NODE_TEST_CONTEXT: _,
  TSBPF_TEST_TIMELINE: __,
  TSBPF_TEST_RETRY: ___,
  ...outsideTest
} = process.env;

/** A project whose test/ holds `files`; runs scripts/test.mjs there. */
function runSuite(files: Record<string, string>, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-runner-"));
  try {
    mkdirSync(join(dir, "test"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "test", name), text);
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/test.mjs")], {
      cwd: dir,
      encoding: "utf8",
      // without NODE_TEST_CONTEXT: node:test would skip a run nested in a test file
      env: { ...outsideTest, MARKER: join(dir, "marker"), ...env },
      timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FAILS_ONCE = `import { existsSync, writeFileSync } from "node:fs";
import { test } from "node:test";
test("fails the first time", () => {
  if (!existsSync(process.env.MARKER!)) {
    writeFileSync(process.env.MARKER!, "");
    throw new Error("first time only");
  }
});
`;
const FAILS_ALWAYS = `import { test } from "node:test";
test("fails every time", () => { throw new Error("always"); });
`;
const PASSES = `import { test } from "node:test";
test("fine", () => {});
`;

test("a failure that does not come back: named in the summary, FLAKY, the run passes", () => {
  const r = runSuite({ "a.test.ts": FAILS_ONCE, "b.test.ts": PASSES });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /1 test\(s\) failed:\n {2}test\/a\.test\.ts: fails the first time\n {4}Error: first time only/,
  );
  assert.match(r.stderr, /running 1 file\(s\) again: test\/a\.test\.ts\n/);
  assert.match(r.stderr, /FLAKY/);
});

test("a failure that comes back fails the run; TSBPF_TEST_RETRY=0 runs nothing again", () => {
  const r = runSuite({ "a.test.ts": FAILS_ALWAYS, "b.test.ts": PASSES });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /failed again \(1\):\n {2}test\/a\.test\.ts: fails every time/);
  assert.doesNotMatch(r.stderr, /FLAKY/);
  const once = runSuite({ "a.test.ts": FAILS_ONCE }, { TSBPF_TEST_RETRY: "0" });
  assert.equal(once.status, 1);
  assert.match(once.stderr, /1 test\(s\) failed:/);
  assert.doesNotMatch(once.stderr, /running 1 file\(s\) again/);
});

test("a test file stopped by SIGTERM (the runner's timeout) runs its exit handlers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-runner-"));
  try {
    const file = join(dir, "hangs.mjs");
    writeFileSync(
      file,
      `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(${JSON.stringify(join(dir, "cleaned"))}, "yes"));
process.stdout.write("waiting\\n");
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(
      process.execPath,
      ["--import", join(ROOT, "test/support/test-exit.mjs"), file],
      { env: { ...outsideTest, NODE_TEST_CONTEXT: "child-v8" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    await new Promise<void>((res) => child.stdout.once("data", () => res()));
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 143, stderr);
    assert.equal(readFileSync(join(dir, "cleaned"), "utf8"), "yes");
    assert.match(stderr, /stopped by SIGTERM/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
