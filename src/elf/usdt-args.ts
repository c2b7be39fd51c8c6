/**
 * USDT argument specs: the assembler operands `sys/sdt.h` records for each probe
 * argument (`-4@%eax`, `8@-8(%rbp)`, `4@$5`), turned into the shape libbpf's
 * `usdt.bpf.h` reads at run time: a constant, a register, or memory at a register
 * plus an offset, with the register as its offset in `struct pt_regs`, the size,
 * the signedness and the shift that narrows an 8-byte read to the argument's size.
 *
 * x86-64 (AT&T syntax) and aarch64 operands are understood, as libbpf 1.1 does:
 * - x86-64: `N@$IMM`, `N@%REG`, `N@(%REG)`, `N@OFF(%REG)`;
 * - aarch64: `N@IMM`, `N@REG`, `N@[REG]`, `N@[REG, OFF]`.
 * Scaled-index addressing (`8@-4(%rbp,%rax,8)`) and symbolic offsets
 * (`8@foo(%rip)`) are refused: libbpf 1.1's BPF side has no way to express them.
 *
 * Pure: no `node:` imports.
 * @module
 */

/** Where an argument's value is (libbpf's `enum __bpf_usdt_arg_type`). */
export const UsdtArgKind = {
  /** A constant, in {@link UsdtArgSpec.valueOffset}. */
  CONST: 0,
  /** The value of a register. */
  REG: 1,
  /** Memory at a register's value plus {@link UsdtArgSpec.valueOffset}. */
  REG_DEREF: 2,
} as const;
/** One of {@link UsdtArgKind}. */
export type UsdtArgKind = (typeof UsdtArgKind)[keyof typeof UsdtArgKind];

/** The instruction sets whose operand syntax {@link parseUsdtArgs} reads. */
export type UsdtArch = "x86_64" | "aarch64";

/** One argument, as `struct __bpf_usdt_arg_spec` holds it. */
export interface UsdtArgSpec {
  /** Constant, register or memory at register + offset. */
  readonly kind: UsdtArgKind;
  /** The constant (CONST) or the offset from the register (REG_DEREF); 0 for REG. */
  readonly valueOffset: bigint;
  /** The register's name as written (`rbp`, `eax`, `x0`), absent for constants. */
  readonly register?: string;
  /** `offsetof(struct pt_regs, REG)`; 0 for constants. */
  readonly regOffset: number;
  /** The argument's size in bytes: 1, 2, 4 or 8. */
  readonly size: 1 | 2 | 4 | 8;
  /** A negative size in the note: the value is sign-extended. */
  readonly signed: boolean;
  /** 64 - 8 * size: bits cleared (or sign-filled) above the argument's size. */
  readonly bitshift: number;
  /** The operand as the note wrote it. */
  readonly text: string;
}

/** An argument string that cannot be read, naming the probe and the argument. */
export class UsdtArgError extends Error {
  override readonly name: string = "UsdtArgError";
  /** The probe, as `provider:name`. */
  readonly probe: string;
  /** The argument's position (0-based). */
  readonly index: number;
  /** The operand text. */
  readonly arg: string;

  constructor(probe: string, index: number, arg: string, reason: string) {
    super(`USDT probe ${probe}: argument #${index + 1} "${arg}": ${reason}`);
    this.probe = probe;
    this.index = index;
    this.arg = arg;
  }
}

/** libbpf's `USDT_MAX_ARG_CNT` (= `BPF_USDT_MAX_ARG_CNT` in usdt.bpf.h). */
export const USDT_MAX_ARGS = 12;

/**
 * Byte offsets of the x86-64 general registers in the kernel's `struct pt_regs`
 * (arch/x86/include/asm/ptrace.h), the context of a uprobe program.
 */
const X86_PT_REGS: Readonly<Record<string, number>> = {
  r15: 0,
  r14: 8,
  r13: 16,
  r12: 24,
  bp: 32,
  bx: 40,
  r11: 48,
  r10: 56,
  r9: 64,
  r8: 72,
  ax: 80,
  cx: 88,
  dx: 96,
  si: 104,
  di: 112,
  ip: 128,
  sp: 152,
};

/**
 * The pt_regs slot of an x86-64 register name in any of its widths (`rax`, `eax`,
 * `ax`, `al`; `r8`, `r8d`, `r8w`, `r8b`; `rip`). The whole 64-bit register is read;
 * the argument's size narrows it, as libbpf does. `ah`..`dh` are refused.
 */
function x86Register(name: string): number | undefined {
  let m = /^r(8|9|1[0-5])[dwb]?$/.exec(name);
  if (m) return X86_PT_REGS[`r${m[1]}`];
  m = /^[re]?(ax|bx|cx|dx|si|di|bp|sp|ip)$/.exec(name);
  if (m) return X86_PT_REGS[m[1] as string];
  m = /^(a|b|c|d)l$/.exec(name);
  if (m) return X86_PT_REGS[`${m[1]}x`];
  m = /^(si|di|bp|sp)l$/.exec(name);
  if (m) return X86_PT_REGS[m[1] as string];
  return undefined;
}

/** arm64 `struct user_pt_regs`: x0..x30 at 8 * n, sp at 248, pc at 256. */
function arm64Register(name: string): number | undefined {
  if (name === "sp") return 248;
  const m = /^[xw](\d+)$/.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 30 ? n * 8 : undefined;
}

const INT = String.raw`[-+]?(?:0x[0-9a-fA-F]+|\d+)`;

/** A 64-bit value, as its two's complement; undefined past what 64 bits hold. */
function parseInt64(text: string): bigint | undefined {
  const neg = text.startsWith("-");
  const v = BigInt(text.replace(/^[-+]/, ""));
  if (neg ? v > 2n ** 63n : v >= 2n ** 64n) return undefined;
  return BigInt.asUintN(64, neg ? -v : v);
}

type Operand = { kind: UsdtArgKind; register?: string; valueOffset: bigint | undefined };

function x86Operand(op: string, fail: (reason: string) => never): Operand {
  let m = new RegExp(`^\\$(${INT})$`).exec(op);
  if (m) return { kind: UsdtArgKind.CONST, valueOffset: parseInt64(m[1] as string) };
  m = /^%([a-z0-9]+)$/.exec(op);
  if (m) return { kind: UsdtArgKind.REG, register: m[1] as string, valueOffset: 0n };
  m = new RegExp(`^(${INT})?\\(%([a-z0-9]+)\\)$`).exec(op);
  if (m) {
    return {
      kind: UsdtArgKind.REG_DEREF,
      register: m[2] as string,
      valueOffset: m[1] ? parseInt64(m[1]) : 0n,
    };
  }
  if (/\(%[a-z0-9]*,/.test(op) || /^[^(]*\(,/.test(op)) {
    fail("scaled-index addressing is not supported (libbpf 1.1's usdt.bpf.h cannot read it)");
  }
  if (/^[A-Za-z_.][\w.]*(?:[-+]\d+)?\(%/.test(op)) {
    fail("a symbol as offset is not supported (libbpf's usdt.bpf.h takes a number)");
  }
  return fail("not an x86-64 operand of the forms $IMM, %REG, (%REG) or OFF(%REG)");
}

function arm64Operand(op: string, fail: (reason: string) => never): Operand {
  let m = new RegExp(`^(${INT})$`).exec(op);
  if (m) return { kind: UsdtArgKind.CONST, valueOffset: parseInt64(m[1] as string) };
  m = /^([a-z0-9]+)$/.exec(op);
  if (m) return { kind: UsdtArgKind.REG, register: m[1] as string, valueOffset: 0n };
  m = new RegExp(`^\\[([a-z0-9]+)(?:\\s*,\\s*#?(${INT}))?\\]$`).exec(op);
  if (m) {
    return {
      kind: UsdtArgKind.REG_DEREF,
      register: m[1] as string,
      valueOffset: m[2] ? parseInt64(m[2]) : 0n,
    };
  }
  return fail("not an aarch64 operand of the forms IMM, REG, [REG] or [REG, OFF]");
}

/**
 * Parses one operand, `SIZE@OPERAND`, of probe `probe` (for errors).
 *
 * @throws {UsdtArgError} naming the probe and the argument for a size other than
 * ±1/2/4/8, an unknown register, or syntax libbpf's BPF side cannot follow
 * @example
 * ```ts
 * parseUsdtArg("-4@%eax", "python:function__entry", 2);
 * // { kind: UsdtArgKind.REG, register: "eax", regOffset: 80, size: 4, signed: true, bitshift: 32, ... }
 * ```
 */
export function parseUsdtArg(
  text: string,
  probe: string,
  index: number,
  arch: UsdtArch = "x86_64",
): UsdtArgSpec {
  const fail = (reason: string): never => {
    throw new UsdtArgError(probe, index, text, reason);
  };
  const m = /^([-+]?\d+)@(.+)$/.exec(text);
  if (!m) return fail("not of the form SIZE@OPERAND (e.g. -4@%eax)");
  const sized = Number(m[1]);
  const size = Math.abs(sized);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    return fail(`size ${m[1]} is not 1, 2, 4 or 8 bytes (negative for signed)`);
  }
  const op = (arch === "x86_64" ? x86Operand : arm64Operand)(m[2] as string, fail);
  if (op.valueOffset === undefined) fail("the number does not fit 64 bits");
  let regOffset = 0;
  if (op.register !== undefined) {
    const off = arch === "x86_64" ? x86Register(op.register) : arm64Register(op.register);
    if (off === undefined) fail(`unknown ${arch} register "${op.register}"`);
    regOffset = off as number;
  }
  return {
    kind: op.kind,
    valueOffset: op.valueOffset as bigint,
    ...(op.register !== undefined && { register: op.register }),
    regOffset,
    size: size as 1 | 2 | 4 | 8,
    signed: sized < 0,
    bitshift: 64 - size * 8,
    text,
  };
}

/**
 * Parses a note's whole argument string (operands separated by spaces; empty for a
 * probe without arguments).
 *
 * @throws {UsdtArgError} for more than {@link USDT_MAX_ARGS} arguments or an operand
 * {@link parseUsdtArg} refuses
 * @example
 * ```ts
 * parseUsdtArgs("8@%rbp 8@%r12 -4@%eax", "python:function__entry").map((a) => a.size); // [8, 8, 4]
 * ```
 */
export function parseUsdtArgs(
  args: string,
  probe: string,
  arch: UsdtArch = "x86_64",
): UsdtArgSpec[] {
  // aarch64 operands hold ", " inside brackets: split on spaces outside them.
  const words = args.trim() === "" ? [] : (args.trim().match(/(?:\[[^\]]*\]|\S)+/g) ?? []);
  if (words.length > USDT_MAX_ARGS) {
    throw new UsdtArgError(
      probe,
      USDT_MAX_ARGS,
      words[USDT_MAX_ARGS] as string,
      `more than ${USDT_MAX_ARGS} arguments (usdt.bpf.h's BPF_USDT_MAX_ARG_CNT)`,
    );
  }
  return words.map((w, i) => parseUsdtArg(w, probe, i, arch));
}
