/** `tsbpf prog load` (being written). */
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { CliError } from "./output.ts";

/** Not yet. */
export async function loadProg(_ctx: Context, _args: Args): Promise<void> {
  throw new CliError("prog load: not available yet");
}
