/**
 * The trace_pipe reader: what BPF programs print with `bpf_trace_printk` /
 * `bpf_printk`, as `bpftool prog tracelog` and `cat /sys/kernel/tracing/trace_pipe`
 * show it, parsed into records.
 *
 * trace_pipe blocks readers until the kernel logs something. A blocking read on
 * Node's thread pool could not be cancelled by `close()` and would hold a pool thread
 * for as long as nothing is printed, so the reader opens it with O_NONBLOCK instead
 * and lets the event loop's epoll say when it is readable (the kernel supports poll on
 * trace_pipe); a read then returns what is there or EAGAIN, never blocks. Reading
 * trace_pipe consumes: two readers share the lines between them.
 *
 * @module
 */
import { constants, openSync, readSync } from "node:fs";
import { tracefsDir } from "../links/tracefs.ts";
import { Fd } from "../sys/index.ts";
import { RecordReader, type RecordReaderOptions, type RecordSource } from "./poll.ts";

/** One line of trace_pipe. */
export interface TraceRecord {
  /** The task's command name (`<...>` when the kernel did not record it). */
  readonly comm: string;
  /** The task's thread id; -1 for a line that is not a trace event. */
  readonly pid: number;
  /** The thread group id, when the `record-tgid` option is on. */
  readonly tgid?: number;
  /** The CPU the event happened on; -1 for a line that is not a trace event. */
  readonly cpu: number;
  /** The irq/preempt flags column (`d..31`), "" when absent. */
  readonly flags: string;
  /** The timestamp in seconds, as printed (microsecond precision). */
  readonly timestamp: number;
  /** The event's name: `bpf_trace_printk` for BPF programs. */
  readonly event: string;
  /** What was printed (without the trailing newline). */
  readonly message: string;
  /** The whole line. */
  readonly raw: string;
}

const LINE =
  /^\s*(.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([^\s]+)\s+)?(\d+\.\d+):\s+([^:\s]+):\s?(.*)$/;

/**
 * Parses one trace_pipe line (`<comm>-<pid> [cpu] flags ts: event: message`). A line
 * that is not a trace event (the continuation of a message with a newline in it)
 * comes back with pid and cpu -1 and the line as its message.
 *
 * @example
 * ```ts
 * parseTraceLine("  node-4242  [001] d..31 1234.567890: bpf_trace_printk: hi");
 * // { comm: "node", pid: 4242, cpu: 1, flags: "d..31", timestamp: 1234.56789,
 * //   event: "bpf_trace_printk", message: "hi", raw: ... }
 * ```
 */
export function parseTraceLine(line: string): TraceRecord {
  const m = LINE.exec(line);
  if (!m) {
    return {
      comm: "",
      pid: -1,
      cpu: -1,
      flags: "",
      timestamp: 0,
      event: "",
      message: line,
      raw: line,
    };
  }
  const tgid = m[3] !== undefined && /^\d+$/.test(m[3]) ? Number(m[3]) : undefined;
  return {
    comm: m[1]!,
    pid: Number(m[2]),
    ...(tgid !== undefined ? { tgid } : {}),
    cpu: Number(m[4]),
    flags: m[5] ?? "",
    timestamp: Number(m[6]),
    event: m[7]!,
    message: m[8]!,
    raw: line,
  };
}

const EAGAIN_CODES = new Set(["EAGAIN", "EWOULDBLOCK"]);

class TracePipeSource implements RecordSource<TraceRecord> {
  readonly fds: readonly number[];
  readonly #fd: Fd;
  readonly #buf = Buffer.allocUnsafe(64 * 1024);
  readonly #decoder = new TextDecoder();
  readonly #path: string;
  #partial = "";
  #lines: string[] = [];
  #head = 0;

  constructor(path: string) {
    this.#path = path;
    let raw: number;
    try {
      raw = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new Error(`cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.#fd = new Fd(raw);
    this.fds = [raw];
  }

  /** Reads what the kernel has, without blocking; false when it had nothing. */
  #fill(): boolean {
    let n: number;
    try {
      n = readSync(this.#fd.value, this.#buf, 0, this.#buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code && EAGAIN_CODES.has(code)) return false;
      if (code === "EINTR") return true;
      throw new Error(`reading ${this.#path}: ${(e as Error).message}`, { cause: e });
    }
    if (n === 0) return false;
    const text = this.#partial + this.#decoder.decode(this.#buf.subarray(0, n), { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    if (this.#head >= this.#lines.length) {
      this.#lines = parts;
      this.#head = 0;
    } else {
      this.#lines.push(...parts);
    }
    return true;
  }

  next(): TraceRecord | undefined {
    for (;;) {
      while (this.#head < this.#lines.length) {
        const line = this.#lines[this.#head++]!;
        if (line.trim() !== "") return parseTraceLine(line);
      }
      if (this.#fd.closed || !this.#fill()) return undefined;
    }
  }

  release(): void {}

  drain(cb: (rec: TraceRecord) => void, max = Infinity): number {
    let n = 0;
    while (n < max) {
      const r = this.next();
      if (r === undefined) break;
      n++;
      cb(r);
    }
    return n;
  }

  copy(rec: TraceRecord): TraceRecord {
    return rec;
  }

  close(): void {
    this.#fd.close();
  }
}

/** Options of {@link TracePipeReader.open}. */
export interface TracePipeOptions extends RecordReaderOptions {
  /** The trace_pipe file (default: trace_pipe in tracefs, mounted first if needed). */
  readonly path?: string;
}

/**
 * Reads trace_pipe: a record per line, on the event loop, never blocking it.
 *
 * @example
 * ```ts
 * using pipe = TracePipeReader.open();
 * for await (const rec of pipe) console.log(rec.comm, rec.pid, rec.message);
 * ```
 */
export class TracePipeReader extends RecordReader<TraceRecord> {
  /** The file being read. */
  readonly path: string;

  private constructor(source: TracePipeSource, path: string, opts: RecordReaderOptions) {
    super(source, path, opts);
    this.path = path;
  }

  /**
   * Opens trace_pipe (non-blocking). Mounts tracefs at /sys/kernel/tracing when it is
   * not mounted (needs root).
   *
   * @throws NotSupportedError when there is no tracefs; Error naming the file when it
   * cannot be opened.
   */
  static open(opts: TracePipeOptions = {}): TracePipeReader {
    const path = opts.path ?? `${tracefsDir()}/trace_pipe`;
    return new TracePipeReader(new TracePipeSource(path), path, opts);
  }
}
