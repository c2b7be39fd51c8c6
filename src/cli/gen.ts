/** `tsbpf gen ...` (placeholder while `gen types` is written). */
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { CliError } from "./output.ts";

/** Runs `tsbpf gen ...`. */
export async function run(_ctx: Context, _args: Args): Promise<void> {
  throw new CliError("gen is not supported by tsbpf yet");
}
