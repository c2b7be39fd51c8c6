/**
 * Helpers for the CLI tests: run `tsbpf` in-process (fast, and lets a test check that
 * no descriptor leaked) or as a subprocess (the real bin, exit codes), run the
 * installed bpftool on the same arguments, and normalise what must differ.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../src/cli/main.ts";
import { ensureBpffs } from "../src/kernel/objects/pin.ts";
import { fdCounts } from "./leak-check.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

/** What one CLI run gave. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "src/cli/main.ts");

export { isRoot } from "./support/kernel.ts";

/** True when bpftool is installed. */
export const hasBpftool = !toolSkip("bpftool");

/** Why CLI tests that compare with bpftool on the kernel skip here, or false. */
export const compareSkip: string | false = needs(kernelSkip, toolSkip("bpftool"));

/** Runs tsbpf in this process, capturing stdout and stderr through temporary files. */
export async function tsbpf(...args: string[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-cli-"));
  const outPath = join(dir, "out");
  const errPath = join(dir, "err");
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  let code: number;
  try {
    code = await main(args, { out, err });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const run = {
    code,
    stdout: readFileSync(outPath, "utf8"),
    stderr: readFileSync(errPath, "utf8"),
  };
  rmSync(dir, { recursive: true, force: true });
  return run;
}

/** Runs tsbpf as the tests of the bin do: `node --import tsx src/cli/main.ts ...`. */
export function tsbpfProcess(...args: string[]): Run {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the installed bpftool (output of any size: whole map and BTF dumps). */
export function bpftool(...args: string[]): Run {
  const r = spawnSync("bpftool", args, { encoding: "utf8", maxBuffer: 1 << 30 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Replaces what legitimately differs between two runs (load times, run stats, durations). */
export function normalise(text: string): string {
  return text
    .replace(/loaded_at [0-9T:+-]+/g, "loaded_at X")
    .replace(/"loaded_at":\s*\d+/g, '"loaded_at":X')
    .replace(/ run_time_ns \d+ run_cnt \d+/g, "")
    .replace(/"run_time_ns":\s*\d+,\s*"run_cnt":\s*\d+,\s*/g, "")
    .replace(/duration( \(average\))?: \d+ns/g, "duration$1: Xns")
    .replace(/"duration":\s*\d+/g, '"duration":X');
}

/** How {@link assertSameRun} compares stdout: exactly unless told otherwise. */
export interface SameRunOptions {
  /** Compare stdout after {@link normalise} (load times, run stats, durations). */
  readonly normalise?: boolean;
  /** Compare stdout with this instead (e.g. line by line, for long dumps). */
  readonly stdout?: (tsbpf: string, bpftool: string, message: string) => void;
}

/** Asserts that tsbpf's run `t` printed what bpftool's `b` did and exited alike. */
export function assertSameRun(t: Run, b: Run, what: string, opts: SameRunOptions = {}): void {
  const message = `${what}: stdout`;
  if (opts.stdout) opts.stdout(t.stdout, b.stdout, message);
  else if (opts.normalise) assert.equal(normalise(t.stdout), normalise(b.stdout), message);
  else assert.equal(t.stdout, b.stdout, message);
  assert.equal(t.stderr, b.stderr, `${what}: stderr`);
  assert.equal(t.code, b.code, `${what}: exit code`);
}

/** The output modes a side-by-side comparison runs in: plain, `-j` and `-p`. */
export const OUTPUT_MODES: readonly (readonly string[])[] = [[], ["-j"], ["-p"]];

/**
 * Runs `args` with tsbpf and with bpftool in each of `modes` (plain, -j and -p unless
 * told) and asserts each pair alike.
 */
export async function compareWithBpftool(
  args: readonly string[],
  opts: SameRunOptions & { readonly modes?: readonly (readonly string[])[] } = {},
): Promise<void> {
  for (const mode of opts.modes ?? OUTPUT_MODES) {
    const argv = [...mode, ...args];
    assertSameRun(await tsbpf(...argv), bpftool(...argv), argv.join(" "), opts);
  }
}

/** Open descriptors: tsbpf's own count and the process's (/proc/self/fd). */
export const fdSnapshot = fdCounts;

/**
 * A bpffs directory for one test file's pins, removed by the returned cleanup, and at
 * the process's exit if the file never gets there (stopped by the test timeout: see
 * test/support/test-exit.mjs).
 */
export function pinDir(name: string): { dir: string; cleanup: () => void } {
  const dir = `/sys/fs/bpf/tsbpf-cli-${name}-${process.pid}`;
  ensureBpffs();
  mkdirSync(dir, { recursive: true });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  return { dir, cleanup };
}
