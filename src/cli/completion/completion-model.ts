/**
 * What a shell completion script needs, flattened from the command table: the words at
 * each level in dispatch order (bpftool's prefix rule picks the first match, so the
 * scripts resolve abbreviations the same way), which of them to offer, and per command
 * the keywords and options that may follow and which take a value.
 */
import { type CliTable, isPathPlaceholder, type OptionDescription } from "../command.ts";
import { describeObjects, splitKeyword } from "../describe-cli.ts";

/** The words that may follow one command. */
export interface CompletedCommand {
  readonly name: string;
  /** False for commands tsbpf does not have yet: matched, never offered. */
  readonly offered: boolean;
  /** Keywords and operands offered after the command. */
  readonly keywords: readonly string[];
  /** Options offered after the command when the word starts with `-`. */
  readonly options: readonly string[];
  /** Keywords and options whose value is a path: file names complete after them. */
  readonly pathWords: readonly string[];
  /** Keywords and options whose value is anything else: nothing is offered after them. */
  readonly valueWords: readonly string[];
  /** True when file names are operands too. */
  readonly files: boolean;
}

/** One top-level word and its commands. */
export interface CompletedObject {
  readonly name: string;
  readonly offered: boolean;
  readonly commands: readonly CompletedCommand[];
  /** What follows an object that is one command (`compile FILE -o OUT`). */
  readonly own?: CompletedCommand;
}

/** Everything a completion script is generated from. */
export interface CompletionModel {
  readonly bin: string;
  /** Global options, short and long (`-j`, `--json`, ...). */
  readonly options: readonly string[];
  /** Global options that take a value (`-B`, `--base-btf`). */
  readonly valueOptions: readonly string[];
  readonly objects: readonly CompletedObject[];
}

/** Words a script embeds: checked, so that no generated line needs shell quoting. */
const SAFE_WORD = /^[A-Za-z0-9_./-]+$/;

/** `words` once each, in order; each checked against {@link SAFE_WORD}. */
function checked(words: readonly string[]): string[] {
  for (const w of words) {
    if (!SAFE_WORD.test(w)) throw new Error(`completion: '${w}' is not a plain word`);
  }
  return [...new Set(words)];
}

function optionWords(o: OptionDescription): string[] {
  return [...(o.short ? [`-${o.short}`] : []), `--${o.long}`];
}

/** What may follow a command (or an object that is one command, with the name ""). */
function completedCommand(c: {
  readonly name: string;
  readonly keywords?: readonly string[];
  readonly options?: readonly OptionDescription[];
  readonly files?: boolean;
  readonly unsupported?: boolean;
}): CompletedCommand {
  const keywords = (c.keywords ?? []).map(splitKeyword);
  const options = c.options ?? [];
  return {
    name: c.name,
    offered: c.unsupported !== true,
    keywords: checked(keywords.map((k) => k.word)),
    options: checked(options.flatMap(optionWords)),
    pathWords: checked([
      ...keywords.filter((k) => isPathPlaceholder(k.value)).map((k) => k.word),
      ...options.filter((x) => isPathPlaceholder(x.value)).flatMap(optionWords),
    ]),
    valueWords: checked([
      ...keywords.filter((k) => k.value && !isPathPlaceholder(k.value)).map((k) => k.word),
      ...options.filter((x) => x.value && !isPathPlaceholder(x.value)).flatMap(optionWords),
    ]),
    files: c.files === true,
  };
}

/** The completion model of `cli`. */
export async function completionModel(cli: CliTable): Promise<CompletionModel> {
  const described = await describeObjects(cli);
  const objectNames = described.filter((o) => o.description).map((o) => o.name);
  const objects = described.map((o): CompletedObject => {
    const name = checked([o.name])[0] as string;
    if (o.name === "help") {
      // `tsbpf help OBJECT`: the described objects are help's "commands".
      return {
        name,
        offered: true,
        commands: objectNames.map((n) => completedCommand({ name: n })),
      };
    }
    const d = o.description;
    const commands = (d?.commands ?? []).map(completedCommand);
    const own = d && (d.options || d.files) ? { own: completedCommand({ ...d, name: "" }) } : {};
    return { name, offered: o.supported, commands, ...own };
  });
  return {
    bin: checked([cli.bin])[0] as string,
    options: checked(cli.options.flatMap(optionWords)),
    valueOptions: checked(cli.options.filter((o) => o.value).flatMap(optionWords)),
    objects,
  };
}
