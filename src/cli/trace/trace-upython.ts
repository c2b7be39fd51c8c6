/**
 * `tsbpf trace ucalls|uflow|ugc --pid PID`: BCC's ucalls, uflow and ugc for Python, on
 * CPython's USDT probes (python:function__entry/function__return, gc__start/gc__done)
 * in one process, through src/cli/trace/bpf/upython.bpf.o (libbpf's usdt.bpf.h).
 * The probes live in the process's executable or, for a shared-library build, in its
 * libpython; their semaphores are set by the kernel while the tool is attached.
 *
 * Options are long only (`--pid`, `--duration`, `--json`...): the short letters BCC
 * uses would collide with tsbpf's global `-j -p -d -f -V`.
 *
 * CPython 3.11 fires function__entry/return only while a trace or profile function is
 * set in the process (python/cpython#98894); the tools say so when they meet 3.11.
 *
 * @module
 */

import { readFileSync, realpathSync } from "node:fs";
import { findUsdtProbes } from "../../kernel/links/usdt.ts";
import type { Args } from "../args.ts";
import { type Context, type OptionDescription, printHelp } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { parseToolArgs } from "./tool-options.ts";
import { UCALLS_OPTIONS, UFLOW_OPTIONS, UGC_OPTIONS } from "./tool-tables.ts";
import { runTraceTool, type TraceTool } from "./trace-run.ts";
import { TRACE_EXIT_FAILURE, type UsdtAttachment } from "./trace-session.ts";
import {
  callsJson,
  decodeFlowEvent,
  decodeGcEvent,
  decodeMethodCalls,
  FLOW_HEADER,
  FlowPrinter,
  formatCalls,
  formatGc,
  gcHeader,
  gcJson,
  type MethodCalls,
} from "./upython-format.ts";

/** The tools and the options each takes besides the common ones. */
type Tool = "ucalls" | "uflow" | "ugc";

/** Each tool's option table (tool-tables.ts). */
const TABLES = { ucalls: UCALLS_OPTIONS, uflow: UFLOW_OPTIONS, ugc: UGC_OPTIONS } as const;

/** The options of a Python USDT tool, parsed. */
export interface UpythonOptions {
  /** `--pid PID`: the Python process (required). */
  readonly pid: number;
  /** `--duration SECONDS`. */
  readonly durationSeconds?: number;
  /** `--json`. */
  readonly json: boolean;
  /** `--perf-buffer`. */
  readonly perfBuffer: boolean;
  /** `--help`. */
  readonly help: boolean;
  /** ucalls `--latency`: time spent in each method. */
  readonly latency: boolean;
  /** ucalls, ugc `--milliseconds`. */
  readonly milliseconds: boolean;
  /** ucalls `--top N`. */
  readonly top?: number;
  /** uflow `--method PREFIX`. */
  readonly method?: string;
  /** uflow `--class PREFIX` (for Python: the file name, as BCC's `-C`). */
  readonly file?: string;
  /** ugc `--minimum MS`. */
  readonly minimumMs?: number;
  /** ugc `--filter TEXT`. */
  readonly filter?: string;
}

function number(text: string, what: string, whole: boolean): number {
  const n = Number(text);
  const ok = whole ? /^\d+$/.test(text) && n >= 1 : /^\d*\.?\d+$/.test(text) && n > 0;
  if (!ok || !Number.isFinite(n) || n > 0x7fffffff) {
    throw new UsageError(
      `${what} takes ${whole ? "a whole number from 1" : "a number greater than 0"}, not '${text}'`,
    );
  }
  return n;
}

/**
 * Parses the words of `tsbpf trace TOOL`.
 * @throws UsageError for an unknown option, a missing `--pid` or a bad number
 */
export function parseUpythonOptions(tool: Tool, words: readonly string[]): UpythonOptions {
  const v = parseToolArgs(words, TABLES[tool] as readonly OptionDescription[], tool, false)
    .values as Readonly<Record<string, string | boolean | undefined>>;
  const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const help = v.help === true;
  const pid = str("pid");
  if (pid === undefined && !help) throw new UsageError(`trace ${tool} needs --pid PID`);
  const duration = str("duration");
  const top = str("top");
  const minimum = str("minimum");
  return {
    pid: pid === undefined ? 0 : number(pid, "--pid", true),
    ...(duration !== undefined && { durationSeconds: number(duration, "--duration", false) }),
    json: v.json === true,
    perfBuffer: v["perf-buffer"] === true,
    help,
    latency: v.latency === true,
    milliseconds: v.milliseconds === true,
    ...(top !== undefined && { top: number(top, "--top", true) }),
    ...(str("method") !== undefined && { method: str("method") }),
    ...(str("class") !== undefined && { file: str("class") }),
    ...(minimum !== undefined && { minimumMs: number(minimum, "--minimum", false) }),
    ...(str("filter") !== undefined && { filter: str("filter") }),
  };
}

/**
 * The file of process `pid` that holds CPython's USDT probes: its executable, or a
 * libpython it maps.
 * @throws CliError when the process is gone or no file of it has `python:` probes
 */
export function pythonProbeBinary(pid: number): string {
  let exe: string;
  let maps: string;
  try {
    exe = realpathSync(`/proc/${pid}/exe`);
    maps = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch (e) {
    throw new CliError(`no process ${pid}: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
  }
  const libs = new Set(
    maps
      .split("\n")
      .map((l) => l.split(/\s+/)[5] ?? "")
      .filter((p) => /\/libpython[\d.]*\.so/.test(p)),
  );
  for (const file of [exe, ...libs]) {
    try {
      findUsdtProbes(file, "python", "function__entry");
      return file;
    } catch {
      // Not this one: the next file, or the error below.
    }
  }
  throw new CliError(
    `process ${pid} (${exe}) has no python:function__entry USDT probe in its executable or a libpython: a Python built with --with-dtrace has them`,
    TRACE_EXIT_FAILURE,
  );
}

/** What one tool adds to the common run: its probes, header, rows and summary. */
interface PythonTool {
  readonly what: string;
  readonly header: string;
  /** [program, probe name] pairs. */
  readonly probes: readonly (readonly [string, string])[];
  readonly constants?: Readonly<Record<string, number>>;
  readonly render: (bytes: Uint8Array) => string;
  readonly summary?: TraceTool["summary"];
}

const OBJECT = "upython.bpf.o";
const monotonicNow = () => process.hrtime.bigint();

/**
 * Parses `tool`'s words, finds the process's probes and runs the tool `make` describes
 * (given the options and whether the output is JSON).
 */
async function runPythonTool(
  ctx: Context,
  tool: Tool,
  args: Args,
  make: (o: UpythonOptions, json: boolean) => PythonTool,
): Promise<void> {
  const o = parseUpythonOptions(tool, args.rest());
  if (o.help) {
    printHelp(ctx, ctx.usage());
    return;
  }
  const binary = pythonProbeBinary(o.pid);
  if (tool !== "ugc" && /python3\.11|libpython3\.11/.test(binary)) {
    ctx.out.stderr(
      "Note: CPython 3.11 fires function__entry/function__return only while a trace or profile function is set in the process (python/cpython#98894).\n",
    );
  }
  const json = o.json || ctx.opts.json;
  const t = make(o, json);
  await runTraceTool(ctx, {
    what: t.what,
    header: t.header,
    json,
    ...(o.durationSeconds !== undefined && { durationSeconds: o.durationSeconds }),
    session: {
      tool: `trace ${tool}`,
      object: OBJECT,
      perfBuffer: o.perfBuffer,
      constants: { targ_tgid: o.pid, ...t.constants },
      attachments: t.probes.map(
        ([program, name]): UsdtAttachment => ({
          program,
          usdt: { binary, provider: "python", name },
          pid: o.pid,
        }),
      ),
    },
    render: t.render,
    ...(t.summary && { summary: t.summary }),
  });
}

/** Runs `tsbpf trace ucalls --pid PID [--latency] [--milliseconds] [--top N]`. */
export function traceUcalls(ctx: Context, args: Args): Promise<void> {
  return runPythonTool(ctx, "ucalls", args, (o, json) => {
    const f = { latency: o.latency, milliseconds: o.milliseconds, ...(o.top && { top: o.top }) };
    return {
      what: `calls in process ${o.pid} (language: python)`,
      header: "",
      constants: { targ_latency: o.latency ? 1 : 0 },
      probes: [
        ["ucalls_entry", "function__entry"],
        ...(o.latency ? [["ucalls_return", "function__return"] as const] : []),
      ],
      render: () => "",
      summary: (session) => {
        const rows: MethodCalls[] = [];
        for (const [k, v] of session.map("calls").entries()) rows.push(decodeMethodCalls(k, v));
        return json ? callsJson(rows, f) : formatCalls(rows, f);
      },
    };
  });
}

/** Runs `tsbpf trace uflow --pid PID [--method PREFIX] [--class PREFIX]`. */
export function traceUflow(ctx: Context, args: Args): Promise<void> {
  return runPythonTool(ctx, "uflow", args, (o, json) => {
    const printer = new FlowPrinter(monotonicNow(), {
      ...(o.method !== undefined && { method: o.method }),
      ...(o.file !== undefined && { file: o.file }),
    });
    return {
      what: `method calls in python process ${o.pid}`,
      header: FLOW_HEADER,
      probes: [
        ["uflow_entry", "function__entry"],
        ["uflow_return", "function__return"],
      ],
      render: (bytes) => {
        const e = decodeFlowEvent(bytes);
        return json ? printer.json(e) : printer.row(e);
      },
    };
  });
}

/** Runs `tsbpf trace ugc --pid PID [--milliseconds] [--minimum MS] [--filter TEXT]`. */
export function traceUgc(ctx: Context, args: Args): Promise<void> {
  return runPythonTool(ctx, "ugc", args, (o, json) => {
    const f = {
      milliseconds: o.milliseconds,
      ...(o.minimumMs !== undefined && { minimumMs: o.minimumMs }),
      ...(o.filter !== undefined && { filter: o.filter }),
    };
    const start = monotonicNow();
    return {
      what: `garbage collections in python process ${o.pid}`,
      header: gcHeader(f),
      probes: [
        ["ugc_start", "gc__start"],
        ["ugc_done", "gc__done"],
      ],
      render: (bytes) => {
        const e = decodeGcEvent(bytes);
        return json ? gcJson(e, start, f) : formatGc(e, start, f);
      },
    };
  });
}
