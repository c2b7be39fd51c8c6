/**
 * Options of the trace tools, parsed the way BCC's tools take them (`-p PID`,
 * `-x`, `-d 5`, `--max-args 30`, short flags combined as `-xj`), with node's
 * `util.parseArgs`. A malformed line is a usage error naming the option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../format/output.ts";
import { EXEC_MAX_ARGS } from "./trace-events.ts";

/** Options shared by every trace tool. */
export interface TraceCommonOptions {
  /** `-n NAME`: only events whose command name contains NAME. */
  readonly name?: string;
  /** `-d SECONDS`: stop after this long (fractions allowed). */
  readonly durationSeconds?: number;
  /** `-j`: one JSON object per line. */
  readonly json: boolean;
  /** `--perf-buffer`: read events through a perf buffer even where ring buffers exist. */
  readonly perfBuffer: boolean;
  /** `-h`: print the tool's help. */
  readonly help: boolean;
}

/** `tsbpf trace open` options. */
export interface TraceOpenOptions extends TraceCommonOptions {
  /** `-p PID`: only this process (thread group). */
  readonly pid?: number;
  /** `-x`: only failed opens. */
  readonly failedOnly: boolean;
}

/** `tsbpf trace exec` options. */
export interface TraceExecOptions extends TraceCommonOptions {
  /** `-x`: include failed execs (execsnoop shows only successful ones by default). */
  readonly includeFailed: boolean;
  /** `--max-args N`: arguments shown, file name included (1..60, default 20). */
  readonly maxArgs: number;
}

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

const COMMON = {
  name: { type: "string", short: "n" },
  duration: { type: "string", short: "d" },
  json: { type: "boolean", short: "j" },
  "perf-buffer": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Spec;

function parse<S extends Spec>(words: readonly string[], options: S, tool: string) {
  try {
    return parseArgs({ args: [...words], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    // parseArgs words its own errors ("Unknown option '-q'"); keep them, name the tool.
    throw new UsageError(`trace ${tool}: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
}

function positiveInt(text: string, what: string, max = 0x7fffffff): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not '${text}'`);
  }
  return Number(text);
}

function common(v: Record<string, unknown>): TraceCommonOptions {
  let durationSeconds: number | undefined;
  if (typeof v.duration === "string") {
    const d = Number(v.duration);
    if (!/^\d*\.?\d+$/.test(v.duration) || !(d > 0)) {
      throw new UsageError(`-d takes a duration in seconds greater than 0, not '${v.duration}'`);
    }
    durationSeconds = d;
  }
  return {
    ...(typeof v.name === "string" && { name: v.name }),
    ...(durationSeconds !== undefined && { durationSeconds }),
    json: v.json === true,
    perfBuffer: v["perf-buffer"] === true,
    help: v.help === true,
  };
}

/**
 * Parses `tsbpf trace open`'s words.
 * @throws UsageError for an unknown option, a missing value or a bad number
 */
export function parseOpenOptions(words: readonly string[]): TraceOpenOptions {
  const v = parse(
    words,
    { ...COMMON, pid: { type: "string", short: "p" }, failed: { type: "boolean", short: "x" } },
    "open",
  );
  return {
    ...common(v),
    ...(typeof v.pid === "string" && { pid: positiveInt(v.pid, "-p PID") }),
    failedOnly: v.failed === true,
  };
}

/**
 * Parses `tsbpf trace exec`'s words.
 * @throws UsageError for an unknown option, a missing value or a bad number
 */
export function parseExecOptions(words: readonly string[]): TraceExecOptions {
  const v = parse(
    words,
    {
      ...COMMON,
      fails: { type: "boolean", short: "x" },
      "max-args": { type: "string" },
    },
    "exec",
  );
  return {
    ...common(v),
    includeFailed: v.fails === true,
    maxArgs:
      typeof v["max-args"] === "string"
        ? positiveInt(v["max-args"], "--max-args", EXEC_MAX_ARGS)
        : 20,
  };
}
