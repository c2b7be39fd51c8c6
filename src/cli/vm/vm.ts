/**
 * `tsbpf vm`: run and load BPF programs in tsbpf's userspace VM (no root, no kernel).
 * Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import { type Command, type Context, dispatch, HELP_SPEC_OPTIONS, printHelp } from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} vm`;
  printHelp(
    ctx,
    `Usage: ${b} run [--mem HEX] [--elf] [ENGINE] < PROGRAM\n` +
      `       ${b} run OBJ PROG data_in FILE [data_out FILE|-] [ctx_in FILE [ctx_out FILE|-]] [repeat N] [ENGINE]\n` +
      `       ${b} load OBJ\n` +
      `       ${b} verify FILE [name PROG] [type TYPE] [kernel VERSION] [log_level 1|2] [explain]\n` +
      `       ${b} dump jited OBJ PROG\n` +
      `       ${b} help\n` +
      "\n" +
      "       PROGRAM := hex text of 8-byte little-endian instructions (whitespace ignored),\n" +
      "                  or with --elf a hex-encoded ELF object (its first program)\n" +
      "       --mem HEX: bytes placed in VM memory; r1 points at them, r2 holds their length\n" +
      "       OBJ := an ELF object file; PROG := a program name in it\n" +
      "       ENGINE := { jit | interpret } (default jit: compiled to WebAssembly or\n" +
      "                 JavaScript, or interpreted where the JIT refuses the program)\n" +
      "       verify: the kernel's verdict without a kernel (as root would get it): FILE is a\n" +
      "               CASE.json, an ELF object (TYPE: every program's type, as bpftool's) or\n" +
      "               assembly text (TYPE: socket_filter by default); kernel words the\n" +
      "               error line as Linux 6.1, 6.12 or 6.18 (the default) does;\n" +
      "               log_level prints the kernel's log text, explain each instruction beside\n" +
      "               the verifier's state and, for a rejection, the path and where the\n" +
      "               offending register was set\n" +
      "       dump jited: the JavaScript the VM's JIT generates for PROG\n" +
      `       ${HELP_SPEC_OPTIONS} }\n`,
  );
}

const COMMANDS: readonly Command[] = [
  { name: "run", run: async (c, a) => (await import("./vm-run.ts")).vmRun(c, a) },
  { name: "load", run: async (c, a) => (await import("./vm-load.ts")).vmLoad(c, a) },
  { name: "verify", run: async (c, a) => (await import("./vm-verify.ts")).vmVerify(c, a) },
  { name: "dump", run: async (c, a) => (await import("./vm-dump.ts")).vmDump(c, a) },
  { name: "help", run: (c) => help(c) },
];

/** Runs `tsbpf vm ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
