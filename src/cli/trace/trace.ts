/**
 * `tsbpf trace`: ready-made tracing tools in the spirit of BCC's, on tracepoints —
 * `open` (opensnoop) and `exec` (execsnoop). Their options follow BCC's long names
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

const own = (list: readonly OptionDescription[]) => list.filter((o) => !COMMON_OPTIONS.includes(o));

/** `tsbpf trace`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "trace",
  summary: "ready-made tracing tools in the spirit of BCC's (opensnoop, execsnoop)",
  usage: (bin: string) =>
    `Usage: ${synopsis(bin, "open", OPEN_OPTIONS)}\n` +
    `       ${synopsis(bin, "exec", EXEC_OPTIONS)}\n` +
    `       ${synopsis(bin, "ucalls", UCALLS_OPTIONS)}\n` +
    `       ${synopsis(bin, "uflow", UFLOW_OPTIONS)}\n` +
    `       ${synopsis(bin, "ugc", UGC_OPTIONS)}\n` +
    `       ${synopsis(bin, "tplist", TPLIST_OPTIONS)} [FILTER]\n` +
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
    "       (see 'tsbpf trace TOOL --help' for each tool's options)\n" +
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
});

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
