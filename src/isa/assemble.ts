/**
 * Text assembler for the syntax the kernel verifier, bpftool and LLVM print:
 * `r0 = 1`, `w1 += w2`, `if r1 > 0x10 goto +3`, `*(u32 *)(r10 -8) = r1`,
 * `lock *(u64 *)(r1 +0) += r2`, `r1 = map[id:5]`, `call bpf_map_lookup_elem`, labels
 * (`name:`) and comments (`;`, `//`, `#`). Lines copied from `bpftool prog dump xlated`
 * (`   3: (07) r1 += -8`) or `llvm-objdump -d` (`  3:\t07 01 ...\tr1 += -0x8`) are
 * accepted with their prefixes.
 * @module
 */

import * as U from "../uapi/insn.ts";
import { asm, Reg, resolveHelper, retarget } from "./builder.ts";
import { AssemblerError, InvalidInstructionError } from "./errors.ts";
import {
  type AccessSize,
  type AtomicOp,
  type Instruction,
  instructionFromFields,
} from "./instruction.ts";
import {
  ALU_BY_OPERATOR,
  ATOMIC_BY_OPERATOR,
  JUMP_BY_OPERATOR,
  MULTI_CHAR_OPERATORS,
  parseMemoryType,
} from "./operators.ts";

/**
 * Limits of the assembler, checked before parsing: at most MAX_ASM_LINE characters a
 * line (bpftool and llvm-objdump lines are under 200; the patterns that strip their
 * prefixes and annotations are quadratic in a hostile line) and MAX_ASM_LINES lines
 * (the kernel takes at most 1,000,000 instructions, BPF_COMPLEXITY_LIMIT_INSNS, with
 * room for labels, comments and objdump's lines). Everything after is linear.
 */
export const MAX_ASM_LINE = 4096;
/** The most lines one text may have. */
export const MAX_ASM_LINES = 4_000_000;

interface Tok {
  t: "id" | "num" | "op";
  v: string;
  col: number;
  n?: bigint;
}

const SINGLE = "=<>&*()[],+-:#";

function tokenize(line: string, lineNo: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === " " || ch === "\t") {
      i++;
      continue;
    }
    if (ch === "s") {
      // a signed operator (s>>=, s<...), not an identifier
      const op = MULTI_CHAR_OPERATORS.find((o) => line.startsWith(o, i));
      if (op) {
        out.push({ t: "op", v: op, col: i + 1 });
        i += op.length;
        continue;
      }
    }
    if (/[A-Za-z_.$]/.test(ch)) {
      let j = i + 1;
      while (j < line.length && /[A-Za-z0-9_.$]/.test(line[j]!)) j++;
      out.push({ t: "id", v: line.slice(i, j), col: i + 1 });
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]+)/.exec(line.slice(i))!;
      const v = m[1]!;
      if (/[A-Za-z_]/.test(line[i + v.length] ?? "") && !line.startsWith("ll", i + v.length)) {
        throw new AssemblerError(
          lineNo,
          i + 1,
          `malformed number "${line.slice(i).split(/\s/)[0]}"`,
          line,
        );
      }
      out.push({ t: "num", v, col: i + 1, n: BigInt(v) });
      i += v.length;
      continue;
    }
    const op = MULTI_CHAR_OPERATORS.find((o) => line.startsWith(o, i));
    if (op) {
      out.push({ t: "op", v: op, col: i + 1 });
      i += op.length;
      continue;
    }
    if (SINGLE.includes(ch)) {
      out.push({ t: "op", v: ch, col: i + 1 });
      i++;
      continue;
    }
    throw new AssemblerError(lineNo, i + 1, `unexpected character "${ch}"`, line);
  }
  return out;
}

/** Strips a comment: `;` or `//` anywhere, `#` at the start or after whitespace. */
function stripComment(line: string): string {
  let cut = line.length;
  const semi = line.indexOf(";");
  if (semi >= 0) cut = semi;
  const sl = line.indexOf("//");
  if (sl >= 0 && sl < cut) cut = sl;
  const hash = /(^|\s)#/.exec(line);
  if (hash && hash.index + hash[1]!.length < cut) cut = hash.index + hash[1]!.length;
  return line.slice(0, cut);
}

/** Replaces a known listing prefix (bpftool or llvm-objdump) by spaces, keeping columns. */
function stripPrefix(line: string): { text: string; opcode?: number } {
  const llvm = /^(\s*\d+:\t(?:[0-9a-f]{2} )*[0-9a-f]{2}\t)/.exec(line);
  if (llvm) return { text: " ".repeat(llvm[1]!.length) + line.slice(llvm[1]!.length) };
  const k = /^(\s*\d+:\s*)?\(([0-9a-f]{2})\)\s/.exec(line);
  if (k)
    return { text: " ".repeat(k[0].length) + line.slice(k[0].length), opcode: parseInt(k[2]!, 16) };
  const n = /^(\s*\d+:\s)/.exec(line);
  if (n) return { text: " ".repeat(n[1]!.length) + line.slice(n[1]!.length) };
  return { text: line };
}

interface Fixup {
  index: number;
  label: string;
  line: number;
  col: number;
}

/** Options of `assemble`. */
export interface AssembleOptions {
  /** Helper ids by name, for `call NAME`; defaults to the uapi helper table. */
  helperId?: (name: string) => number | undefined;
  /**
   * Filled with each returned instruction's 1-based source line, in order (an editor
   * maps the verifier's instruction numbers back to the text this way).
   */
  lines?: number[];
}

class LineParser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly line: number,
    private readonly src: string,
  ) {}

  err(reason: string, tok = this.toks[this.i]): never {
    const col = tok ? tok.col : this.src.trimEnd().length + 1;
    throw new AssemblerError(this.line, col, reason, this.src);
  }
  peek(k = 0): Tok | undefined {
    return this.toks[this.i + k];
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  next(): Tok {
    const t = this.toks[this.i];
    if (!t) this.err("unexpected end of line");
    this.i++;
    return t;
  }
  is(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.v === v;
  }
  eat(v: string): boolean {
    if (this.is(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  expect(v: string, what = `"${v}"`): Tok {
    const t = this.peek();
    if (!t || t.v !== v) this.err(`expected ${what}${t ? `, found "${t.v}"` : ""}`);
    this.i++;
    return t;
  }
  end(): void {
    if (!this.atEnd()) this.err(`expected end of instruction, found "${this.peek()!.v}"`);
  }
  isReg(k = 0): boolean {
    const t = this.peek(k);
    return t?.t === "id" && /^[rw](10|[0-9])$/.test(t.v);
  }
  reg(width?: "r" | "w" | "any"): { reg: Reg; w: boolean } {
    const t = this.peek();
    if (t?.t !== "id" || !/^[rw](10|[0-9])$/.test(t.v))
      this.err(`expected a register (r0..r10${width === "r" ? "" : " or w0..w10"})`);
    if (width === "r" && t.v[0] !== "r") this.err(`expected a 64-bit register r0..r10`);
    if (width === "w" && t.v[0] !== "w") this.err(`expected a 32-bit register w0..w10`);
    this.i++;
    return { reg: new Reg(Number(t.v.slice(1))), w: t.v[0] === "w" };
  }
  /** A possibly signed number. */
  num(what = "a number"): { n: bigint; tok: Tok } {
    const start = this.peek();
    let neg = false;
    if (this.eat("-")) neg = true;
    else this.eat("+");
    const t = this.peek();
    if (t?.t !== "num") this.err(`expected ${what}`, t ?? start);
    this.i++;
    return { n: neg ? -t.n! : t.n!, tok: start ?? t };
  }
  isNum(k = 0): boolean {
    const t = this.peek(k);
    if (t?.t === "num") return true;
    return (t?.v === "-" || t?.v === "+") && this.peek(k + 1)?.t === "num";
  }
  /** A 32-bit immediate: signed, or unsigned up to 0xffffffff (wrapped). */
  imm32(what = "an immediate"): number {
    const { n, tok } = this.num(what);
    if (n < -0x80000000n || n > 0xffffffffn) this.err(`${what} ${n} does not fit in 32 bits`, tok);
    return Number(BigInt.asIntN(32, n));
  }
  int(lo: number, hi: number, what: string): number {
    const { n, tok } = this.num(what);
    if (n < BigInt(lo) || n > BigInt(hi))
      this.err(`${what} ${n} is out of range ${lo}..${hi}`, tok);
    return Number(n);
  }
  /** `(` REG [+|- num] `)` with the opening paren already consumed or not. */
  memRef(): { reg: Reg; off: number } {
    this.expect("(");
    const { reg } = this.reg("r");
    let off = 0;
    if (this.is("+") || this.is("-")) off = this.int(-0x8000, 0x7fff, "offset");
    this.expect(")", '")" after the address');
    return { reg, off };
  }
  /** `(uN *)` or `(sN *)` type; returns size and signedness. */
  typeCast(): { size: AccessSize; signed: boolean } {
    this.expect("(");
    const t = this.next();
    const type = parseMemoryType(t.v);
    if (!type) this.err("expected a memory type u8, u16, u32, u64 (or s8, s16, s32)", t);
    this.expect("*", '"*" in the memory type');
    this.expect(")", '")" after the memory type');
    return type;
  }
}

/**
 * Assembles text into instructions. Jump, call and `subprog[...]` targets may be
 * labels, pc-relative offsets (`pc+3`, `+3`, `-1`) or, for `call`, a helper name or id.
 * Throws `AssemblerError` with the line, column and what was expected.
 *
 * @example
 * ```ts
 * const insns = assemble(`
 *   r0 = 0
 *   if r1 == 0 goto out   ; skip
 *   r0 = 1
 * out:
 *   exit
 * `);
 * ```
 */
export function assemble(text: string, opts: AssembleOptions = {}): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  const labels = new Map<string, number>();
  const fixups: Fixup[] = [];
  let slot = 0;
  const slotOf: number[] = [];
  const helperId = opts.helperId ?? resolveHelper;

  // Limits first: the regular expressions below are linear in a line only up to a
  // constant, and a program has at most MAX_ASM_INSNS instructions.
  if (lines.length > MAX_ASM_LINES) {
    throw new AssemblerError(
      MAX_ASM_LINES + 1,
      1,
      `the text has ${lines.length} lines, more than ${MAX_ASM_LINES}`,
    );
  }
  lines.forEach((raw, idx) => {
    if (raw.length > MAX_ASM_LINE) {
      throw new AssemblerError(
        idx + 1,
        MAX_ASM_LINE + 1,
        `the line is ${raw.length} characters long, more than ${MAX_ASM_LINE}`,
        raw.slice(0, 80),
      );
    }
  });

  // First pass for label names only, so `call name` knows a label from a helper.
  const labelNames = new Set<string>();
  for (const raw of lines) {
    const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*:/.exec(stripComment(stripPrefix(raw).text));
    if (m) labelNames.add(m[1]!);
    const h = /^[0-9a-f]+ <([^>]+)>:\s*$/.exec(raw.trim());
    if (h) labelNames.add(h[1]!);
  }

  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const h = /^[0-9a-f]+ <([^>]+)>:\s*$/.exec(raw.trim());
    if (h) {
      labels.set(h[1]!, slot);
      return;
    }
    // llvm-objdump's headers
    if (/^\S.*:\s+file format /.test(raw) || /^Disassembly of section /.test(raw)) return;
    // bpftool's `opcodes` lines: only hex bytes
    if (/^\s+(?:[0-9a-f]{2} ?)+\s*$/.test(raw)) return;
    const { text: noPrefix, opcode } = stripPrefix(raw);
    let body = stripComment(noPrefix);
    // llvm-objdump's jump annotation `<sym+0x18>`
    body = body.replace(/\s<[^<>\s][^<>]*>\s*$/, "");
    const toks = tokenize(body, lineNo);
    let k = 0;
    while (toks[k]?.t === "id" && toks[k + 1]?.v === ":") {
      const name = toks[k]!.v;
      if (labels.has(name))
        throw new AssemblerError(lineNo, toks[k]!.col, `label "${name}" is defined twice`, raw);
      labels.set(name, slot);
      k += 2;
    }
    const p = new LineParser(toks.slice(k), lineNo, raw);
    if (p.atEnd()) return;
    let insn: Instruction;
    let label: { name: string; tok: Tok } | undefined;
    const target = (): number => {
      // pc+N, +N, -N, N, or a label
      const t = p.peek();
      if (t?.t === "id" && t.v === "pc") {
        p.next();
        return p.imm32("a pc-relative offset");
      }
      if (t?.t === "id") {
        p.next();
        label = { name: t.v, tok: t };
        return 0;
      }
      return p.imm32("a jump target (label, pc+N, +N or -N)");
    };
    try {
      insn = parseStatement(p, target, opcode, helperId, labelNames, () => label);
    } catch (e) {
      if (e instanceof InvalidInstructionError || e instanceof RangeError)
        p.err(e instanceof InvalidInstructionError ? e.reason : e.message, toks[0]);
      throw e;
    }
    slotOf.push(slot);
    opts.lines?.push(lineNo);
    if (label)
      fixups.push({ index: out.length, label: label.name, line: lineNo, col: label.tok.col });
    out.push(insn);
    slot += insn.bytes / 8;
  });

  for (const f of fixups) {
    const at = labels.get(f.label);
    if (at === undefined)
      throw new AssemblerError(f.line, f.col, `unknown label "${f.label}"`, lines[f.line - 1]);
    const insn = out[f.index]!;
    const rel = at - (slotOf[f.index]! + insn.bytes / 8);
    try {
      out[f.index] = retarget(insn, rel);
    } catch (e) {
      throw new AssemblerError(f.line, f.col, (e as Error).message, lines[f.line - 1]);
    }
  }
  return out;
}

function parseStatement(
  p: LineParser,
  target: () => number,
  opcode: number | undefined,
  helperId: (name: string) => number | undefined,
  labelNames: Set<string>,
  pendingLabel: () => { name: string } | undefined,
): Instruction {
  const first = p.peek()!;
  if (first.t === "id") {
    switch (first.v) {
      case "exit":
        p.next();
        p.end();
        return asm.exit();
      case "goto":
      case "gotol":
      case "may_goto": {
        p.next();
        const off = target();
        p.end();
        if (first.v === "gotol") return asm.gotol(off);
        if (first.v === "may_goto") return asm.mayGoto(off);
        if (off < -0x8000 || off > 0x7fff) p.err("goto offset does not fit in 16 bits; use gotol");
        return asm.ja(off);
      }
      case "call":
        p.next();
        return parseCall(p, target, helperId, labelNames, pendingLabel);
      case "if":
        return parseIf(p, target);
      case "lock":
        return parseLock(p);
      case "store_release": {
        p.next();
        p.expect("(");
        const { size } = p.typeCast();
        const { reg, off } = p.memRef();
        p.expect(",");
        const { reg: src } = p.reg();
        p.expect(")");
        p.end();
        return asm.atomic("store_release", size, reg, off, src);
      }
      case "ld_pseudo": {
        p.next();
        const { reg } = p.reg("r");
        p.expect(",");
        const src = p.int(0, 6, "pseudo source");
        p.expect(",");
        const imm = p.imm32();
        p.end();
        return lddwPseudo(reg, src, imm, 0);
      }
    }
    if (p.isReg()) return parseAssign(p, opcode);
  }
  if (p.is("*")) return parseStore(p);
  return p.err(
    `expected an instruction (register assignment, store, if, goto, call, exit, lock, label:)`,
    first,
  );
}

function lddwPseudo(dst: Reg, src: number, imm: number, imm2: number): Instruction {
  switch (src) {
    case 0:
      return asm.lddw(dst, (BigInt(imm2 >>> 0) << 32n) | BigInt(imm >>> 0));
    case U.BPF_PSEUDO_MAP_FD:
      return asm.ldMapFd(dst, imm);
    case U.BPF_PSEUDO_MAP_VALUE:
      return asm.ldMapValue(dst, imm, imm2);
    case U.BPF_PSEUDO_BTF_ID:
      return asm.ldBtfId(dst, imm, imm2);
    case U.BPF_PSEUDO_FUNC:
      return asm.ldFunc(dst, imm);
    case U.BPF_PSEUDO_MAP_IDX:
      return asm.ldMapIdx(dst, imm);
    default:
      return asm.ldMapIdxValue(dst, imm, imm2);
  }
}

function parseCall(
  p: LineParser,
  target: () => number,
  helperId: (name: string) => number | undefined,
  labelNames: Set<string>,
  pendingLabel: () => { name: string } | undefined,
): Instruction {
  const t = p.peek();
  if (!t) p.err("expected a helper name or id, pc+N, or a label after call");
  if (t.t === "id" && t.v === "pc") {
    const off = target();
    // bpftool appends `#bpf_prog_<tag>_<name>` or `#0x<addr>`: a comment to us.
    if (p.eat("#")) while (!p.atEnd()) p.next();
    p.end();
    return asm.callBpf(off);
  }
  if (t.t === "id" && labelNames.has(t.v)) {
    target();
    p.end();
    if (!pendingLabel()) p.err("internal: label not recorded");
    return asm.callBpf(0);
  }
  if (t.t === "id") {
    p.next();
    let name = t.v;
    // kernel-function is one token split by "-"
    if (name === "kernel" && p.is("-") && p.peek(1)?.v === "function") {
      p.next();
      p.next();
      name = "kernel-function";
    }
    if (p.eat("#")) {
      const imm = p.imm32("the call immediate after #");
      p.end();
      if (name === "kernel-function") return asm.callKfunc(imm);
      return callImm(imm);
    }
    p.end();
    const id = helperId(name);
    if (id === undefined) p.err(`unknown helper or label "${name}"`, t);
    return asm.call(id);
  }
  const imm = p.imm32("a helper id");
  p.end();
  return callImm(imm);
}

function callImm(imm: number): Instruction {
  return asm.call(imm);
}

function parseIf(p: LineParser, target: () => number): Instruction {
  p.next();
  const { reg: dst, w } = p.reg();
  const opTok = p.next();
  const op = JUMP_BY_OPERATOR[opTok.v];
  if (!op) p.err("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)", opTok);
  let src: Reg | number;
  if (p.isReg()) {
    const r = p.reg(w ? "w" : "r");
    src = r.reg;
  } else src = p.imm32("a register or an immediate");
  p.expect("goto");
  const off = target();
  p.end();
  return w ? asm.jmp32(op, dst, src, off) : asm.jmp(op, dst, src, off);
}

function parseLock(p: LineParser): Instruction {
  p.next();
  p.expect("*");
  const { size } = p.typeCast();
  const { reg, off } = p.memRef();
  const opTok = p.next();
  const op = ATOMIC_BY_OPERATOR[opTok.v];
  if (!op) p.err("expected an atomic operator (+=, |=, &=, ^=)", opTok);
  const { reg: src } = p.reg();
  p.end();
  return asm.atomic(op, size, reg, off, src, false);
}

function parseStore(p: LineParser): Instruction {
  p.expect("*");
  const { size, signed } = p.typeCast();
  if (signed) p.err("stores take an unsigned type (u8, u16, u32, u64)");
  const { reg, off } = p.memRef();
  p.expect("=");
  if (p.isReg()) {
    const { reg: src } = p.reg();
    p.end();
    return asm.stx(size, reg, off, src);
  }
  const imm = p.imm32("a register or an immediate to store");
  p.end();
  return asm.st(size, reg, off, imm);
}

/** `name((uN *)(rX +off), ...)` helpers of the atomic forms. */
function atomicArgs(p: LineParser): { size: AccessSize; reg: Reg; off: number } {
  p.expect("(");
  p.expect("(");
  // typeCast wants the "(" itself: step back by re-reading
  const t = p.next();
  const type = parseMemoryType(t.v);
  if (!type || type.signed) p.err("expected a memory type u8, u16, u32 or u64", t);
  p.expect("*");
  p.expect(")");
  const { reg, off } = p.memRef();
  return { size: type.size, reg, off };
}

/**
 * The rest of an xchg/cmpxchg after its address, in either syntax: `, [r0,] rS)`.
 * xchg returns into its source register, cmpxchg compares with and returns into r0.
 */
function exchange(
  p: LineParser,
  op: "xchg" | "cmpxchg",
  dst: Reg,
  size: AccessSize,
  reg: Reg,
  off: number,
): Instruction {
  p.expect(",");
  if (op === "cmpxchg") {
    const r0 = p.reg();
    if (r0.reg.n !== 0 || dst.n !== 0) p.err("cmpxchg compares with and returns into r0");
    p.expect(",");
  }
  const src = p.reg().reg;
  p.expect(")");
  p.end();
  if (op === "xchg" && src.n !== dst.n) p.err("xchg returns into its source register");
  return asm.atomic(op, size, reg, off, src, true);
}

/** LLVM's `(r1 + 0x0, ...)` address form of cmpxchg/xchg. */
function llvmAddr(p: LineParser): { reg: Reg; off: number } {
  p.expect("(");
  const { reg } = p.reg("r");
  let off = 0;
  if (p.is("+") || p.is("-")) off = p.int(-0x8000, 0x7fff, "offset");
  return { reg, off };
}

function parseAssign(p: LineParser, opcode: number | undefined): Instruction {
  const { reg: dst, w } = p.reg();
  const opTok = p.next();
  if (opTok.v !== "=") {
    const op = ALU_BY_OPERATOR[opTok.v];
    if (!op) p.err("expected an assignment operator (=, +=, -=, ..., s>>=)", opTok);
    let src: Reg | number;
    if (p.isReg()) src = p.reg(w ? "w" : "r").reg;
    else src = p.imm32("a register or an immediate");
    p.end();
    return w ? asm.alu32(op, dst, src) : asm.alu64(op, dst, src);
  }
  const t = p.peek();
  if (!t) p.err("expected a value after =");
  // r1 = -r1
  if (t.v === "-" && p.isReg(1)) {
    p.next();
    const r = p.reg(w ? "w" : "r");
    if (r.reg.n !== dst.n) p.err("neg works in place: expected the destination register", t);
    p.end();
    return w ? asm.neg32(dst) : asm.neg64(dst);
  }
  // r1 = (s8)r2
  if (t.v === "(" && /^s(8|16|32)$/.test(p.peek(1)?.v ?? "") && p.is(")", 2)) {
    p.next();
    const from = Number(p.next().v.slice(1)) as 8 | 16 | 32;
    p.next();
    const src = p.reg(w ? "w" : "r").reg;
    p.end();
    if (w) {
      if (from === 32) p.err("a 32-bit sign-extending move takes (s8) or (s16)", t);
      return asm.movsx32(dst, src, from as 8 | 16);
    }
    return asm.movsx64(dst, src, from);
  }
  // r1 = be16 r1, le32, bswap64
  if (t.t === "id") {
    const m = /^(be|le|bswap)(16|32|64)$/.exec(t.v);
    if (m) {
      p.next();
      const r = p.reg();
      if (r.reg.n !== dst.n) p.err("byte swaps work in place: expected the destination register");
      p.end();
      const bits = Number(m[2]) as 16 | 32 | 64;
      return m[1] === "be"
        ? asm.be(dst, bits)
        : m[1] === "le"
          ? asm.le(dst, bits)
          : asm.bswap(dst, bits);
    }
  }
  // loads: *(u64 *)(r1 +8) and skb forms
  if (t.v === "*") {
    p.next();
    const { size, signed } = p.typeCast();
    if (p.peek()?.v === "skb") {
      p.next();
      if (dst.n !== 0) p.err("legacy packet loads always write r0");
      if (signed || size === 64) p.err("legacy packet loads take u8, u16 or u32");
      p.expect("[");
      if (p.isReg()) {
        const { reg } = p.reg("r");
        let imm = 0;
        if (p.eat("+") || p.is("-")) imm = p.imm32("an offset");
        p.expect("]");
        p.end();
        return asm.ldInd(size as 8 | 16 | 32, reg, imm);
      }
      const imm = p.imm32("a packet offset");
      p.expect("]");
      p.end();
      return asm.ldAbs(size as 8 | 16 | 32, imm);
    }
    const { reg, off } = p.memRef();
    p.end();
    if (signed) {
      if (size === 64) p.err("there is no s64 load; use u64");
      return asm.ldxs(size as 8 | 16 | 32, dst, reg, off);
    }
    return asm.ldx(size, dst, reg, off);
  }
  if (t.t === "id") {
    const name = t.v;
    let m = /^atomic(64)?_fetch_(add|or|and|xor)$/.exec(name);
    if (m) {
      p.next();
      const { size, reg, off } = atomicArgs(p);
      p.expect(",");
      const src = p.reg().reg;
      p.expect(")");
      p.end();
      if (src.n !== dst.n)
        p.err("the fetched value goes to the source register: expected it on the left");
      return asm.atomic(m[2] as AtomicOp, size, reg, off, src, true);
    }
    m = /^atomic(64)?_(xchg|cmpxchg)$/.exec(name);
    if (m) {
      p.next();
      const { size, reg, off } = atomicArgs(p);
      return exchange(p, m[2] as "xchg" | "cmpxchg", dst, size, reg, off);
    }
    m = /^(cmpxchg|xchg)(32)?_(32|64)$/.exec(name);
    if (m) {
      p.next();
      const { reg, off } = llvmAddr(p);
      return exchange(p, m[1] as "xchg" | "cmpxchg", dst, m[3] === "64" ? 64 : 32, reg, off);
    }
    if (name === "load_acquire") {
      p.next();
      const { size, reg, off } = atomicArgs(p);
      p.expect(")");
      p.end();
      // load_acquire: dst receives, src holds the address
      return asm.atomic("load_acquire", size, dst, off, reg);
    }
    if (name === "addr_space_cast") {
      p.next();
      p.expect("(");
      const src = p.reg("r").reg;
      p.expect(",");
      const a = p.int(0, 0xffff, "destination address space");
      p.expect(",");
      const b = p.int(0, 0xffff, "source address space");
      p.expect(")");
      p.end();
      return castInsn(dst, src, a, b);
    }
    if (
      name === "map" ||
      name === "map_fd" ||
      name === "map_value" ||
      name === "map_idx" ||
      name === "map_idx_value" ||
      name === "btf_id" ||
      name === "subprog"
    ) {
      return parsePseudo(p, dst);
    }
  }
  if (p.isReg()) {
    const src = p.reg(w ? "w" : "r").reg;
    p.end();
    return w ? asm.mov32(dst, src) : asm.mov64(dst, src);
  }
  // immediates: `ll` or an opcode prefix of (18), or a value beyond 32 bits, make lddw
  const { n, tok } = p.num("a register, an immediate or a memory reference");
  const ll = p.peek()?.v === "ll";
  if (ll) p.next();
  p.end();
  if (ll || opcode === (U.BPF_LD | U.BPF_IMM | U.BPF_DW) || n > 0xffffffffn || n < -0x80000000n) {
    if (w) p.err("a 64-bit immediate needs an r register", tok);
    if (n < -(1n << 63n) || n >= 1n << 64n) p.err(`immediate ${n} does not fit in 64 bits`, tok);
    return asm.lddw(dst, n);
  }
  const imm = Number(BigInt.asIntN(32, n));
  if (!w && n > 0x7fffffffn && !ll) {
    // r1 = 0x80000000 would sign-extend: make it lddw to keep the value
    return asm.lddw(dst, n);
  }
  return w ? asm.mov32(dst, imm) : asm.mov64(dst, imm);
}

function castInsn(dst: Reg, src: Reg, dstAs: number, srcAs: number): Instruction {
  return asmRaw(
    U.BPF_ALU64 | U.BPF_MOV | U.BPF_X,
    dst.n,
    src.n,
    U.BPF_ADDR_SPACE_CAST,
    (dstAs << 16) | srcAs,
  );
}

function asmRaw(code: number, dst: number, src: number, off: number, imm: number): Instruction {
  return instructionFromFields({ code, dst, src, off, imm });
}

function parsePseudo(p: LineParser, dst: Reg): Instruction {
  const t = p.next();
  const offAfter = (): number => {
    if (p.is("+") || p.is("-")) return p.imm32("a value offset");
    return 0;
  };
  switch (t.v) {
    case "map": {
      // bpftool: map[id:N] and map[id:N][0]+off; tsbpf: map[idx:N], map[idx:N][0]+off
      p.expect("[");
      const kind = p.next();
      if (kind.v !== "id" && kind.v !== "idx") p.err('expected "id" or "idx" in map[...]', kind);
      p.expect(":");
      const n = p.imm32("a map id");
      p.expect("]");
      if (p.eat("[")) {
        p.expect("0", '"0" (bpftool prints map[id:N][0]+off)');
        p.expect("]");
        const off = offAfter();
        p.end();
        return kind.v === "id" ? asm.ldMapValue(dst, n, off) : asm.ldMapIdxValue(dst, n, off);
      }
      p.end();
      return kind.v === "id" ? asm.ldMapFd(dst, n) : asm.ldMapIdx(dst, n);
    }
    case "subprog": {
      p.expect("[");
      const off = p.imm32("a pc-relative offset");
      p.expect("]");
      p.end();
      return asm.ldFunc(dst, off);
    }
    default: {
      p.expect("(");
      const n = p.imm32();
      let second = 0;
      if (t.v === "btf_id" && p.eat(",")) second = p.imm32("a BTF fd");
      p.expect(")");
      if (t.v === "map_value" || t.v === "map_idx_value") second = offAfter();
      p.end();
      switch (t.v) {
        case "map_fd":
          return asm.ldMapFd(dst, n);
        case "map_value":
          return asm.ldMapValue(dst, n, second);
        case "map_idx":
          return asm.ldMapIdx(dst, n);
        case "map_idx_value":
          return asm.ldMapIdxValue(dst, n, second);
        default:
          return asm.ldBtfId(dst, n, second);
      }
    }
  }
}
