/**
 * `tsbpf link`: show, pin and detach links, with bpftool's grammar.
 * Each command's module is imported when it runs.
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

/** `LINK := ...` */
export const HELP_SPEC_LINK = "LINK := { id LINK_ID | pinned FILE }";
/** `LINK := ...` as keywords. */
const LINK_KEYWORDS = ["id LINK_ID", "pinned FILE"];

/** `tsbpf link`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "link",
  summary: "show, pin and detach BPF links",
  usage: (bin: string) => {
    const b = `${bin} link`;
    return (
      `Usage: ${b} { show | list }   [LINK]\n` +
      `       ${b} pin        LINK  FILE\n` +
      `       ${b} detach     LINK\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_LINK}\n` +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} }\n"
    );
  },
  commands: [
    { name: "show", summary: "show links, or the one LINK names", keywords: LINK_KEYWORDS },
    { name: "list", summary: "the same as show", keywords: LINK_KEYWORDS },
    { name: "help", summary: "print this usage" },
    { name: "pin", summary: "pin a link to a bpffs path", keywords: LINK_KEYWORDS, files: true },
    {
      name: "detach",
      summary: "detach a link (the program leaves its hook)",
      keywords: LINK_KEYWORDS,
    },
  ],
} as const satisfies ObjectDescription;

/** link's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./link-show.ts")).showLinks(c, a),
  list: async (c, a) => (await import("./link-show.ts")).showLinks(c, a),
  help: helpCommand,
  pin: async (c, a) => (await import("./link-manage.ts")).pinLink(c, a),
  detach: async (c, a) => (await import("./link-manage.ts")).detachLink(c, a),
});

/** Runs `tsbpf link ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
