/**
 * `tsbpf gen types OBJ [type NAME]... [name NAME] [module SPECIFIER]`: a typed
 * TypeScript module for a BPF object on stdout (see gen-types.ts). bpftool's `gen
 * skeleton` writes C; tsbpf writes TypeScript.
 */

import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_OPTIONS,
  helpCommand,
  type ObjectDescription,
} from "../command.ts";

/** `tsbpf gen`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "gen",
  summary: "generate code for a BPF object",
  usage: (bin: string) => {
    const b = `${bin} gen`;
    return (
      `Usage: ${b} types       FILE [type TYPE_NAME]... [name OBJECT_NAME] [module SPECIFIER]\n` +
      `       ${b} help\n` +
      "\n" +
      "       TYPE_NAME: a struct, union, enum or typedef to emit even when no map or\n" +
      "                  variable uses it (a ring or perf buffer record)\n" +
      "       SPECIFIER: where the module imports tsbpf/spec from (default tsbpf/spec)\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`
    );
  },
  commands: [
    {
      name: "types",
      summary: "a typed TypeScript module for an object's maps, programs and types",
      keywords: ["type TYPE_NAME", "name OBJECT_NAME", "module SPECIFIER"],
      files: true,
    },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** gen's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  types: async (c, a) => (await import("./gen-types-command.ts")).types(c, a),
  help: helpCommand,
});

/** Runs `tsbpf gen ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
