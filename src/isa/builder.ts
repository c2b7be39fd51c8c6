/**
 * Writing programs in TypeScript: `asm.*` functions that each return one validated
 * `Instruction`, and `ProgramBuilder`, which adds labels and resolves jumps to them.
 *
 * Registers are the `R0`..`R10` objects, so `asm.mov64(R1, R2)` (register) and
 * `asm.mov64(R1, 2)` (immediate) cannot be confused.
 *
 * @example
 * ```ts
 * import { ProgramBuilder, R0, R1, asm } from "tsbpf/isa";
 * const b = new ProgramBuilder();
 * b.mov64(R0, 0);
 * b.jeq(R1, 0, "out");
 * b.mov64(R0, 1);
 * b.label("out");
 * b.exit();
 * const insns = b.build();          // Instruction[]
 * const same = [asm.mov64(R0, 2), asm.exit()];
 * ```
 * @module
 */

import { helperIdByName } from "../uapi/index.ts";
import * as U from "../uapi/insn.ts";
import {
  type AccessSize,
  type AluOp,
  type AtomicOp,
  aluOpCode,
  atomicImm,
  type Instruction,
  type InstructionFields,
  instructionFromFields,
  type JumpOp,
  jumpOpCode,
  sizeCode,
  withFields,
} from "./instruction.ts";

/** A register operand; use the `R0`..`R10` constants. */
export class Reg {
  /** The register number 0..10. */
  readonly n: number;
  /** Use `R0`..`R10` rather than constructing registers. */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > 10) throw new RangeError(`no register r${n}`);
    this.n = n;
  }
  /** `r<n>` */
  toString(): string {
    return `r${this.n}`;
  }
}

/** Return value register. */
export const R0 = new Reg(0);
/** Argument 1 (context at entry). */
export const R1 = new Reg(1);
/** Argument 2. */
export const R2 = new Reg(2);
/** Argument 3. */
export const R3 = new Reg(3);
/** Argument 4. */
export const R4 = new Reg(4);
/** Argument 5. */
export const R5 = new Reg(5);
/** Callee-saved. */
export const R6 = new Reg(6);
/** Callee-saved. */
export const R7 = new Reg(7);
/** Callee-saved. */
export const R8 = new Reg(8);
/** Callee-saved. */
export const R9 = new Reg(9);
/** Frame pointer (read-only). */
export const R10 = new Reg(10);

/** A register or a 32-bit signed immediate. */
export type Operand = Reg | number;

function make(f: InstructionFields): Instruction {
  return instructionFromFields(f);
}

function imm32(v: number): number {
  if (!Number.isInteger(v)) throw new RangeError(`immediate ${v} is not an integer`);
  // Accept unsigned spellings of 32-bit values (0xffffffff) as well as signed ones.
  if (v >= -0x80000000 && v <= 0xffffffff) return v | 0;
  throw new RangeError(`immediate ${v} does not fit in 32 bits`);
}

function alu(cls: number, op: AluOp, dst: Reg, src: Operand): Instruction {
  let off = 0;
  if (op === "sdiv" || op === "smod") off = 1;
  if (src instanceof Reg) {
    return make({ code: cls | aluOpCode(op) | U.BPF_X, dst: dst.n, src: src.n, off, imm: 0 });
  }
  return make({ code: cls | aluOpCode(op) | U.BPF_K, dst: dst.n, src: 0, off, imm: imm32(src) });
}

function jmp(cls: number, op: JumpOp, dst: Reg, src: Operand, off: number): Instruction {
  if (src instanceof Reg)
    return make({ code: cls | jumpOpCode(op) | U.BPF_X, dst: dst.n, src: src.n, off, imm: 0 });
  return make({ code: cls | jumpOpCode(op) | U.BPF_K, dst: dst.n, src: 0, off, imm: imm32(src) });
}

function lddw(dst: Reg, pseudo: number, lo: number, hi: number): Instruction {
  return make({
    code: U.BPF_LD | U.BPF_IMM | U.BPF_DW,
    dst: dst.n,
    src: pseudo,
    off: 0,
    imm: lo,
    imm2: hi,
  });
}

/**
 * The helper id for a name, with or without `bpf_` (`"map_lookup_elem"`), from the
 * uapi helper table; undefined for an unknown name.
 */
export function resolveHelper(name: string): number | undefined {
  return helperIdByName(name);
}

/**
 * One function per instruction form; each returns a validated `Instruction`.
 * Jump offsets here are plain numbers of slots; `ProgramBuilder` adds labels.
 */
export const asm = {
  /** Any ALU64 operation: `dst op= src`. */
  alu64: (op: AluOp, dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, op, dst, src),
  /** Any 32-bit ALU operation: `wdst op= wsrc`. */
  alu32: (op: AluOp, dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU, op, dst, src),
  /** `dst = src` (64-bit). */
  mov64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "mov", dst, src),
  /** `wdst = wsrc` (32-bit, zero-extends). */
  mov32: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU, "mov", dst, src),
  /** `dst += src` */
  add64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "add", dst, src),
  /** `wdst += wsrc` */
  add32: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU, "add", dst, src),
  /** `dst -= src` */
  sub64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "sub", dst, src),
  /** `wdst -= wsrc` */
  sub32: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU, "sub", dst, src),
  /** `dst *= src` */
  mul64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "mul", dst, src),
  /** `dst /= src` (unsigned) */
  div64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "div", dst, src),
  /** `dst s/= src` (signed, cpu v4) */
  sdiv64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "sdiv", dst, src),
  /** `dst %= src` (unsigned) */
  mod64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "mod", dst, src),
  /** `dst s%= src` (signed, cpu v4) */
  smod64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "smod", dst, src),
  /** `dst |= src` */
  or64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "or", dst, src),
  /** `dst &= src` */
  and64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "and", dst, src),
  /** `dst ^= src` */
  xor64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "xor", dst, src),
  /** `dst <<= src` */
  lsh64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "lsh", dst, src),
  /** `dst >>= src` (logical) */
  rsh64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "rsh", dst, src),
  /** `dst s>>= src` (arithmetic) */
  arsh64: (dst: Reg, src: Operand): Instruction => alu(U.BPF_ALU64, "arsh", dst, src),
  /** `dst = -dst` */
  neg64: (dst: Reg): Instruction => alu(U.BPF_ALU64, "neg", dst, 0),
  /** `wdst = -wdst` */
  neg32: (dst: Reg): Instruction => alu(U.BPF_ALU, "neg", dst, 0),
  /** `dst = (sN)src`: sign-extending move (cpu v4). */
  movsx64: (dst: Reg, src: Reg, from: 8 | 16 | 32): Instruction =>
    make({ code: U.BPF_ALU64 | U.BPF_MOV | U.BPF_X, dst: dst.n, src: src.n, off: from, imm: 0 }),
  /** `wdst = (sN)wsrc`: sign-extending 32-bit move (cpu v4). */
  movsx32: (dst: Reg, src: Reg, from: 8 | 16): Instruction =>
    make({ code: U.BPF_ALU | U.BPF_MOV | U.BPF_X, dst: dst.n, src: src.n, off: from, imm: 0 }),
  /** `dst = leN dst` (to little-endian). */
  le: (dst: Reg, bits: 16 | 32 | 64): Instruction =>
    make({ code: U.BPF_ALU | U.BPF_END | U.BPF_TO_LE, dst: dst.n, src: 0, off: 0, imm: bits }),
  /** `dst = beN dst` (to big-endian). */
  be: (dst: Reg, bits: 16 | 32 | 64): Instruction =>
    make({ code: U.BPF_ALU | U.BPF_END | U.BPF_TO_BE, dst: dst.n, src: 0, off: 0, imm: bits }),
  /** `dst = bswapN dst` (unconditional byte swap, cpu v4). */
  bswap: (dst: Reg, bits: 16 | 32 | 64): Instruction =>
    make({ code: U.BPF_ALU64 | U.BPF_END, dst: dst.n, src: 0, off: 0, imm: bits }),
  /** `dst = *(uN *)(src + off)` */
  ldx: (size: AccessSize, dst: Reg, src: Reg, off = 0): Instruction =>
    make({ code: U.BPF_LDX | U.BPF_MEM | sizeCode(size), dst: dst.n, src: src.n, off, imm: 0 }),
  /** `dst = *(sN *)(src + off)`: sign-extending load (cpu v4). */
  ldxs: (size: 8 | 16 | 32, dst: Reg, src: Reg, off = 0): Instruction =>
    make({ code: U.BPF_LDX | U.BPF_MEMSX | sizeCode(size), dst: dst.n, src: src.n, off, imm: 0 }),
  /** `*(uN *)(dst + off) = imm` */
  st: (size: AccessSize, dst: Reg, off: number, imm: number): Instruction =>
    make({ code: U.BPF_ST | U.BPF_MEM | sizeCode(size), dst: dst.n, src: 0, off, imm: imm32(imm) }),
  /** `*(uN *)(dst + off) = src` */
  stx: (size: AccessSize, dst: Reg, off: number, src: Reg): Instruction =>
    make({ code: U.BPF_STX | U.BPF_MEM | sizeCode(size), dst: dst.n, src: src.n, off, imm: 0 }),
  /**
   * Atomic operation on `*(uN *)(dst + off)` with `src` (32 or 64 bits; any size for
   * load_acquire/store_release). `fetch` returns the old value in `src`.
   */
  atomic: (
    op: AtomicOp,
    size: AccessSize,
    dst: Reg,
    off: number,
    src: Reg,
    fetch = false,
  ): Instruction =>
    make({
      code: U.BPF_STX | U.BPF_ATOMIC | sizeCode(size),
      dst: dst.n,
      src: src.n,
      off,
      imm: atomicImm(op, fetch),
    }),
  /** `dst = imm64` (16 bytes); negative numbers and bigints are taken modulo 2^64. */
  lddw: (dst: Reg, value: bigint | number): Instruction => {
    const v = BigInt.asUintN(64, BigInt(value));
    return lddw(dst, 0, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
  },
  /** `dst = map_fd(fd)`: BPF_PSEUDO_MAP_FD. */
  ldMapFd: (dst: Reg, fd: number): Instruction => lddw(dst, U.BPF_PSEUDO_MAP_FD, fd, 0),
  /** `dst = map_value(fd) + off`: BPF_PSEUDO_MAP_VALUE. */
  ldMapValue: (dst: Reg, fd: number, off = 0): Instruction =>
    lddw(dst, U.BPF_PSEUDO_MAP_VALUE, fd, off),
  /** `dst = map_idx(i)`: BPF_PSEUDO_MAP_IDX (index into fd_array). */
  ldMapIdx: (dst: Reg, idx: number): Instruction => lddw(dst, U.BPF_PSEUDO_MAP_IDX, idx, 0),
  /** `dst = map_idx_value(i) + off`: BPF_PSEUDO_MAP_IDX_VALUE. */
  ldMapIdxValue: (dst: Reg, idx: number, off = 0): Instruction =>
    lddw(dst, U.BPF_PSEUDO_MAP_IDX_VALUE, idx, off),
  /** `dst = &ksym`: BPF_PSEUDO_BTF_ID with the kernel BTF id. */
  ldBtfId: (dst: Reg, btfId: number, btfFd = 0): Instruction =>
    lddw(dst, U.BPF_PSEUDO_BTF_ID, btfId, btfFd),
  /** `dst = &func`: BPF_PSEUDO_FUNC, `off` slots from the next instruction. */
  ldFunc: (dst: Reg, off: number): Instruction => lddw(dst, U.BPF_PSEUDO_FUNC, off, 0),
  /** `r0 = *(uN *)skb[imm]` (legacy). */
  ldAbs: (size: 8 | 16 | 32, imm: number): Instruction =>
    make({ code: U.BPF_LD | U.BPF_ABS | sizeCode(size), dst: 0, src: 0, off: 0, imm: imm32(imm) }),
  /** `r0 = *(uN *)skb[src + imm]` (legacy). */
  ldInd: (size: 8 | 16 | 32, src: Reg, imm = 0): Instruction =>
    make({
      code: U.BPF_LD | U.BPF_IND | sizeCode(size),
      dst: 0,
      src: src.n,
      off: 0,
      imm: imm32(imm),
    }),
  /** `if dst op src goto +off` (64-bit compare). */
  jmp: (op: JumpOp, dst: Reg, src: Operand, off: number): Instruction =>
    jmp(U.BPF_JMP, op, dst, src, off),
  /** `if wdst op wsrc goto +off` (32-bit compare). */
  jmp32: (op: JumpOp, dst: Reg, src: Operand, off: number): Instruction =>
    jmp(U.BPF_JMP32, op, dst, src, off),
  /** `goto +off` */
  ja: (off: number): Instruction =>
    make({ code: U.BPF_JMP | U.BPF_JA, dst: 0, src: 0, off, imm: 0 }),
  /** `gotol +imm` (32-bit range, cpu v4). */
  gotol: (imm: number): Instruction =>
    make({ code: U.BPF_JMP32 | U.BPF_JA, dst: 0, src: 0, off: 0, imm }),
  /** `may_goto +off` */
  mayGoto: (off: number): Instruction =>
    make({ code: U.BPF_JMP | U.BPF_JCOND, dst: 0, src: U.BPF_MAY_GOTO, off, imm: 0 }),
  /** Helper call by id, or by name (`"map_lookup_elem"`, `"bpf_map_lookup_elem"`). */
  call: (helper: number | string): Instruction => {
    let id: number | undefined = typeof helper === "number" ? helper : resolveHelper(helper);
    if (id === undefined && typeof helper === "string" && /^\d+$/.test(helper)) id = Number(helper);
    if (id === undefined) throw new RangeError(`unknown helper ${helper}`);
    return make({ code: U.BPF_JMP | U.BPF_CALL, dst: 0, src: 0, off: 0, imm: id });
  },
  /** bpf-to-bpf call `call pc+off`. */
  callBpf: (off: number): Instruction =>
    make({ code: U.BPF_JMP | U.BPF_CALL, dst: 0, src: U.BPF_PSEUDO_CALL, off: 0, imm: off }),
  /** kfunc call by BTF id; `btfFdIndex` selects a module BTF from fd_array. */
  callKfunc: (btfId: number, btfFdIndex = 0): Instruction =>
    make({
      code: U.BPF_JMP | U.BPF_CALL,
      dst: 0,
      src: U.BPF_PSEUDO_KFUNC_CALL,
      off: btfFdIndex,
      imm: btfId,
    }),
  /** `exit` */
  exit: (): Instruction => make({ code: U.BPF_JMP | U.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 }),
} as const;

/** A jump target: a label name, or a slot offset relative to the next instruction. */
export type Target = string | number;

interface Pending {
  insn: Instruction;
  label?: string;
  line?: number;
}

/**
 * Builds a program instruction by instruction, with labels. Jump, call and
 * `ldFunc` targets may be label names; `build()` turns them into slot offsets
 * (and picks nothing on its own: a `goto` whose label is beyond ±32767 slots fails;
 * use `gotol`).
 */
export class ProgramBuilder {
  private readonly items: Pending[] = [];
  private readonly labels = new Map<string, number>();
  private slots = 0;

  /** Appends a ready instruction. */
  emit(insn: Instruction): this {
    this.items.push({ insn });
    this.slots += insn.bytes / 8;
    return this;
  }

  /** Defines `name` at the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.slots);
    return this;
  }

  /** Number of 8-byte slots emitted so far. */
  get length(): number {
    return this.slots;
  }

  private target(insn: Instruction, t: Target): this {
    if (typeof t === "number") return this.emit(insn);
    this.items.push({ insn, label: t });
    this.slots += insn.bytes / 8;
    return this;
  }

  /** `dst = src` (64-bit) */
  mov64(dst: Reg, src: Operand): this {
    return this.emit(asm.mov64(dst, src));
  }
  /** `wdst = wsrc` */
  mov32(dst: Reg, src: Operand): this {
    return this.emit(asm.mov32(dst, src));
  }
  /** Any 64-bit ALU op. */
  alu64(op: AluOp, dst: Reg, src: Operand): this {
    return this.emit(asm.alu64(op, dst, src));
  }
  /** Any 32-bit ALU op. */
  alu32(op: AluOp, dst: Reg, src: Operand): this {
    return this.emit(asm.alu32(op, dst, src));
  }
  /** `dst += src` */
  add64(dst: Reg, src: Operand): this {
    return this.emit(asm.add64(dst, src));
  }
  /** `dst -= src` */
  sub64(dst: Reg, src: Operand): this {
    return this.emit(asm.sub64(dst, src));
  }
  /** `dst = *(uN *)(src + off)` */
  ldx(size: AccessSize, dst: Reg, src: Reg, off = 0): this {
    return this.emit(asm.ldx(size, dst, src, off));
  }
  /** `*(uN *)(dst + off) = imm` */
  st(size: AccessSize, dst: Reg, off: number, imm: number): this {
    return this.emit(asm.st(size, dst, off, imm));
  }
  /** `*(uN *)(dst + off) = src` */
  stx(size: AccessSize, dst: Reg, off: number, src: Reg): this {
    return this.emit(asm.stx(size, dst, off, src));
  }
  /** `dst = imm64` */
  lddw(dst: Reg, value: bigint | number): this {
    return this.emit(asm.lddw(dst, value));
  }
  /** `dst = map_fd(fd)` */
  ldMapFd(dst: Reg, fd: number): this {
    return this.emit(asm.ldMapFd(dst, fd));
  }
  /** `dst = &func` for a callback; the target may be a label. */
  ldFunc(dst: Reg, target: Target): this {
    return this.target(asm.ldFunc(dst, typeof target === "number" ? target : 0), target);
  }
  /** `if dst op src goto target` (64-bit). */
  jmp(op: JumpOp, dst: Reg, src: Operand, target: Target): this {
    return this.target(asm.jmp(op, dst, src, typeof target === "number" ? target : 0), target);
  }
  /** `if wdst op wsrc goto target` (32-bit). */
  jmp32(op: JumpOp, dst: Reg, src: Operand, target: Target): this {
    return this.target(asm.jmp32(op, dst, src, typeof target === "number" ? target : 0), target);
  }
  /** `if dst == src goto target` */
  jeq(dst: Reg, src: Operand, target: Target): this {
    return this.jmp("jeq", dst, src, target);
  }
  /** `if dst != src goto target` */
  jne(dst: Reg, src: Operand, target: Target): this {
    return this.jmp("jne", dst, src, target);
  }
  /** `goto target` */
  ja(target: Target): this {
    return this.target(asm.ja(typeof target === "number" ? target : 0), target);
  }
  /** `gotol target` */
  gotol(target: Target): this {
    return this.target(asm.gotol(typeof target === "number" ? target : 0), target);
  }
  /** Helper call by id or name. */
  call(helper: number | string): this {
    return this.emit(asm.call(helper));
  }
  /** bpf-to-bpf call to a label or slot offset. */
  callBpf(target: Target): this {
    return this.target(asm.callBpf(typeof target === "number" ? target : 0), target);
  }
  /** `exit` */
  exit(): this {
    return this.emit(asm.exit());
  }

  /** Resolves labels and returns the instructions. Throws on an unknown label. */
  build(): Instruction[] {
    const out: Instruction[] = [];
    let slot = 0;
    for (const it of this.items) {
      let insn = it.insn;
      slot += insn.bytes / 8;
      if (it.label !== undefined) {
        const at = this.labels.get(it.label);
        if (at === undefined) throw new Error(`unknown label ${it.label}`);
        insn = retarget(insn, at - slot);
      }
      out.push(insn);
    }
    return out;
  }
}

/**
 * Returns a copy of a branching instruction (goto, gotol, conditional jump, may_goto,
 * bpf-to-bpf call, ld func) with its offset set to `rel` slots after the next one.
 */
export function retarget(insn: Instruction, rel: number): Instruction {
  switch (insn.kind) {
    case "goto":
      return insn.long ? withFields(insn, { imm: rel }) : checkOff(insn, rel);
    case "jump":
    case "may_goto":
      return checkOff(insn, rel);
    case "call":
      if (insn.target === "bpf") return withFields(insn, { imm: rel });
      break;
    case "lddw":
      // The kernel resolves a function address from the lddw's second slot (i + imm + 1).
      if (insn.pseudo === U.BPF_PSEUDO_FUNC) return withFields(insn, { imm: rel + 1 });
      break;
  }
  throw new Error(`${insn.kind} instruction has no jump target`);
}

function checkOff(insn: Instruction, rel: number): Instruction {
  if (rel < -0x8000 || rel > 0x7fff)
    throw new RangeError(`jump of ${rel} slots does not fit in 16 bits; use gotol`);
  return withFields(insn, { off: rel });
}
