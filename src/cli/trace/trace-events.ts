/**
 * The records the trace tools' BPF programs emit (src/cli/trace/bpf/*.bpf.c), decoded
 * into plain objects. The offsets are the C structs' (`struct open_event`,
 * `struct exec_event`); the C sources assert them with `_Static_assert`, so a change
 * on one side fails the build of the other.
 *
 * @module
 */

/** `struct open_event` offsets. */
const OPEN = { ts: 0, pid: 8, tid: 12, uid: 16, ret: 20, flags: 24, comm: 28, path: 44 } as const;
/** Bytes of `struct open_event` (path buffer of 256). */
export const OPEN_EVENT_SIZE = 304;
const PATH_LEN = 256;
/** Bytes of a task's command name (TASK_COMM_LEN), NUL included. */
export const COMM_LEN = 16;

/** `struct exec_event` offsets; the argument strings follow the header. */
const EXEC = {
  ts: 0,
  pid: 8,
  ppid: 12,
  uid: 16,
  retval: 20,
  argsCount: 24,
  argsSize: 28,
  truncated: 32,
  comm: 36,
  args: 52,
} as const;
/** Bytes of `struct exec_event` before its argument strings. */
export const EXEC_HEADER_SIZE = EXEC.args;
/** The most arguments the exec program copies (`TOTAL_MAX_ARGS`), file name included. */
export const EXEC_MAX_ARGS = 60;
/** The longest argument copied, with its NUL (`ARGSIZE`); longer ones are cut. */
export const EXEC_ARG_SIZE = 128;

/** One open(2)/openat(2) call, as `tsbpf trace open` reports it. */
export interface OpenEvent {
  /** When the call returned: nanoseconds since boot (bpf_ktime_get_ns, CLOCK_MONOTONIC). */
  readonly ts: bigint;
  /** Process id (the thread group's id). */
  readonly pid: number;
  /** Thread id. */
  readonly tid: number;
  /** Real user id of the caller. */
  readonly uid: number;
  /** The file descriptor, or -1 when the call failed. */
  readonly fd: number;
  /** The errno of a failed call, else 0. */
  readonly err: number;
  /** The open flags (O_RDONLY, O_CREAT, ...). */
  readonly flags: number;
  /** The caller's command name (task comm, 15 characters at most). */
  readonly comm: string;
  /** The path as the caller passed it (255 bytes at most). */
  readonly path: string;
}

/** One execve(2) call, as `tsbpf trace exec` reports it. */
export interface ExecEvent {
  /** When the call returned: nanoseconds since boot. */
  readonly ts: bigint;
  /** Process id. */
  readonly pid: number;
  /** Parent's process id (task->real_parent->tgid when the call returned). */
  readonly ppid: number;
  /** Real user id. */
  readonly uid: number;
  /** The call's return value: 0, or -errno. */
  readonly ret: number;
  /** The command name after the call (the new program's on success). */
  readonly comm: string;
  /** The file name, then argv[1] onwards, each cut at 127 bytes. */
  readonly args: readonly string[];
  /** True when the process had more arguments than were copied. */
  readonly truncated: boolean;
}

const utf8 = new TextDecoder("utf-8");

/** The NUL-terminated string at `off` (at most `max` bytes), as UTF-8. */
export function cString(bytes: Uint8Array, off: number, max: number): string {
  const end = Math.min(bytes.length, off + max);
  let i = off;
  while (i < end && bytes[i] !== 0) i++;
  return utf8.decode(bytes.subarray(off, i));
}

/**
 * A DataView over a record of at least `need` bytes.
 * @throws RangeError naming `what` when the record is shorter
 */
export function viewOf(bytes: Uint8Array, need: number, what: string): DataView {
  if (bytes.length < need) {
    throw new RangeError(`${what}: record of ${bytes.length} bytes, expected at least ${need}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a `struct open_event` record.
 * @throws RangeError when the record is shorter than the struct
 */
export function decodeOpenEvent(bytes: Uint8Array): OpenEvent {
  const v = viewOf(bytes, OPEN_EVENT_SIZE, "open event");
  const ret = v.getInt32(OPEN.ret, true);
  return {
    ts: v.getBigUint64(OPEN.ts, true),
    pid: v.getUint32(OPEN.pid, true),
    tid: v.getUint32(OPEN.tid, true),
    uid: v.getUint32(OPEN.uid, true),
    fd: ret >= 0 ? ret : -1,
    err: ret >= 0 ? 0 : -ret,
    flags: v.getInt32(OPEN.flags, true),
    comm: cString(bytes, OPEN.comm, COMM_LEN),
    path: cString(bytes, OPEN.path, PATH_LEN),
  };
}

/**
 * Decodes a `struct exec_event` record (header and `args_size` bytes of strings).
 * @throws RangeError when the record is shorter than its header says
 */
export function decodeExecEvent(bytes: Uint8Array): ExecEvent {
  const v = viewOf(bytes, EXEC_HEADER_SIZE, "exec event");
  const size = v.getUint32(EXEC.argsSize, true);
  const count = v.getUint32(EXEC.argsCount, true);
  if (bytes.length < EXEC_HEADER_SIZE + size) {
    throw new RangeError(
      `exec event: record of ${bytes.length} bytes, its header says ${EXEC_HEADER_SIZE + size}`,
    );
  }
  const args: string[] = [];
  let off = EXEC.args;
  const end = EXEC.args + size;
  while (args.length < count && off < end) {
    let i = off;
    while (i < end && bytes[i] !== 0) i++;
    args.push(utf8.decode(bytes.subarray(off, i)));
    off = i + 1;
  }
  return {
    ts: v.getBigUint64(EXEC.ts, true),
    pid: v.getUint32(EXEC.pid, true),
    ppid: v.getUint32(EXEC.ppid, true),
    uid: v.getUint32(EXEC.uid, true),
    ret: v.getInt32(EXEC.retval, true),
    comm: cString(bytes, EXEC.comm, COMM_LEN),
    args,
    truncated: v.getUint32(EXEC.truncated, true) !== 0,
  };
}
