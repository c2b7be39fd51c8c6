/**
 * Runs tsbpf's trace tools as a user does (a subprocess of the bin through tsx) for the
 * tests: {@link start} returns when it was spawned, {@link attached} waits for its
 * "Tracing ..." line (it is attached), and `done` gives its exit status and output.
 * Every tool is killed if it has not exited by a (scaled) deadline.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { scaled } from "./kernel.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/cli/main.ts");

/** How a tool ended. */
export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Tool {
  proc: ChildProcess;
  /** Resolves once the tool printed "Tracing ..." (it is attached). */
  ready: Promise<void>;
  done: Promise<Done>;
}

/** Starts `tsbpf ARGS` as a subprocess, as a user runs it. */
export function start(args: string[], prefix: string[] = []): Tool {
  const cmd = [...prefix, process.execPath, "--import", "tsx", MAIN, ...args];
  const proc = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((res) => {
    onReady = res;
  });
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    if (stderr.includes("Tracing ")) onReady();
  });
  // every wait on the tool ends: it is killed if it has not exited by the deadline
  const limit = scaled(TOOL_DEADLINE_MS);
  const watchdog = setTimeout(() => {
    stderr += `\n[test: the tool had not exited after ${limit} ms: killed]`;
    proc.kill("SIGKILL");
  }, limit);
  const done = new Promise<Done>((res) => {
    proc.on("close", (code, signal) => {
      clearTimeout(watchdog);
      onReady();
      res({ code, signal, stdout, stderr });
    });
  });
  return { proc, ready, done };
}

/** The longest a tool may run in a test on a real CPU (scaled for slow machines). */
export const TOOL_DEADLINE_MS = 30_000;

/** Waits for `tool` to be attached, failing with its output if it exits first. */
export async function attached(tool: Tool): Promise<void> {
  const first = await Promise.race([tool.ready.then(() => "ready"), tool.done]);
  if (first !== "ready" || tool.proc.exitCode !== null) {
    const d = await tool.done;
    assert.fail(`tool exited before tracing (${d.code}): ${d.stderr}${d.stdout}`);
  }
}

/** The JSON objects of a tool's `-j` output, one per line. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A child process waiting for its cue; its pid is known before it acts. */
export interface CuedChild {
  readonly proc: ChildProcess;
  /** Gives the cue and waits for the child to exit. */
  go(): Promise<void>;
}

/**
 * A node child that runs `body` (with `fs` in scope) when told to on stdin, then
 * exits; killed if it has not exited by the (scaled) deadline.
 */
export function childOnCue(body: string): CuedChild {
  const script = `const fs=require("fs");process.stdin.once("data",()=>{${body};process.exit(0)})`;
  const proc = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "ignore", "inherit"] });
  const limit = scaled(TOOL_DEADLINE_MS);
  const watchdog = setTimeout(() => proc.kill("SIGKILL"), limit);
  const exited = new Promise<void>((res, rej) =>
    proc.on("exit", (_code, signal) => {
      clearTimeout(watchdog);
      if (signal === "SIGKILL") rej(new Error(`the child had not exited after ${limit} ms`));
      else res();
    }),
  );
  exited.catch(() => {}); // go() reports it; a test that never calls go() does not care
  return {
    proc,
    go: async () => {
      proc.stdin!.end("go\n");
      await exited;
    },
  };
}
