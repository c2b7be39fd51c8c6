/**
 * The verifier log as Linux 6.18 writes it at log levels 1 and 2 (kernel/bpf/log.c and
 * do_check in kernel/bpf/verifier.c, read as documentation): each instruction as
 * `N: (code) text`, the registers and stack slots an instruction touched printed after
 * it (`; R0=0 R10=fp0 fp-8=mmmmmmmm`) or, when something came between, on a line of its
 * own (`8: R1=pkt_end() ...`), `from 5 to 8:` before a branch's path at level 2, `safe`
 * when a path is pruned, `caller:`/`callee:` blocks at bpf-to-bpf calls, and the
 * statistics line.
 *
 * The log is a text buffer with positions, like the kernel's: at level 1 each path that
 * ends rewinds the log to where its branch was pushed, so a rejection's log holds only
 * the path that led to it (and an accepted program's log only the statistics). The
 * rewinds keep the kernel's quirks: a branch's path continues on the line of the jump
 * that pushed it (`5: (bd) if r2 <= r1 goto pc+2 8: R1=...`).
 *
 * What it does not print: the precision-tracking lines (`mark_precise: ...`, level 2),
 * the 6.18 stack-liveness lines (`(0) frame 0 insn 78 +live -40`, level 2) and the
 * `P` of precise scalars: tsbpf prunes without precision marks. `Live regs before insn:`
 * prints tsbpf's own liveness, without the kernel's loop (SCC) numbers.
 * @module
 */
import type { Instruction, LoadImm64Instruction } from "../isa/index.ts";
import { decodeInstruction, formatKernel } from "../isa/index.ts";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from "../uapi/index.ts";
import { formatScalar } from "./scalar.ts";
import type { Frame, Reg, Slot, State } from "./state.ts";
import { isConst as tnumIsConst } from "./tnum.ts";
import { typeName } from "./types.ts";

/**
 * The most the log holds (characters): beyond it the oldest text goes, as the kernel's
 * rotating log keeps the tail of a full buffer (libbpf's largest buffer is 16 MiB).
 */
const MAX_LOG = 16 << 20;
const KEEP_LOG = 12 << 20;

/** BPF_LOG_MIN_ALIGNMENT and BPF_LOG_ALIGNMENT: where `;` lines up after an instruction. */
const MIN_ALIGNMENT = 8;
const ALIGNMENT = 40;

/** verbose_snum: decimal within [-32768, 32767], else the 64-bit pattern in hex. */
export function snum(x: bigint): string {
  return x >= -32768n && x <= 32767n ? x.toString() : `0x${BigInt.asUintN(64, x).toString(16)}`;
}

/** verbose_unum: decimal up to 65535, else hex. */
export function unum(x: bigint): string {
  const u = BigInt.asUintN(64, x);
  return u <= 65535n ? u.toString() : `0x${u.toString(16)}`;
}

/**
 * A register as the kernel's log prints it after `R1=` (print_reg_state): `ctx()`,
 * `fp-8`, `map_value(map=m,ks=4,vs=8)`, `pkt(off=14,r=14)`, `5`,
 * `scalar(id=2,smin=...,var_off=(0x0; 0xff))`. `frameno` is the frame it is printed in
 * (a pointer into another frame's stack prints as `fp[0]-8`).
 */
export function formatRegister(r: Reg, frameno = 0): string {
  if (r.type === "scalar") {
    if (isConstScalar(r)) return formatScalar(r.s);
    return formatScalar(r.s, r.id ? { id: r.id } : {});
  }
  let text = typeName(r.type, r.flags);
  if (r.type === "stack") {
    if (r.frameno !== frameno) text += `[${r.frameno}]`;
    if (tnumIsConst(r.s.varOff))
      return text + snum(BigInt.asIntN(64, r.s.varOff.value) + BigInt(r.off));
  }
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.map && (r.type === "map_ptr" || r.type === "map_value" || r.type === "map_key")) {
    if (r.map.name) parts.push(`map=${r.map.name}`);
    parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
  }
  if (r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  if (r.type === "pkt" || r.type === "pkt_meta") parts.push(`r=${unum(BigInt(r.range))}`);
  if (r.type === "mem") parts.push(`sz=${unum(BigInt(r.memSize))}`);
  if (tnumIsConst(r.s.varOff)) {
    if (r.s.varOff.value) parts.push(`imm=${snum(BigInt.asIntN(64, r.s.varOff.value))}`);
  } else {
    const inner = formatScalar(r.s);
    parts.push(inner.slice("scalar(".length, -1));
  }
  return `${text}(${parts.filter((p) => p !== "").join(",")})`;
}

const isConstScalar = (r: Reg): boolean => tnumIsConst(r.s.varOff);

const SLOT_CHARS = 8;

/** A stack slot as print_verifier_state prints it after `fp-8=`, or undefined when all invalid. */
export function formatSlot(slot: Slot, frameno: number): string | undefined {
  if (slot.bytes.every((b) => b === "?")) return undefined;
  if (slot.bytes[SLOT_CHARS - 1] === "r" && slot.spilled) {
    let prefix = "";
    for (const b of slot.bytes) {
      if (b === "r") break;
      prefix += b;
    }
    return prefix + formatRegister(slot.spilled, frameno);
  }
  return slot.bytes.join("");
}

/**
 * The registers and stack slots of one frame (print_verifier_state): ` R1=ctx() R10=fp0
 * fp-8=mmmmmmmm`, with ` frame1:` first for a called function's frame. `regs` and
 * `slots` select what to print (bit r, and slot indexes); undefined prints everything.
 */
export function formatFrame(
  state: State,
  f: Frame,
  regs?: number,
  slots?: ReadonlySet<number>,
): string {
  let out = f.frameno ? ` frame${f.frameno}:` : "";
  for (let r = 0; r < f.regs.length; r++) {
    const reg = f.regs[r] as Reg;
    if (reg.type === "not_init") continue;
    if (regs !== undefined && !((regs >> r) & 1)) continue;
    out += ` R${r}=${formatRegister(reg, f.frameno)}`;
  }
  for (let i = 0; i < f.stack.length; i++) {
    if (slots !== undefined && !slots.has(i)) continue;
    const text = formatSlot(f.stack[i] as Slot, f.frameno);
    if (text !== undefined) out += ` fp${-8 * (i + 1)}=${text}`;
  }
  const refs = state.refs.filter((r) => r.id);
  if (refs.length) out += ` refs=${refs.map((r) => r.id).join(",")}`;
  if (f.callback) out += " cb";
  return out;
}

/** The text of an lddw: the kernel prints the map's address; tsbpf names the map by index. */
function immText(insn: LoadImm64Instruction): string | undefined {
  if (insn.pseudo === BPF_PSEUDO_MAP_FD || insn.pseudo === BPF_PSEUDO_MAP_IDX)
    return `map[idx:${insn.imm >>> 0}]`;
  if (insn.pseudo === 2 || insn.pseudo === BPF_PSEUDO_MAP_IDX_VALUE)
    return `map[idx:${insn.imm >>> 0}][0]+${insn.imm2 >>> 0}`;
  return undefined;
}

/** One instruction as the log prints it after `N: `: `(b7) r0 = 0`. */
export function formatInsn(insn: Instruction, slot: number): string {
  if (insn.kind === "nospec" && insn.code !== NOSPEC) {
    // An instruction with reserved fields set (see verifyBytes): the kernel prints it
    // without them.
    const reserved = withoutReservedFields(insn);
    if (reserved) return formatKernel(reserved, { rawImm: true, immText }, slot);
  }
  return formatKernel(insn, { rawImm: true, immText }, slot);
}

const NOSPEC = 0xc2;

function withoutReservedFields(insn: Instruction): Instruction | undefined {
  const { code, dst, src, off, imm } = insn;
  const variants: [number, number, number, number][] = [
    [dst, 0, off, imm],
    [dst, src, 0, imm],
    [dst, 0, 0, imm],
    [dst, src, off, 0],
    [dst, 0, 0, 0],
    [0, src, off, imm],
    [0, 0, 0, imm],
  ];
  for (const [d, s, o, i] of variants) {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    b[0] = code;
    b[1] = (s << 4) | d;
    v.setInt16(2, o, true);
    v.setInt32(4, i, true);
    try {
      const x = decodeInstruction(b, 0);
      if (x.code === code) return x;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/**
 * The kernel's log, written as the walk goes (see the module comment). The walker calls
 * {@link insn} before each instruction it runs, {@link jumped} after a conditional
 * jump, {@link pruned} when a path is cut at a prune point, {@link pathEnded} and
 * {@link popped} around the switch to the next waiting path, and {@link called} /
 * {@link returned} at bpf-to-bpf calls.
 */
export class VerifierLog {
  /** The text, in the pieces it was written in (a rewind drops whole pieces, cheaply). */
  private chunks: string[] = [];
  /** The log position after each piece. */
  private ends: number[] = [];
  /** Where the log ends. */
  private total = 0;
  /** How many characters were dropped from the log's start (see {@link bound}). */
  private base = 0;
  private prevLogPos = 0;
  private prevInsnPrintPos = 0;
  private scratchedRegs = 0;
  private scratchedSlots = new Set<number>();
  private allScratched = true;
  private doPrintState = false;
  private prevInsn = -1;
  private pc = 0;
  private scc: Int32Array | undefined;
  private readonly sccEntries = new Map<string, { readonly branches: number }>();

  constructor(readonly level: 1 | 2) {}

  /** The log's length: where a path pushed now will rewind it to (level 1). */
  get end(): number {
    return this.total;
  }

  private append(s: string): void {
    if (!s) return;
    this.chunks.push(s);
    this.total += s.length;
    this.ends.push(this.total);
  }

  /** The text so far, without the final newline the kernel ends each line with. */
  toString(): string {
    const text = this.chunks.join("");
    return text.endsWith("\n") ? text.slice(0, -1) : text;
  }

  /** Appends text (the kernel's verbose()). */
  write(s: string): void {
    this.append(s);
  }

  /** Appends a line the kernel writes at level 2 only. */
  detail(line: string): void {
    if (this.level === 2) this.append(`${line}\n`);
  }

  /** Appends whole lines. */
  lines(lines: readonly string[]): void {
    for (const l of lines) this.append(`${l}\n`);
  }

  /** Empties the log (the kernel rewinds an accepted program's level-1 log to its start). */
  clear(): void {
    this.chunks = [];
    this.ends = [];
    this.total = 0;
    this.base = 0;
    this.prevLogPos = 0;
  }

  private reset(pos: number): void {
    // A position before what the log still holds empties it (as the kernel's rotating log).
    if (pos >= this.total) return;
    if (pos <= this.base) {
      this.chunks = [];
      this.ends = [];
      this.base = pos;
      this.total = pos;
      return;
    }
    const start = (i: number) => (i === 0 ? this.base : (this.ends[i - 1] as number));
    while (this.chunks.length > 0 && start(this.chunks.length - 1) >= pos) {
      this.chunks.pop();
      this.ends.pop();
    }
    const last = this.chunks.length - 1;
    if (last >= 0) {
      this.chunks[last] = (this.chunks[last] as string).slice(0, pos - start(last));
      this.ends[last] = pos;
    }
    this.total = pos;
  }

  /** Keeps the log's last MAX_LOG characters, as the kernel keeps the tail of a full buffer. */
  private bound(): void {
    if (this.total - this.base <= MAX_LOG) return;
    let k = 0;
    while (k < this.ends.length && (this.ends[k] as number) < this.total - KEEP_LOG) k++;
    this.base = k > 0 ? (this.ends[k - 1] as number) : this.base;
    this.chunks = this.chunks.slice(k);
    this.ends = this.ends.slice(k);
  }

  private scratchAll(): void {
    this.allScratched = true;
  }

  private get scratched(): boolean {
    return this.allScratched || this.scratchedRegs !== 0 || this.scratchedSlots.size > 0;
  }

  /** print_insn_state: the touched registers and slots, after the instruction or on a line of their own. */
  private insnState(state: State): void {
    if (this.prevLogPos && this.prevLogPos === this.end) {
      this.reset(this.prevLogPos - 1);
      const pad =
        Math.ceil(Math.max(this.prevInsnPrintPos + MIN_ALIGNMENT / 2, ALIGNMENT) / MIN_ALIGNMENT) *
          MIN_ALIGNMENT -
        this.prevInsnPrintPos -
        1;
      this.append(`${" ".repeat(Math.max(pad, 1))};`);
    } else {
      this.append(`${this.pc}:`);
    }
    const f = state.frames[state.frames.length - 1] as Frame;
    this.append(
      `${this.allScratched ? formatFrame(state, f) : formatFrame(state, f, this.scratchedRegs, this.scratchedSlots)}\n`,
    );
    this.clean();
  }

  private clean(): void {
    this.scratchedRegs = 0;
    this.scratchedSlots.clear();
    this.allScratched = false;
  }

  /** Before instruction `pc` runs on `state`: the pending state print, then the instruction. */
  insn(pc: number, insn: Instruction, state: State): void {
    this.pc = pc;
    if (this.level === 2 && this.doPrintState) {
      const f = state.frames[state.frames.length - 1] as Frame;
      this.append(`\nfrom ${this.prevInsn} to ${pc}:${formatFrame(state, f)}\n`);
      this.doPrintState = false;
    }
    if (this.scratched) this.insnState(state);
    this.bound();
    this.prevLogPos = this.end;
    this.append(`${pc}: ${formatInsn(insn, pc)}\n`);
    // The kernel prints a map's address (0x and 16 digits) where tsbpf names the map: the
    // state after it lines up as the kernel's does.
    const widen = insn.kind === "lddw" ? (immText(insn)?.length ?? 18) : 18;
    this.prevInsnPrintPos = this.end - this.prevLogPos + 18 - widen;
    this.prevLogPos = this.end;
    this.prevInsn = pc;
    this.scratchedRegs |= touchedRegs(insn);
  }

  /** After a conditional jump: the state that falls through (or jumps, when decided). */
  jumped(state: State): void {
    this.insnState(state);
  }

  /** A path cut at `pc` by an equivalent explored state. */
  pruned(pc: number): void {
    this.append(this.doPrintState ? `\nfrom ${this.prevInsn} to ${pc}: safe\n` : `${pc}: safe\n`);
  }

  /** The functions found (check_subprogs, level 2): `func#1 @19`. */
  subprogs(starts: readonly number[]): void {
    if (this.level !== 2) return;
    for (const [i, at] of starts.entries()) this.write(`func#${i} @${at}\n`);
  }

  /**
   * The program's loops (strongly connected components of its control flow, a call of a
   * helper that runs a callback being a loop of its own), at level 2 (see
   * {@link checkpoint}).
   */
  loops(slots: readonly (Instruction | undefined)[], callbackCalls: ReadonlySet<number>): void {
    if (this.level === 2) this.scc = stronglyConnected(slots, callbackCalls);
  }

  /**
   * A state kept at prune point `pc` (is_state_visited). The first one kept in a loop
   * while no earlier one of that loop is still being explored is where the kernel
   * prints `SCC enter` at level 2: the state print after it goes on a line of its own.
   */
  checkpoint(pc: number, state: State, cp: { readonly branches: number }): void {
    const scc = this.scc?.[pc];
    if (!scc) return;
    const key = `${scc}:${state.frames.map((f) => f.callsite).join(",")}`;
    const entry = this.sccEntries.get(key);
    if (entry && entry.branches > 0) return;
    this.sccEntries.set(key, cp);
    this.precise();
  }

  /** A new frame (a callback's): everything counts as touched for the next print (init_func_state). */
  newFrame(): void {
    this.scratchAll();
  }

  /** A path ended (exit or pruned): everything counts as touched for the next print. */
  pathEnded(): void {
    this.scratchAll();
  }

  /** The next waiting path, pushed at `from` when the log was `logPos` long. */
  popped(from: number, logPos: number): void {
    if (this.level === 1) this.reset(logPos);
    this.prevInsn = from;
    this.doPrintState = true;
  }

  /** A bpf-to-bpf call: the caller's frame and the callee's (check_func_call). */
  called(state: State): void {
    const n = state.frames.length;
    const caller = state.frames[n - 2] as Frame;
    const callee = state.frames[n - 1] as Frame;
    this.append(`caller:\n${formatFrame(state, caller)}\ncallee:\n${formatFrame(state, callee)}\n`);
    this.scratchAll();
  }

  /** A return from a called function to `to` (prepare_func_exit). */
  returned(state: State, callee: Frame, to: number): void {
    const caller = state.frames[state.frames.length - 1] as Frame;
    this.append(
      `returning from callee:\n${formatFrame(state, callee)}\nto caller at ${to}:\n${formatFrame(state, caller)}\n`,
    );
    this.doPrintState = true;
  }

  /**
   * Where the kernel runs precision backtracking (a decided branch on a scalar, a
   * helper's size argument, a constant map key): at level 2 it prints its
   * `mark_precise:` lines there, which tsbpf leaves out, so the next state print goes on
   * a line of its own as it does in the kernel's log.
   */
  precise(): void {
    if (this.level === 2) this.prevLogPos = -1;
  }

  /** A stack access of the bytes [from, to) (negative offsets): the slots it touches. */
  touchStack(from: number, to: number): void {
    for (let a = from; a < to; a++) this.scratchedSlots.add(Math.floor((-a - 1) / 8));
  }
}

/**
 * The registers (bit r) an instruction reads or writes through the kernel's
 * check_reg_arg, which marks them for the next state print. (Stack slots are marked
 * by the walker's stack accesses; an exit marks nothing.)
 */
export function touchedRegs(insn: Instruction): number {
  switch (insn.kind) {
    case "alu":
    case "jump":
      return (1 << insn.dst) | (insn.source === "reg" ? 1 << insn.src : 0);
    case "endian":
    case "lddw":
      return 1 << insn.dst;
    case "load":
      return (1 << insn.dst) | (1 << insn.src);
    case "store":
      return (1 << insn.dst) | (insn.source === "reg" ? 1 << insn.src : 0);
    case "atomic":
      return (1 << insn.dst) | (1 << insn.src) | (insn.op === "cmpxchg" ? 1 : 0);
    case "call":
    case "ld_abs":
      return 1;
    case "ld_ind":
      return 1 | (1 << insn.src) | (1 << 6);
    default:
      return 0;
  }
}

/** Each instruction's loop (strongly connected component with a cycle), 0 for none. */
function stronglyConnected(
  slots: readonly (Instruction | undefined)[],
  callbackCalls: ReadonlySet<number>,
): Int32Array {
  const n = slots.length;
  const succ = (pc: number): number[] => {
    const i = slots[pc];
    if (!i) return [];
    switch (i.kind) {
      case "exit":
        return [];
      case "goto":
        return [pc + i.off + 1];
      case "jump":
      case "may_goto":
        return [pc + 1, pc + i.off + 1];
      case "lddw":
        return [pc + 2];
      case "call":
        return callbackCalls.has(pc) ? [pc + 1, pc] : [pc + 1];
      default:
        return [pc + 1];
    }
  };
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const out = new Int32Array(n);
  const stack: number[] = [];
  let counter = 0;
  let sccId = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || !slots[root]) continue;
    const work: [number, number[], number][] = [[root, succ(root), 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1] as [number, number[], number];
      const [v, ss] = top;
      if (top[2] < ss.length) {
        const w = ss[top[2]++] as number;
        if (w < 0 || w >= n || !slots[w]) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, succ(w), 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v] as number, index[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          members.push(w);
        } while (w !== v);
        const cyclic = members.length > 1 || succ(v).includes(v);
        if (cyclic) {
          sccId++;
          for (const m of members) out[m] = sccId;
        }
      }
    }
  }
  return out;
}
