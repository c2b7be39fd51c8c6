/**
 * Disassembly in the kernel's format: what the verifier log and
 * `bpftool prog dump xlated` print (`   0: (b7) r0 = 2`). The format (hex or decimal
 * immediates, `goto pc+N`, `w` registers, `lock` forms...) follows the print
 * functions of the kernel's kernel/bpf/disasm.c as of Linux 6.18, and bpftool's
 * xlated dumper for map and call names.
 * @module
 */

import { helperName } from "../uapi/index.ts";
import * as U from "../uapi/insn.ts";
import { decodeProgram } from "./decode.ts";
import { encodeInstruction } from "./encode.ts";

import type {
  CallInstruction,
  DecodeOptions,
  Instruction,
  LoadImm64Instruction,
} from "./instruction.ts";
import { ATOMIC_OPERATORS, aluText, conditionText, memoryType } from "./operators.ts";

/** Hooks that let the caller name what only it knows (like the kernel's `bpf_insn_cbs`). */
export interface KernelFormatOptions {
  /**
   * Name of a helper by id (`"bpf_map_lookup_elem"`), consulted first for helper
   * calls whose imm is a helper id, as the kernel does. Defaults to the uapi helper table.
   */
  helperName?: (id: number) => string | undefined;
  /**
   * Name of a call target when the helper table has none: for a bpf-to-bpf call the
   * text after `call pc+N#` (bpftool prints `bpf_prog_<tag>_<name>`); for a helper or
   * kfunc the text before `#imm` (bpftool prints the kernel symbol at the call address
   * of a translated program).
   */
  callName?: (insn: CallInstruction, slot: number) => string | undefined;
  /**
   * Text of an lddw's right-hand side. Return undefined for the default, which is
   * bpftool's: `map[id:N]`, `map[id:N][0]+off`, `subprog[+N]`, else `0x<imm64>`
   * (tsbpf adds `map[idx:N]` and `map[idx:N][0]+off` for the fd_array forms).
   */
  immText?: (insn: LoadImm64Instruction, slot: number) => string | undefined;
  /**
   * Plain kernel verifier-log style for lddw (always `0x<imm64>`, as the kernel prints
   * without bpftool's callback). Default false.
   */
  rawImm?: boolean;
  /**
   * The instructions come from a translated program (`prog dump xlated`): bpf-to-bpf
   * calls keep their pc offset in `off` (imm is the subprogram index). Default false.
   */
  xlated?: boolean;
}

function plus(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** An immediate as the kernel prints a jump's: unsigned 32-bit hex. */
function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function code2(insn: Instruction): string {
  return `(${insn.code.toString(16).padStart(2, "0")})`;
}

function defaultImm(insn: LoadImm64Instruction, raw: boolean): string {
  if (!raw) {
    switch (insn.pseudo) {
      case U.BPF_PSEUDO_MAP_FD:
        return `map[id:${insn.imm >>> 0}]`;
      case U.BPF_PSEUDO_MAP_VALUE:
        return `map[id:${insn.imm >>> 0}][0]+${insn.imm2 >>> 0}`;
      case U.BPF_PSEUDO_FUNC:
        return `subprog[${plus(insn.imm)}]`;
      // bpftool prints these as 0x<imm64>; they never reach a translated program.
      case U.BPF_PSEUDO_MAP_IDX:
        return `map[idx:${insn.imm >>> 0}]`;
      case U.BPF_PSEUDO_MAP_IDX_VALUE:
        return `map[idx:${insn.imm >>> 0}][0]+${insn.imm2 >>> 0}`;
    }
  }
  return `0x${insn.value.toString(16)}`;
}

/**
 * Formats one instruction as the kernel does, with the `(code)` prefix and without the
 * slot number: `(b7) r0 = 2`, `(85) call bpf_map_lookup_elem#1`, `(18) r1 = map[id:5]`.
 *
 * @example
 * ```ts
 * formatKernel(asm.mov64(R0, 2)); // "(b7) r0 = 2"
 * ```
 */
export function formatKernel(insn: Instruction, opts: KernelFormatOptions = {}, slot = 0): string {
  const c = code2(insn);
  const { dst, src, off, imm } = insn;
  switch (insn.kind) {
    case "alu":
      return `${c} ${aluText(insn, String)}`;
    case "endian":
      if (insn.order === "swap") return `${c} r${dst} = bswap${imm} r${dst}`;
      return `${c} r${dst} = ${insn.order}${imm} r${dst}`;
    case "addr_space_cast":
      return `${c} r${dst} = addr_space_cast(r${src}, ${insn.dstAddrSpace}, ${insn.srcAddrSpace})`;
    case "percpu_addr":
      return `${c} r${dst} = &(void __percpu *)(r${src})`;
    case "store":
      if (insn.source === "reg")
        return `${c} *(${memoryType(insn.size)} *)(r${dst} ${plus(off)}) = r${src}`;
      return `${c} *(${memoryType(insn.size)} *)(r${dst} ${plus(off)}) = ${imm}`;
    case "atomic": {
      const sz = memoryType(insn.size);
      const w = insn.size === 64 ? "64" : "";
      switch (insn.op) {
        case "load_acquire":
          return `${c} r${dst} = load_acquire((${sz} *)(r${src} ${plus(off)}))`;
        case "store_release":
          return `${c} store_release((${sz} *)(r${dst} ${plus(off)}), r${src})`;
        case "xchg":
          return `${c} r${src} = atomic${w}_xchg((${sz} *)(r${dst} ${plus(off)}), r${src})`;
        case "cmpxchg":
          return `${c} r0 = atomic${w}_cmpxchg((${sz} *)(r${dst} ${plus(off)}), r0, r${src})`;
        default:
          if (insn.fetch)
            return `${c} r${src} = atomic${w}_fetch_${insn.op}((${sz} *)(r${dst} ${plus(off)}), r${src})`;
          return `${c} lock *(${sz} *)(r${dst} ${plus(off)}) ${ATOMIC_OPERATORS[insn.op]} r${src}`;
      }
    }
    case "nospec":
      return `${c} nospec`;
    case "load":
      return `${c} r${dst} = *(${memoryType(insn.size, insn.signExtend)} *)(r${src} ${plus(off)})`;
    case "ld_abs":
      return `${c} r0 = *(${memoryType(insn.size)} *)skb[${imm}]`;
    case "ld_ind":
      return `${c} r0 = *(${memoryType(insn.size)} *)skb[r${src} + ${imm}]`;
    case "lddw":
      return `${c} r${dst} = ${opts.immText?.(insn, slot) ?? defaultImm(insn, opts.rawImm ?? false)}`;
    case "call": {
      if (insn.target === "bpf") {
        const rel = opts.xlated ? off : imm;
        const name = opts.callName?.(insn, slot);
        return `${c} call pc${plus(rel)}${name !== undefined ? `#${name}` : ""}`;
      }
      let name: string | undefined;
      if (insn.target === "helper" && imm >= 0) name = (opts.helperName ?? helperName)(imm);
      name ??= opts.callName?.(insn, slot);
      name ??= insn.target === "kfunc" ? "kernel-function" : "unknown";
      return `${c} call ${name}#${imm}`;
    }
    case "goto":
      return insn.long ? `${c} gotol pc${plus(imm)}` : `${c} goto pc${plus(off)}`;
    case "may_goto":
      return `${c} may_goto pc${plus(off)}`;
    case "exit":
      return `${c} exit`;
    case "jump":
      return `${c} if ${conditionText(insn, hex32)} goto pc${plus(off)}`;
  }
}

/** Options of `disassembleKernel`. */
export interface KernelDisassembleOptions extends KernelFormatOptions, DecodeOptions {
  /** Print each instruction's bytes under it, like `bpftool prog dump xlated ... opcodes`. */
  opcodes?: boolean;
}

function hexBytes(b: Uint8Array, from: number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((b[from + i] ?? 0).toString(16).padStart(2, "0"));
  return out.join(" ");
}

/**
 * Disassembles a program the way `bpftool prog dump xlated` prints it: one line per
 * instruction, `% 4d: (code) text`, each followed by a newline. Takes raw bytes or
 * decoded instructions.
 *
 * @example
 * ```ts
 * disassembleKernel([asm.mov64(R0, 2), asm.exit()]);
 * // "   0: (b7) r0 = 2\n   1: (95) exit\n"
 * ```
 */
export function disassembleKernel(
  program: Uint8Array | readonly Instruction[],
  opts: KernelDisassembleOptions = {},
): string {
  const insns =
    program instanceof Uint8Array
      ? decodeProgram(program, { kernelInternal: opts.kernelInternal ?? opts.xlated ?? false })
      : program;
  let out = "";
  let slot = 0;
  for (const insn of insns) {
    out += `${String(slot).padStart(4, " ")}: ${formatKernel(insn, opts, slot)}\n`;
    if (opts.opcodes) {
      const b = encodeInstruction(insn);
      out += `       ${hexBytes(b, 0, 8)}${insn.bytes === 16 ? ` ${hexBytes(b, 8, 8)}` : ""}\n`;
    }
    slot += insn.bytes / 8;
  }
  return out;
}
