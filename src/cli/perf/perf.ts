/**
 * `tsbpf perf`: the BPF programs processes hold on perf events and raw tracepoints,
 * with bpftool's grammar. Each command's module is imported when it runs.
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

/** `tsbpf perf`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "perf",
  summary: "show the BPF programs that processes hold on perf events and raw tracepoints",
  usage: (bin: string) => {
    const b = `${bin} perf`;
    return (
      `Usage: ${b} { show | list }\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`
    );
  },
  commands: [
    { name: "show", summary: "show each process, descriptor and program" },
    { name: "list", summary: "the same as show" },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** perf's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./perf-show.ts")).showPerf(c, a),
  list: async (c, a) => (await import("./perf-show.ts")).showPerf(c, a),
  help: helpCommand,
});

/** Runs `tsbpf perf ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
