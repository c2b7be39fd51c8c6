/**
 * `tsbpf export`: chosen maps' values as metrics — `prometheus` serves them at
 * /metrics on each scrape (and pushes them with `--otlp URL` too), `otlp` only pushes
 * them to an OpenTelemetry collector over OTLP/HTTP (JSON). Its options are long
 * options, so main.ts hands this object its words unparsed.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Command, type Context, dispatch, printHelp } from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} export`;
  printHelp(
    ctx,
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
      "       metric per numeric member. Reading maps by id or name needs root.\n",
  );
}

const COMMANDS: readonly Command[] = [
  { name: "help", run: (c) => help(c) },
  {
    name: "prometheus",
    run: async (c, a) => (await import("./export-run.ts")).runExport(c, a, "prometheus"),
  },
  { name: "otlp", run: async (c, a) => (await import("./export-run.ts")).runExport(c, a, "otlp") },
];

/** Runs `tsbpf export ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
