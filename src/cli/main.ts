#!/usr/bin/env node
/**
 * `tsbpf`: bpftool's grammar, output and exit codes, over tsbpf's kernel library.
 *
 * `tsbpf [-j|--json] [-p|--pretty] [-f|--bpffs] [-d|--debug] [-V|--version] OBJECT COMMAND ...`
 *
 * commander reads the global options (anywhere on the line, as bpftool's getopt does);
 * the objects and commands follow bpftool's own rules: any prefix selects the first
 * match in bpftool's order (`tsbpf p s` is `tsbpf prog show`). Each object's module is
 * imported only when it runs, so `tsbpf version` starts fast.
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command as Commander } from "commander";
import { Args, matchCommand } from "./args.ts";
import { type Context, HELP_SPEC_OPTIONS, printHelp } from "./command.ts";
import { CliError, EXIT_FAILURE, type GlobalOptions, Output, UsageError } from "./format/output.ts";

const BIN = "tsbpf";

type ObjectRun = (ctx: Context, args: Args) => Promise<void>;

/** bpftool's object table, in bpftool's order (which settles abbreviations). */
const OBJECTS: readonly { name: string; load?: () => Promise<ObjectRun> }[] = [
  { name: "help", load: async () => async (ctx) => mainHelp(ctx) },
  { name: "batch" },
  { name: "prog", load: async () => (await import("./prog/prog.ts")).run },
  { name: "map", load: async () => (await import("./map/map.ts")).run },
  { name: "link", load: async () => (await import("./link/link.ts")).run },
  { name: "cgroup", load: async () => (await import("./cgroup/cgroup.ts")).run },
  { name: "perf", load: async () => (await import("./perf/perf.ts")).run },
  { name: "net", load: async () => (await import("./net/net.ts")).run },
  { name: "feature", load: async () => (await import("./feature/feature.ts")).run },
  { name: "btf", load: async () => (await import("./btf/btf.ts")).run },
  { name: "gen", load: async () => (await import("./gen/gen.ts")).run },
  { name: "struct_ops" },
  { name: "iter" },
  { name: "version", load: async () => (await import("./version.ts")).run },
  { name: "vm", load: async () => (await import("./vm/vm.ts")).run },
  { name: "trace", load: async () => (await import("./trace/trace.ts")).run },
  { name: "compile", load: async () => (await import("./compile/compile.ts")).run },
  { name: "export", load: async () => (await import("./export/export.ts")).run },
];

/** Objects whose commands take their own options (`trace open --pid PID`, `export prometheus --listen ...`). */
const OWN_OPTIONS = new Set(["trace", "compile", "export"]);

function mainHelp(ctx: Context): void {
  printHelp(
    ctx,
    `Usage: ${BIN} [OPTIONS] OBJECT { COMMAND | help }\n` +
      `       ${BIN} version\n` +
      "\n" +
      "       OBJECT := { prog | map | link | cgroup | perf | net | feature | btf | gen | vm | trace |\n" +
      "                  compile | export }\n" +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} | {-V|--version} }\n",
  );
}

type ParsedGlobal = {
  opts: GlobalOptions & { version: boolean; help: boolean };
  words: string[];
  unknown?: string;
  /** commander's complaint (an option without its value), as tsbpf reports errors. */
  invalid?: string;
};

/**
 * Splits argv into global options and the words after them, as bpftool's getopt does.
 * A line without options (no word starts with "-") is all words: commander, which
 * costs a start-up its import, is loaded only when there is an option to read.
 */
async function parseGlobal(argv: readonly string[]): Promise<ParsedGlobal> {
  if (!argv.some((w) => w.startsWith("-"))) {
    const off = { json: false, pretty: false, bpffs: false, debug: false, baseBtf: undefined };
    return { opts: { ...off, version: false, help: false }, words: [...argv] };
  }
  const { Command: Commander } = await import("commander");
  const cmd = new Commander(BIN)
    .helpOption(false)
    .option("-j, --json", "JSON output")
    .option("-p, --pretty", "pretty JSON output (implies --json)")
    .option("-f, --bpffs", "show pinned paths")
    .option("-d, --debug", "verbose: verifier logs")
    .option("-B, --base-btf <file>", "base BTF for split BTF")
    .option("-V, --version", "print the version")
    .option("-h, --help", "print help")
    // `vm run` options, handed on as words (any other object rejects them as extra words).
    .option("--mem <hex>", "vm run: memory for r1/r2")
    .option("--elf", "vm run: stdin is an ELF object");
  // Global options end at an object that parses its own (its words pass unparsed).
  const split = ownOptionsAt(cmd, argv);
  // commander would print its own message and exit 1: report it as tsbpf does (255).
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let parsed: { operands: string[]; unknown: string[] };
  try {
    parsed = cmd.parseOptions(argv.slice(0, split));
  } catch (e) {
    const pretty = argv.includes("-p") || argv.includes("--pretty");
    const json = pretty || argv.includes("-j") || argv.includes("--json");
    const off = { json, pretty, bpffs: false, debug: false, baseBtf: undefined };
    const invalid = (e as Error).message.replace(/^error: /, "");
    return { opts: { ...off, version: false, help: false }, words: [], invalid };
  }
  const { operands, unknown } = parsed;
  const o = cmd.opts<Record<string, boolean | string | undefined>>();
  const pretty = o.pretty === true;
  return {
    opts: {
      json: o.json === true || pretty,
      pretty,
      bpffs: o.bpffs === true,
      debug: o.debug === true,
      baseBtf: typeof o.baseBtf === "string" ? o.baseBtf : undefined,
      version: o.version === true,
      help: o.help === true,
    },
    words: [
      ...operands,
      ...argv.slice(split),
      ...(typeof (o as Record<string, unknown>).mem === "string"
        ? ["--mem", (o as Record<string, unknown>).mem as string]
        : []),
      ...(o.elf ? ["--elf"] : []),
    ],
    unknown: unknown[0],
  };
}

/** Index after the object word when that object parses its own options, else argv's length. */
function ownOptionsAt(cmd: Commander, argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w.startsWith("-")) {
      const opt = cmd.options.find((o) => o.short === w || o.long === w);
      if (opt && (opt.required || opt.optional)) i++; // its value
    } else {
      const obj = matchCommand(OBJECTS, w);
      return obj && OWN_OPTIONS.has(obj.name) ? i + 1 : argv.length;
    }
  }
  return argv.length;
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code:
 * 0 on success, 255 (or bpftool's `256 - errno`) on error. `io` redirects stdout and
 * stderr to other descriptors (tests run the CLI in-process that way).
 */
export async function main(
  argv: readonly string[],
  io: { out?: number; err?: number } = {},
): Promise<number> {
  const { opts, words, unknown, invalid } = await parseGlobal(argv);
  const out = new Output(opts, io);
  const ctx: Context = { out, opts, bin: BIN, help: () => mainHelp(ctx) };
  let code = 0;
  try {
    if (invalid !== undefined) {
      out.error(invalid);
      code = EXIT_FAILURE;
    } else if (unknown !== undefined) {
      out.error(`unrecognized option '${unknown}'`);
      if (!out.json) mainHelp(ctx);
      code = EXIT_FAILURE;
    } else if (opts.help) {
      mainHelp(ctx);
    } else if (opts.version) {
      await (await import("./version.ts")).run(ctx, new Args(words));
    } else {
      const args = new Args(words);
      if (args.count === 0) {
        mainHelp(ctx);
      } else {
        const word = args.next();
        const obj = matchCommand(OBJECTS, word);
        if (!obj) throw new UsageError();
        if (!obj.load) {
          throw new CliError(`object '${obj.name}' is not supported by ${BIN} yet`);
        }
        await (await obj.load())(ctx, args);
      }
    }
  } catch (e) {
    code = e instanceof CliError ? e.exitCode : EXIT_FAILURE;
    reportError(ctx, e);
  }
  out.finish();
  return code;
}

function reportError(ctx: Context, e: unknown): void {
  if (e instanceof UsageError) {
    if (e.message) ctx.out.error(e.message);
    ctx.help();
    return;
  }
  if (e instanceof CliError && e.message === "") return; // already reported
  if (e instanceof Error) {
    ctx.out.error(e.message);
    if (ctx.opts.debug && !(e instanceof CliError) && e.stack) ctx.out.stderr(`${e.stack}\n`);
    return;
  }
  ctx.out.error(String(e));
}

/** True when this file is the process's entry script (not imported by a test). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  const here = fileURLToPath(import.meta.url);
  try {
    return realpathSync(script) === realpathSync(here);
  } catch {
    return script === here;
  }
}

if (isEntry()) {
  process.exitCode = await main(process.argv.slice(2));
}
