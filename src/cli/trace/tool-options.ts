/**
 * Command lines of the trace tools, parsed from the same option tables
 * (`OptionDescription[]`, tool-tables.ts) that trace.ts's DESCRIPTION hands to help,
 * shell completion and the man page, so a tool cannot take an option those do not show.
 * An option with a `value` placeholder takes a string, one without is a flag; short
 * flags combine (`-mT`). BCC's option letters stay short with long aliases
 * (`-D`/`--disks`) unless they collide with tsbpf's global options (-j -p -d -f -V),
 * which are long only (`--pid`, `--duration`); BCC's `interval [count]` positionals are
 * kept. A malformed line is a usage error naming the tool and the option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { OptionDescription } from "../command.ts";
import { UsageError } from "../format/output.ts";

/** An option table for `util.parseArgs`. */
export type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/**
 * The values an option table parses to, keyed by long name: a string for an option
 * with a value placeholder, `true` for a flag given, absent for one not given.
 */
export type OptionValuesOf<T extends readonly OptionDescription[]> = {
  readonly [O in T[number] as O["long"]]?: O extends { readonly value: string } ? string : boolean;
};

/** What {@link parseToolArgs} returns. */
export interface ToolArgs<T extends readonly OptionDescription[]> {
  readonly values: OptionValuesOf<T>;
  readonly positionals: readonly string[];
}

/** When a summary tool prints and stops. */
export interface ReportSchedule {
  /** Print (and reset) every this many seconds; unset: once, at the end. */
  readonly intervalSeconds?: number;
  /** Stop after this many reports. */
  readonly count?: number;
  /** Stop after this many seconds. */
  readonly durationSeconds?: number;
}

/** `util.parseArgs`' table for option descriptions. */
export function parserSpec(options: readonly OptionDescription[]): OptionSpec {
  const spec: OptionSpec = {};
  for (const o of options) {
    spec[o.long] = { type: o.value ? "string" : "boolean", ...(o.short && { short: o.short }) };
  }
  return spec;
}

/** What to use instead of the short flags BCC's tools take that are global here. */
const MOVED: Readonly<Record<string, string>> = {
  "-p": "-p is the global --pretty; a process is --pid PID",
  "-d": "-d is the global --debug; a time limit is --duration SECONDS",
};

/**
 * The option values and positionals of `words` for `tool`, by its option table.
 * @param positionals whether the tool takes operands (`interval [count]`, a FILTER)
 * @throws UsageError for an unknown option, a missing value or an unwanted operand,
 *   naming the tool
 */
export function parseToolArgs<const T extends readonly OptionDescription[]>(
  words: readonly string[],
  options: T,
  tool: string,
  positionals = true,
): ToolArgs<T> {
  try {
    const r = parseArgs({
      args: [...words],
      options: parserSpec(options),
      strict: true,
      allowPositionals: positionals,
    });
    return { values: r.values as OptionValuesOf<T>, positionals: r.positionals };
  } catch (e) {
    // parseArgs words its own errors ("Unknown option '-q'"); keep them, name the tool.
    let message = (e as Error).message.replace(/\. To specify.*$/s, "");
    const moved = /^Unknown option '(-[a-z])'/.exec(message)?.[1];
    if (moved && MOVED[moved]) message += ` (${MOVED[moved]})`;
    throw new UsageError(`trace ${tool}: ${message}`);
  }
}

/** `-x` or `--pid PID` as a synopsis shows it: the short form when there is one. */
function synopsisWord(o: OptionDescription): string {
  const name = o.short ? `-${o.short}` : `--${o.long}`;
  return `[${name}${o.value ? ` ${o.value}` : ""}]`;
}

/** `-x, --failed` or `--pid PID`, as an option list names it. */
export function optionNames(o: OptionDescription): string {
  return `${o.short ? `-${o.short}, ` : ""}--${o.long}${o.value ? ` ${o.value}` : ""}`;
}

/** One option per line, names then what it does, as argparse prints them. */
export function optionLines(options: readonly OptionDescription[], indent = "  "): string {
  return options
    .map((o) => {
      const names = `${indent}${optionNames(o)}`;
      // A long name gets its own line, as argparse does, so the summaries stay aligned.
      return names.length > 23
        ? `${names}\n${" ".repeat(24)}${o.summary}\n`
        : `${names.padEnd(23)} ${o.summary}\n`;
    })
    .join("");
}

/**
 * `tsbpf trace TOOL [-x] [--pid PID] ... OPERANDS`, wrapped at `width` columns (counting
 * the `Usage: ` in front of it), continuation lines under the first option.
 */
export function toolSynopsis(
  bin: string,
  tool: string,
  options: readonly OptionDescription[],
  operands = "",
  width = 79,
): string {
  const head = `${bin} trace ${tool}`;
  const indent = " ".repeat("Usage: ".length + head.length + 1);
  const words = options.filter((o) => o.long !== "help").map(synopsisWord);
  if (operands) words.push(operands);
  const lines = [`Usage: ${head}`];
  for (const w of words) {
    const last = lines.length - 1;
    const line = lines[last] as string;
    if (line.length + 1 + w.length > width && line !== `Usage: ${head}`) {
      lines.push(`${indent}${w}`);
    } else {
      lines[last] = `${line} ${w}`;
    }
  }
  return lines.join("\n").slice("Usage: ".length);
}

/** The shared last lines of every tool's help. */
const NOTES =
  "-d and -p are the global --debug and --pretty: they go before 'trace'.\n" +
  "Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n";

/**
 * The help of one tool (`tsbpf trace TOOL --help`), from its option table: synopsis,
 * what it does, one line per option, then `operandHelp` (what `interval [count]` mean).
 */
export function toolUsage(
  bin: string,
  tool: string,
  what: string,
  options: readonly OptionDescription[],
  operands = "",
  operandHelp = "",
): string {
  return `Usage: ${toolSynopsis(bin, tool, options, operands)}\n\n${what}\n\n${optionLines(options)}${operandHelp}${NOTES}`;
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
