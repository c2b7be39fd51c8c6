/** `tsbpf btf ...`: show and list (btf-show.ts) and dump (btf-dump.ts), each loaded when asked. */
import type { Args } from "../args.ts";
import {
  type Command,
  type Context,
  dispatch,
  HELP_SPEC_MAP,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  printHelp,
} from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} btf`;
  printHelp(
    ctx,
    `Usage: ${b} { show | list } [id BTF_ID]\n` +
      `       ${b} dump BTF_SRC [format FORMAT]\n` +
      `       ${b} help\n` +
      "\n" +
      "       BTF_SRC := { id BTF_ID | prog PROG | map MAP [{key | value | kv | all}] | file FILE }\n" +
      "       FORMAT  := { raw | c }\n" +
      `       ${HELP_SPEC_MAP}\n` +
      `       ${HELP_SPEC_PROGRAM}\n` +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-B|--base-btf} }\n",
  );
}

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./btf-show.ts")).showBtf(c, a) },
  { name: "list", run: async (c, a) => (await import("./btf-show.ts")).showBtf(c, a) },
  { name: "help", run: (c) => help(c) },
  { name: "dump", run: async (c, a) => (await import("./btf-dump.ts")).dumpBtf(c, a) },
];

/** Runs `tsbpf btf ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
