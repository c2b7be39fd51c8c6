/**
 * `tsbpf perf show|list`: every perf event (tracepoint, kprobe, uprobe) and raw
 * tracepoint with a BPF program that some process holds open, found as bpftool 7.1
 * finds them: each descriptor under /proc/PID/fd asked with BPF_TASK_FD_QUERY, in the
 * order the directories list them (pids, then descriptors, ascending).
 */
import { closeSync, type Dir, opendirSync, openSync } from "node:fs";
import { taskFdQuery, tryTaskFdQuery } from "../../kernel/links/task-fd-query.ts";
import { SyscallError } from "../../kernel/sys/index.ts";
import { Errno } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";
import { type PerfEntry, perfJson, perfPlain } from "./format-perf.ts";

/** `perf show` (words after it are ignored, as bpftool does). */
export function showPerf(ctx: Context, _args: Args): void {
  requireTaskFdQuery(ctx);
  const out = ctx.out;
  if (out.json) out.w.startArray();
  for (const entry of perfEntries()) {
    if (out.json) out.value(perfJson(entry));
    else out.write(perfPlain(entry));
  }
  if (out.json) out.w.endArray();
}

/**
 * Fails as bpftool does when the kernel cannot answer BPF_TASK_FD_QUERY: asked about a
 * descriptor with no program (the root directory), a kernel that can answers ENOTSUPP.
 */
function requireTaskFdQuery(ctx: Context): void {
  let fd: number;
  try {
    fd = openSync("/", "r");
  } catch (e) {
    throw new CliError(`perf_query_support: cannot open directory "/" (${reason(e)})`);
  }
  let why = "Success"; // what strerror(0) says, should the query succeed on "/"
  try {
    taskFdQuery(process.pid, fd);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOTSUPP) return;
    why = reason(e);
  } finally {
    closeSync(fd);
  }
  ctx.out.error(`perf_query_support: ${why}`);
  ctx.out.stderr("HINT: non root or kernel doesn't support TASK_FD_QUERY\n");
  throw new CliError("");
}

/** The names in `path` in the order the kernel lists them (readdirSync sorts them). */
function* listDir(path: string): Generator<string> {
  let dir: Dir;
  try {
    dir = opendirSync(path);
  } catch {
    return; // a process gone meanwhile, or not ours to read
  }
  try {
    for (;;) {
      let entry: ReturnType<Dir["readSync"]>;
      try {
        entry = dir.readSync();
      } catch {
        return;
      }
      if (entry === null) return;
      yield entry.name;
    }
  } finally {
    dir.closeSync();
  }
}

const DIGITS = /^[0-9]+$/;

/** Every descriptor of every process that BPF_TASK_FD_QUERY describes. */
function* perfEntries(): Generator<PerfEntry> {
  for (const p of listDir("/proc")) {
    if (!DIGITS.test(p)) continue;
    const pid = Number(p);
    for (const f of listDir(`/proc/${p}/fd`)) {
      if (!DIGITS.test(f)) continue;
      const fd = Number(f);
      const info = tryTaskFdQuery(pid, fd);
      // Not a perf event with a program (ENOTSUPP), or closed meanwhile: not listed.
      if (typeof info === "number") continue;
      yield { pid, fd, info };
    }
  }
}
