/**
 * `tsbpf compile FILE.bpf.c [-o OUT] [-I DIR]... [-D NAME[=VALUE]]...`: BPF C to an
 * object with the flags, headers and vmlinux.h that `compile()` provides (tsbpf/compile),
 * cached the same way. Its options are a compiler's (`-I`, `-D`, `-o`), so main.ts hands
 * this object its words unparsed.
 *
 * Output: the object at OUT (default: FILE with `.c` replaced by `.o`, beside it);
 * clang's warnings on stderr; on a compile error, clang's diagnostics (file:line:column)
 * on stderr and exit code 255. With `-j` before `compile`: `{"file", "output",
 * "cached", "diagnostics"}`.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  ClangNotFoundError,
  CompileError,
  type CompileTarget,
  compileObject,
  VmlinuxError,
} from "../../compile/index.ts";
import type { Args } from "../args.ts";
import {
  type Context,
  type ObjectDescription,
  type OptionDescription,
  printHelp,
} from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";

/** `tsbpf compile`'s options, as data (usage, completion, man page); see {@link OPTIONS}. */
const OPTION_DESCRIPTIONS: readonly OptionDescription[] = [
  { long: "output", short: "o", value: "OUT", summary: "the object to write" },
  { long: "include", short: "I", value: "DIR", summary: "an include directory (repeatable)" },
  { long: "define", short: "D", value: "NAME[=VALUE]", summary: "a macro (repeatable)" },
  { long: "target", value: "TARGET", summary: "bpf, bpfel or bpfeb (default bpf)" },
  { long: "clang", value: "PATH", summary: "the clang to run" },
  { long: "no-cache", summary: "compile even when the cache has the object" },
  { long: "help", short: "h", summary: "print this usage" },
];

/** `tsbpf compile`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "compile",
  summary: "compile BPF C to an object, with vmlinux.h and libbpf's headers provided",
  usage: (bin: string) =>
    `Usage: ${bin} compile FILE [-o OUT] [-I DIR]... [-D NAME[=VALUE]]...\n` +
    "                      [--target { bpf | bpfel | bpfeb }] [--clang PATH] [--no-cache]\n" +
    `       ${bin} compile help\n` +
    "\n" +
    "       FILE: BPF C source (e.g. prog.bpf.c); OUT: the object (default: FILE's .c\n" +
    "       replaced by .o). clang >= 14 is found on PATH (or $TSBPF_CLANG, --clang);\n" +
    "       vmlinux.h (from /sys/kernel/btf/vmlinux) and libbpf's bpf/*.h headers are\n" +
    "       provided; objects are cached in $XDG_CACHE_HOME/tsbpf (~/.cache/tsbpf).\n",
  commands: [],
  options: OPTION_DESCRIPTIONS,
  files: true,
} as const satisfies ObjectDescription;

/** parseArgs' options; their names are {@link OPTION_DESCRIPTIONS}' (a test checks). */
export const OPTIONS = {
  output: { type: "string", short: "o" },
  include: { type: "string", short: "I", multiple: true },
  define: { type: "string", short: "D", multiple: true },
  target: { type: "string" },
  clang: { type: "string" },
  "no-cache": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

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

/** Runs `tsbpf compile ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  ctx.usage = () => DESCRIPTION.usage(ctx.bin);
  const words: string[] = [];
  while (args.count > 0) words.push(args.next());
  if (words.length === 0 || words[0] === "help") return printHelp(ctx, ctx.usage());
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: words, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`compile: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return printHelp(ctx, ctx.usage());
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "compile: no source FILE"
        : `compile: one source FILE, not ${positionals.length} (${positionals.join(" ")})`,
    );
  }
  const file = positionals[0]!;
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
