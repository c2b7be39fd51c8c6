/**
 * `tsbpf gen types FILE [type NAME]... [name NAME] [module SPECIFIER]`: reads the
 * object and writes its TypeScript module (gen-types.ts) to stdout.
 */
import { basename } from "node:path";
import { loadCollectionSpec } from "../../elf/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno, UsageError } from "../format/output.ts";
import { errnoOf, reason } from "../objects/selectors.ts";
import { generateTypes } from "./gen-types.ts";

/** libbpf's object name for a file: its base name up to the first dot. */
function objectName(path: string): string {
  const base = basename(path);
  const dot = base.indexOf(".");
  return dot < 0 ? base : base.slice(0, dot);
}

/** `gen types FILE [type NAME]... [name NAME] [module SPECIFIER]`. */
export async function types(ctx: Context, args: Args): Promise<void> {
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
