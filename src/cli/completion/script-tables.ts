/**
 * The command table as shell functions shared by the bash and zsh scripts (both shells
 * read the same `case` syntax, `[[ ]]` patterns and plain assignments): selecting a
 * word by bpftool's prefix rule, the words of each level, what follows each command.
 */
import type { CompletionModel } from "./completion-model.ts";

/** Arms of `case $1 in`, setting `all` and `offered` for the top level and each object. */
function levelArms(model: CompletionModel): string {
  const level = (key: string, words: readonly { name: string; offered: boolean }[]) =>
    `    ${key}) all="${words.map((w) => w.name).join(" ")}" offered="${words
      .filter((w) => w.offered)
      .map((w) => w.name)
      .join(" ")}" ;;`;
  return [
    level("''", model.objects),
    ...model.objects.filter((o) => o.commands.length > 0).map((o) => level(o.name, o.commands)),
  ].join("\n");
}

/**
 * Arms of `case "$1 $2" in` for every command that takes keywords, options or files
 * (`"compile "`, with no command, for an object that is one command).
 */
function commandArms(model: CompletionModel): string {
  const arms: string[] = [];
  for (const o of model.objects) {
    for (const c of o.own ? [o.own, ...o.commands] : o.commands) {
      const sets = [
        c.keywords.length ? `kw="${c.keywords.join(" ")}"` : "",
        c.options.length ? `opts="${c.options.join(" ")}"` : "",
        c.pathWords.length ? `pathw="${c.pathWords.join(" ")}"` : "",
        c.valueWords.length ? `valuew="${c.valueWords.join(" ")}"` : "",
        c.files ? "files=1" : "",
      ].filter(Boolean);
      if (sets.length) arms.push(`    "${o.name} ${c.name}") ${sets.join(" ")} ;;`);
    }
  }
  return arms.join("\n");
}

/** The shell functions `__BIN_select`, `__BIN_level` and `__BIN_command` for `model`. */
export function tableFunctions(model: CompletionModel): string {
  const f = `__${model.bin}`;
  return `# Sets REPLY to the word of "\${@:2}" that $1 selects: an exact match, else the first
# word it is a prefix of (bpftool's rule).
${f}_select() {
  local w=$1 n
  shift
  REPLY=
  for n in "$@"; do
    if [[ $n == "$w" ]]; then REPLY=$n; return; fi
  done
  for n in "$@"; do
    if [[ $n == "$w"* ]]; then REPLY=$n; return; fi
  done
}

# Sets all (in dispatch order) and offered: the words after "${model.bin} $1".
${f}_level() {
  case $1 in
${levelArms(model)}
    *) all= offered= ;;
  esac
}

# Sets what may follow "${model.bin} $1 $2": keywords, options, the words whose value
# is a path (pathw) or anything else (valuew), and whether file names are operands.
${f}_command() {
  kw= opts= pathw= valuew= files=0
  case "$1 $2" in
${commandArms(model)}
  esac
}
`;
}
