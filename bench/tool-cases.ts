/**
 * What bench/tools.ts measures for each `tsbpf trace` tool: the load that makes the
 * tool's events (a mode of bench/c/tool-load.c), the tsbpf command line, the
 * equivalent bpftrace program (written for this bench, in the spirit of bpftrace's
 * own tools: the same tracepoints as the tsbpf tool, output per event or an in-kernel
 * histogram or count as the tool has), how to count the load's events in each
 * tracer's output, and BCC's published word on the tool's overhead.
 *
 * Every tool runs system-wide with its default options, as a user starts it; the
 * counts pick out the load's own events (its PID, the exec target's name), the
 * histograms and syscall counts include the rest of the machine's.
 */

/** The load generator's modes (bench/c/tool-load.c). */
export type LoadMode = "open" | "stat" | "syscall" | "kill" | "exec" | "bio" | "tcp" | "sched";

/** What a case's counting functions know about the run. */
export interface RunFacts {
  /** The load process's PID. */
  readonly loadPid: number;
}

/** One tool's bench case. */
export interface ToolCase {
  /** The tool's name after `tsbpf trace`. */
  readonly tool: string;
  /** The load generator's mode. */
  readonly load: LoadMode;
  /** What one load operation is, for the table ("opens", "connects"). */
  readonly unit: string;
  /** The events one load operation makes that the tool reports (2 for a ping-pong). */
  readonly eventsPerOp: number;
  /** Arguments after `tsbpf trace TOOL`. */
  readonly args: readonly string[];
  /** The equivalent bpftrace program. */
  readonly bpftrace: string;
  /** The load's events in the tsbpf tool's output. */
  readonly countTsbpf: (out: string, facts: RunFacts) => number;
  /** The load's events in the bpftrace program's output. */
  readonly countBpftrace: (out: string, facts: RunFacts) => number;
  /** BCC's published figure or statement on overhead, with its source. */
  readonly published: string;
}

/** Lines whose whitespace-separated words include `word`. */
export function linesWithWord(out: string, word: string): number {
  let n = 0;
  for (const line of out.split("\n")) if (line.split(/\s+/).includes(word)) n++;
  return n;
}

/** The event lines of the load's process (tools that print one line per event, PID in it). */
const loadPidLines = (out: string, f: RunFacts) => linesWithWord(out, String(f.loadPid));

/** Lines that contain `text`. */
function linesWith(out: string, text: string): number {
  let n = 0;
  for (const line of out.split("\n")) if (line.includes(text)) n++;
  return n;
}

/** The sum of the counts of a BCC-style log2 histogram ("  0 -> 1  : 38702  |***|"). */
export function bccHistogramTotal(out: string): number {
  let n = 0;
  for (const m of out.matchAll(/^\s*\d+ -> \d+\s*:\s*(\d+)\s/gm)) n += Number(m[1]);
  return n;
}

/** The sum of the counts of bpftrace's hist() output ("[2, 4)   9967 |@@@|", "[1]  249 |"). */
export function bpftraceHistogramTotal(out: string): number {
  let n = 0;
  for (const m of out.matchAll(/^\[[^\]\n]*[\])]\s+(\d+)\s+\|/gm)) n += Number(m[1]);
  return n;
}

/** The count of syscall `nr` in a bpftrace `@sc[args->id] = count()` map. */
function bpftraceSyscallCount(out: string, nr: number): number {
  const m = new RegExp(`^@sc\\[${nr}\\]: (\\d+)$`, "m").exec(out);
  return m ? Number(m[1]) : 0;
}

/** x86-64's getppid, the syscall the `syscall` load makes. */
const GETPPID_NR = 110;

/** The exec load's target file name (a copy of tool-load run as `exec-target noop`). */
export const EXEC_TARGET = "exec-target";

/** BCC's man pages (iovisor/bcc man/man8/TOOL.8, OVERHEAD sections), as published. */
const bcc = (tool: string, text: string) => `BCC ${tool}(8), OVERHEAD: ${text}`;

/** The bench cases, in the order the table lists them. */
export const TOOL_CASES: readonly ToolCase[] = [
  {
    tool: "open",
    load: "open",
    unit: "opens",
    eventsPerOp: 1,
    args: [],
    bpftrace: `
      tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat {
        @path[tid] = args->filename;
      }
      tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat /@path[tid]/ {
        printf("%d %s %d %s\\n", pid, comm, args->ret, str(@path[tid]));
        delete(@path[tid]);
      }
      END { clear(@path); }`,
    countTsbpf: loadPidLines,
    countBpftrace: loadPidLines,
    published: bcc("opensnoop", "rate expected low (< 1000/s), overhead negligible"),
  },
  {
    tool: "exec",
    load: "exec",
    unit: "fork+execs",
    eventsPerOp: 1,
    args: [],
    bpftrace: `
      tracepoint:syscalls:sys_enter_execve {
        printf("%d ", pid);
        join(args->argv);
      }`,
    countTsbpf: (out) => linesWith(out, EXEC_TARGET),
    countBpftrace: (out) => linesWith(out, EXEC_TARGET),
    published: bcc("execsnoop", "rate expected low (< 1000/s), overhead negligible"),
  },
  {
    tool: "syscount",
    load: "syscall",
    unit: "getppid calls",
    eventsPerOp: 1,
    args: [],
    bpftrace: "tracepoint:raw_syscalls:sys_exit { @sc[args->id] = count(); }",
    countTsbpf: (out) => Number(/^getppid\s+(\d+)$/m.exec(out)?.[1] ?? 0),
    countBpftrace: (out) => bpftraceSyscallCount(out, GETPPID_NR),
    published: bcc(
      "syscount",
      "a loop of 4 million geteuid() calls (> 3.5 M syscalls/s) is slowed 1.85x counting syscalls, > 5x with latencies",
    ),
  },
  {
    tool: "biolatency",
    load: "bio",
    unit: "4 KiB O_DIRECT reads",
    eventsPerOp: 1,
    args: [],
    bpftrace: `
      tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
      tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
        @usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
        delete(@start[args->dev, args->sector]);
      }
      END { clear(@start); }`,
    countTsbpf: bccHistogramTotal,
    countBpftrace: bpftraceHistogramTotal,
    published: bcc("biolatency", "negligible for most storage I/O rates (< 10k IOPS)"),
  },
  {
    tool: "runqlat",
    load: "sched",
    unit: "pipe round trips",
    // Each round trip wakes the child, then the parent: two run queue waits.
    eventsPerOp: 2,
    args: [],
    // prev_state 0 is TASK_RUNNING: a preempted task goes straight back on the queue.
    bpftrace: `
      tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new {
        @qtime[args->pid] = nsecs;
      }
      tracepoint:sched:sched_switch {
        if (args->prev_state == 0) { @qtime[args->prev_pid] = nsecs; }
        $ns = @qtime[args->next_pid];
        if ($ns) { @usecs = hist((nsecs - $ns) / 1000); }
        delete(@qtime[args->next_pid]);
      }
      END { clear(@qtime); }`,
    countTsbpf: bccHistogramTotal,
    countBpftrace: bpftraceHistogramTotal,
    published: bcc(
      "runqlat",
      "scheduler events can be frequent enough to make the overhead significant; no figure given",
    ),
  },
  {
    tool: "killsnoop",
    load: "kill",
    unit: "kill(self, 0) calls",
    eventsPerOp: 1,
    args: [],
    // The tuple is (target pid, signal); the load's are never both 0.
    bpftrace: `
      tracepoint:syscalls:sys_enter_kill { @k[tid] = (args->pid, args->sig); }
      tracepoint:syscalls:sys_exit_kill /@k[tid].0 != 0 || @k[tid].1 != 0/ {
        $k = @k[tid];
        printf("%d %s %d %d %d\\n", pid, comm, $k.1, $k.0, args->ret);
        delete(@k[tid]);
      }
      END { clear(@k); }`,
    countTsbpf: loadPidLines,
    countBpftrace: loadPidLines,
    published: bcc("killsnoop", "rate expected low (< 100/s), overhead negligible"),
  },
  {
    tool: "statsnoop",
    load: "stat",
    unit: "stat calls",
    eventsPerOp: 1,
    args: [],
    bpftrace: `
      tracepoint:syscalls:sys_enter_statx, tracepoint:syscalls:sys_enter_newfstatat,
      tracepoint:syscalls:sys_enter_newstat, tracepoint:syscalls:sys_enter_newlstat {
        @path[tid] = args->filename;
      }
      tracepoint:syscalls:sys_enter_statfs { @path[tid] = args->pathname; }
      tracepoint:syscalls:sys_exit_statx, tracepoint:syscalls:sys_exit_newfstatat,
      tracepoint:syscalls:sys_exit_newstat, tracepoint:syscalls:sys_exit_newlstat,
      tracepoint:syscalls:sys_exit_statfs /@path[tid]/ {
        printf("%d %s %d %s\\n", pid, comm, args->ret, str(@path[tid]));
        delete(@path[tid]);
      }
      END { clear(@path); }`,
    countTsbpf: loadPidLines,
    countBpftrace: loadPidLines,
    published: bcc("statsnoop", "rate expected low (< 1000/s), overhead negligible"),
  },
  {
    tool: "tcpconnect",
    load: "tcp",
    unit: "loopback connects",
    eventsPerOp: 1,
    args: [],
    // newstate 2 is TCP_SYN_SENT, protocol 6 IPPROTO_TCP: an active open.
    bpftrace: `
      tracepoint:sock:inet_sock_set_state /args->newstate == 2 && args->protocol == 6/ {
        printf("%d %s %d\\n", pid, comm, args->dport);
      }`,
    countTsbpf: loadPidLines,
    countBpftrace: loadPidLines,
    published: bcc(
      "tcpconnect",
      "rate expected low (< 1000/s), overhead negligible; test a proxy server's rate first",
    ),
  },
];
