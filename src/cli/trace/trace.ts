/**
 * `tsbpf trace`: ready-made tracing tools in the spirit of BCC's, on tracepoints, raw
 * tracepoints and USDT probes — opensnoop (`open`), execsnoop (`exec`), biolatency,
 * runqlat, syscount, killsnoop, tcpconnect, ucalls, ... Their options follow BCC's long
 * names (`--pid`, `--duration`), so main.ts hands this object its words unparsed. No
 * short flag means something else here than before the object: `-d` and `-p` are the
 * global `--debug` and `--pretty`, so a PID and a duration take long options only.
 *
 * The option-table convention: each tool's options are one `OptionDescription[]` in
 * tool-tables.ts. Its entry below is `tool(NAME, SUMMARY, NAME_OPTIONS)`, which hands
 * the table to help, completion and the man page; the tool parses its words with the
 * same table (`parseToolArgs` in tool-options.ts, or a SnoopTool's `options`). A tool
 * without an entry's table offers nothing to complete.
 *
 * @module
 */

import type { Args } from "../args.ts";
import {
  type CommandDescription,
  type Context,
  commandTable,
  dispatch,
  helpCommand,
  type ObjectDescription,
  type OptionDescription,
} from "../command.ts";
import { toolSynopsis, toolUsage } from "./tool-options.ts";
import {
  BASHREADLINE_OPTIONS,
  BIOLATENCY_OPTIONS,
  BIOSNOOP_OPTIONS,
  CPUDIST_OPTIONS,
  EXEC_OPTIONS,
  EXITSNOOP_OPTIONS,
  FUNCCOUNT_OPTIONS,
  INTERVAL_HELP,
  INTERVAL_OPERANDS,
  KILLSNOOP_OPTIONS,
  MOUNTSNOOP_OPTIONS,
  OFFCPUTIME_OPTIONS,
  OOMKILL_OPTIONS,
  OPEN_OPTIONS,
  PROFILE_OPTIONS,
  RUNQLAT_OPTIONS,
  STACK_OPERAND_HELP,
  STACK_OPERANDS,
  STATSNOOP_OPTIONS,
  SYSCOUNT_OPTIONS,
  TCPCONNECT_OPTIONS,
  TCPLIFE_OPTIONS,
  TCPRETRANS_OPTIONS,
  TPLIST_OPTIONS,
  UCALLS_OPTIONS,
  UFLOW_OPTIONS,
  UGC_OPTIONS,
} from "./tool-tables.ts";

/** What a tool's operands are: `interval [count]` for the histogram tools. */
interface Operands {
  /** As the synopsis shows them (`[interval [count]]`). */
  readonly synopsis: string;
  /** Their help lines. */
  readonly help: string;
}

/** `[interval [count]]`. */
const INTERVAL: Operands = { synopsis: INTERVAL_OPERANDS, help: INTERVAL_HELP };

/** `[duration]`, the stack tools'. */
const STACK: Operands = { synopsis: STACK_OPERANDS, help: STACK_OPERAND_HELP };

/** A tool's entry: a command with its one-line synopsis, for `tsbpf trace help`. */
interface ToolDescription extends CommandDescription {
  readonly synopsis: (bin: string) => string;
}

/**
 * A tool's entry: its option table (tool-tables.ts) becomes its help (`--help`), its
 * completion and its man page section.
 */
function tool<const N extends string>(
  name: N,
  summary: string,
  options: readonly OptionDescription[],
  operands?: Operands,
): ToolDescription & { readonly name: N } {
  return {
    name,
    summary,
    options,
    synopsis: (bin: string) => toolSynopsis(bin, name, options, operands?.synopsis, Infinity),
    usage: (bin: string) =>
      toolUsage(bin, name, summary, options, operands?.synopsis, operands?.help),
  };
}

const COMMAND_LIST = [
  { name: "help", summary: "print this usage" },
  tool(
    "open",
    "open() and openat() calls, as BCC's opensnoop (PID COMM FD ERR PATH)",
    OPEN_OPTIONS,
  ),
  tool("exec", "execve() calls, as BCC's execsnoop (PCOMM PID PPID RET ARGS)", EXEC_OPTIONS),
  tool(
    "ucalls",
    "calls per method of a Python process (USDT), as BCC's ucalls (METHOD # CALLS [TIME])",
    UCALLS_OPTIONS,
  ),
  tool(
    "uflow",
    "a Python process's calls and returns (USDT), indented by depth, as BCC's uflow",
    UFLOW_OPTIONS,
  ),
  tool(
    "ugc",
    "a Python process's garbage collections (USDT), as BCC's ugc (START TIME DESCRIPTION)",
    UGC_OPTIONS,
  ),
  tool("tplist", "USDT probes of a binary or process, as BCC's tplist -l", TPLIST_OPTIONS, {
    synopsis: "[FILTER]",
    help: "  FILTER                only probes whose PROVIDER:NAME matches this glob\n",
  }),
  tool(
    "biolatency",
    "block I/O latency as histograms, as BCC's biolatency",
    BIOLATENCY_OPTIONS,
    INTERVAL,
  ),
  tool(
    "biosnoop",
    "block I/O requests as they complete, as BCC's biosnoop (TIME(s) COMM PID DISK T SECTOR BYTES LAT(ms))",
    BIOSNOOP_OPTIONS,
  ),
  tool("runqlat", "run queue latency as histograms, as BCC's runqlat", RUNQLAT_OPTIONS, INTERVAL),
  tool(
    "cpudist",
    "on-CPU (or off-CPU) time per task as histograms, as BCC's cpudist",
    CPUDIST_OPTIONS,
    INTERVAL,
  ),
  tool("syscount", "syscall counts and latencies, as BCC's syscount", SYSCOUNT_OPTIONS),
  tool(
    "funccount",
    "calls per function (uprobes, kprobes) or tracepoint, as BCC's funccount (FUNC COUNT)",
    FUNCCOUNT_OPTIONS,
    {
      synopsis: "PATTERN",
      help:
        "  PATTERN               lib:func, /path/to/bin:func, p:lib:func: user functions (uprobes)\n" +
        "                        func, p::func: kernel functions (kprobes)\n" +
        "                        t:group:event: tracepoints; u:lib:probe: USDT probes (by name)\n" +
        "                        '*' matches any text (c:mall*); lib: c, pthread, a path, a program\n" +
        "Examples: tsbpf trace funccount c:malloc; tsbpf trace funccount -r 'c:(read|write)$'\n",
    },
  ),
  tool(
    "killsnoop",
    "kill() calls (TIME PID COMM SIG TPID RESULT), as BCC's killsnoop",
    KILLSNOOP_OPTIONS,
  ),
  tool(
    "exitsnoop",
    "process exits (PCOMM PID PPID TID AGE(s) EXIT_CODE), as BCC's exitsnoop",
    EXITSNOOP_OPTIONS,
  ),
  tool("statsnoop", "stat() calls (PID COMM RET ERR PATH), as BCC's statsnoop", STATSNOOP_OPTIONS),
  tool(
    "mountsnoop",
    "mount() and umount() calls (COMM PID TID MNT_NS CALL), as BCC's mountsnoop",
    MOUNTSNOOP_OPTIONS,
  ),
  tool("oomkill", "OOM kills, one line each, as BCC's oomkill", OOMKILL_OPTIONS),
  tool(
    "tcpconnect",
    "TCP connects (PID COMM IP SADDR DADDR DPORT), as BCC's tcpconnect",
    TCPCONNECT_OPTIONS,
  ),
  tool(
    "tcplife",
    "TCP sessions at close (PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS), as BCC's tcplife",
    TCPLIFE_OPTIONS,
  ),
  tool(
    "tcpretrans",
    "TCP retransmits (TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE), as BCC's tcpretrans",
    TCPRETRANS_OPTIONS,
  ),
  tool(
    "bashreadline",
    "lines typed into bash shells (TIME PID COMMAND), as BCC's bashreadline",
    BASHREADLINE_OPTIONS,
  ),
  tool(
    "profile",
    "CPU stack traces sampled at a timed interval, counted, as BCC's profile",
    PROFILE_OPTIONS,
    STACK,
  ),
  tool(
    "offcputime",
    "off-CPU time summed by stack trace, as BCC's offcputime",
    OFFCPUTIME_OPTIONS,
    STACK,
  ),
] as const;

/** Each tool's one-line synopsis and what it shows, for `tsbpf trace help`. */
function traceUsage(bin: string): string {
  const tools = COMMAND_LIST.filter((c): c is ToolDescription & typeof c => "synopsis" in c);
  const lines = tools.map((c, i) => `${i === 0 ? "Usage: " : "       "}${c.synopsis(bin)}\n`);
  return (
    lines.join("") +
    `       ${bin} trace help\n\n` +
    tools.map((c) => `       ${c.name.padEnd(11)} ${c.summary}\n`).join("") +
    "\n       TOOL --help prints a tool's options.\n" +
    "       -d and -p are the global --debug and --pretty: they go before 'trace'.\n" +
    "       Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n"
  );
}

/** `tsbpf trace`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "trace",
  summary:
    "ready-made tracing tools in the spirit of BCC's (opensnoop, execsnoop, biolatency, runqlat, syscount, funccount, ucalls, ...)",
  usage: traceUsage,
  commands: COMMAND_LIST,
} as const satisfies ObjectDescription;

/** trace's dispatch table, built from {@link DESCRIPTION}; `help` first, so `tsbpf trace` alone prints help. */
export const COMMANDS = commandTable(DESCRIPTION, {
  help: helpCommand,
  open: async (c, a) => (await import("./trace-open.ts")).traceOpen(c, a),
  exec: async (c, a) => (await import("./trace-exec.ts")).traceExec(c, a),
  ucalls: async (c, a) => (await import("./trace-upython.ts")).traceUcalls(c, a),
  uflow: async (c, a) => (await import("./trace-upython.ts")).traceUflow(c, a),
  ugc: async (c, a) => (await import("./trace-upython.ts")).traceUgc(c, a),
  tplist: async (c, a) => (await import("./trace-tplist.ts")).traceTplist(c, a),
  biolatency: async (c, a) => (await import("./trace-biolatency.ts")).traceBiolatency(c, a),
  biosnoop: async (c, a) => (await import("./trace-biosnoop.ts")).traceBiosnoop(c, a),
  runqlat: async (c, a) => (await import("./trace-runqlat.ts")).traceRunqlat(c, a),
  cpudist: async (c, a) => (await import("./trace-cpudist.ts")).traceCpudist(c, a),
  syscount: async (c, a) => (await import("./trace-syscount.ts")).traceSyscount(c, a),
  killsnoop: async (c, a) => (await import("./killsnoop.ts")).traceKillsnoop(c, a),
  exitsnoop: async (c, a) => (await import("./exitsnoop.ts")).traceExitsnoop(c, a),
  statsnoop: async (c, a) => (await import("./statsnoop.ts")).traceStatsnoop(c, a),
  mountsnoop: async (c, a) => (await import("./mountsnoop.ts")).traceMountsnoop(c, a),
  oomkill: async (c, a) => (await import("./oomkill.ts")).traceOomkill(c, a),
  tcpconnect: async (c, a) => (await import("./tcpconnect.ts")).traceTcpconnect(c, a),
  tcplife: async (c, a) => (await import("./tcplife.ts")).traceTcplife(c, a),
  tcpretrans: async (c, a) => (await import("./tcpretrans.ts")).traceTcpretrans(c, a),
  funccount: async (c, a) => (await import("./trace-funccount.ts")).traceFunccount(c, a),
  bashreadline: async (c, a) => (await import("./bashreadline.ts")).traceBashreadline(c, a),
  profile: async (c, a) => (await import("./profile.ts")).traceProfile(c, a),
  offcputime: async (c, a) => (await import("./offcputime.ts")).traceOffcputime(c, a),
});

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
