/**
 * Disassembly in llvm-objdump's format (`       0:\tb7 00 00 00 02 00 00 00\tr0 = 0x2`),
 * as llvm-objdump 19 prints BPF: signed hex immediates, `(r1 + 0x8)` addresses,
 * `goto +0x3 <sym+0x18>` targets, `ld_pseudo` for lddw with a pseudo source.
 * @module
 */

import { decodeProgram } from "./decode.ts";
import { encodeInstruction } from "./encode.ts";
import type { Instruction } from "./instruction.ts";
import { ATOMIC_OPERATORS, aluText, conditionText, memoryType } from "./operators.ts";

/** Options of the llvm-objdump formatter. */
export interface LlvmFormatOptions {
  /**
   * Print as `llvm-objdump --mcpu=v3`/`v4` does (the ALU32 feature): 32-bit loads,
   * stores and atomics use `w` registers and every 32-bit atomic is decoded. When
   * false, print as plain `llvm-objdump -d` does, including its `<unknown>` for 32-bit
   * atomics other than add. Default true.
   */
  alu32?: boolean;
  /**
   * Annotation of a jump target, given its byte offset in the section; the default is
   * `<.text+0x..>`-style from `symbols` and `section`.
   */
  targetName?: (byteOffset: number) => string | undefined;
  /** Symbols (function names) and their byte offsets in the section, for jump targets. */
  symbols?: readonly { name: string; offset: number }[];
  /** Section name used when no symbol precedes a target. Default `.text`. */
  section?: string;
}

function hx(n: number | bigint): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

function addr(reg: number, off: number): string {
  return `r${reg} ${off < 0 ? "-" : "+"} 0x${Math.abs(off).toString(16)}`;
}

/** The unresolved text of one instruction; `{target}` marks where ` <sym+0x..>` goes. */
function text(insn: Instruction, alu32: boolean): string {
  const { dst, src, off, imm } = insn;
  switch (insn.kind) {
    case "alu":
      return aluText(insn, hx);
    case "endian":
      return `r${dst} = ${insn.order === "swap" ? "bswap" : insn.order}${imm} r${dst}`;
    case "addr_space_cast":
      return `r${dst} = addr_space_cast(r${src}, ${hx(insn.dstAddrSpace)}, ${hx(insn.srcAddrSpace)})`;
    case "load": {
      const r = alu32 && !insn.signExtend && insn.size < 64 ? "w" : "r";
      return `${r}${dst} = *(${memoryType(insn.size, insn.signExtend)} *)(${addr(src, off)})`;
    }
    case "store":
      if (insn.source === "imm")
        return `*(${memoryType(insn.size)} *)(${addr(dst, off)}) = ${hx(imm)}`;
      return `*(${memoryType(insn.size)} *)(${addr(dst, off)}) = ${alu32 && insn.size < 64 ? "w" : "r"}${src}`;
    case "atomic": {
      const sz = memoryType(insn.size);
      const a = addr(dst, off);
      if (insn.op === "load_acquire" || insn.op === "store_release") return "<unknown>";
      if (insn.size === 64) {
        if (insn.op === "xchg") return `r${src} = xchg_64(${a}, r${src})`;
        if (insn.op === "cmpxchg") return `r0 = cmpxchg_64(${a}, r0, r${src})`;
        if (insn.fetch) return `r${src} = atomic_fetch_${insn.op}((${sz} *)(${a}), r${src})`;
        return `lock *(${sz} *)(${a}) ${ATOMIC_OPERATORS[insn.op]} r${src}`;
      }
      if (insn.size !== 32) return "<unknown>";
      if (!alu32) {
        // llvm-objdump without ALU32 knows only XADDW, and ignores its fetch bit.
        if (insn.op === "add") return `lock *(${sz} *)(${a}) += r${src}`;
        return "<unknown>";
      }
      if (insn.op === "xchg") return `w${src} = xchg32_32(${a}, w${src})`;
      if (insn.op === "cmpxchg") return `w0 = cmpxchg32_32(${a}, w0, w${src})`;
      if (insn.fetch) return `w${src} = atomic_fetch_${insn.op}((${sz} *)(${a}), w${src})`;
      return `lock *(${sz} *)(${a}) ${ATOMIC_OPERATORS[insn.op]} w${src}`;
    }
    case "lddw":
      if (insn.pseudo !== 0) return `ld_pseudo\tr${dst}, ${hx(insn.pseudo)}, ${hx(imm >>> 0)}`;
      return `r${dst} = ${hx(BigInt.asIntN(64, insn.value))} ll`;
    case "ld_abs":
      return `r0 = *(${memoryType(insn.size)} *)skb[${hx(imm)}]`;
    case "ld_ind":
      return `r0 = *(${memoryType(insn.size)} *)skb[r${src}]`;
    case "call":
      return `call ${hx(imm)}`;
    case "exit":
      return "exit";
    case "goto":
      return insn.long ? `gotol ${sign(imm)}{target}` : `goto ${sign(off)}{target}`;
    case "may_goto":
      return `may_goto ${sign(off)}{target}`;
    case "jump":
      return `if ${conditionText(insn, hx)} goto ${sign(off)}{target}`;
    case "percpu_addr":
    case "nospec":
      return "<unknown>";
  }
}

function sign(n: number): string {
  return n < 0 ? hx(n) : `+${hx(n)}`;
}

function targetText(byteOffset: number, opts: LlvmFormatOptions): string {
  const custom = opts.targetName?.(byteOffset);
  if (custom !== undefined) return ` <${custom}>`;
  let best: { name: string; offset: number } | undefined;
  for (const s of opts.symbols ?? []) {
    if (s.offset <= byteOffset && (best === undefined || s.offset >= best.offset)) best = s;
  }
  const name = best?.name ?? opts.section ?? ".text";
  const rel = byteOffset - (best?.offset ?? 0);
  if (rel === 0 && best) return ` <${name}>`;
  return ` <${name}${rel < 0 ? "-" : "+"}0x${Math.abs(rel).toString(16)}>`;
}

/**
 * Formats one instruction as llvm-objdump prints its text column (no address or
 * bytes). `slot` positions jump targets.
 *
 * @example
 * ```ts
 * formatLlvm(asm.mov64(R0, 2)); // "r0 = 0x2"
 * ```
 */
export function formatLlvm(insn: Instruction, opts: LlvmFormatOptions = {}, slot = 0): string {
  const t = text(insn, opts.alu32 ?? true);
  if (!t.includes("{target}")) return t;
  const rel = insn.kind === "goto" && insn.long ? insn.imm : insn.off;
  const next = slot + insn.bytes / 8;
  return t.replace("{target}", targetText((next + rel) * 8, opts));
}

/**
 * Disassembles a program as `llvm-objdump -d` prints a BPF section: one line per
 * instruction, `%8d:\t<bytes>\t<text>`, each followed by a newline.
 *
 * @example
 * ```ts
 * disassembleLlvm([asm.mov64(R0, 2), asm.exit()]);
 * // "       0:\tb7 00 00 00 02 00 00 00\tr0 = 0x2\n       1:\t95 00 ...\texit\n"
 * ```
 */
export function disassembleLlvm(
  program: Uint8Array | readonly Instruction[],
  opts: LlvmFormatOptions = {},
): string {
  const insns = program instanceof Uint8Array ? decodeProgram(program) : program;
  let out = "";
  let slot = 0;
  for (const insn of insns) {
    const bytes = Array.from(encodeInstruction(insn), (b) => b.toString(16).padStart(2, "0"));
    out += `${String(slot).padStart(8, " ")}:\t${bytes.join(" ")}\t${formatLlvm(insn, opts, slot)}\n`;
    slot += insn.bytes / 8;
  }
  return out;
}
