/**
 * `tsbpf vm run`: runs a program in the userspace VM.
 *
 * - `tsbpf vm run [--mem HEX] [--elf] < PROGRAM`: PROGRAM on stdin is hex text of 8-byte
 *   little-endian instructions (whitespace ignored), or with `--elf` a hex-encoded ELF
 *   object whose first program runs. `--mem` bytes (hex, whitespace ignored) are placed
 *   in VM memory, r1 points at them and r2 holds their length. Prints r0 as `0x...`
 *   (lowercase, no padding) and exits 0; a program that cannot run prints a one-line
 *   reason on stderr and exits 1.
 * - `tsbpf vm run OBJ PROG data_in FILE [data_out FILE|-] [ctx_in FILE [ctx_out FILE|-]]
 *   [repeat N]`: as `prog run` runs a kernel program, and printing what it prints
 *   ("Return value: 2, duration (average): 40ns").
 * - Either form takes a last word `jit` (the default: the program compiled by the VM's
 *   JIT to WebAssembly or JavaScript, or interpreted where the JIT refuses it) or
 *   `interpret` (the interpreter).
 */
import { writeFileSync } from "node:fs";
import { loadCollectionSpec } from "../../elf/index.ts";
import {
  InputFileError,
  MAX_DATA_BYTES,
  MAX_TEXT_BYTES,
  readInputFile,
} from "../../kernel/system/input-file.ts";
import { ProgType } from "../../uapi/index.ts";
import { VirtualMachine, VmProgram } from "../../vm/index.ts";
import { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { hexDump } from "../format/hex.ts";
import { CliError } from "../format/output.ts";
import { loadObject, oneLine, readObject } from "./vm-load.ts";

/** Exit status of `vm run` when the program cannot run. */
export const VM_RUN_FAILURE = 1;

/**
 * Bytes from hex text, whitespace ignored.
 * @throws CliError (exit 1) naming `what` and the problem: a non-hex character and its
 * position, or an odd number of digits.
 */
export function parseHexText(text: string, what: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad)
    throw new CliError(
      `${what}: '${bad[0]}' is not a hex digit (digit ${bad.index + 1})`,
      VM_RUN_FAILURE,
    );
  if (digits.length % 2)
    throw new CliError(`${what}: odd number of hex digits (${digits.length})`, VM_RUN_FAILURE);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Why an input file could not be read, without repeating its path. */
function inputReason(e: unknown): string {
  return e instanceof InputFileError ? e.detail : oneLine(e);
}

function readStdin(): string {
  try {
    return new TextDecoder().decode(readInputFile("-", MAX_TEXT_BYTES, "program text"));
  } catch (e) {
    throw new CliError(`cannot read the program from stdin: ${inputReason(e)}`, VM_RUN_FAILURE);
  }
}

/** The program of the stdin form: raw instructions, or the first program of an ELF object. */
function stdinProgram(elf: boolean): VmProgram {
  const bytes = parseHexText(readStdin(), elf ? "ELF object on stdin" : "program on stdin");
  if (bytes.length === 0)
    throw new CliError("the program is empty (no instructions on stdin)", VM_RUN_FAILURE);
  try {
    if (elf) {
      const vm = VirtualMachine.load(loadCollectionSpec(bytes));
      const first = Object.values(vm.programs)[0];
      if (!first) throw new Error("the object has no programs");
      return first;
    }
    if (bytes.length % 8)
      throw new Error(`${bytes.length} bytes is not a whole number of 8-byte instructions`);
    return new VmProgram(bytes, { type: ProgType.SOCKET_FILTER, name: "stdin" });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(oneLine(e), VM_RUN_FAILURE);
  }
}

interface ObjRunArgs {
  dataIn?: string;
  dataOut?: string;
  ctxIn?: string;
  ctxOut?: string;
  repeat: number;
}

function parseObjRunArgs(args: Args): ObjRunArgs {
  const r: ObjRunArgs = { repeat: 1 };
  const value = (): string => {
    args.skip();
    args.require(1);
    return args.next();
  };
  while (args.count > 0) {
    const w = args.peek() as string;
    if (w === "data_in") r.dataIn = value();
    else if (w === "data_out") r.dataOut = value();
    else if (w === "ctx_in") r.ctxIn = value();
    else if (w === "ctx_out") r.ctxOut = value();
    else if (w === "repeat") {
      const n = value();
      if (!/^\d+$/.test(n) || Number(n) > 0xffff_ffff)
        throw new CliError(`can't parse ${n} as repeat number`);
      r.repeat = Math.max(1, Number(n));
    } else
      throw new CliError(
        `expected no more arguments, 'data_in', 'data_out', 'ctx_in', 'ctx_out' or 'repeat', got: '${w}'?`,
      );
  }
  return r;
}

function readInput(name: string): Uint8Array {
  try {
    return readInputFile(name, MAX_DATA_BYTES, "test-run input");
  } catch (e) {
    throw new CliError(`failed to open ${name}: ${inputReason(e)}`);
  }
}

function emit(ctx: Context, data: Uint8Array, name: string | undefined, key: string): void {
  if (name === undefined) return;
  if (name === "-") {
    if (ctx.out.json) ctx.out.w.field(key, Array.from(data));
    else ctx.out.write(hexDump(data));
    return;
  }
  try {
    writeFileSync(name, data);
  } catch (e) {
    throw new CliError(`failed to open ${name}: ${inputReason(e)}`);
  }
}

/** Applies the engine word: `jit` compiles now (the interpreter stays where the JIT refuses). */
function useEngine(prog: VmProgram, engine: "jit" | "interpret"): void {
  if (engine === "jit") prog.jitCompile();
}

/** `vm run OBJ PROG ...`. */
function runObject(ctx: Context, words: string[], engine: "jit" | "interpret"): void {
  const [path, name, ...rest] = words as [string, string, ...string[]];
  const vm = loadObject(readObject(path), path);
  const prog = vm.programs[name];
  if (!prog)
    throw new CliError(
      `no program "${name}" in ${path} (it has: ${Object.keys(vm.programs).join(", ") || "none"})`,
    );
  useEngine(prog, engine);
  const r = parseObjRunArgs(new Args(rest));
  const data = r.dataIn !== undefined ? readInput(r.dataIn) : undefined;
  const ctxIn = r.ctxIn !== undefined ? readInput(r.ctxIn) : undefined;
  let result: ReturnType<VmProgram["run"]>;
  try {
    result = prog.run({
      ...(data ? { data } : {}),
      ...(ctxIn ? { ctx: ctxIn } : {}),
      repeat: r.repeat,
    });
  } catch (e) {
    throw new CliError(`failed to run program: ${oneLine(e)}`);
  }
  const retval = result.retval;
  const duration = Math.round(result.duration);
  if (ctx.out.json) ctx.out.w.startObject();
  if (result.dataOut.length) emit(ctx, result.dataOut, r.dataOut, "data_out");
  if (result.ctxOut?.length) emit(ctx, result.ctxOut, r.ctxOut, "ctx_out");
  if (ctx.out.json) {
    ctx.out.w.field("retval", retval).field("duration", duration).endObject();
  } else {
    ctx.out.write(
      `Return value: ${retval}, duration${r.repeat > 1 ? " (average)" : ""}: ${duration}ns\n`,
    );
  }
}

/** `vm run`. */
export async function vmRun(ctx: Context, args: Args): Promise<void> {
  let mem: Uint8Array | undefined;
  let elf = false;
  const words: string[] = [];
  while (args.count > 0) {
    const w = args.next();
    if (w === "--mem") {
      if (args.count === 0) throw new CliError("--mem needs the memory as hex", VM_RUN_FAILURE);
      mem = parseHexText(args.next(), "--mem");
    } else if (w === "--elf") elf = true;
    else words.push(w);
  }
  // The engine word comes last: alone (stdin form) or after OBJ PROG [...].
  let engine: "jit" | "interpret" = "jit";
  const last = words[words.length - 1];
  if ((last === "jit" || last === "interpret") && (words.length === 1 || words.length > 2)) {
    engine = last;
    words.pop();
  }
  if (words.length > 0) {
    if (mem || elf)
      throw new CliError("--mem and --elf go with a program on stdin, not with OBJ PROG");
    if (words.length < 2) throw new CliError(`'run' needs OBJ and PROG, ${words.length} found`);
    runObject(ctx, words, engine);
    return;
  }
  const prog = stdinProgram(elf);
  useEngine(prog, engine);
  let r0: bigint;
  try {
    r0 = prog.run({ mem: mem ?? new Uint8Array(0) }).r0;
  } catch (e) {
    throw new CliError(oneLine(e), VM_RUN_FAILURE);
  }
  const text = `0x${r0.toString(16)}`;
  if (ctx.out.json) ctx.out.value({ r0: text });
  else ctx.out.write(`${text}\n`);
}
