/**
 * The fuzz campaign runner shared by the ELF, BTF and CLI fuzzers. Inputs run in a
 * worker thread; the main thread watches it through shared memory, so an input that
 * runs longer than {@link HANG_MS} is caught, reported and skipped (the worker is
 * terminated and a new one resumes after it), and an input that kills the worker (out
 * of memory) is reported too.
 *
 * Every outcome is one of: ok, a typed error (the target's error classes, naming what
 * is wrong), an untyped error (a failure: `TypeError`, `RangeError`, a plain `Error`
 * from deep inside), a hang (a failure), or a crash (a failure). A failure prints the
 * seed, the input's index, a file holding the input, and a command reproducing it.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

/** An input slower than this is a hang. */
export const HANG_MS = 2000;

/** Options of one campaign (`npm run fuzz -- TARGET --seconds N --seed S`). */
export interface FuzzOptions {
  /** How long to run (default 10 s). */
  readonly seconds?: number;
  /** The campaign's seed (default: from the clock, printed). */
  readonly seed?: number;
  /** Stop after this many inputs (default: no limit). */
  readonly maxInputs?: number;
  /** Print nothing but failures (tests). */
  readonly quiet?: boolean;
  /** An input slower than this (ms) is a hang (default {@link HANG_MS}). */
  readonly hangMs?: number;
  /**
   * Worker threads run side by side (default 1). Job k runs inputs k * {@link LANE}
   * and on, so an input keeps its index (and its reproduction) whatever the number of
   * jobs; `maxInputs` is split evenly between them.
   */
  readonly jobs?: number;
}

/** The index distance between the jobs of one campaign. */
export const LANE = 100_000_000;

/** One failure, with what reproduces it. */
export interface Failure {
  readonly kind: "untyped" | "hang" | "crash";
  readonly index: number;
  readonly message: string;
  /** A file holding the input, and a command that reproduces the failure. */
  readonly file?: string;
  readonly command?: string;
}

/** What a campaign found. */
export interface FuzzReport {
  readonly target: string;
  readonly seed: number;
  readonly seconds: number;
  readonly tried: number;
  readonly ok: number;
  readonly typed: number;
  readonly untyped: number;
  readonly hangs: number;
  readonly crashes: number;
  /** Peak resident set size of the fuzzing process, in MB. */
  readonly peakRssMB: number;
  /** The slowest input that ended, in ms. */
  readonly slowestMs: number;
  readonly failures: readonly Failure[];
}

/** What a target module (fuzz/elf.ts...) gives the harness. */
export interface Target {
  /** The worker module (a file URL) that exports `runInput(seed, index)`. */
  readonly module: string;
  readonly name: string;
  /**
   * Writes input `index` of `seed` to a file and says how to reproduce it; undefined
   * when the input is not a file (then the message says it all).
   */
  reproduce(seed: number, index: number): { file: string; command: string } | undefined;
}

// Shared-memory slots (Float64): the index being run, when it started, counters.
const S_INDEX = 0;
const S_STARTED = 1;
const S_OK = 2;
const S_TYPED = 3;
const S_UNTYPED = 4;
const S_STOP = 5;
const S_DONE = 6;
const S_SLOWEST = 7;
const SLOTS = 8;

/** A directory for reproductions. */
export function reproDir(): string {
  const dir = join(tmpdir(), "tsbpf-fuzz");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes `bytes` for a reproduction and returns the file. */
export function writeRepro(name: string, bytes: Uint8Array): string {
  const file = join(reproDir(), name);
  writeFileSync(file, bytes);
  return file;
}

/**
 * Runs `target` for `opts.seconds` and returns the report (and prints it unless
 * quiet). Inputs are numbered from 0; input i of seed s is always the same.
 */
export async function campaign(target: Target, opts: FuzzOptions = {}): Promise<FuzzReport> {
  const seconds = opts.seconds ?? 10;
  const seed = (opts.seed ?? Date.now() % 2 ** 31) >>> 0;
  const maxInputs = opts.maxInputs ?? Number.POSITIVE_INFINITY;
  const hangMs = opts.hangMs ?? HANG_MS;
  // The clock starts when the first input runs: starting a worker (TypeScript loader,
  // modules) takes seconds on a loaded machine, and is not fuzzing.
  let deadline = Number.POSITIVE_INFINITY;
  const hardStop = Date.now() + seconds * 1000 + 60_000;
  const over = () => Date.now() >= Math.min(deadline, hardStop);
  const failures: Failure[] = [];
  let ok = 0;
  let typed = 0;
  let untyped = 0;
  let hangs = 0;
  let crashes = 0;
  let slowest = 0;
  let retries = 0;
  const log = (s: string) => {
    if (!opts.quiet) process.stdout.write(`${s}\n`);
  };
  const fail = (f: Omit<Failure, "file" | "command">) => {
    const repro = target.reproduce(seed, f.index);
    const full: Failure = { ...f, ...repro };
    failures.push(full);
    process.stdout.write(
      `FAIL ${target.name} ${f.kind} seed=${seed} input=${f.index}: ${f.message}\n` +
        (repro ? `  input: ${repro.file}\n  reproduce: ${repro.command}\n` : ""),
    );
  };
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const t0 = performance.now();
  log(
    `fuzz ${target.name}: seed ${seed}, ${Number.isFinite(seconds) ? `${seconds} s` : `${maxInputs} inputs`}${jobs > 1 ? `, ${jobs} jobs` : ""}`,
  );

  /** Runs inputs `start` to `end` (exclusive) in workers, one after another. */
  // Workers running now, for the progress lines (their counts join the totals at exit).
  const running = new Set<Float64Array>();
  const progress = setInterval(() => {
    let [o, t, u] = [ok, typed, untyped];
    for (const sh of running) {
      o += sh[S_OK]!;
      t += sh[S_TYPED]!;
      u += sh[S_UNTYPED]!;
    }
    const n = o + t + u + hangs + crashes;
    const secs = (performance.now() - t0) / 1000;
    log(
      `fuzz ${target.name}: ${n} inputs (${(n / secs).toFixed(0)}/s), typed ${t}, untyped ${u}, hangs ${hangs}, crashes ${crashes}; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
    );
  }, 30_000);
  progress.unref();

  const lane = async (start: number, end: number): Promise<void> => {
    let next = start;
    let suspect = -1;
    while (!over() && next < end) {
      const shared = new Float64Array(new SharedArrayBuffer(SLOTS * 8));
      running.add(shared);
      shared[S_INDEX] = -1;
      const worker = new Worker(new URL("./boot.mjs", import.meta.url), {
        workerData: {
          worker: new URL("./worker.ts", import.meta.url).href,
          target: target.module,
          seed,
          start: next,
          end,
          shared: shared.buffer,
        },
        resourceLimits: { maxOldGenerationSizeMb: 2048 },
        stdout: true,
        stderr: true,
      });
      worker.stdout.resume();
      worker.stderr.resume();
      let exited = false;
      let exitError: Error | undefined;
      worker.on("message", (m: { index: number; name: string; message: string }) => {
        fail({ kind: "untyped", index: m.index, message: `${m.name}: ${m.message}` });
      });
      worker.on("error", (e) => {
        exitError = e;
      });
      const exit = new Promise<void>((resolve) =>
        worker.on("exit", () => {
          exited = true;
          resolve();
        }),
      );
      let hung = -1;
      while (!exited) {
        await new Promise((r) => setTimeout(r, 50));
        if (deadline === Number.POSITIVE_INFINITY && shared[S_INDEX]! >= 0) {
          deadline = Date.now() + seconds * 1000;
        }
        if (over()) {
          shared[S_STOP] = 1;
        }
        const started = shared[S_STARTED]!;
        const index = shared[S_INDEX]!;
        if (index >= 0 && started > 0 && shared[S_DONE] !== 1 && Date.now() - started > hangMs) {
          hung = index;
          await worker.terminate();
          break;
        }
      }
      await exit;
      running.delete(shared);
      ok += shared[S_OK]!;
      typed += shared[S_TYPED]!;
      untyped += shared[S_UNTYPED]!;
      slowest = Math.max(slowest, shared[S_SLOWEST]!);
      const last = shared[S_INDEX]!;
      if (hung >= 0) {
        // On a loaded machine a slow start or a descheduled thread can look like a
        // hang: an input counts as one only when it hangs twice, in fresh workers.
        if (suspect !== hung) {
          suspect = hung;
          next = hung;
          retries++;
          continue;
        }
        hangs++;
        fail({ kind: "hang", index: hung, message: `still running after ${hangMs} ms, twice` });
        next = hung + 1;
      } else if (exitError !== undefined || (shared[S_DONE] !== 1 && last >= 0)) {
        crashes++;
        fail({
          kind: "crash",
          index: last,
          message: `the worker died: ${exitError?.message ?? "no reason given"}`,
        });
        next = last + 1;
      } else {
        next = last + 1;
        break;
      }
    }
  };
  const each = jobs === 1 ? maxInputs : Math.min(LANE, Math.ceil(maxInputs / jobs));
  await Promise.all(Array.from({ length: jobs }, (_, k) => lane(k * LANE, k * LANE + each)));
  clearInterval(progress);
  const tried = ok + typed + untyped + hangs + crashes;
  const report: FuzzReport = {
    target: target.name,
    seed,
    seconds,
    tried,
    ok,
    typed,
    untyped,
    hangs,
    crashes,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    slowestMs: Math.round(slowest),
    failures,
  };
  log(
    `fuzz ${target.name}: ${tried} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${ok} ok, ${typed} typed errors, ${untyped} untyped errors, ${hangs} hangs, ${crashes} crashes (${retries} slow inputs retried); slowest ${report.slowestMs} ms, peak RSS ${report.peakRssMB} MB (seed ${seed})`,
  );
  return report;
}

/** Slots for the worker (fuzz/worker.ts). */
export const SLOT = {
  INDEX: S_INDEX,
  STARTED: S_STARTED,
  OK: S_OK,
  TYPED: S_TYPED,
  UNTYPED: S_UNTYPED,
  STOP: S_STOP,
  DONE: S_DONE,
  SLOWEST: S_SLOWEST,
} as const;
