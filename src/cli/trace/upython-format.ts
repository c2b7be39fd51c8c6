/**
 * The records of upython.bpf.o and the output of BCC's ucalls, uflow and ugc for
 * Python, in their columns:
 *
 * - ucalls: `METHOD` (`FILE.FUNCTION`, 50 wide), `# CALLS` (8), with `--latency`
 *   `TIME (us)` (or `(ms)`); ascending, so the busiest method is last, as BCC prints;
 * - uflow: `CPU PID TID TIME(s) METHOD`, the method indented two spaces per call depth
 *   and marked `->` on entry, `<-` on return (BCC labels its seconds column TIME(us));
 * - ugc: `START` (seconds since the tool started), `TIME (us)` (or `(ms)`),
 *   `DESCRIPTION` (`gen N GC collected M objects`).
 *
 * Pure: no kernel, so the tests check the layouts byte for byte.
 * @module
 */

/** The length of the file and function names in the records (`NAME_LEN`). */
export const UPYTHON_NAME_LEN = 80;

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** A Python method as the tools name it: `FILE.FUNCTION`, as BCC does. */
export interface PythonMethod {
  /** `co_filename` (`<string>`, `/usr/lib/python3.11/gc.py`...). */
  readonly file: string;
  /** `co_name`. */
  readonly func: string;
}

/** `FILE.FUNCTION`. */
export function methodName(m: PythonMethod): string {
  return `${m.file}.${m.func}`;
}

/** Reads a `struct method` (two NAME_LEN strings) at `off` of `bytes`. */
export function decodeMethod(bytes: Uint8Array, off = 0): PythonMethod {
  return {
    file: cString(bytes.subarray(off, off + UPYTHON_NAME_LEN)),
    func: cString(bytes.subarray(off + UPYTHON_NAME_LEN, off + 2 * UPYTHON_NAME_LEN)),
  };
}

/** Calls of one method, from the `calls` map. */
export interface MethodCalls extends PythonMethod {
  /** Calls seen. */
  readonly calls: bigint;
  /** Time inside the method, nanoseconds (0 without latency). */
  readonly ns: bigint;
}

/** Decodes a `calls` entry (`struct method` key, `struct method_stats` value). */
export function decodeMethodCalls(key: Uint8Array, value: Uint8Array): MethodCalls {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { ...decodeMethod(key), calls: v.getBigUint64(0, true), ns: v.getBigUint64(8, true) };
}

/** How ucalls prints. */
export interface CallsFormat {
  /** Show the time column. */
  readonly latency: boolean;
  /** Milliseconds rather than microseconds. */
  readonly milliseconds: boolean;
  /** Only the `top` busiest methods. */
  readonly top?: number;
}

/** ucalls' rows in BCC's order: ascending by time with latency, else by calls; then the top. */
export function sortCalls(rows: readonly MethodCalls[], f: CallsFormat): MethodCalls[] {
  const key = (r: MethodCalls) => (f.latency ? r.ns : r.calls);
  const sorted = [...rows].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : methodName(a) < methodName(b) ? -1 : 1,
  );
  return f.top !== undefined ? sorted.slice(Math.max(0, sorted.length - f.top)) : sorted;
}

const unit = (f: { milliseconds: boolean }) => (f.milliseconds ? "ms" : "us");
const scaled = (ns: bigint, f: { milliseconds: boolean }) =>
  Number(ns) / (f.milliseconds ? 1e6 : 1e3);

/** ucalls' table: a blank line, the header, one row per method. */
export function formatCalls(rows: readonly MethodCalls[], f: CallsFormat): string {
  let out = `\n${"METHOD".padEnd(50)} ${"# CALLS".padStart(8)}`;
  out += f.latency ? ` TIME (${unit(f)})\n` : "\n";
  for (const r of sortCalls(rows, f)) {
    out += `${methodName(r).padEnd(50)} ${r.calls.toString().padStart(8)}`;
    out += f.latency ? ` ${scaled(r.ns, f).toFixed(2).padStart(6)}\n` : "\n";
  }
  return out;
}

/** ucalls' JSON: one object per method, in the table's order. */
export function callsJson(rows: readonly MethodCalls[], f: CallsFormat): string {
  return sortCalls(rows, f)
    .map(
      (r) =>
        `${JSON.stringify({
          method: methodName(r),
          file: r.file,
          function: r.func,
          calls: Number(r.calls),
          ...(f.latency && { [`time_${unit(f)}`]: Number(scaled(r.ns, f).toFixed(2)) }),
        })}\n`,
    )
    .join("");
}

/** One uflow record: a method entered or returned from. */
export interface FlowEvent extends PythonMethod {
  /** Entry or return. */
  readonly kind: "entry" | "return";
  readonly cpu: number;
  readonly pid: number;
  readonly tid: number;
  /** bpf_ktime_get_ns() (CLOCK_MONOTONIC). */
  readonly ts: bigint;
}

/** Bytes of `struct flow_event`. */
export const FLOW_EVENT_SIZE = 24 + 2 * UPYTHON_NAME_LEN;

/** Decodes a `struct flow_event`. */
export function decodeFlowEvent(bytes: Uint8Array): FlowEvent {
  if (bytes.length < FLOW_EVENT_SIZE) {
    throw new Error(`uflow record of ${bytes.length} bytes, ${FLOW_EVENT_SIZE} expected`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    kind: v.getUint8(0) === 1 ? "entry" : "return",
    cpu: v.getUint16(2, true),
    pid: v.getUint32(4, true),
    tid: v.getUint32(8, true),
    ts: v.getBigUint64(16, true),
    ...decodeMethod(bytes, 24),
  };
}

/** uflow's header. */
export const FLOW_HEADER = `${"CPU".padEnd(3)} ${"PID".padEnd(6)} ${"TID".padEnd(6)} ${"TIME(s)".padEnd(8)} METHOD\n`;

/**
 * uflow's rows: keeps each thread's stack of methods, so that the depth stays right
 * when a return has no entry (a call made before the tool attached, or CPython 3.11's
 * profile hook, whose return fires without its entry): such a return is shown one
 * level below the current frame and pops nothing. Filters on function and file
 * prefixes as BCC's `-M`/`-C` do.
 */
export class FlowPrinter {
  readonly #stacks = new Map<number, string[]>();
  readonly #start: bigint;
  readonly #method: string | undefined;
  readonly #file: string | undefined;

  /** `start`: CLOCK_MONOTONIC ns the times count from; the prefixes filter. */
  constructor(start: bigint, filter: { method?: string; file?: string } = {}) {
    this.#start = start;
    this.#method = filter.method;
    this.#file = filter.file;
  }

  /** The event's depth (1 for a call at the top), updating the thread's stack. */
  depth(e: FlowEvent): number {
    let stack = this.#stacks.get(e.tid);
    if (!stack) {
      stack = [];
      this.#stacks.set(e.tid, stack);
    }
    const name = methodName(e);
    if (e.kind === "entry") return stack.push(name);
    if (stack.at(-1) !== name) return stack.length + 1;
    stack.pop();
    return stack.length + 1;
  }

  #wanted(e: FlowEvent): boolean {
    return (
      (this.#method === undefined || e.func.startsWith(this.#method)) &&
      (this.#file === undefined || e.file.startsWith(this.#file))
    );
  }

  #seconds(e: FlowEvent): number {
    return Number(e.ts - this.#start) / 1e9;
  }

  /** The row of `e` ("" when filtered out). */
  row(e: FlowEvent): string {
    const depth = this.depth(e);
    if (!this.#wanted(e)) return "";
    const arrow = e.kind === "entry" ? "-> " : "<- ";
    const indent = "  ".repeat(Math.max(0, depth - 1));
    return `${String(e.cpu).padEnd(3)} ${String(e.pid).padEnd(6)} ${String(e.tid).padEnd(6)} ${this.#seconds(e).toFixed(3).padEnd(8)} ${indent}${arrow}${methodName(e)}\n`;
  }

  /** The JSON line of `e` ("" when filtered out). */
  json(e: FlowEvent): string {
    const depth = this.depth(e);
    if (!this.#wanted(e)) return "";
    return `${JSON.stringify({
      cpu: e.cpu,
      pid: e.pid,
      tid: e.tid,
      time_s: Number(this.#seconds(e).toFixed(6)),
      direction: e.kind,
      depth,
      method: methodName(e),
    })}\n`;
  }
}

/** One collection, from gc__start to gc__done. */
export interface GcEvent {
  /** CLOCK_MONOTONIC ns of gc__start and gc__done. */
  readonly start: bigint;
  readonly end: bigint;
  /** The generation collected (gc__start's argument). */
  readonly generation: number;
  /** Objects collected (gc__done's argument). */
  readonly collected: number;
}

/** Bytes of `struct gc_event`. */
export const GC_EVENT_SIZE = 32;

/** Decodes a `struct gc_event`. */
export function decodeGcEvent(bytes: Uint8Array): GcEvent {
  if (bytes.length < GC_EVENT_SIZE) {
    throw new Error(`ugc record of ${bytes.length} bytes, ${GC_EVENT_SIZE} expected`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    start: v.getBigUint64(0, true),
    end: v.getBigUint64(8, true),
    generation: Number(v.getBigInt64(16, true)),
    collected: Number(v.getBigInt64(24, true)),
  };
}

/** ugc's description of a Python collection, as BCC words it. */
export function gcDescription(e: GcEvent): string {
  return `gen ${e.generation} GC collected ${e.collected} objects`;
}

/** How ugc prints and filters. */
export interface GcFormat {
  /** Milliseconds rather than microseconds. */
  readonly milliseconds: boolean;
  /** Only collections longer than this many milliseconds. */
  readonly minimumMs?: number;
  /** Only collections whose description contains this. */
  readonly filter?: string;
}

/** ugc's header. */
export function gcHeader(f: GcFormat): string {
  return `${"START".padEnd(8)} ${`TIME (${unit(f)})`.padEnd(8)} ${"DESCRIPTION".padEnd(40)}\n`;
}

function gcWanted(e: GcEvent, f: GcFormat): boolean {
  if (f.minimumMs !== undefined && Number(e.end - e.start) / 1e6 < f.minimumMs) return false;
  return f.filter === undefined || gcDescription(e).includes(f.filter);
}

/** ugc's row of `e` ("" when filtered out); `start` is when the tool started. */
export function formatGc(e: GcEvent, start: bigint, f: GcFormat): string {
  if (!gcWanted(e, f)) return "";
  const at = (Number(e.start - start) / 1e9).toFixed(3).padEnd(8);
  const took = scaled(e.end - e.start, f)
    .toFixed(2)
    .padEnd(8);
  return `${at} ${took} ${gcDescription(e)}\n`;
}

/** ugc's JSON line of `e` ("" when filtered out). */
export function gcJson(e: GcEvent, start: bigint, f: GcFormat): string {
  if (!gcWanted(e, f)) return "";
  return `${JSON.stringify({
    start_s: Number((Number(e.start - start) / 1e9).toFixed(6)),
    [`time_${unit(f)}`]: Number(scaled(e.end - e.start, f).toFixed(2)),
    generation: e.generation,
    collected: e.collected,
    description: gcDescription(e),
  })}\n`;
}
