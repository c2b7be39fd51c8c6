/**
 * `tsbpf trace`: ready-made tracing tools in the spirit of BCC's, on tracepoints and
 * raw tracepoints — `open` (opensnoop), `exec` (execsnoop), `biolatency`, `biosnoop`,
 * `runqlat`, `cpudist` and `syscount`. Their options follow BCC's tools, not
 * bpftool's grammar, so main.ts hands this object its words unparsed.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Command, type Context, dispatch, printHelp } from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} trace`;
  printHelp(
    ctx,
    `Usage: ${b} open [-p PID] [-n NAME] [-x] [-d SECONDS] [-j] [--perf-buffer]\n` +
      `       ${b} exec [-x] [-n NAME] [-d SECONDS] [-j] [--max-args N] [--perf-buffer]\n` +
      `       ${b} biolatency [-T] [-Q] [-m] [-D] [--disk NAME] [-j] [interval [count]]\n` +
      `       ${b} biosnoop [-Q] [--disk NAME] [--duration SECONDS] [-j] [--perf-buffer]\n` +
      `       ${b} runqlat [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]\n` +
      `       ${b} cpudist [-O] [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]\n` +
      `       ${b} syscount [-L] [-m] [-P] [-x] [-T N] [--pid PID] [-i SECONDS] [--duration SECONDS] [-j]\n` +
      `       ${b} help\n` +
      "\n" +
      "       open: open() and openat() calls, as BCC's opensnoop (PID COMM FD ERR PATH)\n" +
      "           -p PID       only this process\n" +
      "           -x           only failed opens\n" +
      "       exec: execve() calls, as BCC's execsnoop (PCOMM PID PPID RET ARGS)\n" +
      "           -x           include failed execs\n" +
      "           --max-args N arguments shown, file name included (1-60, default 20)\n" +
      "       biolatency: block I/O latency histograms (BCC's biolatency); -D per disk, -Q from queueing\n" +
      "       biosnoop: one line per block I/O (TIME(s) COMM PID DISK T SECTOR BYTES LAT(ms))\n" +
      "       runqlat: run queue latency histograms; cpudist: on-CPU (-O off-CPU) time histograms\n" +
      "       syscount: top syscalls (or processes, -P) by count, or by time with -L\n" +
      "       TOOL --help      the tool's options\n" +
      "       -n NAME          only commands whose name contains NAME\n" +
      "       -d SECONDS       stop after SECONDS (default: at Ctrl-C or SIGTERM)\n" +
      "       -j               one JSON object per line\n" +
      "       --perf-buffer    read events through a perf buffer, not a ring buffer\n" +
      "       Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n",
  );
}

/** `help` first: `tsbpf trace` alone prints help rather than starting a tool. */
const COMMANDS: readonly Command[] = [
  { name: "help", run: (c) => help(c) },
  { name: "open", run: async (c, a) => (await import("./trace-open.ts")).traceOpen(c, a) },
  { name: "exec", run: async (c, a) => (await import("./trace-exec.ts")).traceExec(c, a) },
  {
    name: "biolatency",
    run: async (c, a) => (await import("./trace-biolatency.ts")).traceBiolatency(c, a),
  },
  {
    name: "biosnoop",
    run: async (c, a) => (await import("./trace-biosnoop.ts")).traceBiosnoop(c, a),
  },
  { name: "runqlat", run: async (c, a) => (await import("./trace-runqlat.ts")).traceRunqlat(c, a) },
  {
    name: "syscount",
    run: async (c, a) => (await import("./trace-syscount.ts")).traceSyscount(c, a),
  },
  { name: "cpudist", run: async (c, a) => (await import("./trace-cpudist.ts")).traceCpudist(c, a) },
];

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
