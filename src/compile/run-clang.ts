/**
 * Runs clang without a shell (arguments as a list, so no quoting or injection), and
 * collects its standard error up to a limit.
 *
 * @module
 */

import { spawn } from "node:child_process";

/** How a clang run ended. */
export interface ClangRun {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it ("SIGKILL"), or null. */
  readonly signal: string | null;
  /** Standard error (cut at {@link MAX_STDERR_BYTES}, with a line saying so). */
  readonly stderr: string;
}

/** The most of clang's stderr kept: thousands of diagnostics, still a bounded string. */
export const MAX_STDERR_BYTES = 4 << 20;

/**
 * Runs `clang args` in `cwd`, stdin closed, stdout ignored (the object goes to a file).
 *
 * @throws Error when clang cannot be started (removed since it was found)
 */
export function runClang(clang: string, args: readonly string[], cwd: string): Promise<ClangRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(clang, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    let cut = false;
    child.stderr.on("data", (chunk: Buffer) => {
      if (size >= MAX_STDERR_BYTES) {
        cut = true;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      let stderr = Buffer.concat(chunks).toString("utf8");
      if (cut) stderr += `\n[tsbpf: clang's output was cut at ${MAX_STDERR_BYTES} bytes]\n`;
      resolve({ code, signal, stderr });
    });
  });
}
