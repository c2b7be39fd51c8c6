/**
 * `tsbpf gen types OBJ [type NAME]... [name NAME] [module SPECIFIER]`: a typed
 * TypeScript module for a BPF object on stdout (see gen-types.ts). bpftool's `gen
 * skeleton` writes C; tsbpf writes TypeScript.
 */

import { basename } from "node:path";
import { loadCollectionSpec } from "../../elf/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_OPTIONS,
  helpCommand,
  type ObjectDescription,
} from "../command.ts";
import { CliError, exitForErrno, UsageError } from "../format/output.ts";
import { errnoOf, reason } from "../objects/selectors.ts";
import { generateTypes } from "./gen-types.ts";

/** `tsbpf gen`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "gen",
  summary: "generate code for a BPF object",
  usage: (bin: string) => {
    const b = `${bin} gen`;
    return (
      `Usage: ${b} types       FILE [type TYPE_NAME]... [name OBJECT_NAME] [module SPECIFIER]\n` +
      `       ${b} help\n` +
      "\n" +
      "       TYPE_NAME: a struct, union, enum or typedef to emit even when no map or\n" +
      "                  variable uses it (a ring or perf buffer record)\n" +
      "       SPECIFIER: where the module imports tsbpf/spec from (default tsbpf/spec)\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`
    );
  },
  commands: [
    {
      name: "types",
      summary: "a typed TypeScript module for an object's maps, programs and types",
      keywords: ["type TYPE_NAME", "name OBJECT_NAME", "module SPECIFIER"],
      files: true,
    },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** libbpf's object name for a file: its base name up to the first dot. */
function objectName(path: string): string {
  const base = basename(path);
  const dot = base.indexOf(".");
  return dot < 0 ? base : base.slice(0, dot);
}

/** `gen types FILE [type NAME]... [name NAME] [module SPECIFIER]`. */
async function types(ctx: Context, args: Args): Promise<void> {
  if (args.count < 1) throw new UsageError();
  const file = args.next();
  let name: string | undefined;
  let module: string | undefined;
  const typeNames: string[] = [];
  while (args.count > 0) {
    const w = args.next();
    if (args.count < 1) throw new UsageError(`'${w}' needs a value`);
    if (w === "name") name = args.next();
    else if (w === "module") module = args.next();
    else if (w === "type") typeNames.push(args.next());
    else throw new CliError(`unknown arg ${w}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file, MAX_OBJECT_BYTES, "BPF object");
  } catch (e) {
    throw new CliError(
      `failed to open BPF object file ${file}: ${reason(e)}`,
      exitForErrno(errnoOf(e)),
    );
  }
  let spec: CollectionSpec;
  try {
    spec = loadCollectionSpec(bytes);
  } catch (e) {
    throw new CliError(
      `failed to open BPF object file ${file}: ${e instanceof Error ? e.message : e}`,
    );
  }
  const objName = name ?? objectName(file);
  let code: string;
  try {
    code = generateTypes(spec, {
      name: objName,
      ...(module ? { module } : {}),
      types: typeNames,
      command: [
        "tsbpf gen types",
        file,
        ...typeNames.map((t) => `type ${t}`),
        ...(name ? [`name ${name}`] : []),
        ...(module ? [`module ${module}`] : []),
      ].join(" "),
    });
  } catch (e) {
    throw new CliError(`can't generate types for ${file}: ${e instanceof Error ? e.message : e}`);
  }
  if (ctx.out.json) ctx.out.value({ name: objName, code });
  else ctx.out.write(code);
}

/** gen's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  types: types,
  help: helpCommand,
});

/** Runs `tsbpf gen ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
