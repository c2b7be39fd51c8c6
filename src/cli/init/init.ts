/**
 * `tsbpf init DIR [--name NAME] [--tsbpf SPEC]`: a new project in DIR, an XDP program
 * with its TypeScript loader and test, ready for `npm install && npm test`. Its options
 * are long options, so main.ts hands this object its words unparsed.
 *
 * Output: the files written and what to run next; with `-j` before `init`:
 * `{"dir", "name", "files"}`. A DIR that exists and is not empty is an error.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context, ObjectDescription, OptionDescription } from "../command.ts";

/** `tsbpf init`'s options, as data (usage, completion, man page); see {@link OPTIONS}. */
const OPTION_DESCRIPTIONS: readonly OptionDescription[] = [
  { long: "name", value: "NAME", summary: "the project's name (default: DIR's last part)" },
  {
    long: "tsbpf",
    value: "SPEC",
    summary: "the tsbpf dependency: a version, file: spec or tarball",
  },
  { long: "help", short: "h", summary: "print this usage" },
];

/** `tsbpf init`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "init",
  summary: "write a new project: an XDP program, its TypeScript loader and test",
  usage: (bin: string) =>
    `Usage: ${bin} init DIR [--name NAME] [--tsbpf SPEC]\n` +
    `       ${bin} init help\n` +
    "\n" +
    "       DIR: a new or empty directory. NAME: the package's name and the files' stem\n" +
    "       (lower case letters, digits and '-'; default: DIR's last part). SPEC: the\n" +
    "       tsbpf dependency in package.json (default: ^ this tsbpf's version; a .tgz\n" +
    "       path is made absolute). Then: cd DIR && npm install && npm test.\n",
  commands: [],
  options: OPTION_DESCRIPTIONS,
  files: true,
} as const satisfies ObjectDescription;

/** parseArgs' options; their names are {@link OPTION_DESCRIPTIONS}' (a test checks). */
export const OPTIONS = {
  name: { type: "string" },
  tsbpf: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `tsbpf init ...` (init-project.ts, loaded when it runs). */
export async function run(ctx: Context, args: Args): Promise<void> {
  ctx.usage = () => DESCRIPTION.usage(ctx.bin);
  return (await import("./init-project.ts")).initProject(ctx, args);
}
