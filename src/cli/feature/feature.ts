/**
 * `tsbpf feature probe [kernel] [full] [macros [prefix PREFIX]]`: what this kernel
 * supports, in bpftool's sections, as `#define`s or as JSON. Unlike bpftool 7.1 on
 * recent kernels, helpers are reported per program type as the verifier really
 * allows them. The probing (feature-probe.ts) is loaded when it runs.
 */
import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_OPTIONS,
  helpCommand,
  type ObjectDescription,
} from "../command.ts";
import { CliError } from "../format/output.ts";

/** `tsbpf feature`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "feature",
  summary: "probe what the running kernel supports for BPF",
  usage: (bin: string) => {
    const b = `${bin} feature`;
    return (
      `Usage: ${b} probe [COMPONENT] [full] [macros [prefix PREFIX]]\n` +
      `       ${b} help\n` +
      "\n" +
      "       COMPONENT := { kernel }\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`
    );
  },
  commands: [
    {
      name: "probe",
      summary: "list the kernel's BPF program types, map types, helpers and settings",
      keywords: ["kernel", "full", "macros", "prefix PREFIX"],
    },
    { name: "list_builtins", summary: "list the names bpftool knows", unsupported: true },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** feature's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  probe: async (c, a) => (await import("./feature-probe.ts")).probe(c, a),
  list_builtins: () => {
    throw new CliError("feature list_builtins is not supported by tsbpf yet");
  },
  help: helpCommand,
});

/** Runs `tsbpf feature ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
