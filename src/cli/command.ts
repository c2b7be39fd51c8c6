/**
 * The shape of a CLI command and bpftool's dispatch rule (cmd_select): no word runs the
 * table's first command, otherwise the first command the word abbreviates; an unknown
 * word prints the object's help and fails.
 */
import { type Args, matchCommand } from "./args.ts";
import { type GlobalOptions, type Output, UsageError } from "./format/output.ts";

/** What every command receives. */
export interface Context {
  readonly out: Output;
  readonly opts: GlobalOptions;
  /** The program name printed in help ("tsbpf"). */
  readonly bin: string;
  /** Help of the object being run, printed on usage errors. */
  help: () => void;
}

/** One command of an object (`show`, `dump`, ...). */
export interface Command {
  readonly name: string;
  readonly run: (ctx: Context, args: Args) => void | Promise<void>;
}

/**
 * Runs the command `args` names from `table`, with `help` as the object's help.
 * An unknown command prints help and fails with exit code 255, like bpftool.
 */
export async function dispatch(
  ctx: Context,
  table: readonly Command[],
  args: Args,
  help: () => void,
): Promise<void> {
  ctx.help = help;
  if (args.count === 0) {
    const first = table[0];
    if (first) return first.run(ctx, args);
  }
  const word = args.next();
  const cmd = matchCommand(table, word);
  if (!cmd) throw new UsageError();
  return cmd.run(ctx, args);
}

/**
 * Prints an object's help text (to stderr, as bpftool does) or `null` in JSON mode.
 */
export function printHelp(ctx: Context, text: string): void {
  if (ctx.out.json) {
    ctx.out.value(null);
    return;
  }
  ctx.out.stderr(text);
}

/** The `OPTIONS := ...` line every help text ends with. */
export const HELP_SPEC_OPTIONS = "OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug}";
/** `PROG := ...` */
export const HELP_SPEC_PROGRAM =
  "PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }";
/** `MAP := ...` */
export const HELP_SPEC_MAP = "MAP := { id MAP_ID | pinned FILE | name MAP_NAME }";
