/**
 * The typed instruction model: every valid eBPF instruction, discriminated by `kind`,
 * with the raw fields (`code`, `dst`, `src`, `off`, `imm`) always present.
 * @module
 */

import * as U from "../uapi/insn.ts";
import { InvalidInstructionError } from "./errors.ts";

/** A register number, 0..10 (r10 is the read-only frame pointer). */
export type Register = number;

/** Width in bits of a memory access. */
export type AccessSize = 8 | 16 | 32 | 64;

/** Where the second operand of an ALU or jump instruction comes from. */
export type Source = "imm" | "reg";

/** ALU operations, including the signed and sign-extending variants selected by `off`. */
export type AluOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "sdiv"
  | "or"
  | "and"
  | "lsh"
  | "rsh"
  | "neg"
  | "mod"
  | "smod"
  | "xor"
  | "mov"
  | "movsx"
  | "arsh";

/** Conditional jump operations. */
export type JumpOp =
  | "jeq"
  | "jgt"
  | "jge"
  | "jset"
  | "jne"
  | "jsgt"
  | "jsge"
  | "jlt"
  | "jle"
  | "jslt"
  | "jsle";

/** Atomic operations (imm of BPF_STX|BPF_ATOMIC). */
export type AtomicOp =
  | "add"
  | "or"
  | "and"
  | "xor"
  | "xchg"
  | "cmpxchg"
  | "load_acquire"
  | "store_release";

/** The raw fields of one instruction slot. `off` and `imm` are signed. */
export interface RawFields {
  /** The opcode byte. */
  code: number;
  /** Destination register (low nibble of byte 1). */
  dst: number;
  /** Source register (high nibble of byte 1). */
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
}

/** Raw fields of an instruction; lddw adds `imm2`, the immediate of its second slot. */
export interface InstructionFields extends RawFields {
  /** lddw only: the upper 32 bits of the 64-bit immediate (signed 32-bit). */
  imm2?: number;
}

interface Base extends RawFields {
  /** Size of the encoded instruction in bytes: 16 for lddw, 8 otherwise. */
  readonly bytes: 8 | 16;
}

/** `dst op= src|imm` in 32 (`w`) or 64 (`r`) bits; neg, movsx, sdiv and smod included. */
export interface AluInstruction extends Base {
  readonly kind: "alu";
  readonly bits: 32 | 64;
  readonly op: AluOp;
  readonly source: Source;
  /** movsx only: the width the source is sign-extended from. */
  readonly extendFrom?: 8 | 16 | 32;
}

/** Byte order conversion: `le`/`be` (BPF_ALU|BPF_END) or `swap` (BPF_ALU64|BPF_END, bswap). */
export interface EndianInstruction extends Base {
  readonly kind: "endian";
  readonly order: "le" | "be" | "swap";
  readonly bits: 16 | 32 | 64;
}

/** `dst = addr_space_cast(src, dstAs, srcAs)` (BPF_ALU64|BPF_MOV|BPF_X with off = 1, arenas). */
export interface AddrSpaceCastInstruction extends Base {
  readonly kind: "addr_space_cast";
  readonly dstAddrSpace: number;
  readonly srcAddrSpace: number;
}

/** Kernel-internal `dst = &(void __percpu *)(src)` (off = -1); only in translated programs. */
export interface PercpuAddrInstruction extends Base {
  readonly kind: "percpu_addr";
}

/** Conditional jump `if dst op src|imm goto pc+off`, in 64 or 32 (`w`) bits. */
export interface JumpInstruction extends Base {
  readonly kind: "jump";
  readonly bits: 32 | 64;
  readonly op: JumpOp;
  readonly source: Source;
}

/** Unconditional jump: `goto pc+off` or, when `long`, `gotol pc+imm` (BPF_JMP32|BPF_JA). */
export interface GotoInstruction extends Base {
  readonly kind: "goto";
  readonly long: boolean;
}

/** `may_goto pc+off` (BPF_JMP|BPF_JCOND): jump once the loop budget is spent. */
export interface MayGotoInstruction extends Base {
  readonly kind: "may_goto";
}

/** Function call: a helper (imm = id), a bpf-to-bpf call (imm = pc offset) or a kfunc (imm = BTF id). */
export interface CallInstruction extends Base {
  readonly kind: "call";
  readonly target: "helper" | "bpf" | "kfunc";
}

/** Return r0 to the caller. */
export interface ExitInstruction extends Base {
  readonly kind: "exit";
}

/** `dst = *(u|sN *)(src + off)` (BPF_LDX, MEM or MEMSX). */
export interface LoadInstruction extends Base {
  readonly kind: "load";
  readonly size: AccessSize;
  readonly signExtend: boolean;
}

/** `*(uN *)(dst + off) = src|imm` (BPF_STX|BPF_MEM or BPF_ST|BPF_MEM). */
export interface StoreInstruction extends Base {
  readonly kind: "store";
  readonly size: AccessSize;
  readonly source: Source;
}

/**
 * An atomic memory operation (BPF_STX|BPF_ATOMIC). For load_acquire `dst` receives the
 * value loaded from `src + off`; for every other op `dst + off` is the address.
 */
export interface AtomicInstruction extends Base {
  readonly kind: "atomic";
  readonly size: AccessSize;
  readonly op: AtomicOp;
  /** The old value is returned (in `src`, or r0 for cmpxchg). Always true for xchg/cmpxchg. */
  readonly fetch: boolean;
}

/** The 16-byte `dst = imm64` (BPF_LD|BPF_IMM|BPF_DW) and its pseudo sources. */
export interface LoadImm64Instruction extends Base {
  readonly kind: "lddw";
  /** src_reg: 0 for a plain constant, else a BPF_PSEUDO_* source (map fd, map value, ...). */
  readonly pseudo: number;
  /** Immediate of the second slot (upper half of the constant; value offset for map values). */
  readonly imm2: number;
  /** The 64-bit immediate, unsigned: `(imm2 << 32) | (imm >>> 0)`. */
  readonly value: bigint;
}

/** Legacy packet load `r0 = *(uN *)skb[imm]` (BPF_LD|BPF_ABS). */
export interface LoadAbsInstruction extends Base {
  readonly kind: "ld_abs";
  readonly size: AccessSize;
}

/** Legacy packet load `r0 = *(uN *)skb[src + imm]` (BPF_LD|BPF_IND). */
export interface LoadIndInstruction extends Base {
  readonly kind: "ld_ind";
  readonly size: AccessSize;
}

/** Kernel-internal speculation barrier (BPF_ST|0xc0); only in translated programs. */
export interface NospecInstruction extends Base {
  readonly kind: "nospec";
}

/** Any valid eBPF instruction. Switch on `kind`; the raw fields are always there. */
export type Instruction =
  | AluInstruction
  | EndianInstruction
  | AddrSpaceCastInstruction
  | PercpuAddrInstruction
  | JumpInstruction
  | GotoInstruction
  | MayGotoInstruction
  | CallInstruction
  | ExitInstruction
  | LoadInstruction
  | StoreInstruction
  | AtomicInstruction
  | LoadImm64Instruction
  | LoadAbsInstruction
  | LoadIndInstruction
  | NospecInstruction;

/** Options for validating and decoding instructions. */
// The verifier's internal access modes (include/linux/filter.h), seen only in
// translated programs: each maps to the plain mode it stands for.
const BPF_PROBE_MEM = 0x20;
const BPF_PROBE_MEMSX = 0x40;
const BPF_PROBE_MEM32 = 0xa0;
const BPF_PROBE_MEM32SX = 0xc0;
const BPF_PROBE_ATOMIC = 0xe0;
const PROBE_LDX_MODES: ReadonlyMap<number, number> = new Map([
  [BPF_PROBE_MEM, U.BPF_MEM],
  [BPF_PROBE_MEMSX, U.BPF_MEMSX],
  [BPF_PROBE_MEM32, U.BPF_MEM],
  [BPF_PROBE_MEM32SX, U.BPF_MEMSX],
]);
const PROBE_STX_MODES: ReadonlyMap<number, number> = new Map([
  [BPF_PROBE_MEM32, U.BPF_MEM],
  [BPF_PROBE_ATOMIC, U.BPF_ATOMIC],
]);

export interface DecodeOptions {
  /**
   * Accept the kernel-internal forms that appear in translated (`xlated`) programs but
   * never in loadable ones: `nospec`, the per-CPU address move, the auxiliary register
   * r11, bpf-to-bpf calls that keep their offset in `off`, the zero-extension marker
   * (`w0 = w0` with imm 1) and the verifier's PROBE_* load/store/atomic modes.
   * Default false: what users hand in is checked strictly.
   */
  kernelInternal?: boolean;
}

const ALU_OPS: readonly (AluOp | undefined)[] = [
  "add",
  "sub",
  "mul",
  "div",
  "or",
  "and",
  "lsh",
  "rsh",
  "neg",
  "mod",
  "xor",
  "mov",
  "arsh",
  undefined, // END, handled apart
  undefined,
  undefined,
];

const JUMP_OPS: readonly (JumpOp | undefined)[] = [
  undefined, // JA
  "jeq",
  "jgt",
  "jge",
  "jset",
  "jne",
  "jsgt",
  "jsge",
  undefined, // CALL
  undefined, // EXIT
  "jlt",
  "jle",
  "jslt",
  "jsle",
  undefined, // JCOND
  undefined,
];

/** Access size in bits for the BPF_SIZE field. */
export function sizeBits(code: number): AccessSize {
  switch (U.BPF_SIZE(code)) {
    case U.BPF_W:
      return 32;
    case U.BPF_H:
      return 16;
    case U.BPF_B:
      return 8;
    default:
      return 64;
  }
}

/** BPF_SIZE field for an access size in bits. */
export function sizeCode(bits: AccessSize): number {
  switch (bits) {
    case 8:
      return U.BPF_B;
    case 16:
      return U.BPF_H;
    case 32:
      return U.BPF_W;
    case 64:
      return U.BPF_DW;
  }
}

/** Opcode bits (BPF_OP) of an ALU operation; the signed/sx variants share their base op. */
export function aluOpCode(op: AluOp): number {
  switch (op) {
    case "sdiv":
      return U.BPF_DIV;
    case "smod":
      return U.BPF_MOD;
    case "movsx":
      return U.BPF_MOV;
    default:
      return ALU_OPS.indexOf(op) << 4;
  }
}

/** Opcode bits (BPF_OP) of a conditional jump. */
export function jumpOpCode(op: JumpOp): number {
  return JUMP_OPS.indexOf(op) << 4;
}

/** The imm of an atomic operation. */
export function atomicImm(op: AtomicOp, fetch: boolean): number {
  const f = fetch ? U.BPF_FETCH : 0;
  switch (op) {
    case "add":
      return U.BPF_ADD | f;
    case "or":
      return U.BPF_OR | f;
    case "and":
      return U.BPF_AND | f;
    case "xor":
      return U.BPF_XOR | f;
    case "xchg":
      return U.BPF_XCHG;
    case "cmpxchg":
      return U.BPF_CMPXCHG;
    case "load_acquire":
      return U.BPF_LOAD_ACQ;
    case "store_release":
      return U.BPF_STORE_REL;
  }
}

const CLASS_NAMES = ["ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"];

function hex8(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

function fail(reason: string): never {
  throw new InvalidInstructionError(-1, new Uint8Array(0), reason);
}

// The checks below build their messages only when they fail: decoding is on the hot
// path of loading, disassembling and fuzzing.

/** Fails with the reason prefixed by the instruction's class and opcode. */
function bad(code: number, reason: string): never {
  fail(`${CLASS_NAMES[U.BPF_CLASS(code)]} opcode ${hex8(code)}: ${reason}`);
}

function needReg(code: number, which: "dst" | "src", reg: number, maxReg: number): void {
  if (reg > maxReg) bad(code, `${which} register r${reg} does not exist (r0..r${maxReg})`);
}

function zero(code: number, what: "dst" | "src" | "off" | "imm", v: number, why = ""): void {
  if (v === 0) return;
  const field = what === "dst" || what === "src" ? `${what} register` : what;
  bad(code, `reserved ${field} must be 0, is ${v}${why}`);
}

/**
 * Validates raw fields and returns the typed instruction, or throws
 * `InvalidInstructionError` (with index -1 and no bytes: the caller knows where it is)
 * saying why the encoding is not valid.
 */
export function instructionFromFields(f: InstructionFields, opts: DecodeOptions = {}): Instruction {
  const { code, dst, src } = f;
  const off = f.off;
  const imm = f.imm;
  if (!Number.isInteger(code) || code < 0 || code > 0xff) fail(`opcode ${code} is not a byte`);
  if (!Number.isInteger(dst) || dst < 0 || dst > 15) fail(`dst register ${dst} is not 0..15`);
  if (!Number.isInteger(src) || src < 0 || src > 15) fail(`src register ${src} is not 0..15`);
  if (!Number.isInteger(off) || off < -0x8000 || off > 0x7fff)
    fail(`offset ${off} does not fit in a signed 16-bit field`);
  if (!Number.isInteger(imm) || imm < -0x80000000 || imm > 0x7fffffff)
    fail(`immediate ${imm} does not fit in a signed 32-bit field`);
  const cls = U.BPF_CLASS(code);
  // Each result is written out as a literal: a spread of a shared base object took
  // V8's slow path here (2-6 µs per instruction, a quarter of the VM fuzzer's time).
  // Translated programs may use r11 (the kernel's auxiliary register BPF_REG_AX).
  const maxReg = opts.kernelInternal ? 11 : 10;

  switch (cls) {
    case U.BPF_ALU:
    case U.BPF_ALU64: {
      const bits = cls === U.BPF_ALU64 ? 64 : 32;
      const opc = U.BPF_OP(code);
      const source: Source = U.BPF_SRC(code) === U.BPF_X ? "reg" : "imm";
      needReg(code, "dst", dst, maxReg);
      if (opc === U.BPF_END) {
        if (cls === U.BPF_ALU64 && source === "reg")
          bad(code, `bswap has no big-endian form (BPF_ALU64|BPF_END|BPF_TO_BE is unassigned)`);
        zero(code, "src", src);
        zero(code, "off", off);
        if (imm !== 16 && imm !== 32 && imm !== 64)
          bad(code, `byte swap width must be 16, 32 or 64, is ${imm}`);
        const order = cls === U.BPF_ALU64 ? "swap" : source === "reg" ? "be" : "le";
        return { code, dst, src, off, imm, bytes: 8, kind: "endian", order, bits: imm };
      }
      const op = ALU_OPS[opc >> 4];
      if (op === undefined) bad(code, `unknown ALU operation ${hex8(opc)}`);
      if (op === "neg") {
        if (source === "reg") bad(code, `neg takes no source register (only BPF_K is defined)`);
        zero(code, "src", src);
        zero(code, "off", off);
        zero(code, "imm", imm);
        return { code, dst, src, off, imm, bytes: 8, kind: "alu", bits, op, source };
      }
      if (source === "reg") {
        needReg(code, "src", src, maxReg);
        if (op === "mov" && off === 1 && cls === U.BPF_ALU64) {
          if (imm !== 1 && imm !== 0x10000)
            bad(code, `addr_space_cast supports only address spaces (1, 0) and (0, 1)`);
          return {
            code,
            dst,
            src,
            off,
            imm,
            bytes: 8,
            kind: "addr_space_cast",
            dstAddrSpace: imm >>> 16,
            srcAddrSpace: imm & 0xffff,
          };
        }
        if (op === "mov" && off === -1 && cls === U.BPF_ALU64 && opts.kernelInternal) {
          zero(code, "imm", imm);
          return { code, dst, src, off, imm, bytes: 8, kind: "percpu_addr" };
        }
        // The verifier's zero-extension marker (`w_dst = w_src` with imm 1, inserted
        // where a 32-bit result needs explicit zero extension): a plain 32-bit move;
        // the raw imm stays in the instruction so it encodes back unchanged.
        if (op === "mov" && cls === U.BPF_ALU && off === 0 && imm === 1 && opts.kernelInternal) {
          return { code, dst, src, off, imm, bytes: 8, kind: "alu", bits, op, source };
        }
        zero(code, "imm", imm);
      } else {
        zero(code, "src", src);
      }
      if (op === "div" || op === "mod") {
        if (off !== 0 && off !== 1)
          bad(code, `offset of ${op} must be 0 (unsigned) or 1 (signed), is ${off}`);
        const sop: AluOp = off === 1 ? (op === "div" ? "sdiv" : "smod") : op;
        return { code, dst, src, off, imm, bytes: 8, kind: "alu", bits, op: sop, source };
      }
      if (op === "mov" && source === "reg" && off !== 0) {
        if (off === 8 || off === 16 || (off === 32 && bits === 64))
          return {
            code,
            dst,
            src,
            off,
            imm,
            bytes: 8,
            kind: "alu",
            bits,
            op: "movsx",
            source,
            extendFrom: off,
          };
        bad(
          code,
          `offset of mov must be 0, or 8/16${bits === 64 ? "/32" : ""} for a sign-extending move, is ${off}`,
        );
      }
      zero(code, "off", off);
      return { code, dst, src, off, imm, bytes: 8, kind: "alu", bits, op, source };
    }

    case U.BPF_JMP:
    case U.BPF_JMP32: {
      const opc = U.BPF_OP(code);
      const source: Source = U.BPF_SRC(code) === U.BPF_X ? "reg" : "imm";
      const is32 = cls === U.BPF_JMP32;
      if (opc === U.BPF_JA) {
        if (source === "reg") bad(code, `indirect jump (gotox) is not supported`);
        zero(code, "dst", dst);
        zero(code, "src", src);
        if (is32) {
          zero(code, "off", off, " (gotol takes its target in imm)");
          return { code, dst, src, off, imm, bytes: 8, kind: "goto", long: true };
        }
        zero(code, "imm", imm, " (goto takes its target in off; use gotol for a 32-bit target)");
        return { code, dst, src, off, imm, bytes: 8, kind: "goto", long: false };
      }
      if (opc === U.BPF_CALL) {
        if (is32) bad(code, `call exists only in the BPF_JMP class`);
        if (source === "reg") bad(code, `call through a register (callx) is not valid eBPF`);
        zero(code, "dst", dst);
        if (src === U.BPF_HELPER_CALL) {
          zero(code, "off", off);
          return { code, dst, src, off, imm, bytes: 8, kind: "call", target: "helper" };
        }
        if (src === U.BPF_PSEUDO_CALL) {
          // The kernel keeps the pc offset in off once a program is translated.
          if (!opts.kernelInternal) zero(code, "off", off);
          return { code, dst, src, off, imm, bytes: 8, kind: "call", target: "bpf" };
        }
        if (src === U.BPF_PSEUDO_KFUNC_CALL) {
          // off selects the module BTF (index into fd_array); 0 is vmlinux.
          return { code, dst, src, off, imm, bytes: 8, kind: "call", target: "kfunc" };
        }
        bad(code, `call source ${src} is not 0 (helper), 1 (bpf-to-bpf) or 2 (kfunc)`);
      }
      if (opc === U.BPF_EXIT) {
        if (is32) bad(code, `exit exists only in the BPF_JMP class`);
        if (source === "reg") bad(code, `exit has no BPF_X form`);
        zero(code, "dst", dst);
        zero(code, "src", src);
        zero(code, "off", off);
        zero(code, "imm", imm);
        return { code, dst, src, off, imm, bytes: 8, kind: "exit" };
      }
      if (opc === U.BPF_JCOND) {
        if (is32 || source === "reg")
          bad(code, `may_goto is defined only as BPF_JMP|BPF_JCOND|BPF_K`);
        if (src !== U.BPF_MAY_GOTO) bad(code, `unknown conditional pseudo jump ${src}`);
        zero(code, "dst", dst);
        zero(code, "imm", imm);
        return { code, dst, src, off, imm, bytes: 8, kind: "may_goto" };
      }
      const op = JUMP_OPS[opc >> 4];
      if (op === undefined) bad(code, `unknown jump operation ${hex8(opc)}`);
      needReg(code, "dst", dst, maxReg);
      if (source === "reg") {
        needReg(code, "src", src, maxReg);
        zero(code, "imm", imm);
      } else {
        zero(code, "src", src);
      }
      return { code, dst, src, off, imm, bytes: 8, kind: "jump", bits: is32 ? 32 : 64, op, source };
    }

    case U.BPF_LDX: {
      const size = sizeBits(code);
      // Translated programs may keep the verifier's PROBE_* modes (older kernels do not
      // turn all of them back into MEM when dumping): read them as the plain access.
      const mode = opts.kernelInternal
        ? (PROBE_LDX_MODES.get(U.BPF_MODE(code)) ?? U.BPF_MODE(code))
        : U.BPF_MODE(code);
      if (mode !== U.BPF_MEM && mode !== U.BPF_MEMSX)
        bad(code, `ldx supports only the MEM and MEMSX modes, not ${hex8(mode)}`);
      if (mode === U.BPF_MEMSX && size === 64) bad(code, `there is no sign-extending 64-bit load`);
      needReg(code, "dst", dst, maxReg);
      needReg(code, "src", src, maxReg);
      zero(code, "imm", imm);
      return {
        code,
        dst,
        src,
        off,
        imm,
        bytes: 8,
        kind: "load",
        size,
        signExtend: mode === U.BPF_MEMSX,
      };
    }

    case U.BPF_ST: {
      const mode = U.BPF_MODE(code);
      if (mode === 0xc0 && opts.kernelInternal && code === (U.BPF_ST | 0xc0)) {
        return { code, dst, src, off, imm, bytes: 8, kind: "nospec" };
      }
      if (mode !== U.BPF_MEM && !(opts.kernelInternal && mode === BPF_PROBE_MEM32))
        bad(code, `st supports only the MEM mode, not ${hex8(mode)}`);
      needReg(code, "dst", dst, maxReg);
      zero(code, "src", src);
      return {
        code,
        dst,
        src,
        off,
        imm,
        bytes: 8,
        kind: "store",
        size: sizeBits(code),
        source: "imm",
      };
    }

    case U.BPF_STX: {
      const mode = opts.kernelInternal
        ? (PROBE_STX_MODES.get(U.BPF_MODE(code)) ?? U.BPF_MODE(code))
        : U.BPF_MODE(code);
      const size = sizeBits(code);
      needReg(code, "dst", dst, maxReg);
      needReg(code, "src", src, maxReg);
      if (mode === U.BPF_MEM) {
        zero(code, "imm", imm);
        return { code, dst, src, off, imm, bytes: 8, kind: "store", size, source: "reg" };
      }
      if (mode !== U.BPF_ATOMIC)
        bad(code, `stx supports only the MEM and ATOMIC modes, not ${hex8(mode)}`);
      let op: AtomicOp;
      let fetch = false;
      switch (imm) {
        case U.BPF_ADD:
        case U.BPF_OR:
        case U.BPF_AND:
        case U.BPF_XOR:
        case U.BPF_ADD | U.BPF_FETCH:
        case U.BPF_OR | U.BPF_FETCH:
        case U.BPF_AND | U.BPF_FETCH:
        case U.BPF_XOR | U.BPF_FETCH:
          op = ALU_OPS[(imm & 0xf0) >> 4] as AtomicOp;
          fetch = (imm & U.BPF_FETCH) !== 0;
          break;
        case U.BPF_XCHG:
          op = "xchg";
          fetch = true;
          break;
        case U.BPF_CMPXCHG:
          op = "cmpxchg";
          fetch = true;
          break;
        case U.BPF_LOAD_ACQ:
          op = "load_acquire";
          break;
        case U.BPF_STORE_REL:
          op = "store_release";
          break;
        default:
          bad(code, `unknown atomic operation imm=0x${(imm >>> 0).toString(16)}`);
      }
      if (op !== "load_acquire" && op !== "store_release" && size !== 32 && size !== 64)
        bad(code, `atomic ${op} exists only for 32- and 64-bit words, not ${size}-bit`);
      return { code, dst, src, off, imm, bytes: 8, kind: "atomic", size, op, fetch };
    }

    default: {
      // BPF_LD
      const mode = U.BPF_MODE(code);
      const size = sizeBits(code);
      if (mode === U.BPF_IMM) {
        if (size !== 64) bad(code, `the IMM mode exists only with the DW size (lddw)`);
        needReg(code, "dst", dst, maxReg);
        zero(code, "off", off);
        if (src > U.BPF_PSEUDO_MAP_IDX_VALUE) bad(code, `lddw pseudo source ${src} is not 0..6`);
        const imm2 = f.imm2 ?? 0;
        if (!Number.isInteger(imm2) || imm2 < -0x80000000 || imm2 > 0x7fffffff)
          bad(code, `second immediate ${imm2} does not fit in a signed 32-bit field`);
        const value = (BigInt(imm2 >>> 0) << 32n) | BigInt(imm >>> 0);
        return { code, dst, src, off, imm, bytes: 16, kind: "lddw", pseudo: src, imm2, value };
      }
      if (mode === U.BPF_ABS || mode === U.BPF_IND) {
        if (size === 64) bad(code, `legacy packet loads have no DW size`);
        zero(code, "dst", dst, " (legacy packet loads always write r0)");
        zero(code, "off", off);
        if (mode === U.BPF_ABS) {
          zero(code, "src", src);
          return { code, dst, src, off, imm, bytes: 8, kind: "ld_abs", size };
        }
        needReg(code, "src", src, maxReg);
        return { code, dst, src, off, imm, bytes: 8, kind: "ld_ind", size };
      }
      bad(code, `ld supports only the IMM (with DW), ABS and IND modes, not ${hex8(mode)}`);
    }
  }
}

/** Copies an instruction with new raw fields, re-validated (e.g. to patch a jump offset). */
export function withFields(
  insn: Instruction,
  fields: Partial<InstructionFields>,
  opts?: DecodeOptions,
): Instruction {
  const cur: InstructionFields = {
    code: insn.code,
    dst: insn.dst,
    src: insn.src,
    off: insn.off,
    imm: insn.imm,
  };
  if (insn.kind === "lddw") cur.imm2 = insn.imm2;
  return instructionFromFields({ ...cur, ...fields }, opts);
}

/** Number of 8-byte slots an instruction takes (2 for lddw). */
export function slotCount(insn: Instruction): 1 | 2 {
  return insn.bytes === 16 ? 2 : 1;
}
