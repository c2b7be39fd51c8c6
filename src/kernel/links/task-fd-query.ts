/**
 * BPF_TASK_FD_QUERY: what BPF program a process's descriptor runs, when that
 * descriptor is a perf event with a program attached (tracepoint, kprobe, kretprobe,
 * uprobe, uretprobe) or a raw tracepoint link, and where it is attached: the
 * tracepoint's name, the probed function and offset (or address), the probed file and
 * offset. This is how `bpftool perf show` finds attachments without a bpf_link id.
 *
 * @module
 */
import { BpfCmd, bpfAttr, Errno, TaskFdType } from "../../uapi/index.ts";
import { BpfCall, SyscallError } from "../sys/index.ts";

/** What BPF_TASK_FD_QUERY says about one descriptor of one process. */
export interface TaskFdInfo {
  /** The attached program's id. */
  readonly progId: number;
  /** `enum bpf_task_fd_type` ({@link TaskFdType}). */
  readonly fdType: number;
  /**
   * The tracepoint's name (tracepoints, raw tracepoints), the probed function
   * (kprobes; "" when probed at an address) or the probed file (uprobes).
   */
  readonly name: string;
  /** Offset into the function (kprobes) or the file (uprobes); 0n otherwise. */
  readonly probeOffset: bigint;
  /** The probed address (kprobes without a function name); 0n otherwise. */
  readonly probeAddr: bigint;
}

/** bpftool's name for a {@link TaskFdType} ("kretprobe"), or undefined. */
export function taskFdTypeName(fdType: number): string | undefined {
  return FD_TYPE_NAMES.get(fdType);
}

const FD_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [TaskFdType.RAW_TRACEPOINT, "raw_tracepoint"],
  [TaskFdType.TRACEPOINT, "tracepoint"],
  [TaskFdType.KPROBE, "kprobe"],
  [TaskFdType.KRETPROBE, "kretprobe"],
  [TaskFdType.UPROBE, "uprobe"],
  [TaskFdType.URETPROBE, "uretprobe"],
]);

/** Room for a name: a path is at most PATH_MAX (4096) bytes with its NUL. */
const NAME_BUF = 4096;
const decoder = new TextDecoder();

/**
 * BPF_TASK_FD_QUERY on descriptor `fd` of process `pid`.
 * @throws SyscallError: ENOTSUPP (524) when the descriptor holds no BPF program this
 * command can describe (the answer for most descriptors), EBADF when the process has
 * no such descriptor, ENOENT when there is no such process, EPERM without privilege.
 * @example
 * ```ts
 * const { progId, fdType, name } = taskFdQuery(pid, fd); // 42, TaskFdType.TRACEPOINT, "sys_enter_getpid"
 * ```
 */
export function taskFdQuery(pid: number, fd: number): TaskFdInfo {
  const r = tryTaskFdQuery(pid, fd);
  if (typeof r === "number") throw new SyscallError(r, `task fd query (pid ${pid}, fd ${fd})`);
  return r;
}

/**
 * {@link taskFdQuery} with a failure as its errno (a positive number) instead of an
 * exception: for walks over every descriptor of every process, where most answers are
 * ENOTSUPP and an exception each would cost more than the system call.
 */
export function tryTaskFdQuery(pid: number, fd: number): TaskFdInfo | number {
  let size = NAME_BUF;
  for (let attempt = 0; ; attempt++) {
    const call = new BpfCall(BpfCmd.TASK_FD_QUERY, bpfAttr.taskFdQuery);
    call.u32("pid", pid).u32("fd", fd);
    const buf = call.output("buf", size);
    call.u32("buf_len", size);
    const r = call.tryInvoke();
    // ENOSPC: a longer name than the buffer; buf_len says how long (without its NUL).
    if (r === -Errno.ENOSPC && attempt === 0) {
      size = call.get("buf_len") + 1;
      continue;
    }
    if (r < 0) return -r;
    const len = Math.min(call.get("buf_len"), size);
    return {
      progId: call.get("prog_id"),
      fdType: call.get("fd_type"),
      name: decoder.decode(buf.bytes.subarray(0, len)),
      probeOffset: call.get64("probe_offset"),
      probeAddr: call.get64("probe_addr"),
    };
  }
}
