/**
 * `tsbpf prog run PROG data_in FILE [data_out FILE|-] [data_size_out L] [ctx_in FILE]
 * [ctx_out FILE|-] [ctx_size_out M] [repeat N]`: BPF_PROG_TEST_RUN as bpftool runs it
 * and prints it ("Return value: 2, duration: 13ns", the data out hex dump with `-`).
 */
import { writeFileSync } from "node:fs";
import { NotSupportedError } from "../../kernel/features/not-supported-error.ts";
import { Program } from "../../kernel/programs/program.ts";
import type { RunResult } from "../../kernel/programs/test-run.ts";
import { MAX_DATA_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import { type Args, checkAmbiguous, parseCUnsigned } from "../args.ts";
import type { Context } from "../command.ts";
import { hexDump } from "../format/hex.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { errnoOf, openProg, reason } from "../objects/selectors.ts";
import { identifyProg } from "./prog-pin.ts";

/** bpftool's default size of the data and ctx output buffers. */
const DEFAULT_OUT_SIZE = 32 * 1024;

interface RunArgs {
  dataIn?: string;
  dataOut?: string;
  dataSizeOut?: number;
  ctxIn?: string;
  ctxOut?: string;
  ctxSizeOut?: number;
  repeat: number;
}

function parseRunArgs(args: Args): RunArgs {
  const r: RunArgs = { repeat: 1 };
  const sized = (what: string): number => {
    args.skip();
    args.require(1);
    const w = args.next();
    // The attribute fields are u32: strtoul's wrap-around (bpftool turns
    // 99999999999999999999 into 4294967295 and -1 into 4294967295) is refused here.
    const v = parseCUnsigned(w);
    if (v === undefined) throw new CliError(`can't parse ${w} as ${what}`);
    if (v < 0n || v > 0xffffffffn) {
      throw new CliError(`can't parse ${w} as ${what}: out of range (0 to 4294967295)`);
    }
    return Number(v);
  };
  const file = (): string => {
    args.skip();
    args.require(1);
    return args.next();
  };
  while (args.count > 0) {
    const w = args.peek() as string;
    checkAmbiguous(w, "data_in", "data_out", "data_size_out");
    checkAmbiguous(w, "ctx_in", "ctx_out", "ctx_size_out");
    if (args.is("data_in")) {
      r.dataIn = file();
      if (r.dataIn === "-" && r.ctxIn === "-") {
        throw new CliError("cannot use standard input for both data_in and ctx_in");
      }
    } else if (args.is("data_out")) {
      r.dataOut = file();
    } else if (args.is("data_size_out")) {
      r.dataSizeOut = sized("output data size");
    } else if (args.is("ctx_in")) {
      r.ctxIn = file();
      if (r.dataIn === "-" && r.ctxIn === "-") {
        throw new CliError("cannot use standard input for both data_in and ctx_in");
      }
    } else if (args.is("ctx_out")) {
      r.ctxOut = file();
    } else if (args.is("ctx_size_out")) {
      r.ctxSizeOut = sized("output context size");
    } else if (args.is("repeat")) {
      r.repeat = sized("repeat number");
    } else {
      throw new CliError(
        `expected no more arguments, 'data_in', 'data_out', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_out' or 'repeat', got: '${w}'?`,
      );
    }
  }
  return r;
}

function readInput(name: string): Uint8Array {
  try {
    return readInputFile(name, MAX_DATA_BYTES, "test-run input");
  } catch (e) {
    throw new CliError(`failed to open ${name}: ${reason(e)}`);
  }
}

/** Writes output data to a file, or prints it for `-`; false when writing failed. */
function emit(ctx: Context, data: Uint8Array, name: string | undefined, jsonKey: string): boolean {
  if (name === undefined) return true;
  if (name === "-") {
    if (ctx.out.json) ctx.out.w.field(jsonKey, Array.from(data));
    else ctx.out.write(hexDump(data));
    return true;
  }
  try {
    writeFileSync(name, data);
    return true;
  } catch (e) {
    ctx.out.error(`failed to open ${name}: ${reason(e)}`);
    return false;
  }
}

/** `prog run`. */
export async function runProg(ctx: Context, args: Args): Promise<void> {
  args.require(4);
  const fd = openProg(args, identifyProg);
  let prog: Program;
  try {
    prog = Program.fromFd(fd);
  } catch (e) {
    fd.close();
    throw new CliError(`can't get prog info: ${reason(e)}`);
  }
  try {
    const r = parseRunArgs(args);
    const data = r.dataIn !== undefined ? readInput(r.dataIn) : undefined;
    const ctxIn = r.ctxIn !== undefined ? readInput(r.ctxIn) : undefined;
    let result: RunResult;
    try {
      result = prog.run({
        ...(data ? { data, dataOutSize: r.dataSizeOut || DEFAULT_OUT_SIZE } : {}),
        ...(ctxIn ? { ctx: ctxIn, ctxOutSize: r.ctxSizeOut || DEFAULT_OUT_SIZE } : {}),
        repeat: r.repeat,
      });
    } catch (e) {
      const why = e instanceof NotSupportedError ? e.message : reason(e);
      throw new CliError(`failed to run program: ${why}`, exitForErrno(errnoOf(e)));
    }
    let ok = true;
    if (ctx.out.json) ctx.out.w.startObject();
    if (result.dataOut.length) ok = emit(ctx, result.dataOut, r.dataOut, "data_out") && ok;
    if (result.ctxOut?.length) ok = emit(ctx, result.ctxOut, r.ctxOut, "ctx_out") && ok;
    if (ctx.out.json) {
      ctx.out.w.field("retval", result.retval >>> 0);
      ctx.out.w.field("duration", result.duration >>> 0);
      ctx.out.w.endObject();
    } else {
      ctx.out.write(
        `Return value: ${result.retval >>> 0}, duration${r.repeat > 1 ? " (average)" : ""}: ${result.duration >>> 0}ns\n`,
      );
    }
    if (!ok) throw new CliError("");
  } finally {
    prog.close();
  }
}
