/**
 * `tsbpf playground [--port N]`: serves the playground (dist/playground, built by
 * `npm run build:playground`) on 127.0.0.1 for a browser: write, verify, step through
 * and run BPF programs with no kernel and no root. Its options are long options, so
 * main.ts hands this object its words unparsed.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context, ObjectDescription, OptionDescription } from "../command.ts";

/** `tsbpf playground`'s options, as data (usage, completion, man page); see {@link OPTIONS}. */
const OPTION_DESCRIPTIONS: readonly OptionDescription[] = [
  { long: "port", value: "N", summary: "the port on 127.0.0.1 (default 8437; 0: any free port)" },
  { long: "help", short: "h", summary: "print this usage" },
];

/** `tsbpf playground`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "playground",
  summary: "serve the eBPF playground (verify and run programs in a browser) on 127.0.0.1",
  usage: (bin: string) =>
    `Usage: ${bin} playground [--port N]\n` +
    `       ${bin} playground help\n` +
    "\n" +
    "       Serves the playground's static files on http://127.0.0.1:N/ (default 8437;\n" +
    "       0: any free port) until SIGINT or SIGTERM. The page runs tsbpf's assembler,\n" +
    "       verifier, interpreter and JIT in the browser and sends nothing anywhere.\n" +
    "       From a source checkout, build it first: npm run build:playground.\n",
  commands: [],
  options: OPTION_DESCRIPTIONS,
} as const satisfies ObjectDescription;

/** parseArgs' options; their names are {@link OPTION_DESCRIPTIONS}' (a test checks). */
export const OPTIONS = {
  port: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `tsbpf playground ...` (serve-playground.ts, loaded when it runs). */
export async function run(ctx: Context, args: Args): Promise<void> {
  ctx.usage = () => DESCRIPTION.usage(ctx.bin);
  return (await import("./serve-playground.ts")).servePlayground(ctx, args);
}
