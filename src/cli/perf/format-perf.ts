/**
 * One `perf show` entry, in bpftool's plain text and JSON: the process and descriptor
 * holding the attachment, the program's id, and where it is attached.
 */
import { type TaskFdInfo, taskFdTypeName } from "../../kernel/links/task-fd-query.ts";
import { TaskFdType } from "../../uapi/index.ts";
import type { JsonValue } from "../format/json-writer.ts";

/** A descriptor of a process that holds a BPF program on a perf event or raw tracepoint. */
export interface PerfEntry {
  readonly pid: number;
  readonly fd: number;
  readonly info: TaskFdInfo;
}

/** Kprobes name a function (with an offset into it) or, without one, an address. */
const isKprobe = (t: number) => t === TaskFdType.KPROBE || t === TaskFdType.KRETPROBE;
const isUprobe = (t: number) => t === TaskFdType.UPROBE || t === TaskFdType.URETPROBE;
const isTracepoint = (t: number) => t === TaskFdType.TRACEPOINT || t === TaskFdType.RAW_TRACEPOINT;

/**
 * `pid 12  fd 5: prog_id 40  tracepoint  sys_enter_getpid\n`. A type this version
 * does not know ends after the program id, without a newline, as bpftool 7.1 prints it.
 */
export function perfPlain({ pid, fd, info }: PerfEntry): string {
  const head = `pid ${pid}  fd ${fd}: prog_id ${info.progId}  `;
  const t = info.fdType;
  const type = taskFdTypeName(t);
  if (isTracepoint(t)) return `${head}${type}  ${info.name}\n`;
  if (isKprobe(t)) {
    return info.name !== ""
      ? `${head}${type}  func ${info.name}  offset ${info.probeOffset}\n`
      : `${head}${type}  addr ${info.probeAddr}\n`;
  }
  if (isUprobe(t)) return `${head}${type}  filename ${info.name}  offset ${info.probeOffset}\n`;
  return head;
}

/** `{"pid":12,"fd":5,"prog_id":40,"fd_type":"tracepoint","tracepoint":"sys_enter_getpid"}` */
export function perfJson({ pid, fd, info }: PerfEntry): JsonValue {
  const t = info.fdType;
  const base = { pid, fd, prog_id: info.progId };
  const fd_type = taskFdTypeName(t);
  if (isTracepoint(t)) return { ...base, fd_type, tracepoint: info.name };
  if (isKprobe(t)) {
    return info.name !== ""
      ? { ...base, fd_type, func: info.name, offset: info.probeOffset }
      : { ...base, fd_type, addr: info.probeAddr };
  }
  if (isUprobe(t)) return { ...base, fd_type, filename: info.name, offset: info.probeOffset };
  return base;
}
