/**
 * The usage texts of the block, scheduler and syscall tools (`tsbpf trace TOOL
 * --help`), apart from the tools so that describing the CLI (help, completion, man)
 * loads none of their kernel code.
 *
 * @module
 */

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
