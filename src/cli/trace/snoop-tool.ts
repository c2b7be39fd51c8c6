/**
 * One definition per BCC-style event tool (killsnoop, exitsnoop, statsnoop,
 * mountsnoop, oomkill, tcpconnect, tcplife, tcpretrans) and one runner for all of
 * them: options parsed with `util.parseArgs` (the tool's own plus `--duration`,
 * `-j`/`--json`, `--perf-buffer`, `-h`/`--help`), help on stdout, then the session,
 * header and rows through {@link runTraceTool}. Short flags that would collide with
 * tsbpf's global options (-p, -d, -f, -V) are long only: `--pid`, `--duration`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import type { JsonValue } from "../format/json-writer.ts";
import { UsageError } from "../format/output.ts";
import { jsonLine } from "./trace-format.ts";
import { runTraceTool } from "./trace-run.ts";
import type { TraceAttachment } from "./trace-session.ts";

/** A `util.parseArgs` option table. */
export type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/** The parsed values of an option table. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** What every event tool takes besides its own options. */
const COMMON = {
  duration: { type: "string" },
  json: { type: "boolean", short: "j" },
  "perf-buffer": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/** The usage lines of {@link COMMON}, for each tool's help. */
const COMMON_HELP =
  "  --duration SECONDS  stop after SECONDS (default: at Ctrl-C or SIGTERM)\n" +
  "  -j, --json          one JSON object per line\n" +
  "  --perf-buffer       read events through a perf buffer, not a ring buffer\n" +
  "  -h, --help          show this help\n" +
  "Needs root (or CAP_BPF and CAP_PERFMON); exits 1 when it cannot start.\n";

/** A BCC-style event tool: its options, object, tracepoints, record and columns. */
export interface SnoopTool<E, O> {
  /** The name after `tsbpf trace`, as BCC names the tool ("killsnoop"). */
  readonly name: string;
  /** One line saying what it shows, for its help. */
  readonly summary: string;
  /** The tool's own options' usage lines (two spaces in, as argparse prints them). */
  readonly usage: string;
  /** The tool's own options. */
  readonly options: OptionSpec;
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

/** The help text of `tool`. */
export function snoopHelp(bin: string, tool: SnoopTool<unknown, unknown>): string {
  return `Usage: ${bin} trace ${tool.name} [OPTIONS]\n\n${tool.summary}\n\n${tool.usage}${COMMON_HELP}`;
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

function parseWords(tool: SnoopTool<unknown, unknown>, words: readonly string[]) {
  try {
    return parseArgs({
      args: [...words],
      options: { ...tool.options, ...COMMON },
      strict: true,
      allowPositionals: false,
    }).values as OptionValues;
  } catch (e) {
    // parseArgs words its own errors ("Unknown option '-q'"); keep them, name the tool.
    const text = (e as Error).message.replace(/\. To specify.*$/s, "");
    throw new UsageError(`trace ${tool.name}: ${text}`);
  }
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
  const text = snoopHelp(ctx.bin, tool as SnoopTool<unknown, unknown>);
  // A usage error shows this tool's help (on stderr), not the whole of `trace`'s.
  ctx.usage = () => text;
  const v = parseWords(tool as SnoopTool<unknown, unknown>, args.rest());
  if (v.help === true) {
    printHelp(ctx, text);
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
