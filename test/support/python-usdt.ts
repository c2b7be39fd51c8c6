/**
 * A python3 process for the USDT tests: Debian's /usr/bin/python3 (built with
 * --with-dtrace, so it carries the python:* probes), running a script that waits for
 * a number on stdin, then calls `tsbpf_probe_fn` that many times and runs
 * gc.collect(1), prints "done" and waits again.
 *
 * CPython 3.11 (Debian 12's) fires function__entry/return only while a profile or
 * trace function is set (python/cpython#98894), hence the no-op profiler; gc__start
 * and gc__done fire regardless.
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, realpathSync } from "node:fs";
import { usdtProbes } from "../../src/elf/index.ts";
import { readBinaryElf } from "../../src/kernel/links/uprobe-symbols.ts";
import { scaled } from "./time.ts";

/** The real file of /usr/bin/python3, when there is one. */
export const PYTHON = existsSync("/usr/bin/python3") ? realpathSync("/usr/bin/python3") : undefined;

/** Why the USDT tests cannot use this machine's python3, or false. */
export function pythonSkip(): string | false {
  if (!PYTHON) return "no /usr/bin/python3";
  const probes = usdtProbes(readBinaryElf(PYTHON), { provider: "python", name: "function__entry" });
  return probes.length ? false : `${PYTHON} has no python:function__entry USDT probe`;
}

/** The script; `tsbpf_probe_fn` is defined on line 4 (its function__entry line). */
const SCRIPT = `
import gc, sys
sys.setprofile(lambda *a: None)
def tsbpf_probe_fn(i):
    return i + 1
print("ready", flush=True)
for line in sys.stdin:
    for i in range(int(line)):
        tsbpf_probe_fn(i)
    gc.collect(1)
    print("done", flush=True)
`;

/** The running script. */
export class PythonWorkload {
  readonly child: ChildProcessWithoutNullStreams;
  #out = "";
  #rounds = 0;
  #waiters: (() => void)[] = [];

  constructor() {
    this.child = spawn(PYTHON as string, ["-c", SCRIPT]);
    this.child.stdout.on("data", (d: Buffer) => {
      this.#out += d.toString();
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** Waits until stdout has said `word` `n` times in all. */
  async said(word: string, n = 1): Promise<void> {
    const count = () => this.#out.split("\n").filter((l) => l === word).length;
    const limit = scaled(10_000);
    while (count() < n) {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push(resolve);
        setTimeout(
          () => reject(new Error(`python did not say "${word}" x${n}: ${this.#out}`)),
          limit,
        );
      });
    }
  }

  /** Runs one round of `calls` calls and a collection, and waits for its end. */
  async round(calls: number): Promise<void> {
    this.child.stdin.write(`${calls}\n`);
    await this.said("done", ++this.#rounds);
  }

  /** Ends the process. */
  stop(): void {
    this.child.kill();
  }
}

/** The 16-bit semaphore of probe python:`name` in process `pid`, read from its memory. */
export function pythonSemaphore(pid: number, name: string): number {
  const [probe] = usdtProbes(readBinaryElf(PYTHON as string), { provider: "python", name });
  if (!probe) throw new Error(`${PYTHON} has no python:${name}`);
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    const b = Buffer.alloc(2);
    readSync(fd, b, 0, 2, Number(probe.semaphoreAddress));
    return b.readUInt16LE(0);
  } finally {
    closeSync(fd);
  }
}
