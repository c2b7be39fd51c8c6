/**
 * tsbpf's verifier: the Linux kernel's verdict on a program, and for a rejection its
 * error line and instruction, without a kernel. Pure TypeScript: runs in a browser.
 *
 * @example
 * ```ts
 * import { assemble } from "tsbpf/isa";
 * import { verify } from "tsbpf/verifier";
 * const r = verify(assemble("exit"), { progType: ProgType.SOCKET_FILTER });
 * r.accepted; // false
 * r.error; // { message: "R0 !read_ok", insn: 0, lines: [...] }
 * ```
 * @module
 */
import { decodeInstruction, type Instruction, InvalidInstructionError } from "../isa/index.ts";
import type { CaseFunc, VerifierCase } from "./case.ts";
import { type ExplainOptions, formatExplanation } from "./explain.ts";
import { kernelKnowsOpcode, knownTo61, reservedFieldsMessage } from "./opcodes.ts";
import { type VerifyOptions, type VerifyResult, verify } from "./verifier.ts";

export {
  CaseError,
  type CaseFunc,
  type CaseMap,
  formatCase,
  parseCase,
  type VerifierCase,
  verdictLine,
} from "./case.ts";
export {
  type ExplainOptions,
  explain,
  formatExplanation,
  offendingRegister,
} from "./explain.ts";
export { formatInsn, formatRegister, formatSlot, VerifierLog } from "./log.ts";
export type {
  FrameState,
  InsnState,
  RegisterState,
  StackSlotState,
  StatesOptions,
  ValueBounds,
  VerifierStates,
} from "./states.ts";
export {
  COMPLEXITY_LIMIT,
  statsLine,
  type VerifierMap,
  type VerifyOptions,
  type VerifyResult,
  type VerifyStats,
  verify,
} from "./verifier.ts";
export { type KernelWording, reword, wordingFor } from "./wording.ts";

/** The func_info options of {@link VerifyOptions} for a program's functions. */
export function funcOptions(
  funcs: readonly CaseFunc[],
): Pick<VerifyOptions, "funcs" | "voidFuncs" | "globalFuncs"> {
  return {
    funcs: funcs.map((f) => f.insnOff),
    voidFuncs: funcs.filter((f) => f.ret === "void").map((f) => f.insnOff),
    globalFuncs: new Map(
      funcs.filter((f) => f.linkage === "global").map((f) => [f.insnOff, f.args ?? 0]),
    ),
  };
}

/** Verifies a {@link VerifierCase} (a program as data, see case.ts). */
export function verifyCase(
  c: VerifierCase,
  opts: Pick<VerifyOptions, "logLevel" | "states" | "kernel"> = {},
): VerifyResult {
  return verifyBytes(c.insns, {
    progType: c.progType,
    ...(c.expectedAttachType !== undefined && { expectedAttachType: c.expectedAttachType }),
    maps: c.maps.map((m) => ({ ...m.spec, spinLockOff: m.spinLockOff ?? null })),
    ...funcOptions(c.funcs),
    progFlags: c.progFlags,
    gpl: isGplCompatible(c.license),
    ...opts,
  });
}

/**
 * Verifies raw instructions (8 bytes each). An opcode the kernel does not know rejects
 * the program before the walk, as the kernel does; a known opcode with reserved fields
 * set is refused when a path reaches it.
 */
export function verifyBytes(bytes: Uint8Array, opts: VerifyOptions): VerifyResult {
  const empty = { processed: 0, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0 };
  const v61 = opts.kernel === "6.1";
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    const code = bytes[at] as number;
    // Linux 6.1 predates ISA v4 (6.6): sign-extending loads fail its first pass.
    if (v61 && (code & 7) === 0x01 && ((code & 0xe0) !== 0x60 || readImm(bytes, at) !== 0)) {
      const message = "BPF_LDX uses reserved fields";
      return { accepted: false, error: { message, lines: [message] }, log: message, stats: empty };
    }
    if (!kernelKnowsOpcode(code) || (v61 && !knownTo61(code))) {
      const message = `unknown opcode ${code.toString(16).padStart(2, "0")}`;
      return { accepted: false, error: { message, lines: [message] }, log: message, stats: empty };
    }
    if (code === 0x18) at += 8;
  }
  const insns: Instruction[] = [];
  const invalid = new Map<number, string>();
  for (let at = 0; at + 8 <= bytes.length; ) {
    try {
      const i = decodeInstruction(bytes, at / 8);
      insns.push(i);
      at += i.bytes;
    } catch (e) {
      if (!(e instanceof InvalidInstructionError)) throw e;
      const code = bytes[at] as number;
      if (code === 0x18) {
        // The kernel checks lddw pairs before anything else.
        const message = "invalid bpf_ld_imm64 insn";
        return {
          accepted: false,
          error: { message, lines: [message] },
          log: message,
          stats: empty,
        };
      }
      invalid.set(at / 8, reservedFieldsMessage(code, readImm(bytes, at)));
      // Stand-in the walk refuses when it reaches it (same size, so jumps still land).
      insns.push(placeholder(bytes, at));
      at += 8;
    }
  }
  if (v61)
    // ISA v4's signed division and sign-extending moves: fields 6.1 reserves.
    for (let i = 0, pc = 0; i < insns.length; pc += (insns[i] as Instruction).bytes / 8, i++) {
      const insn = insns[i] as Instruction;
      if (insn.kind !== "alu" || invalid.has(pc)) continue;
      if (insn.op === "movsx") invalid.set(pc, "BPF_MOV uses reserved fields");
      if (insn.op === "sdiv" || insn.op === "smod") invalid.set(pc, "BPF_ALU uses reserved fields");
    }
  return verify(insns, { ...opts, invalid });
}

const readImm = (bytes: Uint8Array, at: number) =>
  new DataView(bytes.buffer, bytes.byteOffset + at + 4, 4).getInt32(0, true);

/**
 * Verifies a case while recording states, and explains the verdict for a learner (see
 * explain.ts): each instruction beside the state it uses, and for a rejection the path,
 * its branches and where the offending register was set.
 */
export function explainCase(
  c: VerifierCase,
  opts: ExplainOptions = {},
): { readonly result: VerifyResult; readonly text: string } {
  const result = verifyCase(c, { states: true });
  const insns: Instruction[] = [];
  for (let at = 0; at + 8 <= c.insns.length; ) {
    try {
      const i = decodeInstruction(c.insns, at / 8);
      insns.push(i);
      at += i.bytes;
    } catch (e) {
      if (!(e instanceof InvalidInstructionError)) throw e;
      insns.push(placeholder(c.insns, at));
      at += 8;
    }
  }
  return { result, text: formatExplanation(insns, result, opts) };
}

/**
 * The stand-in for an instruction with reserved fields set: a `nospec` that carries the
 * raw fields, so the log can print the instruction as the kernel does.
 */
function placeholder(bytes: Uint8Array, at: number): Instruction {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  const regs = bytes[at + 1] as number;
  return {
    ...PLACEHOLDER,
    code: bytes[at] as number,
    dst: regs & 0xf,
    src: regs >> 4,
    off: v.getInt16(2, true),
    imm: v.getInt32(4, true),
  };
}

const PLACEHOLDER: Instruction = {
  kind: "nospec",
  bytes: 8,
  code: 0xc2,
  dst: 0,
  src: 0,
  off: 0,
  imm: 0,
};

/** The licences the kernel counts as GPL-compatible (license_is_gpl_compatible). */
export function isGplCompatible(license: string): boolean {
  return [
    "GPL",
    "GPL v2",
    "GPL and additional rights",
    "Dual BSD/GPL",
    "Dual MIT/GPL",
    "Dual MPL/GPL",
  ].includes(license);
}
