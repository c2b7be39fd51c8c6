/**
 * `tsbpf prog load FILE PATH [type TYPE]`: loads one program and pins it at PATH.
 *
 * FILE is raw instructions (8 bytes each, as `prog dump xlated ... file` writes them) or
 * assembly text in the kernel's syntax (what `prog dump xlated` prints, index and
 * opcode columns allowed). Map references (`r1 = map[id:5]`, `map[id:5][0]+8`) name
 * maps by id, so a dumped program loads again. The type defaults to `socket`; the
 * licence is "GPL"; the name is FILE's base name.
 *
 * An ELF object (`prog load OBJ PATH [type TYPE] [map {idx IDX | name NAME} MAP]
 * [pinmaps MAP_DIR] [autoattach]`) is loaded whole, as bpftool does, and its first
 * program pinned at PATH: see prog-load-elf.ts.
 *
 * A case file (`prog load CASE.json [log_level N]`, a program as data with its maps)
 * is loaded for the kernel's verdict and nothing is pinned: see prog-load-case.ts.
 */
import { basename, extname } from "node:path";
import { assemble, decodeProgram, encodeProgram } from "../../isa/index.ts";
import { objectFdById } from "../../kernel/objects/objects.ts";
import { Program } from "../../kernel/programs/program.ts";
import { VerifierError } from "../../kernel/programs/verifier-error.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { INSN_SIZE, LogLevel, ProgType } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { pinAt } from "../objects/pin-path.ts";
import { closeAll, errnoOf, reason } from "../objects/selectors.ts";
import { isCaseFile, loadCase } from "./prog-load-case.ts";
import { loadElfObject, parseLoadArgs } from "./prog-load-elf.ts";

const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;

/** What kind of file `prog load` was given. */
export type ProgramFileKind = "raw" | "asm" | "elf";

/**
 * Raw instructions or assembly: an ELF header means an object file; text that decodes
 * as UTF-8 without NUL bytes is assembly; anything else must be whole instructions.
 */
export function programFileKind(bytes: Uint8Array): ProgramFileKind {
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46)
    return "elf";
  if (!bytes.includes(0)) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      return "asm";
    } catch {
      // not text
    }
  }
  return "raw";
}

/** The instruction bytes of FILE (raw or assembled). */
export function programBytes(file: string, bytes: Uint8Array): Uint8Array {
  switch (programFileKind(bytes)) {
    case "elf":
      throw new CliError(`${file} is an ELF object: load it with 'prog load' or 'prog loadall'`);
    case "asm":
      try {
        return encodeProgram(assemble(new TextDecoder().decode(bytes)));
      } catch (e) {
        throw new CliError(`${file}: ${(e as Error).message}`);
      }
    case "raw":
      if (bytes.length === 0 || bytes.length % INSN_SIZE !== 0) {
        throw new CliError(
          `${file} is neither assembly text nor raw instructions: ${bytes.length} bytes is not a multiple of ${INSN_SIZE}`,
        );
      }
      return bytes;
  }
}

/**
 * Replaces map ids in `lddw` map references by descriptors of those maps (opened here,
 * returned for closing after the load).
 */
function resolveMapIds(insns: Uint8Array, file: string): Fd[] {
  const fds: Fd[] = [];
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  try {
    let slot = 0;
    for (const insn of decodeProgram(insns)) {
      if (insn.kind === "lddw" && (insn.src === PSEUDO_MAP_FD || insn.src === PSEUDO_MAP_VALUE)) {
        const id = insn.imm >>> 0;
        let fd: Fd | undefined;
        try {
          fd = objectFdById("map", id);
        } catch (e) {
          throw new CliError(`${file}: instruction ${slot} refers to map id ${id}: ${reason(e)}`);
        }
        if (!fd)
          throw new CliError(
            `${file}: instruction ${slot} refers to map id ${id}, which does not exist`,
          );
        fds.push(fd);
        view.setInt32(slot * INSN_SIZE + 4, fd.value, true);
      }
      slot += insn.bytes / INSN_SIZE;
    }
  } catch (e) {
    closeAll(fds);
    if (e instanceof CliError) throw e;
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
  return fds;
}

/** `prog load FILE PATH [type TYPE] ...`: raw, assembly or (with more options) ELF. */
export async function loadProg(ctx: Context, args: Args): Promise<void> {
  if (isCaseFile(args.peek())) return loadCase(ctx, args);
  args.require(2);
  const file = args.next();
  const pinPath = args.next();
  const opts = parseLoadArgs(args);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file, MAX_OBJECT_BYTES, "BPF object");
  } catch (e) {
    closeAll(opts.maps.map((m) => m.fd));
    throw new CliError(`failed to open object file ${file}: ${reason(e)}`);
  }
  if (programFileKind(bytes) === "elf") {
    loadElfObject(ctx, { ...opts, file, path: pinPath, firstOnly: true });
    return;
  }
  const extra =
    opts.maps.length > 0
      ? "map"
      : opts.pinmaps !== undefined
        ? "pinmaps"
        : opts.autoattach
          ? "autoattach"
          : undefined;
  closeAll(opts.maps.map((m) => m.fd));
  if (extra)
    throw new CliError(
      `'${extra}' applies to ELF objects; ${file} holds raw instructions or assembly`,
    );
  const choice = opts.type;
  const insns = programBytes(file, bytes).slice();
  const mapFds = resolveMapIds(insns, file);
  const spec: ProgramSpec = {
    name: basename(file, extname(file)),
    type: choice?.type ?? ProgType.SOCKET_FILTER,
    ...(choice?.expectedAttachType !== undefined
      ? { expectedAttachType: choice.expectedAttachType }
      : {}),
    license: "GPL",
    instructions: insns,
  };
  let prog: Program;
  try {
    prog = Program.load(
      spec,
      ctx.opts.debug ? { logLevel: LogLevel.LEVEL1 | LogLevel.LEVEL2 | LogLevel.STATS } : {},
    );
  } catch (e) {
    if (e instanceof VerifierError) {
      if (!ctx.out.json) ctx.out.stderr(`${e.log.trimEnd()}\n`);
      throw new CliError(`failed to load program: ${e.message.split("\n")[0]}`);
    }
    throw new CliError(`failed to load program: ${reason(e)}`, exitForErrno(errnoOf(e)));
  } finally {
    closeAll(mapFds);
  }
  try {
    if (ctx.opts.debug && prog.verifierLog && !ctx.out.json) {
      ctx.out.stderr(`${prog.verifierLog.trimEnd()}\n`);
    }
    pinAt(prog.fd, pinPath);
  } finally {
    prog.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}
