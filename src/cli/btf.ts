/** `tsbpf btf` (being written). */
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { CliError } from "./output.ts";

/** Runs `tsbpf btf ...`. */
export async function run(_ctx: Context, _args: Args): Promise<void> {
  throw new CliError("btf: not available yet");
}
