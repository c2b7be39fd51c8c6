/**
 * `tsbpf man`: the manual page, troff on stdout (`tsbpf man | man -l -`), built from
 * the same command table as help and completion.
 */
import type { Args } from "../args.ts";
import type { CliTable, Context, ObjectDescription } from "../command.ts";

/** `tsbpf man`, as data. */
export const DESCRIPTION = {
  name: "man",
  summary: "print the manual page (troff; read it with: tsbpf man | man -l -)",
  usage: (bin: string) =>
    `Usage: ${bin} man\n\n       The manual page as troff on stdout: ${bin} man | man -l -\n`,
  commands: [],
} as const satisfies ObjectDescription;

/** Runs `tsbpf man`. */
export async function run(ctx: Context, args: Args, cli: CliTable): Promise<void> {
  args.end();
  const { manPage } = await import("./man-page.ts");
  const page = await manPage(cli);
  if (ctx.out.json) ctx.out.value(page);
  else ctx.out.write(page);
}
