/**
 * What every trace tool does around its own program: check privileges and
 * tracepoints, load the tool's committed BPF object with its filters as `.rodata`
 * constants, pick the event transport (a ring buffer, else a perf buffer — one cached
 * feature probe), attach the tracepoints, hand each record to the tool until told to
 * stop, and take everything down again: links detached first, records already in
 * flight delivered, then the reader and the collection closed.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { loadCollectionSpec } from "../../elf/index.ts";
import { Collection } from "../../kernel/collection/collection.ts";
import { haveMapType } from "../../kernel/features/map-types.ts";
import type { Link } from "../../kernel/links/link.ts";
import { attachPerfEventPerCpu, type SamplingOptions } from "../../kernel/links/perf-sampling.ts";
import { attachRawTracepoint } from "../../kernel/links/raw-tracepoint.ts";
import { tracefsDir } from "../../kernel/links/tracefs.ts";
import { attachTracepoint } from "../../kernel/links/tracepoint.ts";
import { attachUsdt } from "../../kernel/links/usdt.ts";
import type { BpfMap } from "../../kernel/maps/map.ts";
import type { Program } from "../../kernel/programs/program.ts";
import { VerifierError } from "../../kernel/programs/verifier-error.ts";
import { PerfBufferReader, type PerfRecord } from "../../kernel/readers/perfbuf.ts";
import type { RecordReader } from "../../kernel/readers/poll.ts";
import { RingBufferReader } from "../../kernel/readers/ringbuf.ts";
import { SyscallError } from "../../kernel/sys/index.ts";
import {
  Capability,
  effectiveCapabilities,
  hasCapability,
} from "../../kernel/system/capabilities.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import { MapType } from "../../uapi/index.ts";
import { CliError } from "../format/output.ts";
import { cliFile } from "../package-files.ts";

/** Exit status of a trace tool that cannot start (BCC's tools exit 1). */
export const TRACE_EXIT_FAILURE = 1;

/** A tracepoint a tool attaches one of its programs to. */
export interface TracepointAttachment {
  /** The program's name in the object. */
  readonly program: string;
  /** Trace event group, e.g. "syscalls". */
  readonly group: string;
  /** Trace event name, e.g. "sys_enter_openat". */
  readonly event: string;
  /** Skip it when this kernel has no such event (sys_enter_open on arm64). */
  readonly optional?: boolean;
  /** Attach as a raw tracepoint (the program is `raw_tp/EVENT`): its arguments are the kernel's. */
  readonly raw?: boolean;
}

/** A USDT probe a tool attaches one of its programs to, in one process. */
export interface UsdtAttachment {
  /** The program's name in the object. */
  readonly program: string;
  /** The probe: binary (path), provider and name. */
  readonly usdt: { readonly binary: string; readonly provider: string; readonly name: string };
  /** The process. */
  readonly pid: number;
}

/**
 * A probe the tool attaches itself, once the object is loaded: uprobes, a uprobe.multi
 * link, kprobes or tracepoints with BPF cookies. The link is the session's to close.
 */
export interface ProbeAttachment {
  /** The program's name in the object. */
  readonly program: string;
  /** What the session lists as attached ("uretprobe:/bin/bash:readline"). */
  readonly label: string;
  /** Attaches the loaded program. */
  readonly attach: (prog: Program) => Link;
}

/** A `SEC("perf_event")` program run by a sampling perf event on every online CPU. */
export interface SamplingAttachment {
  /** The program's name in the object. */
  readonly program: string;
  /** The event (default cpu-clock) and its period or frequency. */
  readonly sampling: SamplingOptions;
}

/** Where a tool's program goes. */
export type TraceAttachment =
  | TracepointAttachment
  | UsdtAttachment
  | ProbeAttachment
  | SamplingAttachment;

/** A tracepoint or raw tracepoint attachment: not a USDT probe, a probe the tool attaches or a sampling event. */
function isTracepoint(a: TraceAttachment): a is TracepointAttachment {
  return "group" in a;
}

/** How a tool's session is set up. */
export interface TraceSessionOptions {
  /** The tool's name in messages, e.g. "trace open". */
  readonly tool: string;
  /** The object's file name under src/cli/trace/bpf/ (or dist/cli/trace/bpf/). */
  readonly object: string;
  /** `.rodata` constants: filters and limits. */
  readonly constants: Readonly<Record<string, number>>;
  /** Tracepoints, entry before exit. */
  readonly attachments: readonly TraceAttachment[];
  /** Use a perf buffer even when the kernel has ring buffers. */
  readonly perfBuffer?: boolean;
  /** Maps whose number of entries the tool sets (`--stack-storage-size`), by name. */
  readonly maxEntries?: Readonly<Record<string, number>>;
}

/** Data pages per CPU of the perf buffer (256 KiB with 4 KiB pages), as BCC's tools use. */
const PERF_PAGES = 64;

/** How events travel from the programs to the tool. */
export type TraceTransport = "ringbuf" | "perf";

/** The path of a committed trace object, from src/ (tsx), dist/ (built) or the bundled CLI alike. */
export function traceObjectPath(object: string): string {
  return cliFile(`trace/bpf/${object}`);
}

/**
 * True when this process may load tracing programs: root, CAP_SYS_ADMIN, or CAP_BPF
 * with CAP_PERFMON (Linux >= 5.8).
 */
export function canTrace(): boolean {
  if (process.geteuid?.() === 0) return true;
  const caps = effectiveCapabilities();
  return (
    hasCapability(Capability.SYS_ADMIN, caps) ||
    (hasCapability(Capability.BPF, caps) && hasCapability(Capability.PERFMON, caps))
  );
}

function privilegeError(tool: string, detail?: string): CliError {
  return new CliError(
    `${tool} needs root (or CAP_BPF and CAP_PERFMON) to load and attach BPF programs; run it with sudo` +
      (detail ? ` (${detail})` : ""),
    TRACE_EXIT_FAILURE,
  );
}

/** The transport this kernel supports, probed once: ring buffers since Linux 5.8. */
export function defaultTransport(): TraceTransport {
  return haveMapType(MapType.RINGBUF).available ? "ringbuf" : "perf";
}

/**
 * The spec with the transport's map kept and the other made a one-entry placeholder
 * array (a kernel without ring buffers cannot create one); the program's branch that
 * names the placeholder is dead once `use_ringbuf` is frozen in `.rodata`.
 */
function forTransport(spec: CollectionSpec, transport: TraceTransport): CollectionSpec {
  const drop = transport === "ringbuf" ? "perf_events" : "events";
  const m = spec.maps[drop];
  if (!m) throw new Error(`trace object has no map "${drop}"`);
  const placeholder = {
    name: m.name,
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
  };
  return { ...spec, maps: { ...spec.maps, [drop]: placeholder } };
}

/**
 * The spec with the maps named in `sizes` given that many entries.
 * @throws Error naming a map the object does not have
 */
function withMaxEntries(
  spec: CollectionSpec,
  sizes: Readonly<Record<string, number>>,
): CollectionSpec {
  const maps = { ...spec.maps };
  for (const [name, maxEntries] of Object.entries(sizes)) {
    const m = maps[name];
    if (!m) throw new Error(`trace object has no map "${name}"`);
    maps[name] = { ...m, maxEntries };
  }
  return { ...spec, maps };
}

/** A loaded, attached trace tool. */
export class TraceSession {
  /** The transport in use. */
  readonly transport: TraceTransport;
  /** The tracepoints attached ("syscalls:sys_enter_openat", ...). */
  readonly attached: readonly string[];
  readonly #coll: Collection;
  readonly #links: Link[];
  readonly #reader: RecordReader<Uint8Array> | RecordReader<PerfRecord>;
  #lost = 0;

  private constructor(
    coll: Collection,
    links: Link[],
    reader: RecordReader<Uint8Array> | RecordReader<PerfRecord>,
    transport: TraceTransport,
    attached: string[],
  ) {
    this.#coll = coll;
    this.#links = links;
    this.#reader = reader;
    this.transport = transport;
    this.attached = attached;
  }

  /**
   * Events dropped because the buffer was full: the perf buffer's lost records, or
   * what the programs counted in `ringbuf_lost` (known once {@link run} returns).
   */
  get lost(): number {
    return this.#lost;
  }

  /**
   * Checks privileges and tracepoints, loads the object, attaches its programs and
   * opens the reader. Nothing stays open when it fails.
   *
   * @throws CliError (exit status 1) when not privileged, when a tracepoint or tracefs
   * is missing, or when the kernel refuses the programs
   */
  static open(opts: TraceSessionOptions): TraceSession {
    const transport: TraceTransport = opts.perfBuffer ? "perf" : defaultTransport();
    const { coll, links, attached } = loadTraceObject(opts, transport);
    try {
      const reader =
        transport === "ringbuf"
          ? RingBufferReader.open(coll.map("events"))
          : PerfBufferReader.open(coll.map("perf_events"), { pages: PERF_PAGES });
      return new TraceSession(coll, links, reader, transport, attached);
    } catch (e) {
      for (const l of links) l.close();
      coll.close();
      throw new CliError(`${opts.tool}: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
    }
  }

  /**
   * Hands each record to `onRecord` (the bytes are valid during the call only) until
   * `until` settles, then detaches the programs, delivers the records already written,
   * calls `beforeClose` (the maps still open), and closes everything. Resolves when
   * done; an exception from `onRecord` stops the session and rejects.
   */
  async run(
    onRecord: (bytes: Uint8Array) => void,
    until: Promise<unknown>,
    beforeClose?: () => void,
  ): Promise<void> {
    const handle = (rec: Uint8Array | PerfRecord): void => {
      if (rec instanceof Uint8Array) onRecord(rec);
      else if (rec.kind === "sample") onRecord(rec.data);
      else this.#lost += rec.lost;
    };
    let failed!: () => void;
    const failure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const reader = this.#reader as RecordReader<Uint8Array | PerfRecord>;
    let error: unknown;
    const loop = (async () => {
      try {
        for await (const rec of reader) handle(rec);
      } catch (e) {
        error = e;
        failed();
      }
    })();
    try {
      await Promise.race([until, failure]);
      // Nothing new arrives once the programs are detached; what is already in the
      // buffer is delivered before the reader closes.
      for (const l of this.#links) l.close();
      // The iteration may have been handed a record whose step has not run yet (steps
      // run as microtasks): let it finish before reading here, since a read releases
      // the records before it. After one macrotask it waits for more, holding none.
      await new Promise((resolve) => setImmediate(resolve));
      if (error === undefined && !reader.closed) {
        for (const rec of reader.readAvailable()) handle(rec);
      }
      this.#lost += Number(this.#coll.variables.ringbuf_lost?.toBigInt() ?? 0n);
      beforeClose?.();
    } finally {
      this.close();
      await loop;
    }
    if (error !== undefined) throw error;
  }

  /** The object's map `name` (for tools that sum in maps rather than send events). */
  map(name: string): BpfMap {
    return this.#coll.map(name);
  }

  /** Detaches the programs and closes the reader and the collection. Safe to call twice. */
  close(): void {
    for (const l of this.#links) l.close();
    this.#reader.close();
    this.#coll.close();
  }
}

/** A tool's object, loaded and attached: what {@link loadTraceObject} returns. */
export interface LoadedTraceObject {
  readonly coll: Collection;
  /** One link per attached program, in the order of the attachments. */
  readonly links: Link[];
  /** The tracepoints attached ("block:block_rq_issue", ...). */
  readonly attached: string[];
}

/**
 * Checks privileges and tracepoints, loads the tool's object with its constants and
 * attaches its programs. `transport` is given for objects that emit events (they have
 * the `events` and `perf_events` maps of trace.bpf.h); tools that only fill maps leave
 * it out. Nothing stays open when it fails.
 *
 * @throws CliError (exit status 1) when not privileged, when a tracepoint or tracefs
 * is missing, or when the kernel refuses the programs
 */
export function loadTraceObject(
  opts: TraceSessionOptions,
  transport?: TraceTransport,
): LoadedTraceObject {
  if (!canTrace()) throw privilegeError(opts.tool);
  let dir = "";
  try {
    // uprobes and sampling events go through the PMU, and probes the tool attaches
    // itself check their own needs: tracefs is for tracepoints.
    if (opts.attachments.some(isTracepoint)) dir = tracefsDir();
  } catch (e) {
    throw new CliError(`${opts.tool}: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
  }
  const wanted: TraceAttachment[] = [];
  for (const a of opts.attachments) {
    if (!isTracepoint(a)) wanted.push(a);
    else if (existsSync(`${dir}/events/${a.group}/${a.event}/id`)) wanted.push(a);
    else if (!a.optional) {
      throw new CliError(
        `${opts.tool}: tracepoint ${a.group}:${a.event} is missing (no ${dir}/events/${a.group}/${a.event}); ` +
          (a.group === "syscalls"
            ? "the kernel needs CONFIG_FTRACE_SYSCALLS for syscall tracepoints"
            : "the kernel was built without it"),
        TRACE_EXIT_FAILURE,
      );
    }
  }
  const path = traceObjectPath(opts.object);
  let spec: CollectionSpec;
  try {
    spec = loadCollectionSpec(readInputFile(path, MAX_OBJECT_BYTES, "BPF object"));
    if (transport) spec = forTransport(spec, transport);
    spec = withMaxEntries(spec, opts.maxEntries ?? {});
  } catch (e) {
    throw new CliError(`${opts.tool}: cannot read ${path}: ${(e as Error).message}`);
  }
  const objectName = opts.object.slice(0, opts.object.indexOf("."));
  let coll: Collection | undefined;
  const links: Link[] = [];
  try {
    coll = Collection.load(spec, {
      objectName,
      constants: transport
        ? { ...opts.constants, use_ringbuf: transport === "ringbuf" ? 1 : 0 }
        : opts.constants,
      programs: [...new Set(wanted.map((a) => a.program))],
    });
    for (const a of wanted) {
      const prog = coll.program(a.program);
      if ("sampling" in a) links.push(...attachPerfEventPerCpu(prog, a.sampling));
      else {
        links.push(
          "attach" in a
            ? a.attach(prog)
            : "usdt" in a
              ? attachUsdt(prog, a.usdt.binary, a.usdt.provider, a.usdt.name, { pid: a.pid })
              : a.raw
                ? attachRawTracepoint(prog, a.event)
                : attachTracepoint(prog, a.group, a.event),
        );
      }
    }
    const attached = wanted.map((a) =>
      "attach" in a
        ? a.label
        : "usdt" in a
          ? `usdt:${a.usdt.provider}:${a.usdt.name}`
          : "sampling" in a
            ? "perf_event:sampling"
            : `${a.group}:${a.event}`,
    );
    return { coll, links, attached };
  } catch (e) {
    for (const l of links) l.close();
    coll?.close();
    throw traceLoadError(opts.tool, e, process.geteuid?.() === 0);
  }
}

/**
 * The CLI error for a failure to load or attach a tool's programs. EPERM/EACCES says
 * "needs root" only when the process is not root: the verifier rejects with EACCES
 * too (its log then says why), and root refused by a lockdown or an LSM policy needs
 * the kernel's word, not advice to use sudo.
 */
export function traceLoadError(tool: string, e: unknown, root: boolean): CliError {
  if (e instanceof VerifierError) {
    return new CliError(
      `${tool}: the kernel's verifier rejected the tool's program: ${e.message}`,
      TRACE_EXIT_FAILURE,
    );
  }
  if (e instanceof SyscallError && (e.code === "EPERM" || e.code === "EACCES")) {
    return root
      ? new CliError(
          `${tool}: ${e.message} (as root: a kernel lockdown or an LSM policy may forbid it)`,
          TRACE_EXIT_FAILURE,
        )
      : privilegeError(tool, e.message);
  }
  return new CliError(`${tool}: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
}
