/**
 * `tsbpf trace`: ready-made tracing tools in the spirit of BCC's, on tracepoints —
 * `open` (opensnoop) and `exec` (execsnoop). Their options follow BCC's tools, not
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
      `       ${b} help\n` +
      "\n" +
      "       open: open() and openat() calls, as BCC's opensnoop (PID COMM FD ERR PATH)\n" +
      "           -p PID       only this process\n" +
      "           -x           only failed opens\n" +
      "       exec: execve() calls, as BCC's execsnoop (PCOMM PID PPID RET ARGS)\n" +
      "           -x           include failed execs\n" +
      "           --max-args N arguments shown, file name included (1-60, default 20)\n" +
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
