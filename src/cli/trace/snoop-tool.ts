/**
 * One definition per BCC-style event tool (killsnoop, exitsnoop, statsnoop,
 * mountsnoop, oomkill, tcpconnect, tcplife, tcpretrans) and one runner for all of
 * them: options parsed from the tool's table in tool-tables.ts (its own plus
 * `--duration`, `-j`/`--json`, `--perf-buffer`, `-h`/`--help`), the same table trace.ts
 * shows as help, completion and man page; help on stdout, then the session,
 * header and rows through {@link runTraceTool}. Short flags that would collide with
 * tsbpf's global options (-p, -d, -f, -V) are long only: `--pid`, `--duration`.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, type OptionDescription, printHelp } from "../command.ts";
import type { JsonValue } from "../format/json-writer.ts";
import { UsageError } from "../format/output.ts";
import { parseToolArgs } from "./tool-options.ts";
import { jsonLine } from "./trace-format.ts";
import { runTraceTool } from "./trace-run.ts";
import type { TraceAttachment } from "./trace-session.ts";

/** The parsed values of an option table. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** A BCC-style event tool: its options, object, tracepoints, record and columns. */
export interface SnoopTool<E, O> {
  /** The name after `tsbpf trace`, as BCC names the tool ("killsnoop"). */
  readonly name: string;
  /**
   * Its option table (tool-tables.ts), the one trace.ts's DESCRIPTION shows: its own
   * options, then `--duration`, `-j`, `--perf-buffer` and `-h` (EVENT_COMMON).
   */
  readonly options: readonly OptionDescription[];
  /** Checks the parsed values and turns them into the tool's options. */
  readonly parse: (values: OptionValues) => O;
  /** What it traces, for "Tracing ... Hit Ctrl-C to end." */
  readonly what: string;
  /** The object's file name under src/cli/trace/bpf/. */
  readonly object: string;
  /** Its tracepoints or probes (which may depend on the options). */
  readonly attachments: readonly TraceAttachment[] | ((o: O) => readonly TraceAttachment[]);
  /** `.rodata` constants (kernel-side filters) for these options. */
  readonly constants: (o: O) => Readonly<Record<string, number>>;
  /** The plain-text header ("" for none). */
  readonly header: (o: O) => string;
  /** Decodes one record. */
  readonly decode: (bytes: Uint8Array) => E;
  /** Whether to show an event (user-space filters); all when absent. */
  readonly keep?: (e: E, o: O) => boolean;
  /** The plain-text row of an event, newline included. */
  readonly row: (e: E, o: O) => string;
  /** The JSON object of an event. */
  readonly json: (e: E, o: O) => JsonValue;
}

/**
 * A whole number from `min` to `max` given to option `name`.
 * @throws UsageError naming the option and the text
 */
export function intOption(text: string, name: string, min = 1, max = 0x7fffffff): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} takes a whole number from ${min} to ${max}, not '${text}'`);
  }
  return Number(text);
}

function durationOf(text: string | boolean | undefined): number | undefined {
  if (typeof text !== "string") return undefined;
  const d = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(d > 0)) {
    throw new UsageError(`--duration takes seconds greater than 0, not '${text}'`);
  }
  return d;
}

/** Runs `tsbpf trace NAME ...` for `tool`. */
export async function runSnoopTool<E, O>(
  ctx: Context,
  args: Args,
  tool: SnoopTool<E, O>,
): Promise<void> {
  // (dispatch has set ctx.usage to the tool's help, from the same table.)
  const v = parseToolArgs(args.rest(), tool.options, tool.name, false).values as OptionValues;
  if (v.help === true) {
    printHelp(ctx, ctx.usage());
    ctx.out.flush();
    return;
  }
  const o = tool.parse(v);
  const durationSeconds = durationOf(v.duration);
  const json = v.json === true || ctx.opts.json;
  await runTraceTool(ctx, {
    what: tool.what,
    header: tool.header(o),
    json,
    ...(durationSeconds !== undefined && { durationSeconds }),
    session: {
      tool: `trace ${tool.name}`,
      object: tool.object,
      perfBuffer: v["perf-buffer"] === true,
      constants: tool.constants(o),
      attachments: typeof tool.attachments === "function" ? tool.attachments(o) : tool.attachments,
    },
    render: (bytes) => {
      const e = tool.decode(bytes);
      if (tool.keep && !tool.keep(e, o)) return "";
      return json ? jsonLine(tool.json(e, o)) : tool.row(e, o);
    },
  });
}
