/** `tsbpf btf ...`: show and list (btf-show.ts) and dump (btf-dump.ts), each loaded when asked. */
import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_MAP,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  helpCommand,
  type ObjectDescription,
  PROG_KEYWORDS,
} from "../command.ts";

/** `tsbpf btf`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "btf",
  summary: "show BTF objects and dump BTF as C or raw types",
  usage: (bin: string) => {
    const b = `${bin} btf`;
    return (
      `Usage: ${b} { show | list } [id BTF_ID]\n` +
      `       ${b} dump BTF_SRC [format FORMAT]\n` +
      `       ${b} help\n` +
      "\n" +
      "       BTF_SRC := { id BTF_ID | prog PROG | map MAP [{key | value | kv | all}] | file FILE }\n" +
      "       FORMAT  := { raw | c }\n" +
      `       ${HELP_SPEC_MAP}\n` +
      `       ${HELP_SPEC_PROGRAM}\n` +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-B|--base-btf} }\n"
    );
  },
  commands: [
    { name: "show", summary: "show BTF objects loaded in the kernel", keywords: ["id BTF_ID"] },
    { name: "list", summary: "the same as show", keywords: ["id BTF_ID"] },
    { name: "help", summary: "print this usage" },
    {
      name: "dump",
      summary: "dump the types of a BTF object, a program, a map or a file",
      keywords: [
        "id BTF_ID",
        "prog",
        "map",
        "file FILE",
        ...PROG_KEYWORDS,
        "key",
        "value",
        "kv",
        "all",
        "format FORMAT",
        "raw",
        "c",
      ],
    },
  ],
} as const satisfies ObjectDescription;

/** btf's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./btf-show.ts")).showBtf(c, a),
  list: async (c, a) => (await import("./btf-show.ts")).showBtf(c, a),
  help: helpCommand,
  dump: async (c, a) => (await import("./btf-dump.ts")).dumpBtf(c, a),
});

/** Runs `tsbpf btf ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
