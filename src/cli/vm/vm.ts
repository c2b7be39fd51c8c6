/**
 * `tsbpf vm`: run and load BPF programs in tsbpf's userspace VM (no root, no kernel).
 * Each command's module is imported when it runs.
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

/** The two forms of `vm run`, as its usage and vm's begin. */
function runLines(bin: string): string {
  const b = `${bin} vm`;
  return (
    `Usage: ${b} run [--mem HEX] [--elf] [ENGINE] < PROGRAM\n` +
    `       ${b} run OBJ PROG data_in FILE [data_out FILE|-] [ctx_in FILE [ctx_out FILE|-]] [repeat N] [ENGINE]\n`
  );
}

/** What the words of `vm run` mean. */
const RUN_NOTES =
  "       PROGRAM := hex text of 8-byte little-endian instructions (whitespace ignored),\n" +
  "                  or with --elf a hex-encoded ELF object (its first program)\n" +
  "       --mem HEX: bytes placed in VM memory; r1 points at them, r2 holds their length\n" +
  "       OBJ := an ELF object file; PROG := a program name in it\n" +
  "       ENGINE := { jit | interpret } (default jit: compiled to WebAssembly or\n" +
  "                 JavaScript, or interpreted where the JIT refuses the program)\n";

/** `vm run --help`: its two forms and what their words mean. */
function vmRunUsage(bin: string): string {
  return `${runLines(bin)}\n${RUN_NOTES}       ${HELP_SPEC_OPTIONS} }\n`;
}

/** The options of `vm run`'s stdin form (main.ts hands them on as words). */
const VM_RUN_OPTIONS = [
  {
    long: "mem",
    value: "HEX",
    summary: "bytes placed in VM memory; r1 points at them, r2 holds their length",
  },
  {
    long: "elf",
    summary: "the program on stdin is a hex-encoded ELF object (its first program runs)",
  },
];

/** `tsbpf vm`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "vm",
  summary: "run, load and verify BPF programs in tsbpf's userspace VM, without root",
  usage: (bin: string) => {
    const b = `${bin} vm`;
    return (
      runLines(bin) +
      `       ${b} load OBJ\n` +
      `       ${b} verify FILE [name PROG] [type TYPE] [kernel VERSION] [log_level 1|2] [explain]\n` +
      `       ${b} dump jited OBJ PROG\n` +
      `       ${b} help\n` +
      "\n" +
      RUN_NOTES +
      "       verify: the kernel's verdict without a kernel (as root would get it): FILE is a\n" +
      "               CASE.json, an ELF object (TYPE: every program's type, as bpftool's) or\n" +
      "               assembly text (TYPE: socket_filter by default); kernel words the\n" +
      "               error line as Linux 6.1, 6.12 or 6.18 (the default) does;\n" +
      "               log_level prints the kernel's log text, explain each instruction beside\n" +
      "               the verifier's state and, for a rejection, the path and where the\n" +
      "               offending register was set\n" +
      "       dump jited: the JavaScript the VM's JIT generates for PROG\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`
    );
  },
  commands: [
    {
      name: "run",
      summary: "run a program in the VM",
      keywords: [
        "data_in FILE",
        "data_out FILE",
        "ctx_in FILE",
        "ctx_out FILE",
        "repeat N",
        "jit",
        "interpret",
      ],
      options: VM_RUN_OPTIONS,
      files: true,
      usage: vmRunUsage,
    },
    {
      name: "load",
      summary: "load an object into the VM and list its programs and maps",
      files: true,
    },
    {
      name: "verify",
      summary: "the kernel verifier's verdict, without a kernel",
      keywords: ["name PROG", "type TYPE", "kernel VERSION", "log_level N", "explain"],
      files: true,
    },
    {
      name: "dump",
      summary: "print the JavaScript the VM's JIT generates for a program",
      keywords: ["jited"],
      files: true,
    },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** vm's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  run: async (c, a) => (await import("./vm-run.ts")).vmRun(c, a),
  load: async (c, a) => (await import("./vm-load.ts")).vmLoad(c, a),
  verify: async (c, a) => (await import("./vm-verify.ts")).vmVerify(c, a),
  dump: async (c, a) => (await import("./vm-dump.ts")).vmDump(c, a),
  help: helpCommand,
});

/** Runs `tsbpf vm ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
