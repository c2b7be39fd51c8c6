/**
 * Command lines of the summary tools (biolatency, biosnoop, runqlat, cpudist,
 * syscount), parsed with node's `util.parseArgs`. BCC's option letters stay short
 * flags with long aliases (`-D`/`--disks`, `-L`/`--latency`) unless they collide with
 * tsbpf's global options (-j -p -d -f -V), which are long only (`--pid`,
 * `--duration`); BCC's `interval [count]` positionals are kept. A malformed line is a
 * usage error naming the tool and the option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../format/output.ts";

/** An option table for `util.parseArgs`. */
export type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/** Options every summary tool takes. */
export const TOOL_COMMON = {
  json: { type: "boolean", short: "j" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/** When a summary tool prints and stops. */
export interface ReportSchedule {
  /** Print (and reset) every this many seconds; unset: once, at the end. */
  readonly intervalSeconds?: number;
  /** Stop after this many reports. */
  readonly count?: number;
  /** Stop after this many seconds. */
  readonly durationSeconds?: number;
}

/** What {@link parseToolArgs} returns: values typed by the option table, and positionals. */
export type ToolArgs<S extends OptionSpec> = ReturnType<
  typeof parseArgs<{ args: string[]; options: S; strict: true; allowPositionals: boolean }>
>;

/**
 * The option values and positionals of `words` for `tool`.
 * @throws UsageError for an unknown option or a missing value
 */
export function parseToolArgs<S extends OptionSpec>(
  words: readonly string[],
  options: S,
  tool: string,
  positionals = true,
): ToolArgs<S> {
  try {
    return parseArgs({ args: [...words], options, strict: true, allowPositionals: positionals });
  } catch (e) {
    throw new UsageError(`trace ${tool}: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
}

/**
 * A whole number in 1..max.
 * @throws UsageError naming `what`
 */
export function wholeNumber(text: string, what: string, max = 0x7fffffff): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not '${text}'`);
  }
  return Number(text);
}

/**
 * A number of seconds greater than 0 (fractions allowed).
 * @throws UsageError naming `what`
 */
export function seconds(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(n > 0) || n > 0x7fffffff / 1000) {
    throw new UsageError(`${what} takes seconds greater than 0, not '${text}'`);
  }
  return n;
}

/**
 * BCC's `[interval [count]]` positionals, and `--duration` when the tool has it.
 * @throws UsageError for a third positional or a bad number
 */
export function reportSchedule(
  positionals: readonly string[],
  tool: string,
  duration?: unknown,
): ReportSchedule {
  if (positionals.length > 2) {
    throw new UsageError(
      `trace ${tool}: unexpected argument '${positionals[2]}' (takes [interval [count]])`,
    );
  }
  const [interval, count] = positionals;
  return {
    ...(interval !== undefined && { intervalSeconds: seconds(interval, "interval") }),
    ...(count !== undefined && { count: wholeNumber(count, "count") }),
    ...(typeof duration === "string" && { durationSeconds: seconds(duration, "--duration") }),
  };
}
