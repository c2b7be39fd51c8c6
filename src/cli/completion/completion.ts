/**
 * `tsbpf completion { bash | zsh }`: a shell completion script on stdout, generated from
 * the command table (objects, commands, keywords, options), so it offers what dispatch
 * runs. `source <(tsbpf completion bash)` loads it.
 */
import type { Args } from "../args.ts";
import {
  type CliTable,
  type Command,
  type Context,
  commandTable,
  dispatch,
  type ObjectDescription,
} from "../command.ts";
import { UsageError } from "../format/output.ts";

/** `tsbpf completion`, as data. */
export const DESCRIPTION = {
  name: "completion",
  summary: "print a shell completion script generated from the command table",
  usage: (bin: string) =>
    `Usage: ${bin} completion { bash | zsh }\n` +
    "\n" +
    `       bash: source <(${bin} completion bash), or save it as\n` +
    `             /etc/bash_completion.d/${bin}\n` +
    `       zsh:  ${bin} completion zsh > "\${fpath[1]}/_${bin}", or in ~/.zshrc after\n` +
    `             compinit: source <(${bin} completion zsh)\n`,
  commands: [
    { name: "bash", summary: "a bash completion script" },
    { name: "zsh", summary: "a zsh completion script" },
  ],
} as const satisfies ObjectDescription;

/** Prints the script for `shell`. */
async function printScript(ctx: Context, args: Args, cli: CliTable, shell: "bash" | "zsh") {
  args.end();
  const { completionModel } = await import("./completion-model.ts");
  const model = await completionModel(cli);
  const script =
    shell === "bash"
      ? (await import("./bash-script.ts")).bashScript(model)
      : (await import("./zsh-script.ts")).zshScript(model);
  if (ctx.out.json) ctx.out.value(script);
  else ctx.out.write(script);
}

/** completion's dispatch table for `cli`, built from {@link DESCRIPTION}. */
export function completionCommands(cli: CliTable): readonly Command[] {
  return commandTable(DESCRIPTION, {
    bash: (c, a) => printScript(c, a, cli, "bash"),
    zsh: (c, a) => printScript(c, a, cli, "zsh"),
  });
}

/** Runs `tsbpf completion SHELL` (a shell is required: no default). */
export async function run(ctx: Context, args: Args, cli: CliTable): Promise<void> {
  ctx.usage = () => DESCRIPTION.usage(ctx.bin);
  if (args.count === 0) throw new UsageError("which shell? (bash or zsh)");
  return dispatch(ctx, completionCommands(cli), args, DESCRIPTION);
}
