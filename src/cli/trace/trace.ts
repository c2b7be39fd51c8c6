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
      `       ${b} TOOL [OPTIONS]\n` +
      `       ${b} help\n` +
      "\n" +
      "       open: open() and openat() calls, as BCC's opensnoop (PID COMM FD ERR PATH)\n" +
      "           -p PID       only this process\n" +
      "           -x           only failed opens\n" +
      "       exec: execve() calls, as BCC's execsnoop (PCOMM PID PPID RET ARGS)\n" +
      "           -x           include failed execs\n" +
      "           --max-args N arguments shown, file name included (1-60, default 20)\n" +
      "\n" +
      "       killsnoop    kill() calls (TIME PID COMM SIG TPID RESULT)\n" +
      "       exitsnoop    process exits (PCOMM PID PPID TID AGE(s) EXIT_CODE)\n" +
      "       statsnoop    stat() calls (PID COMM RET ERR PATH)\n" +
      "       mountsnoop   mount() and umount() calls (COMM PID TID MNT_NS CALL)\n" +
      "       oomkill      OOM kills, one line each\n" +
      "       tcpconnect   TCP connects (PID COMM IP SADDR DADDR DPORT)\n" +
      "       tcplife      TCP sessions at close (PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS)\n" +
      "       tcpretrans   TCP retransmits (TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE)\n" +
      "\n" +
      `       ${b} TOOL --help prints a tool's options (BCC's; --pid, --duration, -j).\n` +
      "\n" +
      "       -n NAME          only commands whose name contains NAME\n" +
      "       -d SECONDS       stop after SECONDS (default: at Ctrl-C or SIGTERM)\n" +
      "       -j               one JSON object per line\n" +
      "       --perf-buffer    read events through a perf buffer, not a ring buffer\n" +
      "       Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n",
  );
}

/** BCC's event tools, each in its own module (loaded when run). */
const EVENT_TOOLS: readonly Command[] = [
  { name: "killsnoop", run: async (c, a) => (await import("./killsnoop.ts")).traceKillsnoop(c, a) },
  { name: "exitsnoop", run: async (c, a) => (await import("./exitsnoop.ts")).traceExitsnoop(c, a) },
  { name: "statsnoop", run: async (c, a) => (await import("./statsnoop.ts")).traceStatsnoop(c, a) },
  {
    name: "mountsnoop",
    run: async (c, a) => (await import("./mountsnoop.ts")).traceMountsnoop(c, a),
  },
  { name: "oomkill", run: async (c, a) => (await import("./oomkill.ts")).traceOomkill(c, a) },
  {
    name: "tcpconnect",
    run: async (c, a) => (await import("./tcpconnect.ts")).traceTcpconnect(c, a),
  },
  { name: "tcplife", run: async (c, a) => (await import("./tcplife.ts")).traceTcplife(c, a) },
  {
    name: "tcpretrans",
    run: async (c, a) => (await import("./tcpretrans.ts")).traceTcpretrans(c, a),
  },
];

/** `help` first: `tsbpf trace` alone prints help rather than starting a tool. */
const COMMANDS: readonly Command[] = [
  { name: "help", run: (c) => help(c) },
  { name: "open", run: async (c, a) => (await import("./trace-open.ts")).traceOpen(c, a) },
  { name: "exec", run: async (c, a) => (await import("./trace-exec.ts")).traceExec(c, a) },
  ...EVENT_TOOLS,
];

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
