/**
 * Every trace tool's options, one table per tool. A table is the one place a tool's
 * options live: trace.ts's DESCRIPTION hands it to help, shell completion and the man
 * page, and the tool parses its words with it ({@link parseToolArgs}), so the three
 * cannot drift apart.
 *
 * The convention for a new tool: add `NAME_OPTIONS` here (`as const`, its own options
 * first, then the shared ones it takes), name it in the tool's DESCRIPTION entry
 * (`tool("NAME", summary, NAME_OPTIONS)` in trace.ts), and parse with
 * `parseToolArgs(args.rest(), NAME_OPTIONS, "NAME")`, or give it to a
 * {@link SnoopTool}'s `options`. BCC's letters stay short unless tsbpf's global options
 * (-j -p -d -f -V) take them: those are long only (`--pid`, `--duration`).
 *
 * This module holds data only, so describing the CLI loads no tool's code.
 *
 * @module
 */

import type { OptionDescription } from "../command.ts";

/** `-h`, `--help`. */
export const HELP = { long: "help", short: "h", summary: "print this usage" } as const;
/** `-j`, `--json`. */
export const JSON_LINES = {
  long: "json",
  short: "j",
  summary: "one JSON object per line",
} as const;
/** `--pid PID` (BCC's -p is the global --pretty). */
export const PID = { long: "pid", value: "PID", summary: "trace this PID only" } as const;
/** `--duration SECONDS` (BCC's -d is the global --debug). */
export const DURATION = {
  long: "duration",
  value: "SECONDS",
  summary: "stop after SECONDS (default: at Ctrl-C or SIGTERM)",
} as const;
/** `--perf-buffer`. */
export const PERF_BUFFER = {
  long: "perf-buffer",
  summary: "read events through a perf buffer, not a ring buffer",
} as const;

/** What every event tool (one line per event) takes after its own options. */
export const EVENT_COMMON = [DURATION, JSON_LINES, PERF_BUFFER, HELP] as const;

/** BCC's `interval [count]` operands of the histogram and summary tools. */
export const INTERVAL_OPERANDS = "[interval [count]]";
/** Their help line. */
export const INTERVAL_HELP =
  "  interval [count]      print every interval seconds, count times (default: once, at Ctrl-C)\n";

// --- opensnoop, execsnoop ---------------------------------------------------------

/** `-n`, `--name NAME`. */
const NAME = {
  long: "name",
  short: "n",
  value: "NAME",
  summary: "only commands whose name contains NAME",
} as const;

/** `trace open`'s options. */
export const OPEN_OPTIONS = [
  { long: "pid", value: "PID", summary: "only this process" },
  { long: "failed", short: "x", summary: "only failed opens" },
  NAME,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace exec`'s options. */
export const EXEC_OPTIONS = [
  { long: "fails", short: "x", summary: "include failed execs" },
  {
    long: "max-args",
    value: "N",
    summary: "arguments shown, file name included (1-60, default 20)",
  },
  NAME,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

// --- Python USDT tools and tplist (long only: BCC's -p/-d letters are global here) ---

const PYTHON_COMMON = [
  { long: "pid", value: "PID", summary: "the Python process (required)" },
  ...EVENT_COMMON,
] as const;
const MILLISECONDS_LONG = {
  long: "milliseconds",
  summary: "times in milliseconds (default microseconds)",
} as const;

/** `trace ucalls`' options. */
export const UCALLS_OPTIONS = [
  { long: "latency", summary: "time spent in each method" },
  MILLISECONDS_LONG,
  { long: "top", value: "N", summary: "only the N busiest methods" },
  ...PYTHON_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace uflow`'s options. */
export const UFLOW_OPTIONS = [
  { long: "method", value: "PREFIX", summary: "only functions starting with PREFIX" },
  { long: "class", value: "PREFIX", summary: "only files starting with PREFIX" },
  ...PYTHON_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace ugc`'s options. */
export const UGC_OPTIONS = [
  MILLISECONDS_LONG,
  { long: "minimum", value: "MS", summary: "only collections longer than MS" },
  { long: "filter", value: "TEXT", summary: "only collections whose description has TEXT" },
  ...PYTHON_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace tplist`'s options. */
export const TPLIST_OPTIONS = [
  { long: "lib", value: "BINARY", summary: "the probes of a binary or library" },
  { long: "pid", value: "PID", summary: "the probes of a process's binaries" },
  { long: "verbose", summary: "each site, its semaphore and argument places (BCC's -vv)" },
  JSON_LINES,
  HELP,
] as const satisfies readonly OptionDescription[];

// --- histogram and summary tools ----------------------------------------------------

const TIMESTAMP_T = {
  long: "timestamp",
  short: "T",
  summary: "include a timestamp with each histogram",
} as const;
const MILLISECONDS = {
  long: "milliseconds",
  short: "m",
  summary: "millisecond histogram (default: microseconds)",
} as const;
const DISK = { long: "disk", value: "NAME", summary: "only this disk (sda, loop0, ...)" } as const;
const JSON_SUMMARY = {
  long: "json",
  short: "j",
  summary: "one JSON object per histogram",
} as const;

/** `trace biolatency`'s options. */
export const BIOLATENCY_OPTIONS = [
  TIMESTAMP_T,
  {
    long: "queued",
    short: "Q",
    summary: "include the time queued in the kernel (block_rq_insert)",
  },
  MILLISECONDS,
  { long: "disks", short: "D", summary: "a histogram per disk" },
  { long: "flags", short: "F", summary: "a histogram per set of I/O flags (Sync-Write, ...)" },
  { long: "extended", short: "e", summary: "also the average, total and count of latencies" },
  DISK,
  JSON_SUMMARY,
  HELP,
] as const satisfies readonly OptionDescription[];

/** `trace biosnoop`'s options. */
export const BIOSNOOP_OPTIONS = [
  { long: "queue", short: "Q", summary: "include the time queued in the kernel (QUE(ms))" },
  DISK,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** What runqlat and cpudist share. */
const SCHED_OPTIONS = [
  TIMESTAMP_T,
  MILLISECONDS,
  { long: "pids", short: "P", summary: "a histogram per process" },
  { long: "tids", short: "L", summary: "a histogram per thread" },
  { long: "pid", value: "PID", summary: "only this process" },
  JSON_SUMMARY,
  HELP,
] as const;

/** `trace runqlat`'s options. */
export const RUNQLAT_OPTIONS = SCHED_OPTIONS satisfies readonly OptionDescription[];

/** `trace cpudist`'s options. */
export const CPUDIST_OPTIONS = [
  { long: "offcpu", short: "O", summary: "measure off-CPU time instead" },
  ...SCHED_OPTIONS,
] as const satisfies readonly OptionDescription[];

/** `trace syscount`'s options. */
export const SYSCOUNT_OPTIONS = [
  { long: "latency", short: "L", summary: "collect syscall latency (total time per row)" },
  { long: "milliseconds", short: "m", summary: "latency in milliseconds (default: microseconds)" },
  { long: "process", short: "P", summary: "count by process, not by syscall" },
  { long: "failures", short: "x", summary: "only failed syscalls (return < 0)" },
  {
    long: "errno",
    short: "e",
    value: "ERRNO",
    summary: "only syscalls failing with ERRNO (EPERM, ENOENT, ... or a number)",
  },
  { long: "top", short: "T", value: "N", summary: "print only the top N rows (default 10)" },
  { long: "pid", value: "PID", summary: "only this process" },
  { long: "interval", short: "i", value: "SECONDS", summary: "print a summary every interval" },
  DURATION,
  { long: "list", short: "l", summary: "print the syscalls this table knows and exit" },
  { long: "json", short: "j", summary: "one JSON object per summary" },
  HELP,
] as const satisfies readonly OptionDescription[];

/** `trace funccount`'s options. */
export const FUNCCOUNT_OPTIONS = [
  { long: "interval", short: "i", value: "SECONDS", summary: "print a summary every interval" },
  DURATION,
  { long: "pid", value: "PID", summary: "only this process (its libraries are found in its maps)" },
  { long: "timestamp", short: "T", summary: "include a timestamp with each summary" },
  { long: "regexp", short: "r", summary: "PATTERN's function part is a regular expression" },
  { long: "perf-links", summary: "one perf-event uprobe per function, not one uprobe.multi link" },
  { long: "json", short: "j", summary: "one JSON object per summary" },
  HELP,
] as const satisfies readonly OptionDescription[];

// --- BCC's event tools ----------------------------------------------------------------

/** `trace killsnoop`'s options. */
export const KILLSNOOP_OPTIONS = [
  { long: "failed", short: "x", summary: "only show failed kill syscalls" },
  { long: "pid", value: "PID", summary: "trace this PID only, the sender of the signal" },
  {
    long: "tpid",
    short: "T",
    value: "TPID",
    summary: "trace this target PID only, the receiver of the signal",
  },
  { long: "signal", short: "s", value: "SIG", summary: "trace this signal only" },
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace exitsnoop`'s options. */
export const EXITSNOOP_OPTIONS = [
  { long: "timestamp", short: "t", summary: "include timestamp (local time)" },
  { long: "utc", summary: "include timestamp in UTC (-t implied)" },
  PID,
  { long: "label", value: "LABEL", summary: "label each line" },
  { long: "failed", short: "x", summary: "trace only fails, exclude exit(0)" },
  { long: "per-thread", summary: "trace per thread termination" },
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace statsnoop`'s options. */
export const STATSNOOP_OPTIONS = [
  { long: "timestamp", short: "t", summary: "include timestamp on output" },
  { long: "sysname", short: "s", summary: "include syscall name on output" },
  { long: "failed", short: "x", summary: "only show failed stats" },
  PID,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace mountsnoop`'s options. */
export const MOUNTSNOOP_OPTIONS = [PID, ...EVENT_COMMON] as const;

/** `trace oomkill`'s options. */
export const OOMKILL_OPTIONS = EVENT_COMMON;

/** `-4`, `-6`, as BCC's TCP tools take them. */
export const FAMILY = [
  { long: "ipv4", short: "4", summary: "trace IPv4 family only" },
  { long: "ipv6", short: "6", summary: "trace IPv6 family only" },
] as const;

/** `trace tcpconnect`'s options. */
export const TCPCONNECT_OPTIONS = [
  { long: "timestamp", short: "t", summary: "include timestamp on output" },
  PID,
  {
    long: "port",
    short: "P",
    value: "PORT",
    summary: "comma-separated list of destination ports to trace",
  },
  { long: "print-uid", short: "U", summary: "include UID on output" },
  { long: "uid", short: "u", value: "UID", summary: "trace this UID only" },
  ...FAMILY,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace tcplife`'s options. */
export const TCPLIFE_OPTIONS = [
  { long: "time", short: "T", summary: "include time column on output (HH:MM:SS)" },
  { long: "timestamp", short: "t", summary: "include timestamp on output (seconds)" },
  { long: "wide", short: "w", summary: "wide column output (fits IPv6 addresses)" },
  PID,
  { long: "localport", short: "L", value: "PORT", summary: "trace this local port only" },
  { long: "remoteport", short: "D", value: "PORT", summary: "trace this remote port only" },
  ...FAMILY,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace tcpretrans`'s options. */
export const TCPRETRANS_OPTIONS = [
  {
    long: "lossprobe",
    short: "l",
    summary: "include tail loss probe attempts (a kprobe on tcp_send_loss_probe)",
  },
  { long: "count", short: "c", summary: "count retransmits per address pair, print at the end" },
  ...FAMILY,
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace bashreadline`'s options. */
export const BASHREADLINE_OPTIONS = [
  {
    long: "shared",
    short: "s",
    value: "PATH",
    summary: "probe readline() in PATH: a libreadline.so, another bash (default /bin/bash)",
  },
  ...EVENT_COMMON,
] as const satisfies readonly OptionDescription[];

// --- profile, offcputime (stack tools) ------------------------------------------------

/** What both stack tools take after their own options. */
const STACK_COMMON = [
  {
    long: "user-stacks-only",
    short: "U",
    summary: "show stacks from user space only (no kernel space stacks)",
  },
  {
    long: "kernel-stacks-only",
    short: "K",
    summary: "show stacks from kernel space only (no user space stacks)",
  },
  { long: "folded", summary: "folded output, one line per stack (for flamegraph.pl)" },
  { long: "delimited", summary: "a delimiter between kernel and user stacks ('--', folded '-')" },
  {
    long: "stack-storage-size",
    value: "N",
    summary: "unique stack traces that can be stored (default 16384)",
  },
  { long: "duration", value: "SECONDS", summary: "stop after SECONDS (as the duration operand)" },
  { long: "json", short: "j", summary: "one JSON object per stack" },
  HELP,
] as const satisfies readonly OptionDescription[];

/** The stack tools' `[duration]` operand. */
export const STACK_OPERANDS = "[duration]";
/** Its help line. */
export const STACK_OPERAND_HELP =
  "  duration              seconds to trace (default: until Ctrl-C or SIGTERM)\n";

/** `trace profile`'s options. */
export const PROFILE_OPTIONS = [
  { long: "pid", value: "PID", summary: "profile this process only" },
  { long: "frequency", short: "F", value: "HZ", summary: "sample frequency, Hertz (default 49)" },
  {
    long: "count",
    short: "c",
    value: "COUNT",
    summary: "sample period, number of events (cpu-clock: nanoseconds)",
  },
  { long: "annotations", short: "a", summary: "add _[k] annotations to kernel frames" },
  ...STACK_COMMON,
] as const satisfies readonly OptionDescription[];

/** `trace offcputime`'s options. */
export const OFFCPUTIME_OPTIONS = [
  { long: "pid", value: "PID", summary: "trace this process only" },
  { long: "tid", short: "t", value: "TID", summary: "trace this thread only" },
  { long: "user-threads-only", short: "u", summary: "user threads only (no kernel threads)" },
  { long: "kernel-threads-only", short: "k", summary: "kernel threads only (no user threads)" },
  {
    long: "min-block-time",
    short: "m",
    value: "US",
    summary: "only blocks of at least US microseconds (default 1)",
  },
  {
    long: "max-block-time",
    short: "M",
    value: "US",
    summary: "only blocks of at most US microseconds",
  },
  {
    long: "state",
    value: "STATE",
    summary:
      "only threads switched out in this state (0 running (preempted), 1 interruptible sleep, 2 uninterruptible)",
  },
  ...STACK_COMMON,
] as const satisfies readonly OptionDescription[];
