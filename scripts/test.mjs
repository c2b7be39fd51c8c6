#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test through tsx.
// Node 20 has no glob support in `node --test`, so the files are listed here.
// Usage: node scripts/test.mjs [substring ...]  (only files whose path contains one)
//
// The suite must leave the BPF filesystem as it found it: a pin left in /sys/fs/bpf
// outlives the run and holds its map or program in the kernel. After the tests, every
// new top-level entry there fails the run, with the test files that were running when
// it was made (from the timeline test/support/test-timeline.mjs writes).
//
// The run ends with a summary of the failed tests, and runs the files they are in once
// more: a failure that does not come back is reported as FLAKY and does not fail the
// run; one that does fails it (TSBPF_TEST_RETRY=0: no second run).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { testFiles } from "./test-files.mjs";

const BPFFS = "/sys/fs/bpf";

/** The names in a directory, or an empty set when it cannot be read. */
function namesIn(dir) {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

/** Whether a bpf filesystem is mounted at /sys/fs/bpf (from /proc/mounts). */
function bpffsMounted() {
  try {
    return readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .some((l) => {
        const [, at, type] = l.split(" ");
        return at === BPFFS && type === "bpf";
      });
  } catch {
    return false;
  }
}

/** The test files whose process ran at time `ms` (with a second of slack each side). */
function runningAt(timeline, ms) {
  return timeline
    .filter((t) => t.start - 1000 <= ms && ms <= t.end + 1000)
    .map((t) => t.file.replace(`${process.cwd()}/`, ""));
}

const filters = process.argv.slice(2);
const files = testFiles(process.cwd()).filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// Tests mount bpffs when it is not (ensureBpffs), and mounting makes the kernel's own
// entries (bpf_preload's maps.debug and progs.debug): mount it first, as root, so that
// those are there before the listing and only what the tests pin counts.
// The run unmounts it again at the end, leaving the machine as it found it.
let mountedHere = false;
if (process.getuid?.() === 0 && !bpffsMounted()) {
  const m = spawnSync("mount", ["-t", "bpf", "bpf", BPFFS], { stdio: "inherit" });
  if (m.status !== 0) console.error(`could not mount bpffs at ${BPFFS}; pin tests will say so`);
  else mountedHere = true;
}
const before = namesIn(BPFFS);
const work = mkdtempSync(join(tmpdir(), "tsbpf-test-"));
const timelinePath = join(work, "timeline.jsonl");
const preload = resolve(import.meta.dirname, "../test/support/test-timeline.mjs");
const exitPreload = resolve(import.meta.dirname, "../test/support/test-exit.mjs");
const failuresPath = join(work, "failures.jsonl");
const failureReporter = resolve(import.meta.dirname, "../test/support/failure-reporter.mjs");

/** Runs `list` under node:test; returns its exit status and the failures it recorded. */
function runFiles(list, failuresAt) {
  const r = spawnSync(
    process.execPath,
    [
      // examples and generated modules import the package by name ("tsbpf/kernel"): the
      // tsbpf-source export condition resolves that to src/, not to a dist/ build
      "--conditions=tsbpf-source",
      "--import",
      "tsx",
      "--import",
      preload,
      "--test",
      // a test that waits for ever fails after 10 minutes instead of holding up the run,
      // and a file whose tests are done exits even if a leaked handle would keep its event
      // loop alive (test/support/test-exit.mjs; not --test-force-exit, which lost tests)
      "--test-timeout=600000",
      "--import",
      exitPreload,
      // TAP to the terminal, and each failure as a JSON line for the summary below
      "--test-reporter=tap",
      "--test-reporter-destination=stdout",
      `--test-reporter=${failureReporter}`,
      `--test-reporter-destination=${failuresAt}`,
      ...list,
    ],
    { stdio: "inherit", env: { ...process.env, TSBPF_TEST_TIMELINE: timelinePath } },
  );
  let failures = [];
  try {
    failures = readFileSync(failuresAt, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {}
  return { status: r.status ?? 1, failures };
}

/** Prints the failures again where a log's tail shows them. */
function summarize(title, failures) {
  console.error(`\n${title}`);
  for (const f of failures) {
    const where = f.file ? relative(process.cwd(), f.file) : "?";
    console.error(`  ${where}: ${f.test}\n    ${f.error.split("\n").join("\n    ")}`);
  }
}

const first = runFiles(files, failuresPath);
let status = first.status;
if (first.failures.length > 0) {
  summarize(`${first.failures.length} test(s) failed:`, first.failures);
  // A file whose tests failed runs once more, to tell a test that fails every time from
  // one that fails now and then (timing on a loaded machine): the run passes only if
  // every such file passes whole the second time, and the flaky ones are named.
  // TSBPF_TEST_RETRY=0 turns this off.
  const failedFiles = [...new Set(first.failures.map((f) => f.file))];
  const retryable = failedFiles.every((f) => f && files.some((g) => resolve(g) === f));
  if (process.env.TSBPF_TEST_RETRY !== "0" && retryable) {
    console.error(
      `\nrunning ${failedFiles.length} file(s) again: ${failedFiles.map((f) => relative(process.cwd(), f)).join(", ")}`,
    );
    const again = runFiles(failedFiles, join(work, "failures-again.jsonl"));
    if (again.status === 0 && again.failures.length === 0) {
      console.error(
        "\nFLAKY: the failures above passed when their files ran again; the run passes",
      );
      status = 0;
    } else {
      summarize(`failed again (${again.failures.length}):`, again.failures);
      status = status || again.status || 1;
    }
  }
}

const left = [...namesIn(BPFFS)].filter((n) => !before.has(n));
if (left.length > 0) {
  let timeline = [];
  try {
    timeline = readFileSync(timelinePath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {}
  console.error(
    `\nthe tests left ${left.length} entr${left.length === 1 ? "y" : "ies"} in ${BPFFS}:`,
  );
  for (const name of left) {
    let made = NaN;
    try {
      made = statSync(join(BPFFS, name)).ctimeMs;
    } catch {}
    const suspects = Number.isNaN(made) ? [] : runningAt(timeline, made);
    const when = Number.isNaN(made) ? "" : ` (made ${new Date(made).toISOString()})`;
    console.error(
      `  ${join(BPFFS, name)}${when}: running then: ${suspects.join(", ") || "no test file"}`,
    );
  }
  status = status || 1;
}
rmSync(work, { recursive: true, force: true });
if (mountedHere && spawnSync("umount", [BPFFS], { stdio: "inherit" }).status !== 0)
  console.error(`could not unmount the bpffs this run mounted at ${BPFFS}`);
process.exit(status);
