/**
 * `tsbpf perf`: the BPF programs processes hold on perf events and raw tracepoints,
 * with bpftool's grammar. Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import { type Command, type Context, dispatch, HELP_SPEC_OPTIONS } from "../command.ts";

/** bpftool prints this help on stderr in JSON mode too (stdout then gets its empty JSON line). */
function help(ctx: Context): void {
  const b = `${ctx.bin} perf`;
  ctx.out.stderr(
    `Usage: ${b} { show | list }\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`,
  );
}

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./perf-show.ts")).showPerf(c, a) },
  { name: "list", run: async (c, a) => (await import("./perf-show.ts")).showPerf(c, a) },
  { name: "help", run: (c) => help(c) },
];

/** Runs `tsbpf perf ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
