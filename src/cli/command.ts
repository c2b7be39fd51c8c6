/**
 * The shape of a CLI object and its commands, and bpftool's dispatch rule (cmd_select):
 * no word runs the table's first command, otherwise the first command the word
 * abbreviates.
 *
 * Each object module exports a {@link ObjectDescription}: plain data (names, keywords,
 * options, usage text) that help, shell completion and the man page read without
 * loading the code that runs a command. The module's dispatch table is built from that
 * description by {@link commandTable}, so the two cannot drift apart.
 */
import { type Args, matchCommand } from "./args.ts";
import { type GlobalOptions, type Output, UnknownWordError } from "./format/output.ts";

/** What every command receives. */
export interface Context {
  readonly out: Output;
  readonly opts: GlobalOptions;
  /** The program name printed in help ("tsbpf"). */
  readonly bin: string;
  /** Usage of the object (or command) being run: printed on usage errors and for help. */
  usage: () => string;
}

/** How a command runs. */
export type CommandRun = (ctx: Context, args: Args) => void | Promise<void>;

/** One command of an object (`show`, `dump`, ...), as dispatch sees it. */
export interface Command {
  readonly name: string;
  readonly run: CommandRun;
  /** What help, completion and the man page know of it. */
  readonly description?: CommandDescription;
}

/**
 * An option of a command or of the whole CLI. `value` names what follows it (`PID`,
 * `FILE`); an option without one is a flag.
 */
export interface OptionDescription {
  /** The long name without dashes ("pid"). */
  readonly long: string;
  /** The one-letter alias without its dash ("x"), when there is one. */
  readonly short?: string;
  /** The placeholder of its value ("PID"), when it takes one. */
  readonly value?: string;
  /** One line: what it does. */
  readonly summary: string;
}

/** One command of an object, as data. */
export interface CommandDescription {
  readonly name: string;
  /** One line: what it does (man page). */
  readonly summary: string;
  /**
   * Keywords that may follow the command, each with the placeholder of its value when
   * it takes one: `"id PROG_ID"`, `"pinned FILE"`, `"xlated"`. A placeholder that names
   * a path (see {@link isPathPlaceholder}) completes file names.
   */
  readonly keywords?: readonly string[];
  /** Options in BCC's style (`--pid PID`), for objects that parse their own. */
  readonly options?: readonly OptionDescription[];
  /** True when it takes file names as operands (an object file, a pin path). */
  readonly files?: boolean;
  /** Its own usage, printed by `OBJECT COMMAND help` (and `--help`, `-h`). */
  readonly usage?: (bin: string) => string;
  /** bpftool has it and tsbpf does not yet: dispatched (to say so), never offered. */
  readonly unsupported?: boolean;
}

/** A top-level word of the CLI (`prog`, `map`, `completion`), as data. */
export interface ObjectDescription {
  readonly name: string;
  /** One line: what it is for (man page). */
  readonly summary: string;
  /** Its commands in bpftool's order (which settles abbreviations). */
  readonly commands: readonly CommandDescription[];
  /** The usage `OBJECT help` prints. */
  readonly usage: (bin: string) => string;
  /** Options of an object that is one command (`compile FILE -o OUT`): no commands. */
  readonly options?: readonly OptionDescription[];
  /** True when such an object takes file names as operands. */
  readonly files?: boolean;
}

/** A runner for each command an object describes, keyed by command name. */
export type CommandRuns<D extends ObjectDescription> = {
  readonly [K in D["commands"][number]["name"]]: CommandRun;
};

/**
 * The dispatch table of an object: its description's commands, in order, each with
 * its runner. Typed so that a command without a runner, or a runner without a command,
 * does not compile.
 */
export function commandTable<D extends ObjectDescription>(
  description: D,
  runs: CommandRuns<D>,
): readonly Command[] {
  return description.commands.map((c) => ({
    name: c.name,
    run: (runs as Record<string, CommandRun>)[c.name] as CommandRun,
    description: c,
  }));
}

/** True for the words that ask for help wherever a command is expected. */
export function isHelpWord(word: string | undefined): boolean {
  return word === "help" || word === "--help" || word === "-h";
}

/**
 * Runs the command `args` names from `table`, with `object`'s usage as help.
 * `--help` and `-h` (which reach here only for objects that parse their own options)
 * print the object's help; `help` after a command with its own usage prints that. An
 * unknown command fails with exit code 255, as bpftool, naming the word and the
 * closest commands.
 */
export async function dispatch(
  ctx: Context,
  table: readonly Command[],
  args: Args,
  object: ObjectDescription,
): Promise<void> {
  ctx.usage = () => object.usage(ctx.bin);
  if (args.count === 0) {
    const first = table[0];
    if (first) return first.run(ctx, args);
  }
  const word = args.next();
  if (word === "--help" || word === "-h") return printHelp(ctx, ctx.usage());
  const cmd = matchCommand(table, word);
  if (!cmd) {
    const offered = table.filter((c) => !c.description?.unsupported).map((c) => c.name);
    throw await unknownWord(ctx.bin, "command", word, offered, `${object.name} help`);
  }
  const own = cmd.description?.usage;
  if (own) {
    ctx.usage = () => own(ctx.bin);
    if (isHelpWord(args.peek())) return printHelp(ctx, ctx.usage());
  }
  return cmd.run(ctx, args);
}

/**
 * The error for a word that names nothing at its level, with the closest of `names`
 * (the words offered there: by edit distance, or a name the word starts with) and the
 * help command that lists them.
 */
export async function unknownWord(
  bin: string,
  what: "command" | "object",
  word: string,
  names: readonly string[],
  helpCommand: string,
): Promise<UnknownWordError> {
  const { closestWords } = await import("./closest-words.ts");
  const near = closestWords(word, names);
  const guess = near.length ? `; did you mean '${near.join("' or '")}'?` : "";
  return new UnknownWordError(
    `unknown ${what} '${word}'${guess}`,
    `Run '${bin} ${helpCommand}' for the list of ${what}s.`,
  );
}

/** Prints help someone asked for: to stdout (so it pipes into grep), `null` in JSON mode. */
export function printHelp(ctx: Context, text: string): void {
  if (ctx.out.json) ctx.out.value(null);
  else ctx.out.write(text);
}

/**
 * Prints the usage after a command line that does not parse: to stderr, as bpftool's
 * usage() does, `null` on stdout in JSON mode.
 */
export function printUsage(ctx: Context, text: string): void {
  if (ctx.out.json) ctx.out.value(null);
  else ctx.out.stderr(text);
}

/** Placeholders whose value is a path, so completion offers file names after them. */
export function isPathPlaceholder(placeholder: string | undefined): boolean {
  return (
    placeholder !== undefined && /(^|_)(FILE|PATH|OBJ|DIR|ROOT|OUT)$|^CGROUP/.test(placeholder)
  );
}

/** `PROG := ...` as keywords. */
export const PROG_KEYWORDS = ["id PROG_ID", "pinned FILE", "tag PROG_TAG", "name PROG_NAME"];
/** `MAP := ...` as keywords. */
export const MAP_KEYWORDS = ["id MAP_ID", "pinned FILE", "name MAP_NAME"];

/** The `OPTIONS := ...` line every help text ends with. */
export const HELP_SPEC_OPTIONS = "OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug}";
/** `PROG := ...` */
export const HELP_SPEC_PROGRAM =
  "PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }";
/** `MAP := ...` */
export const HELP_SPEC_MAP = "MAP := { id MAP_ID | pinned FILE | name MAP_NAME }";

/** The runner of every object's `help` command: the usage dispatch set, to stdout. */
export const helpCommand: CommandRun = (ctx) => printHelp(ctx, ctx.usage());

/** How an object runs; `cli` is the whole table (completion and man describe it). */
export type ObjectRun = (ctx: Context, args: Args, cli: CliTable) => Promise<void>;

/** One top-level word of the CLI: an object (`prog`), a tool (`version`) or a placeholder. */
export interface ObjectEntry {
  readonly name: string;
  /** Its runner; absent for bpftool's objects tsbpf does not have yet. */
  readonly load?: () => Promise<(ctx: Context, args: Args) => Promise<void>>;
  /** Its description; absent for words without commands (`help`, `version`). */
  readonly describe?: () => Promise<ObjectDescription>;
}

/** The whole CLI as data: what completion scripts and the man page are built from. */
export interface CliTable {
  /** The program name ("tsbpf"). */
  readonly bin: string;
  /** The top-level words in dispatch order. */
  readonly objects: readonly ObjectEntry[];
  /** The global options. */
  readonly options: readonly OptionDescription[];
}
