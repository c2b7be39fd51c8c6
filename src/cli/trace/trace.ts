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
    `       ${bin} trace help\n` +
    "\n" +
    `       open: ${OPEN_WHAT}\n` +
    optionLines(own(OPEN_OPTIONS), "           ") +
    `       exec: ${EXEC_WHAT}\n` +
    optionLines(own(EXEC_OPTIONS), "           ") +
    optionLines(COMMON_OPTIONS, "       ") +
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
  ],
} as const satisfies ObjectDescription;

/** trace's dispatch table, built from {@link DESCRIPTION}; `help` first, so `tsbpf trace` alone prints help. */
export const COMMANDS = commandTable(DESCRIPTION, {
  help: helpCommand,
  open: async (c, a) => (await import("./trace-open.ts")).traceOpen(c, a),
  exec: async (c, a) => (await import("./trace-exec.ts")).traceExec(c, a),
});

/** Runs `tsbpf trace ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
