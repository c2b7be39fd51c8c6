/**
 * `tsbpf trace`: ready-made tracing tools in the spirit of BCC's, on tracepoints and
 * raw tracepoints — `open` (opensnoop), `exec` (execsnoop), `biolatency`, `biosnoop`,
 * `runqlat`, `cpudist` and `syscount`. Their options follow BCC's long names
 * (`--pid`, `--duration`), so main.ts hands this object its words unparsed. No short
 * flag means something else here than before the object: `-d` and `-p` are the global
 * `--debug` and `--pretty`, so a PID and a duration take long options only.
 *
 * @module
 */

import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  helpCommand,
  type ObjectDescription,
  type OptionDescription,
} from "../command.ts";

/** Options every trace tool takes. */
const COMMON_OPTIONS: readonly OptionDescription[] = [
  { long: "name", short: "n", value: "NAME", summary: "only commands whose name contains NAME" },
  {
    long: "duration",
    value: "SECONDS",
    summary: "stop after SECONDS (default: at Ctrl-C or SIGTERM)",
  },
  { long: "json", short: "j", summary: "one JSON object per line" },
  { long: "perf-buffer", summary: "read events through a perf buffer, not a ring buffer" },
  { long: "help", short: "h", summary: "print this usage" },
];

/** `trace open`'s options, in the order its usage lists them. */
export const OPEN_OPTIONS: readonly OptionDescription[] = [
  { long: "pid", value: "PID", summary: "only this process" },
  { long: "failed", short: "x", summary: "only failed opens" },
  ...COMMON_OPTIONS,
];

/** `trace exec`'s options, in the order its usage lists them. */
export const EXEC_OPTIONS: readonly OptionDescription[] = [
  { long: "fails", short: "x", summary: "include failed execs" },
  {
    long: "max-args",
    value: "N",
    summary: "arguments shown, file name included (1-60, default 20)",
  },
  ...COMMON_OPTIONS,
];

/** `-x` or `--pid PID` as a synopsis shows it: the short form when there is one. */
function synopsisWord(o: OptionDescription): string {
  const name = o.short ? `-${o.short}` : `--${o.long}`;
  return `[${name}${o.value ? ` ${o.value}` : ""}]`;
}

/** One option per line, names then what it does (as BCC's tools print them). */
function optionLines(options: readonly OptionDescription[], indent: string): string {
  return options
    .filter((o) => o.long !== "help")
    .map((o) => {
      const names = `${o.short ? `-${o.short}, ` : ""}--${o.long}${o.value ? ` ${o.value}` : ""}`;
      return `${`${indent}${names}`.padEnd(29)} ${o.summary}\n`;
    })
    .join("");
}

function synopsis(bin: string, tool: string, options: readonly OptionDescription[]): string {
  const words = options.filter((o) => o.long !== "help").map(synopsisWord);
  return `${bin} trace ${tool} ${words.join(" ")}`;
}

/** Options of the Python USDT tools (long only: BCC's -p/-d letters are global here). */
const PYTHON_COMMON: readonly OptionDescription[] = [
  { long: "pid", value: "PID", summary: "the Python process (required)" },
  { long: "duration", value: "SECONDS", summary: "stop after SECONDS (default: at Ctrl-C)" },
  { long: "json", short: "j", summary: "JSON output" },
  { long: "perf-buffer", summary: "read events through a perf buffer, not a ring buffer" },
  { long: "help", short: "h", summary: "print this usage" },
];
const MILLISECONDS: OptionDescription = {
  long: "milliseconds",
  summary: "times in milliseconds (default microseconds)",
};
export const UCALLS_OPTIONS: readonly OptionDescription[] = [
  { long: "latency", summary: "time spent in each method" },
  MILLISECONDS,
  { long: "top", value: "N", summary: "only the N busiest methods" },
  ...PYTHON_COMMON,
];
export const UFLOW_OPTIONS: readonly OptionDescription[] = [
  { long: "method", value: "PREFIX", summary: "only functions starting with PREFIX" },
  { long: "class", value: "PREFIX", summary: "only files starting with PREFIX" },
  ...PYTHON_COMMON,
];
export const UGC_OPTIONS: readonly OptionDescription[] = [
  MILLISECONDS,
  { long: "minimum", value: "MS", summary: "only collections longer than MS" },
  { long: "filter", value: "TEXT", summary: "only collections whose description has TEXT" },
  ...PYTHON_COMMON,
];
export const TPLIST_OPTIONS: readonly OptionDescription[] = [
  { long: "lib", value: "BINARY", summary: "the probes of a binary or library" },
  { long: "pid", value: "PID", summary: "the probes of a process's binaries" },
  { long: "verbose", summary: "each site, its semaphore and argument places (BCC's -vv)" },
  { long: "json", short: "j", summary: "JSON output" },
  { long: "help", short: "h", summary: "print this usage" },
];
const UCALLS_WHAT = "calls per Python method, at the end, as BCC's ucalls (METHOD # CALLS [TIME])";
const UFLOW_WHAT = "each Python call and return, indented by depth, as BCC's uflow";
const UGC_WHAT = "each Python garbage collection, as BCC's ugc (START TIME DESCRIPTION)";
const TPLIST_WHAT = "USDT probes of a binary or process, as BCC's tplist -l";

const OPEN_WHAT = "open() and openat() calls, as BCC's opensnoop (PID COMM FD ERR PATH)";
const EXEC_WHAT = "execve() calls, as BCC's execsnoop (PCOMM PID PPID RET ARGS)";
const NOTES =
  "       -d and -p are the global --debug and --pretty: they go before 'trace'.\n" +
  "       Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n";

/** The usage of one tool (`trace open --help`). */
function toolUsage(bin: string, tool: string, what: string, options: readonly OptionDescription[]) {
  return `Usage: ${synopsis(bin, tool, options)}\n\n       ${what}\n${optionLines(options, "       ")}${NOTES}`;
}

// The usage texts of the block, scheduler and syscall tools (`tsbpf trace TOOL --help`),
// here with the rest of the description, which loads none of their kernel code.

/** The option lines runqlat and cpudist share. */
export const SCHED_OPTIONS_HELP =
  "  -T, --timestamp     include a timestamp with each histogram\n" +
  "  -m, --milliseconds  millisecond histogram (default: microseconds)\n" +
  "  -P, --pids          a histogram per process\n" +
  "  -L, --tids          a histogram per thread\n" +
  "  --pid PID           only this process\n" +
  "  -j, --json          one JSON object per histogram\n" +
  "  interval [count]    print every interval seconds, count times (default: once, at Ctrl-C)\n";

/** `tsbpf trace biolatency --help`. */
export const BIOLATENCY_HELP =
  "Usage: tsbpf trace biolatency [-T] [-Q] [-m] [-D] [--disk NAME] [-j] [interval [count]]\n" +
  "Summarize block device I/O latency as a histogram (BCC's biolatency).\n" +
  "  -T, --timestamp     include a timestamp with each histogram\n" +
  "  -Q, --queued        include the time queued in the kernel (from block_rq_insert)\n" +
  "  -m, --milliseconds  millisecond histogram (default: microseconds)\n" +
  "  -D, --disks         a histogram per disk\n" +
  "  --disk NAME         only this disk (sda, loop0, ...)\n" +
  "  -j, --json          one JSON object per histogram\n" +
  "  interval [count]    print every interval seconds, count times (default: once, at Ctrl-C)\n";

/** `tsbpf trace biosnoop --help`. */
export const BIOSNOOP_HELP =
  "Usage: tsbpf trace biosnoop [-Q] [--disk NAME] [--duration SECONDS] [-j] [--perf-buffer]\n" +
  "Trace block I/O, one line per request (BCC's biosnoop).\n" +
  "  -Q, --queue            include the time queued in the kernel (QUE(ms))\n" +
  "  --disk NAME            only this disk (sda, loop0, ...)\n" +
  "  --duration SECONDS     stop after this long (default: at Ctrl-C or SIGTERM)\n" +
  "  -j, --json             one JSON object per line\n" +
  "  --perf-buffer          read events through a perf buffer, not a ring buffer\n";

/** `tsbpf trace runqlat --help`. */
export const RUNQLAT_HELP =
  "Usage: tsbpf trace runqlat [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]\n" +
  "Summarize run queue (scheduler) latency as a histogram (BCC's runqlat).\n" +
  SCHED_OPTIONS_HELP;

/** `tsbpf trace cpudist --help`. */
export const CPUDIST_HELP =
  "Usage: tsbpf trace cpudist [-O] [-T] [-m] [-P|-L] [--pid PID] [-j] [interval [count]]\n" +
  "Summarize on-CPU time per task as a histogram (BCC's cpudist).\n" +
  "  -O, --offcpu        measure off-CPU time instead\n" +
  SCHED_OPTIONS_HELP;

/** `tsbpf trace syscount --help`. */
export const SYSCOUNT_HELP =
  "Usage: tsbpf trace syscount [-L] [-m] [-P] [-x] [-T N] [--pid PID] [-i SECONDS]\n" +
  "                            [--duration SECONDS] [-l] [-j]\n" +
  "Summarize syscall counts and latencies (BCC's syscount).\n" +
  "  -L, --latency          collect syscall latency (total time per row)\n" +
  "  -m, --milliseconds     latency in milliseconds (default: microseconds)\n" +
  "  -P, --process          count by process, not by syscall\n" +
  "  -x, --failures         only failed syscalls (return < 0)\n" +
  "  -T, --top N            print only the top N rows (default 10)\n" +
  "  --pid PID              only this process\n" +
  "  -i, --interval SECONDS print a summary every interval\n" +
  "  --duration SECONDS     stop after this long (default: at Ctrl-C or SIGTERM)\n" +
  "  -l, --list             print the syscalls this table knows and exit\n" +
  "  -j, --json             one JSON object per summary\n";

/** The options of the summary tools (each tool's `--help` text says the same in full). */
const flag = (long: string, short: string | undefined, summary: string): OptionDescription =>
  short ? { long, short, summary } : { long, summary };
const JSON_OPTION = flag("json", "j", "one JSON object per line");
const HELP_OPTION = flag("help", "h", "print this usage");
const DISK_OPTION: OptionDescription = { long: "disk", value: "NAME", summary: "only this disk" };
const PID_OPTION: OptionDescription = { long: "pid", value: "PID", summary: "only this process" };
const DURATION_OPTION: OptionDescription = {
  long: "duration",
  value: "SECONDS",
  summary: "stop after SECONDS",
};
const SCHED_OPTIONS: readonly OptionDescription[] = [
  flag("timestamp", "T", "include a timestamp with each histogram"),
  flag("milliseconds", "m", "millisecond histogram"),
  flag("pids", "P", "a histogram per process"),
  flag("tids", "L", "a histogram per thread"),
  PID_OPTION,
  JSON_OPTION,
  HELP_OPTION,
];

/** `trace biolatency`'s options. */
export const BIOLATENCY_OPTIONS: readonly OptionDescription[] = [
  flag("timestamp", "T", "include a timestamp with each histogram"),
  flag("queued", "Q", "include the time queued in the kernel"),
  flag("milliseconds", "m", "millisecond histogram"),
  flag("disks", "D", "a histogram per disk"),
  DISK_OPTION,
  JSON_OPTION,
  HELP_OPTION,
];

/** `trace biosnoop`'s options. */
export const BIOSNOOP_OPTIONS: readonly OptionDescription[] = [
  flag("queue", "Q", "include the time queued in the kernel"),
  DISK_OPTION,
  DURATION_OPTION,
  JSON_OPTION,
  flag("perf-buffer", undefined, "read events through a perf buffer, not a ring buffer"),
  HELP_OPTION,
];

/** `trace runqlat`'s options. */
export const RUNQLAT_OPTIONS = SCHED_OPTIONS;

/** `trace cpudist`'s options. */
export const CPUDIST_OPTIONS: readonly OptionDescription[] = [
  flag("offcpu", "O", "measure off-CPU time"),
  ...SCHED_OPTIONS,
];

/** `trace syscount`'s options. */
export const SYSCOUNT_OPTIONS: readonly OptionDescription[] = [
  flag("latency", "L", "collect syscall latency"),
  flag("milliseconds", "m", "latency in milliseconds"),
  flag("process", "P", "count by process, not by syscall"),
  flag("failures", "x", "only failed syscalls"),
  { long: "top", short: "T", value: "N", summary: "print only the top N rows (default 10)" },
  PID_OPTION,
  { long: "interval", short: "i", value: "SECONDS", summary: "print a summary every interval" },
  DURATION_OPTION,
  flag("list", "l", "print the syscalls the table knows and exit"),
  JSON_OPTION,
  HELP_OPTION,
];

/** The first line of a tool's own usage: its synopsis. */
const synopsisOf = (help: string) => (help.split("\n")[0] ?? "").replace(/^Usage: tsbpf /, "");

const own = (list: readonly OptionDescription[]) => list.filter((o) => !COMMON_OPTIONS.includes(o));

/** BCC's event tools (killsnoop ... tcpretrans): each module holds its options and help. */
const EVENT_TOOLS = [
  ["killsnoop", "kill() calls (TIME PID COMM SIG TPID RESULT)"],
  ["exitsnoop", "process exits (PCOMM PID PPID TID AGE(s) EXIT_CODE)"],
  ["statsnoop", "stat() calls (PID COMM RET ERR PATH)"],
  ["mountsnoop", "mount() and umount() calls (COMM PID TID MNT_NS CALL)"],
  ["oomkill", "OOM kills, one line each"],
  ["tcpconnect", "TCP connects (PID COMM IP SADDR DADDR DPORT)"],
  ["tcplife", "TCP sessions at close (PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS)"],
  ["tcpretrans", "TCP retransmits (TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE)"],
] as const;

/** `tsbpf trace`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "trace",
  summary:
    "ready-made tracing tools in the spirit of BCC's (opensnoop, execsnoop, biolatency, runqlat, syscount, ucalls, ...)",
  usage: (bin: string) =>
    `Usage: ${synopsis(bin, "open", OPEN_OPTIONS)}\n` +
    `       ${synopsis(bin, "exec", EXEC_OPTIONS)}\n` +
    `       ${synopsis(bin, "ucalls", UCALLS_OPTIONS)}\n` +
    `       ${synopsis(bin, "uflow", UFLOW_OPTIONS)}\n` +
    `       ${synopsis(bin, "ugc", UGC_OPTIONS)}\n` +
    `       ${synopsis(bin, "tplist", TPLIST_OPTIONS)} [FILTER]\n` +
    `       ${bin} ${synopsisOf(BIOLATENCY_HELP)}\n` +
    `       ${bin} ${synopsisOf(BIOSNOOP_HELP)}\n` +
    `       ${bin} ${synopsisOf(RUNQLAT_HELP)}\n` +
    `       ${bin} ${synopsisOf(CPUDIST_HELP)}\n` +
    `       ${bin} ${synopsisOf(SYSCOUNT_HELP)}\n` +
    `       ${bin} trace help\n` +
    "\n" +
    `       open: ${OPEN_WHAT}\n` +
    optionLines(own(OPEN_OPTIONS), "           ") +
    `       exec: ${EXEC_WHAT}\n` +
    optionLines(own(EXEC_OPTIONS), "           ") +
    optionLines(COMMON_OPTIONS, "       ") +
    `       ucalls: ${UCALLS_WHAT}\n` +
    `       uflow: ${UFLOW_WHAT}\n` +
    `       ugc: ${UGC_WHAT}\n` +
    `       tplist: ${TPLIST_WHAT}; FILTER: probes whose name has it\n` +
    EVENT_TOOLS.map(([n, w]) => `       ${n.padEnd(12)} ${w}\n`).join("") +
    "       biolatency: block I/O latency histograms (BCC's biolatency)\n" +
    "       biosnoop: one line per block I/O (TIME(s) COMM PID DISK T SECTOR BYTES LAT(ms))\n" +
    "       runqlat: run queue latency histograms; cpudist: on-CPU (-O off-CPU) time histograms\n" +
    "       syscount: top syscalls (or processes, -P) by count, or by time with -L\n" +
    "       profile: CPU stack traces sampled 49 times a second, counted (BCC's profile)\n" +
    "       offcputime: time off the CPU by stack trace (BCC's offcputime)\n" +
    "       TOOL --help: the tool's options\n" +
    NOTES,
  commands: [
    { name: "help", summary: "print this usage" },
    {
      name: "open",
      summary: "open() and openat() calls as they happen, as BCC's opensnoop",
      options: OPEN_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "open", OPEN_WHAT, OPEN_OPTIONS),
    },
    {
      name: "exec",
      summary: "execve() calls as they happen, as BCC's execsnoop",
      options: EXEC_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "exec", EXEC_WHAT, EXEC_OPTIONS),
    },
    {
      name: "ucalls",
      summary: "calls per method of a Python process (USDT), as BCC's ucalls",
      options: UCALLS_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "ucalls", UCALLS_WHAT, UCALLS_OPTIONS),
    },
    {
      name: "uflow",
      summary: "a Python process's calls and returns (USDT), as BCC's uflow",
      options: UFLOW_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "uflow", UFLOW_WHAT, UFLOW_OPTIONS),
    },
    {
      name: "ugc",
      summary: "a Python process's garbage collections (USDT), as BCC's ugc",
      options: UGC_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "ugc", UGC_WHAT, UGC_OPTIONS),
    },
    {
      name: "tplist",
      summary: "USDT probes of a binary or process, as BCC's tplist",
      options: TPLIST_OPTIONS,
      usage: (bin: string) => toolUsage(bin, "tplist", TPLIST_WHAT, TPLIST_OPTIONS),
    },
    {
      name: "biolatency",
      summary: "block I/O latency as histograms, as BCC's biolatency",
      options: BIOLATENCY_OPTIONS,
      usage: () => BIOLATENCY_HELP,
    },
    {
      name: "biosnoop",
      summary: "block I/O requests as they complete, as BCC's biosnoop",
      options: BIOSNOOP_OPTIONS,
      usage: () => BIOSNOOP_HELP,
    },
    {
      name: "runqlat",
      summary: "run queue latency as histograms, as BCC's runqlat",
      options: RUNQLAT_OPTIONS,
      usage: () => RUNQLAT_HELP,
    },
    {
      name: "cpudist",
      summary: "on-CPU (or off-CPU) time per task as histograms, as BCC's cpudist",
      options: CPUDIST_OPTIONS,
      usage: () => CPUDIST_HELP,
    },
    {
      name: "syscount",
      summary: "syscall counts and latencies, as BCC's syscount",
      options: SYSCOUNT_OPTIONS,
      usage: () => SYSCOUNT_HELP,
    },
    {
      name: "profile",
      summary: "CPU stack traces sampled at a timed interval, counted, as BCC's profile",
    },
    {
      name: "offcputime",
      summary: "off-CPU time summed by stack trace, as BCC's offcputime",
    },
    {
      name: "killsnoop",
      summary: "kill() calls (TIME PID COMM SIG TPID RESULT), as BCC's killsnoop",
    },
    {
      name: "exitsnoop",
      summary: "process exits (PCOMM PID PPID TID AGE(s) EXIT_CODE), as BCC's exitsnoop",
    },
    {
      name: "statsnoop",
      summary: "stat() calls (PID COMM RET ERR PATH), as BCC's statsnoop",
    },
    {
      name: "mountsnoop",
      summary: "mount() and umount() calls (COMM PID TID MNT_NS CALL), as BCC's mountsnoop",
    },
    {
      name: "oomkill",
      summary: "OOM kills, one line each, as BCC's oomkill",
    },
    {
      name: "tcpconnect",
      summary: "TCP connects (PID COMM IP SADDR DADDR DPORT), as BCC's tcpconnect",
    },
    {
      name: "tcplife",
      summary:
        "TCP sessions at close (PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS), as BCC's tcplife",
    },
    {
      name: "tcpretrans",
      summary:
        "TCP retransmits (TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE), as BCC's tcpretrans",
    },
  ],
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
  profile: async (c, a) => (await import("./profile.ts")).traceProfile(c, a),
  offcputime: async (c, a) => (await import("./offcputime.ts")).traceOffcputime(c, a),
  killsnoop: async (c, a) => (await import("./killsnoop.ts")).traceKillsnoop(c, a),
  exitsnoop: async (c, a) => (await import("./exitsnoop.ts")).traceExitsnoop(c, a),
  statsnoop: async (c, a) => (await import("./statsnoop.ts")).traceStatsnoop(c, a),
  mountsnoop: async (c, a) => (await import("./mountsnoop.ts")).traceMountsnoop(c, a),
  oomkill: async (c, a) => (await import("./oomkill.ts")).traceOomkill(c, a),
  tcpconnect: async (c, a) => (await import("./tcpconnect.ts")).traceTcpconnect(c, a),
  tcplife: async (c, a) => (await import("./tcplife.ts")).traceTcplife(c, a),
  tcpretrans: async (c, a) => (await import("./tcpretrans.ts")).traceTcpretrans(c, a),
});

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
