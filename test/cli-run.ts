/**
 * Helpers for the CLI tests: run `tsbpf` in-process (fast, and lets a test check that
 * no descriptor leaked) or as a subprocess (the real bin, exit codes), run the
 * installed bpftool on the same arguments, and normalise what must differ.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../src/cli/main.ts";
import { ensureBpffs } from "../src/kernel/pin.ts";
import { fdCounts } from "./leak-check.ts";

/** What one CLI run gave. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "src/cli/main.ts");

/** True when the kernel tests can run (root). */
export const isRoot = process.getuid?.() === 0;

/** True when bpftool is installed. */
export const hasBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;

/** Why kernel comparisons skip here, or false when they can run. */
export const kernelSkip: string | false = !isRoot
  ? "needs root for bpf(2)"
  : !hasBpftool
    ? "bpftool is not installed (apt-get install bpftool)"
    : false;

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

/** Runs the installed bpftool. */
export function bpftool(...args: string[]): Run {
  const r = spawnSync("bpftool", args, { encoding: "utf8" });
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

/** Open descriptors: tsbpf's own count and the process's (/proc/self/fd). */
export const fdSnapshot = fdCounts;

/** A bpffs directory for one test file's pins, removed by the returned cleanup. */
export function pinDir(name: string): { dir: string; cleanup: () => void } {
  const dir = `/sys/fs/bpf/tsbpf-cli-${name}-${process.pid}`;
  ensureBpffs();
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
