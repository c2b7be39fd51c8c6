#!/usr/bin/env node
/**
 * `tsbpf`: bpftool's grammar, output and exit codes, over tsbpf's kernel library.
 *
 * `tsbpf [-j|--json] [-p|--pretty] [-f|--bpffs] [-d|--debug] [-V|--version] OBJECT COMMAND ...`
 *
 * Each object module describes itself as data (see command.ts); help, `tsbpf completion`
 * and `tsbpf man` are built from those descriptions and this file's tables.
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
import {
  type CliTable,
  type Context,
  HELP_SPEC_OPTIONS,
  type ObjectDescription,
  type ObjectEntry,
  type ObjectRun,
  type OptionDescription,
  printHelp,
  printUsage,
  unknownWord,
} from "./command.ts";
import {
  CliError,
  EXIT_FAILURE,
  type GlobalOptions,
  Output,
  UnknownWordError,
  UsageError,
} from "./format/output.ts";

const BIN = "tsbpf";

/** The global options, as data: commander reads them, and so do completion and the man page. */
export const GLOBAL_OPTIONS: readonly OptionDescription[] = [
  { long: "json", short: "j", summary: "JSON output" },
  { long: "pretty", short: "p", summary: "pretty JSON output (implies --json)" },
  { long: "bpffs", short: "f", summary: "show the bpffs paths objects are pinned at" },
  { long: "debug", short: "d", summary: "verbose: verifier logs and error stacks" },
  { long: "base-btf", short: "B", value: "FILE", summary: "base BTF for split BTF (btf dump)" },
  { long: "version", short: "V", summary: "print the version" },
  { long: "help", short: "h", summary: "print help (of the object or command named)" },
];

/**
 * bpftool's object table, in bpftool's order (which settles abbreviations), then
 * tsbpf's own. An object module exports `run` and its `DESCRIPTION`; both are loaded
 * only when used.
 */
const OBJECTS: readonly ObjectEntry[] = [
  { name: "help", load: async () => (ctx, args) => helpFor(ctx, args.rest()) },
  { name: "batch" },
  object("prog", () => import("./prog/prog.ts")),
  object("map", () => import("./map/map.ts")),
  object("link", () => import("./link/link.ts")),
  object("cgroup", () => import("./cgroup/cgroup.ts")),
  object("perf", () => import("./perf/perf.ts")),
  object("net", () => import("./net/net.ts")),
  object("feature", () => import("./feature/feature.ts")),
  object("btf", () => import("./btf/btf.ts")),
  object("gen", () => import("./gen/gen.ts")),
  { name: "struct_ops" },
  { name: "iter" },
  { name: "version", load: async () => (await import("./version.ts")).run },
  object("vm", () => import("./vm/vm.ts")),
  object("trace", () => import("./trace/trace.ts")),
  object("compile", () => import("./compile/compile.ts")),
  object("init", () => import("./init/init.ts")),
  object("export", () => import("./export/export.ts")),
  object("playground", () => import("./playground/playground.ts")),
  object("completion", () => import("./completion/completion.ts")),
  object("man", () => import("./man/man.ts")),
];

/** The top-level words tsbpf runs: what an unknown word is compared with. */
const SUPPORTED = OBJECTS.filter((o) => o.load).map((o) => o.name);

/** The whole command table, handed to what describes the CLI (completion, man page). */
export const CLI: CliTable = { bin: BIN, objects: OBJECTS, options: GLOBAL_OPTIONS };

/** An object whose module exports `run` and `DESCRIPTION`, imported when first used. */
function object(
  name: string,
  module: () => Promise<{ run: ObjectRun; DESCRIPTION: ObjectDescription }>,
): ObjectEntry {
  return {
    name,
    load: async () => {
      const { run } = await module();
      return (ctx, args) => run(ctx, args, CLI);
    },
    describe: async () => (await module()).DESCRIPTION,
  };
}

/** Objects whose commands take their own options (`trace open --pid PID`, `export prometheus --listen ...`). */
const OWN_OPTIONS = new Set(["trace", "compile", "init", "export", "playground"]);

function mainUsage(): string {
  return (
    `Usage: ${BIN} [OPTIONS] OBJECT { COMMAND | help }\n` +
    `       ${BIN} help [OBJECT [COMMAND]]\n` +
    `       ${BIN} version\n` +
    `       ${BIN} completion { bash | zsh }\n` +
    `       ${BIN} man\n` +
    "\n" +
    "       OBJECT := { prog | map | link | cgroup | perf | net | feature | btf | gen | vm | trace |\n" +
    "                  compile | init | export | playground }\n" +
    `       ${HELP_SPEC_OPTIONS} |\n` +
    "                    {-f|--bpffs} | {-V|--version} | {-h|--help} }\n"
  );
}

/**
 * Help someone asked for (`help`, `-h`, `--help`, `help OBJECT [COMMAND]`): the usage
 * of the command named when it has its own, else of the object, else the main usage.
 * An unknown object is an error; an unknown command still gets its object's help.
 */
async function helpFor(ctx: Context, words: readonly string[]): Promise<void> {
  const [objWord, cmdWord] = words;
  if (objWord === undefined) return printHelp(ctx, mainUsage());
  const obj = matchCommand(OBJECTS, objWord);
  if (!obj) throw await unknownWord(BIN, "object", objWord, SUPPORTED, "help");
  if (!obj.describe) return printHelp(ctx, mainUsage());
  const d = await obj.describe();
  const cmd = cmdWord === undefined ? undefined : matchCommand(d.commands, cmdWord);
  printHelp(ctx, cmd?.usage?.(BIN) ?? d.usage(BIN));
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
  const cmd = new Commander(BIN).helpOption(false);
  for (const o of GLOBAL_OPTIONS) {
    const flags = `${o.short ? `-${o.short}, ` : ""}--${o.long}${o.value ? ` <${o.value}>` : ""}`;
    cmd.option(flags, o.summary);
  }
  // `vm run` options, handed on as words (any other object rejects them as extra words).
  cmd
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
  const ctx: Context = { out, opts, bin: BIN, usage: mainUsage };
  let code = 0;
  try {
    if (invalid !== undefined) {
      out.error(invalid);
      code = EXIT_FAILURE;
    } else if (unknown !== undefined) {
      out.error(`unrecognized option '${unknown}'`);
      if (!out.json) printUsage(ctx, mainUsage());
      code = EXIT_FAILURE;
    } else if (opts.help) {
      await helpFor(ctx, words);
    } else if (opts.version) {
      await (await import("./version.ts")).run(ctx, new Args(words));
    } else {
      const args = new Args(words);
      if (args.count === 0) {
        printHelp(ctx, mainUsage());
      } else {
        const word = args.next();
        const obj = matchCommand(OBJECTS, word);
        if (!obj) throw await unknownWord(BIN, "object", word, SUPPORTED, "help");
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
    printUsage(ctx, ctx.usage());
    return;
  }
  if (e instanceof UnknownWordError) {
    ctx.out.error(e.message);
    if (!ctx.out.json) ctx.out.stderr(`${e.hint}\n`);
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
  // .then, not a top-level await: the bin bundles this file as CommonJS
  // (scripts/bundle-cli.mjs), where there is none.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
