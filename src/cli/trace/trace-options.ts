/**
 * Options of the trace tools, parsed the way BCC's tools take them (`--pid PID`,
 * `-x`, `--duration 5`, `--max-args 30`, short flags combined as `-xj`), with node's
 * `util.parseArgs`, from the option tables trace.ts describes them in. A malformed
 * line is a usage error naming the option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { OptionDescription } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { EXEC_OPTIONS, OPEN_OPTIONS } from "./trace.ts";
import { EXEC_MAX_ARGS } from "./trace-events.ts";

/** Options shared by every trace tool. */
export interface TraceCommonOptions {
  /** `-n`/`--name NAME`: only events whose command name contains NAME. */
  readonly name?: string;
  /** `--duration SECONDS`: stop after this long (fractions allowed). */
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
  /** `--pid PID`: only this process (thread group). */
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

/** parseArgs' options from a tool's option descriptions (trace.ts), so usage and parser agree. */
function parserSpec(options: readonly OptionDescription[]): Spec {
  return Object.fromEntries(
    options.map((o) => [
      o.long,
      { type: o.value ? "string" : "boolean", ...(o.short && { short: o.short }) },
    ]),
  ) as Spec;
}

/** What to use instead of the short flags `trace` took before they became global only. */
const MOVED: Readonly<Record<string, string>> = {
  "-p": "-p is the global --pretty; a process is --pid PID",
  "-d": "-d is the global --debug; a time limit is --duration SECONDS",
};

function parse(words: readonly string[], options: readonly OptionDescription[], tool: string) {
  try {
    const spec = parserSpec(options);
    return parseArgs({ args: [...words], options: spec, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (e) {
    // parseArgs words its own errors ("Unknown option '-q'"); keep them, name the tool.
    let message = (e as Error).message.replace(/\. To specify.*$/s, "");
    const moved = /^Unknown option '(-[a-z])'/.exec(message)?.[1];
    if (moved && MOVED[moved]) message += ` (${MOVED[moved]})`;
    throw new UsageError(`trace ${tool}: ${message}`);
  }
}

function positiveInt(text: string, what: string, max = 0x7fffffff): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not '${text}'`);
  }
  return Number(text);
}

function common(v: Record<string, string | boolean | undefined>): TraceCommonOptions {
  let durationSeconds: number | undefined;
  if (typeof v.duration === "string") {
    const d = Number(v.duration);
    if (!/^\d*\.?\d+$/.test(v.duration) || !(d > 0)) {
      throw new UsageError(
        `--duration takes a number of seconds greater than 0, not '${v.duration}'`,
      );
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
  const v = parse(words, OPEN_OPTIONS, "open");
  return {
    ...common(v),
    ...(typeof v.pid === "string" && { pid: positiveInt(v.pid, "--pid PID") }),
    failedOnly: v.failed === true,
  };
}

/**
 * Parses `tsbpf trace exec`'s words.
 * @throws UsageError for an unknown option, a missing value or a bad number
 */
export function parseExecOptions(words: readonly string[]): TraceExecOptions {
  const v = parse(words, EXEC_OPTIONS, "exec");
  return {
    ...common(v),
    includeFailed: v.fails === true,
    maxArgs:
      typeof v["max-args"] === "string"
        ? positiveInt(v["max-args"], "--max-args", EXEC_MAX_ARGS)
        : 20,
  };
}
