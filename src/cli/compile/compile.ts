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

import type { Args } from "../args.ts";
import type { Context, ObjectDescription, OptionDescription } from "../command.ts";

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

/** Runs `tsbpf compile ...` (compile-file.ts, loaded when it runs). */
export async function run(ctx: Context, args: Args): Promise<void> {
  ctx.usage = () => DESCRIPTION.usage(ctx.bin);
  return (await import("./compile-file.ts")).compileFile(ctx, args);
}
