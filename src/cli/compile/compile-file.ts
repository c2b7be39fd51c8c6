/**
 * `tsbpf compile FILE ...` at work: its words parsed with the options compile.ts
 * declares, the source compiled by `compile()` (tsbpf/compile), the object written.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  ClangNotFoundError,
  CompileError,
  type CompileTarget,
  compileObject,
  VmlinuxError,
} from "../../compile/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { parseOneOperand } from "../one-operand.ts";
import { OPTIONS } from "./compile.ts";

/** The object file beside `file`: `x.bpf.c` -> `x.bpf.o`, `x` -> `x.o`. */
export function defaultOutput(file: string): string {
  return file.endsWith(".c") ? `${file.slice(0, -2)}.o` : `${file}.o`;
}

/** `-D NAME=VALUE` and `-D NAME` as compile()'s defines. */
function parseDefines(words: readonly string[]): Record<string, string | true> {
  const defines: Record<string, string | true> = {};
  for (const w of words) {
    const eq = w.indexOf("=");
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`compile: -D ${w}: '${name}' is not a C identifier`);
    }
    defines[name] = eq < 0 ? true : w.slice(eq + 1);
  }
  return defines;
}

/** Runs `tsbpf compile ...` once compile.ts has set its usage. */
export async function compileFile(ctx: Context, args: Args): Promise<void> {
  const parsed = parseOneOperand(ctx, args, "compile", OPTIONS, "source FILE");
  if (!parsed) return;
  const { values, operand: file } = parsed;
  const target = values.target;
  if (target !== undefined && !["bpf", "bpfel", "bpfeb"].includes(target)) {
    throw new UsageError(`compile: --target ${target}: not one of bpf, bpfel, bpfeb`);
  }
  const output = values.output ?? defaultOutput(file);
  const defines = parseDefines(values.define ?? []);

  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let result: Awaited<ReturnType<typeof compileObject>>;
  try {
    result = await compileObject(source, {
      name: file,
      // The source's own directory first: `#include "x.h"` beside it, as clang would.
      includes: [dirname(file), ...(values.include ?? [])],
      defines,
      ...(target !== undefined && { target: target as CompileTarget }),
      ...(values.clang !== undefined && { clang: values.clang }),
      ...(values["no-cache"] && { cache: false }),
    });
  } catch (e) {
    if (e instanceof CompileError) {
      if (!ctx.out.json) ctx.out.stderr(e.stderr.endsWith("\n") ? e.stderr : `${e.stderr}\n`);
      throw new CliError(e.message);
    }
    if (e instanceof ClangNotFoundError || e instanceof VmlinuxError) throw new CliError(e.message);
    throw e;
  }
  try {
    writeFileSync(output, result.bytes);
  } catch (e) {
    throw new CliError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (ctx.out.json) {
    ctx.out.value({
      file,
      output,
      cached: result.cached,
      diagnostics: result.diagnostics.map((d) => ({ ...d })),
    });
  } else if (result.stderr) {
    ctx.out.stderr(result.stderr);
  }
}
