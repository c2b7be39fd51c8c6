/**
 * `tsbpf export`: chosen maps' values as metrics — `prometheus` serves them at
 * /metrics on each scrape (and pushes them with `--otlp URL` too), `otlp` only pushes
 * them to an OpenTelemetry collector over OTLP/HTTP (JSON). Its options are long
 * options, so main.ts hands this object its words unparsed.
 *
 * @module
 */

import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  helpCommand,
  type ObjectDescription,
  type OptionDescription,
} from "../command.ts";

/** `SOURCE := ...` as keywords. */
const SOURCE_KEYWORDS = ["id MAP_ID", "pinned FILE", "name MAP_NAME"];

/** The options export-options.ts parses, for completion and the man page. */
const EXPORT_OPTIONS: readonly OptionDescription[] = [
  { long: "listen", value: "HOST:PORT", summary: "where /metrics is served (127.0.0.1:9435)" },
  { long: "otlp", value: "URL", summary: "OTLP/HTTP metrics endpoint (.../v1/metrics), JSON" },
  { long: "interval", value: "S", summary: "seconds between OTLP pushes (default 10)" },
  { long: "prefix", value: "PREFIX", summary: "prepended to every metric name" },
  { long: "counter", value: "MAP", summary: "its values only grow (default: gauge)" },
  { long: "histogram", value: "MAP=KIND", summary: "a histogram map (log2, log2-bcc, linear)" },
  { long: "field", value: "MAP=MEMBER", summary: "the value member to export" },
  { long: "metric", value: "MAP=NAME", summary: "metric name (default: the map's name)" },
  { long: "duration", value: "S", summary: "stop after S seconds (default: SIGINT or SIGTERM)" },
  { long: "help", short: "h", summary: "print this usage" },
];

/** `tsbpf export`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "export",
  summary: "serve or push maps' values as metrics (Prometheus, OTLP/HTTP)",
  usage: (bin: string) => {
    const b = `${bin} export`;
    return (
      `Usage: ${b} prometheus [--listen HOST:PORT] [--otlp URL [--interval S]] [MAP_OPTIONS] SOURCE...\n` +
      `       ${b} otlp --otlp URL [--interval S] [MAP_OPTIONS] SOURCE...\n` +
      `       ${b} help\n` +
      "\n" +
      "       SOURCE := { id MAP_ID | pinned FILE | name MAP_NAME | FILE }\n" +
      "       FILE: a map pinned on bpffs, or an ELF object, loaded and attached while\n" +
      "             exporting (its hash and array maps are exported)\n" +
      "       MAP_OPTIONS (MAP: the map's name, as `map show` prints it; repeatable):\n" +
      "       --counter MAP              its values only grow (default: gauge)\n" +
      "       --histogram MAP=KIND[,slot=MEMBER|OFFSET[:SIZE]][,unit=FACTOR]\n" +
      "                                  KIND := { log2 | log2-bcc | linear:MIN:STEP }\n" +
      "       --field MAP=MEMBER|OFFSET[:SIZE]   the value member to export\n" +
      "       --metric MAP=NAME          metric name (default: the map's name)\n" +
      "       --prefix PREFIX            prepended to every metric name\n" +
      "       --listen HOST:PORT         default 127.0.0.1:9435 (port 0: any free port)\n" +
      "       --otlp URL                 OTLP/HTTP metrics endpoint (.../v1/metrics), JSON\n" +
      "       --interval S               seconds between OTLP pushes (default 10)\n" +
      "       --duration S               stop after S seconds (default: SIGINT or SIGTERM)\n" +
      "       Labels come from the key's BTF fields (else `key`); struct values give one\n" +
      "       metric per numeric member. Reading maps by id or name needs root.\n"
    );
  },
  commands: [
    { name: "help", summary: "print this usage" },
    {
      name: "prometheus",
      summary: "serve the maps' values at /metrics (and push them with --otlp)",
      keywords: SOURCE_KEYWORDS,
      options: EXPORT_OPTIONS,
      files: true,
    },
    {
      name: "otlp",
      summary: "push the maps' values to an OpenTelemetry collector (OTLP/HTTP JSON)",
      keywords: SOURCE_KEYWORDS,
      options: EXPORT_OPTIONS,
      files: true,
    },
  ],
} as const satisfies ObjectDescription;

/** export's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  help: helpCommand,
  prometheus: async (c, a) => (await import("./export-run.ts")).runExport(c, a, "prometheus"),
  otlp: async (c, a) => (await import("./export-run.ts")).runExport(c, a, "otlp"),
});

/** Runs `tsbpf export ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
