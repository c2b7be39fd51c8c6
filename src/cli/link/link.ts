/**
 * `tsbpf link`: show, pin and detach links, with bpftool's grammar.
 * Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import { type Command, type Context, dispatch, HELP_SPEC_OPTIONS, printHelp } from "../command.ts";

/** `LINK := ...` */
export const HELP_SPEC_LINK = "LINK := { id LINK_ID | pinned FILE }";

function help(ctx: Context): void {
  const b = `${ctx.bin} link`;
  printHelp(
    ctx,
    `Usage: ${b} { show | list }   [LINK]\n` +
      `       ${b} pin        LINK  FILE\n` +
      `       ${b} detach     LINK\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_LINK}\n` +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} }\n",
  );
}

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./link-show.ts")).showLinks(c, a) },
  { name: "list", run: async (c, a) => (await import("./link-show.ts")).showLinks(c, a) },
  { name: "help", run: (c) => help(c) },
  { name: "pin", run: async (c, a) => (await import("./link-manage.ts")).pinLink(c, a) },
  { name: "detach", run: async (c, a) => (await import("./link-manage.ts")).detachLink(c, a) },
];

/** Runs `tsbpf link ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
