/**
 * `tsbpf init DIR ...` at work: its words parsed with the options init.ts declares, the
 * directory checked (new or empty), the template's files (project-files.ts) written.
 *
 * @module
 */

import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { pascalCase } from "../gen/gen-types.ts";
import { parseOneOperand } from "../one-operand.ts";
import { packageVersion } from "../version.ts";
import { OPTIONS } from "./init.ts";
import { projectFiles } from "./project-files.ts";

/** A name npm, the file system, C and `tsbpf gen types` all take as it is. */
const NAME = /^[a-z][a-z0-9-]{0,49}$/;

/**
 * The package.json spec of `--tsbpf SPEC`: a tarball or directory path becomes an
 * absolute `file:` spec (a relative one would be read from the project's directory,
 * not from where `tsbpf init` ran); anything else (`^0.1.0`, `file:...`) is kept.
 */
export function tsbpfSpec(spec: string | undefined, version: string): string {
  if (spec === undefined) {
    if (version === "unknown") {
      throw new CliError(
        "init: tsbpf's own version is unknown: give the dependency with --tsbpf SPEC",
      );
    }
    return `^${version}`;
  }
  if (spec === "") throw new UsageError("init: --tsbpf: an empty SPEC");
  const isPath =
    isAbsolute(spec) ||
    spec.startsWith("./") ||
    spec.startsWith("../") ||
    /\.(tgz|tar\.gz)$/.test(spec);
  if (!isPath || spec.startsWith("file:")) return spec;
  const abs = resolve(spec);
  if (!existsSync(abs)) throw new CliError(`init: --tsbpf ${spec}: no such file or directory`);
  return `file:${abs}`;
}

/** Throws unless `dir` is missing or an empty directory. */
function checkDirectory(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory())
    throw new CliError(`init: ${dir} exists and is not a directory`);
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(", ") + (entries.length > 3 ? ", ..." : "");
    throw new CliError(
      `init: ${dir} is not empty (${entries.length} entries: ${shown}): give a new or empty directory`,
    );
  }
}

/** Runs `tsbpf init ...` once init.ts has set its usage. */
export async function initProject(ctx: Context, args: Args): Promise<void> {
  const parsed = parseOneOperand(ctx, args, "init", OPTIONS, "DIR");
  if (!parsed) return;
  const { values, operand: dir } = parsed;
  const name = values.name ?? basename(resolve(dir));
  if (!NAME.test(name)) {
    const from = values.name === undefined ? ` (from DIR ${dir})` : "";
    throw new UsageError(
      `init: name '${name}'${from} is not 1 to 50 lower case letters, digits and '-' starting with a letter` +
        (values.name === undefined ? ": give one with --name NAME" : ""),
    );
  }
  const tsbpf = tsbpfSpec(values.tsbpf, packageVersion());
  checkDirectory(dir);

  const files = projectFiles({ name, tsbpf }, pascalCase);
  try {
    for (const [path, text] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text, { flag: "wx" });
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`init: cannot write ${err.path ?? dir}: ${err.code ?? err.message}`);
  }
  if (ctx.out.json) {
    ctx.out.value({ dir, name, files: [...files.keys()] });
    return;
  }
  ctx.out.write(
    `Wrote ${name} in ${dir}:\n` +
      [...files.keys()].map((f) => `  ${f}\n`).join("") +
      "Next:\n" +
      `  cd ${dir}\n` +
      "  npm install\n" +
      "  npm run build     # needs clang >= 14\n" +
      "  npm test          # the kernel test too under sudo\n" +
      "  sudo npm start -- INTERFACE\n",
  );
}
