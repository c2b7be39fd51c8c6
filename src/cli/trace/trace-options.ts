/**
 * Options of the trace tools, parsed the way BCC's tools take them (`--pid PID`,
 * `-x`, `--duration 5`, `--max-args 30`, short flags combined as `-xj`), with node's
 * `util.parseArgs`, from their option tables (tool-tables.ts). A malformed
 * line is a usage error naming the option.
 *
 * @module
 */

import { UsageError } from "../format/output.ts";
import { parseToolArgs, wholeNumber } from "./tool-options.ts";
import { EXEC_OPTIONS, OPEN_OPTIONS } from "./tool-tables.ts";
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

type Values = Readonly<Record<string, string | boolean | undefined>>;

function parse(
  words: readonly string[],
  options: typeof OPEN_OPTIONS | typeof EXEC_OPTIONS,
  tool: string,
): Values {
  return parseToolArgs(words, options, tool, false).values as Values;
}

function common(v: Values): TraceCommonOptions {
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
    ...(typeof v.pid === "string" && { pid: wholeNumber(v.pid, "--pid PID") }),
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
        ? wholeNumber(v["max-args"], "--max-args", EXEC_MAX_ARGS)
        : 20,
  };
}
