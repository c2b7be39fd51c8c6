/**
 * `tsbpf prog dump xlated PROG [{ file FILE | opcodes | linum }]`: the kernel's
 * translated instructions as bpftool prints them, with function prototypes and source
 * lines from the program's BTF, kernel symbol names for calls, and the opcode bytes on
 * request; or the raw bytes written to a file.
 */
import { writeFileSync } from "node:fs";
import type { BTF } from "../../btf/index.ts";
import { decodeProgram, formatKernel, type Instruction } from "../../isa/index.ts";
import { type ProgramInfo, programInfoByFd } from "../../kernel/programs/prog-info.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { type Args, isPrefix } from "../args.ts";
import type { Context } from "../command.ts";
import { fprintHex, hex2, hexBytesJson } from "../format/hex.ts";
import { CliError, UsageError } from "../format/output.ts";
import { KernelSymbols } from "../objects/kallsyms.ts";
import { closeAll, openProgs, reason } from "../objects/selectors.ts";
import { progHeaderJson, progHeaderPlain } from "./format-prog.ts";
import { btfById, funcInfos, funcSignature, type LineInfo, lineInfos } from "./prog-btf.ts";
import { identifyProg } from "./prog-pin.ts";
import { progView } from "./prog-show.ts";

/** How to dump. */
interface DumpOptions {
  readonly file: string | undefined;
  readonly opcodes: boolean;
  readonly linum: boolean;
}

/** `prog dump xlated|jited PROG ...`. */
export async function dumpProg(ctx: Context, args: Args): Promise<void> {
  const what = args.peek();
  if (isPrefix(what, "jited")) {
    throw new CliError(
      "dump jited is not supported by tsbpf: it has no disassembler for the host's instruction set",
    );
  }
  if (!isPrefix(what, "xlated")) throw new CliError(`expected 'xlated' or 'jited', got: ${what}`);
  args.skip();
  if (args.count < 2) throw new UsageError();
  const fds = openProgs(args, identifyProg);
  try {
    let file: string | undefined;
    let opcodes = false;
    let linum = false;
    if (args.is("file")) {
      args.skip();
      if (args.count === 0) throw new CliError("expected file path");
      if (fds.length > 1) throw new CliError("several programs matched");
      file = args.next();
    } else if (args.is("opcodes")) {
      opcodes = true;
      args.skip();
    } else if (args.is("visual")) {
      throw new CliError("visual (DOT graph) dumps are not supported by tsbpf yet");
    } else if (args.is("linum")) {
      linum = true;
      args.skip();
    }
    if (args.count > 0) throw new UsageError();
    const several = fds.length > 1;
    const w = ctx.out.w;
    if (ctx.out.json && several) w.startArray();
    fds.forEach((fd, i) => {
      let info: ProgramInfo;
      try {
        info = programInfoByFd(fd.value);
      } catch (e) {
        throw new CliError(`can't get prog info: ${reason(e)}`);
      }
      if (ctx.out.json && several) {
        w.startObject();
        progHeaderJson(w, progView(fd, info, undefined));
        w.name("insns");
      } else if (several) {
        ctx.out.write(progHeaderPlain(progView(fd, info, undefined)));
      }
      dumpOne(ctx, fd, info, { file, opcodes, linum });
      if (ctx.out.json && several) w.endObject();
      else if (several && i !== fds.length - 1) ctx.out.write("\n");
    });
    if (ctx.out.json && several) w.endArray();
  } finally {
    closeAll(fds);
  }
}

function dumpOne(ctx: Context, _fd: Fd, info: ProgramInfo, opts: DumpOptions): void {
  const buf = info.xlatedInstructions;
  if (info.xlatedProgLen === 0 || buf.length === 0) {
    throw new CliError(
      `error retrieving insn dump: ${info.xlatedUnavailable ?? "the kernel returned no instructions"}`,
    );
  }
  if (opts.file !== undefined) {
    try {
      writeFileSync(opts.file, buf, { mode: 0o600 });
    } catch (e) {
      throw new CliError(`can't open file ${opts.file}: ${reason(e)}`);
    }
    if (ctx.out.json) ctx.out.value(null);
    return;
  }
  let insns: Instruction[];
  try {
    insns = decodeProgram(buf, { kernelInternal: true });
  } catch (e) {
    throw new CliError(`can't decode the translated instructions: ${(e as Error).message}`);
  }
  const btf = info.btfId ? btfById(info.btfId) : undefined;
  if (info.btfId && !btf) throw new CliError("failed to get btf");
  const funcs = btf ? funcInfos(info) : [];
  const lines = btf ? lineInfos(info) : [];
  const needsSyms = insns.some((i) => i.kind === "call" || i.kind === "lddw");
  const syms = needsSyms ? KernelSymbols.load() : undefined;
  const callName = (insn: Instruction): string | undefined => {
    if (!syms || insn.kind !== "call") return undefined;
    if (insn.target === "bpf") {
      const ksym = info.jitedKsyms[insn.imm];
      // An interpreted program has no JITed symbols: bpftool then prints only pc+N.
      if (info.jitedKsyms.length === 0) return undefined;
      const address = ksym ?? syms.callBase + BigInt(insn.imm);
      return syms.name(address) ?? `0x${address.toString(16)}`;
    }
    const address = syms.callBase + BigInt(insn.imm);
    return syms.name(address) ?? `0x${address.toString(16)}`;
  };
  const fmt = (insn: Instruction, slot: number) =>
    formatKernel(insn, { xlated: true, callName: (i) => callName(i) }, slot);

  let slot = 0;
  let funcIdx = 0;
  let nrSkip = 0;
  const w = ctx.out.w;
  if (ctx.out.json) w.startArray();
  for (const insn of insns) {
    let proto: string | undefined;
    const f = funcs[funcIdx];
    if (btf && f && f.insnOff === slot) {
      proto = funcSignature(btf, f.typeId);
      funcIdx++;
    }
    const linfo = btf ? findLine(lines, slot, nrSkip) : undefined;
    if (linfo) nrSkip++;
    const bytes = buf.subarray(slot * 8, slot * 8 + insn.bytes);
    if (ctx.out.json) {
      w.startObject();
      if (proto) w.field("proto", proto);
      if (linfo && btf) lineJson(ctx, btf, linfo, opts.linum);
      w.field("disasm", fmt(insn, slot));
      if (opts.opcodes) {
        const b0 = bytes[1] ?? 0;
        w.field("opcodes", {
          code: `0x${hex2(bytes[0] ?? 0)}`,
          src_reg: `0x${(b0 >> 4).toString(16)}`,
          dst_reg: `0x${(b0 & 0xf).toString(16)}`,
          off: hexBytesJson(bytes.subarray(2, 4)),
          imm: hexBytesJson(bytes.subarray(4, insn.bytes === 16 ? 16 : 8)),
        });
      }
      w.endObject();
    } else {
      let s = "";
      if (proto) s += `${proto}:\n`;
      if (linfo && btf) s += linePlain(btf, linfo, opts.linum);
      s += `${String(slot).padStart(4, " ")}: ${fmt(insn, slot)}\n`;
      if (opts.opcodes) {
        s += `       ${fprintHex(bytes.subarray(0, 8))}`;
        if (insn.bytes === 16) s += ` ${fprintHex(bytes.subarray(8, 16))}`;
        s += "\n";
      }
      ctx.out.write(s);
    }
    slot += insn.bytes / 8;
  }
  if (ctx.out.json) w.endArray();
}

/**
 * libbpf's bpf_prog_linfo__lfind: from record `nrSkip` on, the last line record that
 * starts at or before instruction `slot` (none when record `nrSkip` starts after it).
 */
function findLine(lines: readonly LineInfo[], slot: number, nrSkip: number): LineInfo | undefined {
  const first = lines[nrSkip];
  if (!first || slot < first.insnOff) return undefined;
  let found = first;
  for (let i = nrSkip; i < lines.length; i++) {
    const l = lines[i] as LineInfo;
    if (slot < l.insnOff) break;
    found = l;
  }
  return found;
}

function str(btf: BTF, off: number): string | undefined {
  try {
    return btf.strings.get(off);
  } catch {
    return undefined;
  }
}

function linePlain(btf: BTF, l: LineInfo, linum: boolean): string {
  const line = str(btf, l.lineOff);
  if (line === undefined) return "";
  const src = line.trimStart();
  if (!linum) return `; ${src}\n`;
  const file = str(btf, l.fileNameOff) ?? "";
  return `; ${src} [file:${file} line_num:${l.line} line_col:${l.col}]\n`;
}

function lineJson(ctx: Context, btf: BTF, l: LineInfo, linum: boolean): void {
  const w = ctx.out.w;
  const line = str(btf, l.lineOff);
  if (line !== undefined) w.field("src", line.trimStart());
  if (!linum) return;
  const file = str(btf, l.fileNameOff);
  if (file !== undefined) w.field("file", file);
  if (l.line) w.field("line_num", l.line);
  if (l.col) w.field("line_col", l.col);
}
