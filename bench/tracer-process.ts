/**
 * A tracer as a user runs it, for bench/tools.ts: a whole process (`node
 * dist/cli/tsbpf.cjs trace NAME` or `bpftrace -e ...`) with its standard output and
 * error in files, started and awaited until it says it is attached, its CPU time read
 * from /proc/PID/stat (utime + stime: every thread of the process), and stopped with
 * SIGINT as Ctrl-C would.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux x86-64). */
export const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString()) || 100;

/** How long a tracer may take to attach (bpftrace compiles its program with LLVM). */
const READY_TIMEOUT_MS = 30_000;
/**
 * How long a tracer may take to print its summary and exit after SIGINT: well under a
 * second usually, but one bpftrace took more than 15 s once with a load average of 15
 * on the 2 cores.
 */
const STOP_TIMEOUT_MS = 60_000;

/** The CPU time (user + system, in clock ticks) of process `pid`, all its threads. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name in parentheses (which may hold spaces): state is
  // field 3, utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * The events a tracer said it lost, in its output: tsbpf's "Possibly lost N samples"
 * (stderr), bpftrace's "Lost N events" (one line per perf buffer loss).
 */
export function lostEvents(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/(?:Possibly lost|Lost) (\d+) (?:samples|events)/g)) {
    n += Number(m[1]);
  }
  return n;
}

/** What a stopped tracer left. */
export interface TracerOutput {
  /** Its standard output. */
  readonly stdout: string;
  /** Its standard error. */
  readonly stderr: string;
}

/** A running tracer. */
export class TracerProcess {
  readonly #child: ChildProcess;
  readonly #outFile: string;
  readonly #errFile: string;
  readonly #label: string;
  #exit: Promise<number | null>;

  private constructor(child: ChildProcess, outFile: string, errFile: string, label: string) {
    this.#child = child;
    this.#outFile = outFile;
    this.#errFile = errFile;
    this.#label = label;
    this.#exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /**
   * Starts `argv` with its output in `outFile` and `errFile`, and resolves once
   * `ready` matches either of them.
   * @throws Error naming the tracer when it exits or stays silent before it is ready
   */
  static async start(
    argv: readonly string[],
    outFile: string,
    errFile: string,
    ready: RegExp,
    label: string,
  ): Promise<TracerProcess> {
    const out = openSync(outFile, "w");
    const err = openSync(errFile, "w");
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", out, err] });
    closeSync(out);
    closeSync(err);
    const t = new TracerProcess(child, outFile, errFile, label);
    let exited = false;
    void t.#exit.then(() => {
      exited = true;
    });
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (;;) {
      const { stdout, stderr } = t.output();
      if (ready.test(stdout) || ready.test(stderr)) return t;
      if (exited) throw new Error(`${label} exited before it was ready: ${stderr.trim()}`);
      if (performance.now() > deadline) {
        t.#child.kill("SIGKILL");
        throw new Error(`${label} did not say ${ready} within ${READY_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  }

  /** The tracer's PID. */
  get pid(): number {
    return this.#child.pid as number;
  }

  /** What it has written so far. */
  output(): TracerOutput {
    return {
      stdout: readFileSync(this.#outFile, "utf8"),
      stderr: readFileSync(this.#errFile, "utf8"),
    };
  }

  /**
   * Sends SIGINT and waits for the exit (SIGKILL after {@link STOP_TIMEOUT_MS}).
   * @throws Error when the tracer does not exit on SIGINT or exits with a failure
   */
  async stop(): Promise<TracerOutput> {
    this.#child.kill("SIGINT");
    // Unreferenced: the timer must not keep the bench alive once the tracer is gone.
    const timeout = sleep(STOP_TIMEOUT_MS, "timeout" as const, { ref: false });
    const code = await Promise.race([this.#exit, timeout]);
    if (code === "timeout") {
      this.#child.kill("SIGKILL");
      await this.#exit;
      const { stderr } = this.output();
      throw new Error(
        `${this.#label} did not exit within ${STOP_TIMEOUT_MS} ms of SIGINT: ${stderr.trim()}`,
      );
    }
    const output = this.output();
    if (code !== 0) throw new Error(`${this.#label} exited ${code}: ${output.stderr.trim()}`);
    return output;
  }
}
