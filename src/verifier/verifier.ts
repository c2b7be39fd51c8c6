/**
 * The verifier: walks every path of a program over abstract states, as the Linux
 * kernel's verifier does (kernel/bpf/verifier.c, read as documentation), and gives the
 * kernel's verdict and, for a rejection, the kernel's error line and instruction.
 *
 * It models a privileged loader (root: CAP_BPF + CAP_PERFMON), as the kernel sees
 * `bpftool prog load` run by root: pointer values may be compared, stored and
 * returned; uninitialised stack may be read.
 * @module
 */
import type {
  AluInstruction,
  AtomicInstruction,
  CallInstruction,
  Instruction,
  JumpInstruction,
  JumpOp,
  LoadInstruction,
  StoreInstruction,
} from "../isa/index.ts";
import {
  AttachType,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  HelperId,
  MapType,
  ProgType,
  progTypeName,
} from "../uapi/index.ts";
import {
  bpfSockAccess,
  ctxRule,
  mayWritePacket,
  sockCommonAccess,
  tcpSockAccess,
  xdpSockAccess,
} from "./ctx.ts";
import {
  constValue,
  invariants,
  isBranchTaken,
  isConst,
  maybeFork,
  refineBranch,
  type Scalar,
  scalarAlu,
  scalarCoerce,
  scalarConst,
  scalarEndian,
  scalarEqual,
  scalarMovsx,
  scalarOfSize,
  scalarZext32,
} from "./domain.ts";
import { VerifyFailure } from "./failure.ts";
import {
  type ArgKind,
  type HelperProto,
  helperCallsBack,
  helperProto,
  mapAllowsHelper,
} from "./helper-protos.ts";
import { liveRegisters, successors } from "./liveness.ts";
import { VerifierLog } from "./log.ts";
import {
  type Loc,
  markAllPrecise,
  markPrecise,
  preciseScalars,
  regLoc,
  slotLoc,
  Trail,
} from "./precision.ts";
import {
  checkCfg,
  checkSubprogs,
  findSubprogs,
  jumpTarget,
  type Slots,
  toSlots,
} from "./program.ts";
import { StackLiveness } from "./stack-liveness.ts";
import {
  copyState,
  cur,
  EMPTY_SLOT,
  type Frame,
  isPointer,
  type MapRef,
  NOT_INIT,
  pointerReg,
  type Reg,
  type Slot,
  type SlotByte,
  type State,
  scalarReg,
  statesEqual,
  UNKNOWN,
} from "./state.ts";
import {
  type InsnState,
  StateRecorder,
  type StatesOptions,
  snapshot,
  type VerifierStates,
  type Visit,
} from "./states.ts";
import { type BaseType, isPacketPointer, typeName } from "./types.ts";
import { type KernelWording, olderThan618, reword } from "./wording.ts";

/** A map the program's `lddw` instructions refer to by index (imm of BPF_PSEUDO_MAP_FD/VALUE). */
export interface VerifierMap {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly name?: string;
  /** For ARRAY_OF_MAPS and HASH_OF_MAPS: the template of the maps it holds. */
  readonly innerMap?: VerifierMap;
  /**
   * Where the value's `struct bpf_spin_lock` is (its BTF says), null when the map has
   * none; undefined when unknown (a program locking it cannot be judged).
   */
  readonly spinLockOff?: number | null;
}

export interface VerifyOptions {
  /** `enum bpf_prog_type`. */
  readonly progType: number;
  readonly expectedAttachType?: number;
  /** Maps by index, as `lddw` immediates refer to them. */
  readonly maps?: readonly VerifierMap[];
  /** The program's licence is GPL-compatible (default true). */
  readonly gpl?: boolean;
  /** `prog_flags`: BPF_F_STRICT_ALIGNMENT and BPF_F_ANY_ALIGNMENT change what is checked. */
  readonly progFlags?: number;
  /** func_info: each function's first instruction (as BTF describes the program), when given. */
  readonly funcs?: readonly number[];
  /**
   * Of `funcs`, the global ones (BTF linkage global) by first instruction, each with how
   * many scalar (int) parameters its prototype declares: the kernel verifies a global
   * function once, on its own, for any arguments of those types, and a call to one
   * only checks the arguments.
   */
  readonly globalFuncs?: ReadonlyMap<number, number>;
  /** Of `funcs`, those whose BTF prototype returns void (not a scalar). */
  readonly voidFuncs?: readonly number[];
  /** Instructions the kernel refuses when reached (slot → its message); see verifyBytes. */
  readonly invalid?: ReadonlyMap<number, string>;
  /** Whether to build the log: 0 none, 1 instructions and error, 2 with states (default 0). */
  readonly logLevel?: 0 | 1 | 2;
  /**
   * Record the state at each instruction (see {@link VerifyResult.states}): true, or
   * limits. Off by default (it costs a copy of the state per instruction walked).
   */
  readonly states?: boolean | StatesOptions;
  /**
   * Word the error line as this kernel's verifier does (default "6.18"; the verdict
   * follows 6.18 either way). See src/verifier/wording.ts.
   */
  readonly kernel?: KernelWording;
}

/** The kernel's statistics line: `processed N insns (limit 1000000) max_states_per_insn ...`. */
export interface VerifyStats {
  readonly processed: number;
  readonly maxStatesPerInsn: number;
  readonly totalStates: number;
  readonly peakStates: number;
}

export interface VerifyResult {
  readonly accepted: boolean;
  /** For a rejection: the kernel's error line (the first of `lines`), every line, and the instruction. */
  readonly error?: {
    readonly message: string;
    readonly lines: readonly string[];
    /** Undefined when the kernel names none (an opcode it does not know). */
    readonly insn?: number;
  };
  readonly log: string;
  readonly stats: VerifyStats;
  /**
   * With `states`: the registers and stack at each instruction, per path that reached
   * it, and for a rejection the states along the path that led to it.
   */
  readonly states?: VerifierStates & {
    /** For a rejection: the state before each instruction of the failing path, in order. */
    readonly path?: readonly InsnState[];
  };
}

/** BPF_COMPLEXITY_LIMIT_INSNS. */
export const COMPLEXITY_LIMIT = 1_000_000;
const DEBUG = typeof process !== "undefined" && !!process.env.VDEBUG;
const MAX_CALL_FRAMES = 8;
const MAX_BPF_STACK = 512;
/** BPF_MAX_VAR_OFF and BPF_MAX_VAR_SIZ: offsets and sizes the verifier tracks. */
const MAX_VAR_OFF = 1 << 29;
/** MAX_PACKET_OFF. */
const MAX_PACKET_OFF = 0xffff;

const S64_MIN = -(1n << 63n);

/** `bpf_alu_string`, as messages name the operators. */
const ALU_STRING: Record<string, string> = {
  add: "+=",
  sub: "-=",
  mul: "*=",
  or: "|=",
  and: "&=",
  div: "/=",
  sdiv: "/=",
  lsh: "<<=",
  rsh: ">>=",
  neg: "neg",
  mod: "%=",
  smod: "%=",
  xor: "^=",
  mov: "=",
  movsx: "=",
  arsh: "s>>=",
};

/** A path waiting to be explored: the state at `insn`, under checkpoint `parent`. */
interface Pending {
  state: State;
  insn: number;
  parent: Checkpoint | null;
  /** The instruction that pushed it. */
  from: number;
  /** The log's length when it was pushed (level 1 rewinds to it). */
  logPos: number;
  /** The instructions since `parent`, for precision backtracking. */
  trail: Trail;
}

/** A state kept at a prune point; `branches` counts paths from it still being explored. */
interface Checkpoint {
  state: State;
  /** The instruction it was taken at. */
  insn: number;
  /** The processed-instruction count when it was taken (its depth in the walk). */
  at: number;
  branches: number;
  parent: Checkpoint | null;
  hits: number;
  misses: number;
  /** The instructions from `parent` up to this checkpoint. */
  trail: Trail;
  /** Scalars some check depended on: compared by value when pruning (precision.ts). */
  precise: Set<Loc>;
}

/** Program types that may update or delete sockmap/sockhash entries (may_update_sockmap). */
const SOCKMAP_UPDATERS = new Set<number>([
  ProgType.SOCKET_FILTER,
  ProgType.SCHED_CLS,
  ProgType.SCHED_ACT,
  ProgType.XDP,
  ProgType.SK_REUSEPORT,
  ProgType.FLOW_DISSECTOR,
  ProgType.SK_LOOKUP,
]);

/**
 * widen_imprecise_scalars, without precision marks: a scalar that changed since the
 * loop's last visit becomes unknown in the next iteration, so the loop converges.
 * (The kernel widens only scalars no safety check depended on; widening them all is
 * sound, and stricter where a check did.)
 */
function widenScalars(old: State, cur: State): void {
  for (let f = 0; f < Math.min(old.frames.length, cur.frames.length); f++) {
    const a = old.frames[f] as Frame;
    const b = cur.frames[f] as Frame;
    for (let r = 0; r < b.regs.length; r++) {
      const x = a.regs[r] as Reg;
      const y = b.regs[r] as Reg;
      if (x.type === "scalar" && y.type === "scalar" && !scalarEqual(x.s, y.s)) b.regs[r] = UNKNOWN;
    }
  }
}

/** Pointer types reg_not_null trusts: a comparison of one with 0 is decided. */
const NOT_NULL = new Set<string>([
  "sock",
  "tcp_sock",
  "map_value",
  "map_key",
  "sock_common",
  "mem",
]);

/** BPF_F_STRICT_ALIGNMENT and BPF_F_ANY_ALIGNMENT (prog_flags). */
const BPF_F_STRICT_ALIGNMENT = 1;
const BPF_F_ANY_ALIGNMENT = 2;
/** How alignment messages name each pointer. */
const POINTER_DESC: Partial<Record<string, string>> = {
  map_value: "value ",
  map_key: "key ",
  ctx: "context ",
  stack: "stack ",
  flow_keys: "flow keys ",
  sock: "sock ",
  sock_common: "sock_common ",
  tcp_sock: "tcp_sock ",
  xdp_sock: "xdp_sock ",
};
const tnumText = (s: Scalar) => `(${hex(s.varOff.value)}; ${hex(s.varOff.mask)})`;
const hex = (v: bigint) => (v === 0n ? "0x0" : `0x${v.toString(16)}`);

class Walker {
  readonly slots: Slots;
  readonly subprogs: number[];
  readonly maps: MapRef[];
  readonly ctx;
  /** The kernel's log, when one was asked for. */
  readonly vlog: VerifierLog | undefined;
  /** The states per instruction, when asked for. */
  readonly recorder: StateRecorder | undefined;
  processed = 0;
  idGen = 0;
  totalStates = 0;
  /** States kept at prune points now, their peak, and the most one instruction had when visited. */
  exploredStates = 0;
  peakStates = 0;
  maxStatesPerInsn = 0;
  jmpsProcessed = 0;
  prevJmps = 0;
  prevInsns = 0;
  readonly explored = new Map<number, Checkpoint[]>();
  /** Global functions a verified path called, and those since verified on their own. */
  readonly calledGlobals = new Set<number>();
  /** changesPacket's answers, by subprogram start. */
  readonly movesPacket = new Map<number, boolean>();
  readonly verifiedGlobals = new Set<number>();
  readonly stackDepth = new Map<number, number>();
  readonly pending: Pending[] = [];
  /** Calls of helpers that run callbacks (bpf_loop...): their iterations converge by pruning there. */
  readonly callbackCalls = new Set<number>();
  readonly prunePoints: Uint8Array;
  /** The pointer type each load/store instruction used (the kernel's insn_aux ptr_type). */
  readonly ptrTypes = new Map<number, string>();
  live: Uint16Array = new Uint16Array(0);
  /** Which stack slots of the running function later instructions may read. */
  stackLive = new StackLiveness([]);
  state!: State;
  parent: Checkpoint | null = null;
  /** The instructions the current path ran since `parent`. */
  trail = new Trail();
  pc = 0;
  /** The register a store is writing (so a spill can link it with its stack slot). */
  spillSource: number | undefined;
  /** The last instruction walked (on any path): where the kernel's log stands. */
  lastPc = 0;

  constructor(
    insns: readonly Instruction[],
    readonly opts: VerifyOptions,
  ) {
    this.slots = toSlots(insns);
    const ref = (m: VerifierMap, index: number, name: string): MapRef => ({
      index,
      name,
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags ?? 0,
      ...(m.innerMap && { inner: ref(m.innerMap, -1, `${name}.inner`) }),
      ...(m.spinLockOff !== undefined && { spinLockOff: m.spinLockOff }),
    });
    this.maps = (opts.maps ?? []).map((m, index) => ref(m, index, m.name ?? `map${index}`));
    this.subprogs = [];
    this.ctx = ctxRule(opts.progType, opts.expectedAttachType);
    this.prunePoints = new Uint8Array(this.slots.length + 1);
    this.vlog = opts.logLevel ? new VerifierLog(opts.logLevel) : undefined;
    this.recorder = opts.states
      ? new StateRecorder(this.slots.length, opts.states === true ? {} : opts.states)
      : undefined;
  }

  fail(...lines: string[]): never {
    throw new VerifyFailure(this.pc, lines);
  }

  // ------------------------------------------------------------------ structure

  prepare(): void {
    if (this.slots.length === 0) throw new VerifyFailure(0, ["empty program"]);
    this.subprogs.push(...findSubprogs(this.slots));
    this.vlog?.subprogs(this.subprogs);
    checkSubprogs(this.slots, this.subprogs);
    const funcs = this.opts.funcs;
    if (funcs && funcs.length > 0) {
      if (funcs.length !== this.subprogs.length)
        throw new VerifyFailure(undefined, [
          "number of funcs in func_info doesn't match number of subprogs",
        ]);
      if (funcs.some((f, i) => f !== this.subprogs[i]))
        throw new VerifyFailure(undefined, [
          "func_info BTF section doesn't match subprog layout in BPF program",
        ]);
    }
    this.abnormalReturns();
    this.resolveLdImm64();
    checkCfg(this.slots, this.subprogs);
    const succ = successors(this.slots);
    this.live = liveRegisters(this.slots, succ);
    this.stackLive = new StackLiveness(succ);
    for (let pc = 0; pc < this.slots.length; pc++) {
      const i = this.slots[pc];
      if (!i) continue;
      if (i.kind === "jump" || i.kind === "may_goto") {
        this.prunePoints[pc] = 1;
        // push_insn marks a branch's target too.
        if (i.kind === "jump") this.prunePoints[jumpTarget(i, pc)] = 1;
      } else if (i.kind === "goto") {
        this.prunePoints[jumpTarget(i, pc)] = 1;
      } else if (i.kind === "call") {
        this.prunePoints[pc + 1] = 1;
        if (i.target === "bpf") {
          this.prunePoints[pc] = 1;
          this.prunePoints[jumpTarget(i, pc)] = 1;
        }
        if (i.target === "helper" && helperCallsBack(i.imm)) {
          this.prunePoints[pc] = 1;
          this.callbackCalls.add(pc);
        }
      }
    }
    this.vlog?.loops(this.slots, this.callbackCalls);
  }

  // ------------------------------------------------------------------ registers

  get frame(): Frame {
    return cur(this.state);
  }

  /**
   * A call to a global function (check_func_call): its arguments must match its
   * prototype (scalars here); it is verified on its own later, so the caller goes on
   * with an unknown scalar in r0 and r1-r5 unset.
   */
  globalCall(target: number, args: number): boolean {
    const caller = this.frame;
    this.stackLive.readAll();
    const index = this.subprogs.indexOf(target);
    for (let r = 1; r <= args; r++)
      if ((caller.regs[r] as Reg).type !== "scalar")
        this.fail(`R${r} is not a scalar`, `Caller passes invalid args into func#${index}`);
    this.calledGlobals.add(target);
    if (this.changesPacket(target))
      for (const [r, set] of this.allRegs())
        if (isPacketPointer(r.type) || r.type === "pkt_end") set(UNKNOWN);
    for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
    caller.regs[0] = UNKNOWN;
    this.pc++;
    return false;
  }

  /** Whether subprogram `start`, or one it calls, may move packet data (changes_pkt_data). */
  changesPacket(start: number): boolean {
    let known = this.movesPacket.get(start);
    if (known === undefined) {
      known = this.scanMovesPacket(start, new Set());
      this.movesPacket.set(start, known);
    }
    return known;
  }

  private scanMovesPacket(start: number, seen: Set<number>): boolean {
    if (seen.has(start)) return false;
    seen.add(start);
    const i = this.subprogs.indexOf(start);
    const end = this.subprogs[i + 1] ?? this.slots.length;
    for (let pc = start; pc < end; pc++) {
      const insn = this.slots[pc];
      if (insn?.kind !== "call") continue;
      if (insn.target === "bpf" && this.scanMovesPacket(jumpTarget(insn, pc), seen)) return true;
      if (insn.target !== "helper") continue;
      const found = helperProto(insn.imm, this.opts.progType);
      if ("proto" in found && found.proto.changesPacket) return true;
    }
    return false;
  }

  /**
   * check_btf_func / check_abnormal_return: a legacy packet load or a tail call can end
   * the program from inside a subprogram, which then "returns" the program's verdict;
   * so that subprogram must be described by BTF and return an int.
   */
  abnormalReturns(): void {
    const funcs = this.opts.funcs ?? [];
    const voids = new Set(this.opts.voidFuncs ?? []);
    for (let i = 1; i < this.subprogs.length; i++) {
      const start = this.subprogs[i] as number;
      const end = this.subprogs[i + 1] ?? this.slots.length;
      let ldAbs = false;
      let tailCall = false;
      for (let pc = start; pc < end; pc++) {
        const insn = this.slots[pc];
        if (insn?.kind === "ld_abs" || insn?.kind === "ld_ind") ldAbs = true;
        if (insn?.kind === "call" && insn.target === "helper" && insn.imm === HelperId.tail_call)
          tailCall = true;
      }
      const fail = (line: string) => {
        throw new VerifyFailure(undefined, [line]);
      };
      if (funcs.length === 0) {
        if (ldAbs) fail("LD_ABS is not allowed in subprogs without BTF");
        if (tailCall) fail("tail_call is not allowed in subprogs without BTF");
      } else if (voids.has(start)) {
        if (ldAbs) fail("LD_ABS is only allowed in functions that return 'int'.");
        if (tailCall) fail("tail_call is only allowed in functions that return 'int'.");
      }
    }
  }

  readReg(r: number): Reg {
    const reg = this.frame.regs[r] as Reg;
    if (reg.type === "not_init") this.fail(`R${r} !read_ok`);
    return reg;
  }

  /**
   * assign_scalar_id_before_mov: a scalar copied to another register gets an id (if it
   * has none and is not a constant), so a bounds check on either applies to both.
   * Returns the id (0 for a constant or a pointer).
   */
  linkScalar(regno: number, r: Reg): number {
    if (r.type !== "scalar" || isConst(r.s)) return r.type === "scalar" ? 0 : r.id;
    if (r.id) return r.id;
    const id = this.newId();
    this.setReg(regno, { ...r, id });
    return id;
  }

  checkWritable(r: number): void {
    if (r === 10) this.fail("frame pointer is read only");
  }

  setReg(r: number, reg: Reg): void {
    this.frame.regs[r] = reg;
  }

  newId(): number {
    return ++this.idGen;
  }

  /** Whether the function starting at `insn` is global (precision.ts's Program). */
  isGlobal(insn: number): boolean {
    return this.opts.globalFuncs?.has(insn) ?? false;
  }

  /**
   * mark_chain_precision: a check of the instruction running now depended on the value
   * of these registers of the current frame (scalars; others are left alone).
   */
  markRegsPrecise(...regs: number[]): void {
    const frame = this.state.frames.length - 1;
    const f = this.frame;
    const locs: Loc[] = [];
    for (const r of regs) if (f.regs[r]?.type === "scalar") locs.push(regLoc(frame, r));
    if (locs.length > 0) markPrecise(this, locs, frame, this.trail, this.parent, true);
  }

  /** Every register and spilled register of every frame, with a way to replace it. */
  *allRegs(): Generator<[Reg, (r: Reg) => void]> {
    for (const f of this.state.frames) {
      for (let i = 0; i < f.regs.length; i++) {
        const idx = i;
        yield [f.regs[i] as Reg, (r) => (f.regs[idx] = r)];
      }
      for (let i = 0; i < f.stack.length; i++) {
        const slot = f.stack[i] as Slot;
        if (slot.spilled) {
          const idx = i;
          yield [slot.spilled, (r) => (f.stack[idx] = { ...slot, spilled: r })];
        }
      }
    }
  }

  // ------------------------------------------------------------------ the walk

  run(): void {
    this.prepare();
    this.walk(this.initialState(), 0);
    // do_check_subprogs: each global function called from verified code, on its own,
    // until no new one is reached.
    const globals = this.opts.globalFuncs;
    for (let again = true; globals && again; ) {
      again = false;
      for (const start of this.subprogs) {
        if (!this.calledGlobals.has(start) || this.verifiedGlobals.has(start)) continue;
        this.explored.clear();
        this.walk(this.globalEntryState(start, globals.get(start) ?? 0), start);
        this.verifiedGlobals.add(start);
        again = true;
      }
    }
    this.checkStackDepth();
  }

  /** do_check_common from one entry: every path from `state` at `pc` to its exit. */
  walk(state: State, pc: number): void {
    this.state = state;
    this.pc = pc;
    this.parent = null;
    this.trail = new Trail();
    for (;;) {
      const ended = this.step();
      if (ended) {
        this.endPath();
        this.vlog?.pathEnded();
        const next = this.pending.pop();
        if (!next) break;
        this.state = next.state;
        this.pc = next.insn;
        this.parent = next.parent;
        this.trail = next.trail;
        this.vlog?.popped(next.from, next.logPos);
        this.recorder?.popped(next.state);
      }
    }
  }

  /** A global function's entry: its scalar parameters unknown, the other registers unset. */
  globalEntryState(start: number, args: number): State {
    const st = this.initialState();
    const f = st.frames[0] as Frame;
    f.regs[1] = NOT_INIT;
    for (let r = 1; r <= args; r++) f.regs[r] = UNKNOWN;
    return { ...st, frames: [{ ...f, subprog: start }] };
  }

  initialState(): State {
    const regs: Reg[] = Array.from({ length: 11 }, () => NOT_INIT);
    regs[1] = pointerReg("ctx");
    regs[10] = pointerReg("stack", { frameno: 0 });
    return {
      frames: [
        {
          regs,
          stack: [],
          subprog: 0,
          callsite: -1,
          frameno: 0,
          stackDepth: 0,
          callback: false,
          callbackDepth: 0,
        },
      ],
      refs: [],
      callbackUnrollDepth: 0,
      mayGotoDepth: 0,
    };
  }

  /** Ends the current path: every checkpoint above it has one path fewer. */
  endPath(): void {
    let c = this.parent;
    while (c) {
      c.branches--;
      if (c.branches > 0) break;
      c = c.parent;
    }
  }

  push(state: State, insn: number): void {
    if (this.parent) this.parent.branches++;
    this.recorder?.pushed(state);
    this.pending.push({
      state,
      insn,
      parent: this.parent,
      from: this.pc,
      logPos: this.vlog?.end ?? 0,
      trail: this.trail.copy(),
    });
  }

  /** Runs one instruction; true when the path ended (exit from the main program, or pruned). */
  step(): boolean {
    const pc = this.pc;
    if (pc < 0 || pc >= this.slots.length)
      this.fail(`invalid insn idx ${pc} insn_cnt ${this.slots.length}`);
    const insn = this.slots[pc] as Instruction;
    if (DEBUG && this.processed % 20000 === 0)
      console.error(
        "processed",
        this.processed,
        "pc",
        pc,
        "pending",
        this.pending.length,
        "frames",
        this.state.frames.length,
      );
    if (++this.processed > COMPLEXITY_LIMIT)
      throw new VerifyFailure(this.lastPc, [
        `BPF program is too large. Processed ${this.processed} insn`,
      ]);
    if (this.prunePoints[pc] && this.visited(pc)) {
      this.vlog?.pruned(pc);
      return true;
    }
    this.lastPc = pc;
    this.trail.push(pc);
    this.stackLive.begin(pc);
    this.vlog?.insn(pc, insn, this.state);
    this.recorder?.visit(pc, this.state);
    const refused = this.opts.invalid?.get(pc);
    if (refused) this.fail(refused);
    switch (insn.kind) {
      case "alu":
        this.alu(insn);
        break;
      case "endian":
        this.endian(insn.dst, insn.order, insn.bits);
        break;
      case "load":
        this.load(insn);
        break;
      case "store":
        this.store(insn);
        break;
      case "atomic":
        this.atomic(insn);
        break;
      case "lddw":
        this.lddw(insn);
        this.pc += 2;
        return false;
      case "jump":
        this.jmpsProcessed++;
        this.condJump(insn);
        this.vlog?.jumped(this.state);
        return false;
      case "goto":
        this.jmpsProcessed++;
        this.pc = jumpTarget(insn, pc);
        return false;
      case "may_goto": {
        // The loop body (fall through) is explored as a new path one level deeper; this
        // path takes the jump, as when the budget is spent.
        this.jmpsProcessed++;
        const body = copyState(this.state);
        body.mayGotoDepth++;
        const prev = this.previousCheckpoint(pc);
        if (prev) widenScalars(prev.state, body);
        this.push(body, pc + 1);
        this.pc = jumpTarget(insn, pc);
        return false;
      }
      case "call":
        this.jmpsProcessed++;
        return this.call(insn);
      case "exit":
        this.jmpsProcessed++;
        return this.exit();
      case "ld_abs":
      case "ld_ind":
        this.legacyLoad(insn.kind === "ld_ind" ? insn.src : -1, insn.size);
        break;
      default:
        this.fail(`unknown opcode ${insn.code.toString(16).padStart(2, "0")}`);
    }
    this.pc++;
    return false;
  }

  /** resolve_pseudo_ldimm64: every lddw's pseudo source is known and names a map that exists. */
  resolveLdImm64(): void {
    for (const i of this.slots) {
      if (i?.kind !== "lddw" || i.pseudo === 0 || i.pseudo === BPF_PSEUDO_FUNC) continue;
      const mapFd = i.pseudo === BPF_PSEUDO_MAP_FD || i.pseudo === BPF_PSEUDO_MAP_IDX;
      const mapValue = i.pseudo === BPF_PSEUDO_MAP_VALUE || i.pseudo === BPF_PSEUDO_MAP_IDX_VALUE;
      if (!(mapValue || (mapFd && i.imm2 === 0)))
        throw new VerifyFailure(undefined, ["unrecognized bpf_ld_imm64 insn"]);
      const map = this.maps[i.imm];
      if (!map)
        throw new VerifyFailure(undefined, [`fd ${i.imm} is not pointing to valid bpf_map`]);
      // check_map_prog_compatibility: where a spin lock may not be taken at all.
      if (typeof map.spinLockOff === "number") {
        const t = this.opts.progType;
        if (t === ProgType.SOCKET_FILTER)
          throw new VerifyFailure(undefined, ["socket filter progs cannot use bpf_spin_lock yet"]);
        if (TRACING_TYPES.has(t))
          throw new VerifyFailure(undefined, ["tracing progs cannot use bpf_spin_lock yet"]);
      }
    }
  }

  /** Live registers of frame `f` of the current state (the top frame at `pc`). */
  readonly liveMask = (f: number): number => {
    const frames = this.state.frames;
    if (f === frames.length - 1) return (this.live[this.pc] as number) | (1 << 10);
    return ((this.live[(frames[f + 1] as Frame).callsite + 1] as number) & ~0x3f) | (1 << 10);
  };

  /** find_prev_entry: the checkpoint at `pc` on the current path, if any. */
  previousCheckpoint(pc: number): Checkpoint | undefined {
    for (let c = this.parent; c; c = c.parent)
      if (c.insn === pc && c.branches > 0 && c.at < this.processed) return c;
    return undefined;
  }

  /** is_state_visited: prune against an equal explored state, or record this one. */
  visited(pc: number): boolean {
    const list = this.explored.get(pc) ?? [];
    const statesCnt = list.length;
    const force = this.slots[pc]?.kind === "may_goto" || this.callbackCalls.has(pc);
    const slotLive = (spi: number) => this.stackLive.isLive(pc, spi);
    for (let k = 0; k < list.length; k++) {
      const cp = list[k] as Checkpoint;
      if (cp.branches > 0) {
        // A may_goto loop one level deeper, covered by a state still being explored, is done.
        if (
          this.slots[pc]?.kind === "may_goto" &&
          cp.state.mayGotoDepth !== this.state.mayGotoDepth &&
          statesEqual(cp.state, this.state, false, this.liveMask)
        ) {
          cp.hits++;
          // Its precision marks are not final while it is explored: rely on every scalar.
          markAllPrecise(this.parent);
          return true;
        }
        // A callback's next iteration: covered by one still being explored is enough.
        if (this.callbackCalls.has(pc) && statesEqual(cp.state, this.state, false, this.liveMask)) {
          cp.hits++;
          markAllPrecise(this.parent);
          return true;
        }
        if (
          !this.callbackCalls.has(pc) &&
          cp.state.callbackUnrollDepth === this.state.callbackUnrollDepth &&
          statesEqual(cp.state, this.state, true)
        )
          // Found before this instruction is printed: the log's last instruction is the one before.
          throw new VerifyFailure(this.lastPc, [`infinite loop detected at insn ${pc}`]);
      } else if (statesEqual(cp.state, this.state, false, this.liveMask, cp.precise, slotLive)) {
        cp.hits++;
        // propagate_precision: this path is safe for what `cp`'s checks depended on.
        const frame = this.state.frames.length - 1;
        const locs = preciseScalars(cp.state, cp.precise);
        markPrecise(this, locs, frame, this.trail, this.parent, false);
        return true;
      }
      // A state that keeps missing is unlikely to help: drop it, as the kernel does.
      cp.misses++;
      const n = force && cp.branches > 0 ? 64 : 3;
      if (cp.misses > cp.hits * n + n) {
        list.splice(k, 1);
        k--;
        if (cp.branches === 0) this.exploredStates--;
      }
    }
    if (statesCnt > this.maxStatesPerInsn) this.maxStatesPerInsn = statesCnt;
    if (!force && (this.jmpsProcessed - this.prevJmps < 2 || this.processed - this.prevInsns < 8))
      return false;
    this.prevJmps = this.jmpsProcessed;
    this.prevInsns = this.processed;
    const cp: Checkpoint = {
      insn: pc,
      at: this.processed,
      state: copyState(this.state),
      branches: 1,
      parent: this.parent,
      hits: 0,
      misses: 0,
      trail: this.trail,
      precise: new Set(),
    };
    this.trail = new Trail();
    list.push(cp);
    this.explored.set(pc, list);
    this.vlog?.checkpoint(pc, this.state, cp);
    this.parent = cp;
    this.totalStates++;
    if (++this.exploredStates > this.peakStates) this.peakStates = this.exploredStates;
    return false;
  }

  // ------------------------------------------------------------------ ALU

  alu(insn: AluInstruction): void {
    const { op, dst, bits } = insn;
    if (op === "neg") {
      const d = this.readReg(dst);
      this.checkWritable(dst);
      this.setReg(dst, d.type === "scalar" ? scalarReg(scalarAlu("neg", d.s, d.s, bits)) : UNKNOWN);
      return;
    }
    if (op === "mov" || op === "movsx") {
      const src = insn.source === "reg" ? this.readReg(insn.src) : undefined;
      this.checkWritable(dst);
      if (!src) {
        const v = bits === 64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0);
        this.setReg(dst, scalarReg(scalarConst(v)));
        return;
      }
      if (op === "movsx") {
        const from = insn.extendFrom ?? 32;
        if (src.type !== "scalar") {
          this.setReg(dst, UNKNOWN);
          return;
        }
        // A value the sign extension leaves as it is stays linked with its source.
        const same = src.s.umax < 1n << BigInt(from - 1);
        const id = same ? this.linkScalar(insn.src, src) : 0;
        this.setReg(dst, scalarReg(scalarMovsx(src.s, from, bits), id));
        return;
      }
      if (bits === 64) {
        this.linkScalar(insn.src, src);
        this.setReg(dst, this.frame.regs[insn.src] as Reg);
        return;
      }
      if (src.type !== "scalar") {
        this.setReg(dst, scalarReg(scalarOfSize(4)));
        return;
      }
      // A value that fits in 32 bits is the same after the move: the two stay linked.
      const id = src.s.umax <= 0xffff_ffffn ? this.linkScalar(insn.src, src) : 0;
      this.setReg(dst, scalarReg(scalarZext32(src.s), id));
      return;
    }
    const src =
      insn.source === "reg" ? this.readReg(insn.src) : scalarReg(scalarConst(BigInt(insn.imm)));
    const d = this.readReg(dst);
    if (
      (op === "div" || op === "mod" || op === "sdiv" || op === "smod") &&
      insn.source === "imm" &&
      insn.imm === 0
    )
      this.fail("div by zero");
    if (
      (op === "lsh" || op === "rsh" || op === "arsh") &&
      insn.source === "imm" &&
      (insn.imm < 0 || insn.imm >= bits)
    )
      this.fail(`invalid shift ${insn.imm}`);
    this.checkWritable(dst);
    if (d.type === "scalar" && src.type === "scalar") {
      const fork = maybeFork(op, d.s, src.s);
      if (fork) {
        // 6.18 splits `r &= K` / `r |= K` on a value in [-1, 0] into its two constants.
        const other = copyState(this.state);
        (other.frames[other.frames.length - 1] as Frame).regs[dst] = scalarReg(fork[0]);
        this.push(other, this.pc);
        this.setReg(dst, scalarReg(fork[1]));
        this.setReg(dst, this.checked(scalarAlu(op, fork[1], src.s, bits), "alu"));
        return;
      }
      this.setReg(dst, this.checked(scalarAlu(op, d.s, src.s, bits), "alu"));
      return;
    }
    if (d.type !== "scalar" && src.type !== "scalar") {
      if (op === "sub") {
        this.setReg(dst, bits === 64 ? UNKNOWN : scalarReg(scalarOfSize(4)));
        return;
      }
      this.fail(`R${dst} pointer ${ALU_STRING[op]} pointer prohibited`);
    }
    // The kernel marks the scalar of `ptr op reg` precise (its log breaks the line).
    if (insn.source === "reg") {
      this.vlog?.precise();
      this.markRegsPrecise(d.type === "scalar" ? dst : insn.src);
    }
    // scalar op pointer is checked as pointer op scalar (adjust_ptr_min_max_vals).
    if (d.type === "scalar") {
      this.setReg(dst, this.ptrArith(insn, src, d, true));
      return;
    }
    this.setReg(dst, this.ptrArith(insn, d, src, false));
  }

  /** A scalar after the kernel's invariant check (a violation is logged, the bounds reset). */
  checked(s: Scalar, ctx: string): Reg {
    const c = invariants(s, ctx);
    if (c.message) this.vlog?.lines([c.message]);
    return scalarReg(c.scalar);
  }

  ptrArithOpFail(insn: AluInstruction, ptr: Reg): never {
    const { dst, op, bits } = insn;
    if (bits === 32) this.fail(`R${dst} 32-bit pointer arithmetic prohibited`);
    if (ptr.flags.maybeNull)
      this.fail(
        `R${dst} pointer arithmetic on ${typeName(ptr.type, ptr.flags)} prohibited, null-check it first`,
      );
    if (op === "and" || op === "or" || op === "xor")
      this.fail(`R${dst} bitwise operator ${ALU_STRING[op]} on pointer prohibited`);
    this.fail(`R${dst} pointer arithmetic with ${ALU_STRING[op]} operator prohibited`);
  }

  /** adjust_ptr_min_max_vals: pointer ± scalar. */
  ptrArith(insn: AluInstruction, ptr: Reg, off: Reg, scalarIsDst: boolean): Reg {
    const { dst, op, bits } = insn;
    if (bits === 32) {
      if (op === "sub") return UNKNOWN;
      this.fail(`R${dst} 32-bit pointer arithmetic prohibited`);
    }
    const name = typeName(ptr.type, ptr.flags);
    if (ptr.flags.maybeNull)
      this.fail(`R${dst} pointer arithmetic on ${name} prohibited, null-check it first`);
    const known = isConst(off.s);
    const val = BigInt.asIntN(64, constValue(off.s));
    switch (ptr.type) {
      case "ctx":
      case "map_value":
      case "map_key":
      case "stack":
      case "pkt_meta":
      case "pkt":
      case "tp_buffer":
      case "btf_id":
      case "mem":
      case "buf":
      case "func":
        break;
      case "flow_keys":
        if (known) break;
        this.fail(`R${dst} pointer arithmetic on ${name} prohibited`);
        break;
      case "map_ptr":
        if (known && val === 0n && op === "add") break;
        this.fail(`R${dst} pointer arithmetic on ${name} prohibited`);
        break;
      default:
        this.fail(`R${dst} pointer arithmetic on ${name} prohibited`);
    }
    this.saneOffset(off, name);
    this.saneOffset(ptr, name);
    if (op !== "add" && op !== "sub") this.ptrArithOpFail(insn, ptr);
    if (op === "sub") {
      if (scalarIsDst) this.fail(`R${dst} tried to subtract pointer from scalar`);
      if (ptr.type === "stack") this.fail(`R${dst} subtraction from stack pointer prohibited`);
    }
    let result: Reg;
    const fixed = op === "add" ? ptr.off + Number(val) : ptr.off - Number(val);
    if (known && fixed === (fixed | 0) && val >= -(1n << 31n) && val < 1n << 31n) {
      result = { ...ptr, off: fixed };
    } else {
      const s = scalarAlu(op, ptr.s, off.s, 64);
      result = { ...ptr, s };
      if (isPacketPointer(ptr.type)) result = { ...result, id: this.newId(), range: 0 };
    }
    this.saneOffset(result, name);
    return result;
  }

  /** check_reg_sane_offset. */
  saneOffset(r: Reg, name: string): void {
    const known = isConst(r.s);
    const val = BigInt.asIntN(64, r.s.varOff.value);
    if (known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF))
      this.fail(`math between ${name} pointer and ${val} is not allowed`);
    if (r.off >= MAX_VAR_OFF || r.off <= -MAX_VAR_OFF)
      this.fail(`${name} pointer offset ${r.off} is not allowed`);
    if (r.s.smin === S64_MIN)
      this.fail(
        `math between ${name} pointer and register with unbounded min value is not allowed`,
      );
    if (r.s.smin >= MAX_VAR_OFF || r.s.smin <= -MAX_VAR_OFF)
      this.fail(`value ${r.s.smin} makes ${name} pointer be out of bounds`);
  }

  endian(dst: number, order: "le" | "be" | "swap", bits: 16 | 32 | 64): void {
    const d = this.readReg(dst);
    this.checkWritable(dst);
    this.setReg(dst, d.type === "scalar" ? scalarReg(scalarEndian(d.s, order, bits)) : UNKNOWN);
  }

  // ------------------------------------------------------------------ lddw

  lddw(insn: Instruction & { kind: "lddw" }): void {
    this.checkWritable(insn.dst);
    switch (insn.pseudo) {
      case 0:
        this.setReg(insn.dst, scalarReg(scalarConst(insn.value)));
        return;
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE: {
        const map = this.maps[insn.imm];
        if (!map) this.fail(`fd ${insn.imm} is not pointing to valid bpf_map`);
        if (insn.pseudo === BPF_PSEUDO_MAP_FD || insn.pseudo === BPF_PSEUDO_MAP_IDX) {
          this.setReg(insn.dst, pointerReg("map_ptr", { map }));
          return;
        }
        const off = insn.imm2;
        if (map.type !== MapType.ARRAY || map.maxEntries !== 1)
          this.fail("map_value pointer into a map that is not a single-element array");
        if (off < 0 || off >= map.valueSize)
          this.fail(`invalid access to map value pointer, value_size=${map.valueSize} off=${off}`);
        this.setReg(insn.dst, pointerReg("map_value", { map, off }));
        return;
      }
      case BPF_PSEUDO_FUNC:
        this.setReg(insn.dst, pointerReg("func", { subprog: this.pc + insn.imm + 1 }));
        return;
      default:
        this.fail("invalid bpf_ld_imm64 insn");
    }
  }

  // ------------------------------------------------------------------ memory

  load(insn: LoadInstruction): void {
    const base = this.readReg(insn.src);
    this.checkWritable(insn.dst);
    const size = insn.size / 8;
    // The kernel rewrites context loads into loads of the real fields; it has no
    // sign-extending form of them.
    if (insn.signExtend && base.type === "ctx")
      this.fail(`invalid bpf_context access off=${insn.off + base.off} size=${size}`);
    const value = this.access(insn.src, base, insn.off, size, "read", undefined);
    this.samePointerType(base);
    this.setReg(insn.dst, this.sized(value, size, insn.signExtend));
  }

  /**
   * save_aux_ptr_type: one load or store instruction is rewritten for the pointer it
   * uses, so it may not see a context (or socket) pointer on one path and another
   * pointer on another.
   */
  samePointerType(base: Reg): void {
    const t = typeName(base.type, base.flags);
    const prev = this.ptrTypes.get(this.pc);
    if (prev === undefined) {
      this.ptrTypes.set(this.pc, t);
      return;
    }
    const special = (x: string) =>
      ["ctx", "sock", "sock_common", "tcp_sock", "xdp_sock"].includes(x) || x.startsWith("ptr_");
    if (prev !== t && (special(prev) || special(t)))
      this.fail("same insn cannot be used with different pointers");
  }

  /** A loaded scalar narrower than 8 bytes: zero- or sign-extended from its size. */
  sized(r: Reg, size: number, signExtend: boolean): Reg {
    if (r.type !== "scalar" || size >= 8) return r;
    // A value that already fits stays the same register (a filled spill keeps its id).
    if (!signExtend && r.s.umax < 1n << BigInt(size * 8)) return r;
    return scalarReg(scalarCoerce(r.s, size as 1 | 2 | 4, signExtend));
  }

  store(insn: StoreInstruction): void {
    const value = insn.source === "reg" ? this.readReg(insn.src) : undefined;
    const base = this.readReg(insn.dst);
    const v = value ?? scalarReg(scalarConst(BigInt(insn.imm)));
    this.spillSource = value ? insn.src : undefined;
    this.access(insn.dst, base, insn.off, insn.size / 8, "write", v);
    this.spillSource = undefined;
    this.samePointerType(base);
  }

  atomic(insn: AtomicInstruction): void {
    const size = insn.size / 8;
    if (insn.op === "load_acquire") {
      const base = this.readReg(insn.src);
      this.checkWritable(insn.dst);
      this.setReg(
        insn.dst,
        this.sized(this.access(insn.src, base, insn.off, size, "read", undefined), size, false),
      );
      return;
    }
    if (insn.op === "store_release") {
      const v = this.readReg(insn.src);
      const base = this.readReg(insn.dst);
      this.access(insn.dst, base, insn.off, size, "write", v);
      return;
    }
    this.readReg(insn.src);
    const base = this.readReg(insn.dst);
    if (insn.op === "cmpxchg") this.readReg(0);
    if (base.type === "ctx" || isPacketPointer(base.type) || base.type === "flow_keys")
      this.fail(
        `BPF_ATOMIC stores into R${insn.dst} ${typeName(base.type, base.flags)} is not allowed`,
      );
    // The register that receives the old value is unknown before the memory is checked
    // (check_reg_arg DST_OP first): fetching into the address register loses the address.
    const target = insn.op === "cmpxchg" ? 0 : insn.src;
    if (insn.fetch) {
      this.checkWritable(target);
      this.setReg(target, UNKNOWN);
    }
    const addr = this.frame.regs[insn.dst] as Reg;
    const old = this.access(insn.dst, addr, insn.off, size, "read", undefined, true);
    this.access(insn.dst, addr, insn.off, size, "write", undefined, true);
    if (insn.fetch)
      this.setReg(target, this.sized(old.type === "scalar" ? old : UNKNOWN, size, false));
  }

  /**
   * check_mem_access: `size` bytes at `off` from register `regno` (holding `reg`); reads
   * give the loaded register, writes store `value`.
   */
  access(
    regno: number,
    reg: Reg,
    insnOff: number,
    size: number,
    kind: "read" | "write",
    value: Reg | undefined,
    strictOnce = false,
  ): Reg {
    const off = insnOff + reg.off;
    const name = typeName(reg.type, reg.flags);
    this.alignment(reg, insnOff, size, strictOnce);
    if (reg.flags.maybeNull) this.fail(`R${regno} invalid mem access '${name}'`);
    switch (reg.type) {
      case "map_value": {
        const map = reg.map as MapRef;
        this.mapAccessType(map, off, size, kind);
        this.memRegion(regno, reg, off, size, map.valueSize, false);
        this.lockOverlap(reg, off, size);
        return UNKNOWN;
      }
      case "map_key":
        if (kind === "write") this.fail(`R${regno} cannot write into ${name}`);
        this.memRegion(regno, reg, off, size, (reg.map as MapRef).keySize, false);
        return UNKNOWN;
      case "mem":
        if (kind === "write" && reg.flags.rdonly) this.fail(`R${regno} cannot write into ${name}`);
        this.memRegion(regno, reg, off, size, reg.memSize, false);
        return UNKNOWN;
      case "ctx": {
        this.ptrOffReg(regno, reg, false);
        if (!this.ctx)
          this.fail(
            `tsbpf does not model the context of ${progTypeName(this.opts.progType) ?? this.opts.progType} programs yet (off=${off} size=${size})`,
          );
        const a = this.ctx(off, size, kind === "write");
        if (!a) this.fail(`invalid bpf_context access off=${off} size=${size}`);
        if (a.type === "scalar") return UNKNOWN;
        return pointerReg(a.type, {
          flags: a.flags ?? {},
          id: a.flags?.maybeNull ? this.newId() : 0,
        });
      }
      case "stack":
        return this.stackAccess(regno, reg, off, size, kind, value);
      case "pkt":
      case "pkt_meta":
        if (kind === "write" && !mayWritePacket(this.opts.progType))
          this.fail("cannot write into packet");
        this.packetAccess(regno, reg, off, size, false);
        return UNKNOWN;
      case "sock":
      case "sock_common":
      case "tcp_sock":
      case "xdp_sock": {
        // check_sock_access: the fields of struct bpf_sock / bpf_tcp_sock, read only.
        if (kind === "write") this.fail(`R${regno} cannot write into ${name}`);
        if (reg.s.smin < 0n)
          this.fail(
            `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
          );
        const valid = SOCK_ACCESS[reg.type](off, size);
        if (!valid) this.fail(`R${regno} invalid ${name} access off=${off} size=${size}`);
        return UNKNOWN;
      }
      default:
        this.fail(`R${regno} invalid mem access '${name}'`);
    }
  }

  /**
   * check_ptr_alignment: stack accesses are always checked (spill tracking needs it),
   * atomics too; the others only under BPF_F_STRICT_ALIGNMENT (x86 has efficient
   * unaligned access). Packet offsets count NET_IP_ALIGN (2), as the kernel does.
   */
  alignment(reg: Reg, insnOff: number, size: number, strictOnce: boolean): void {
    if (size === 1) return;
    const flags = this.opts.progFlags ?? 0;
    const strictFlag =
      (flags & BPF_F_STRICT_ALIGNMENT) !== 0 && (flags & BPF_F_ANY_ALIGNMENT) === 0;
    const strict = strictFlag || strictOnce || reg.type === "stack";
    if (!strict) return;
    const t = reg.s.varOff;
    const v = isConst(reg.s) ? String(BigInt.asIntN(64, t.value)) : tnumText(reg.s);
    if (isPacketPointer(reg.type)) {
      const total = BigInt.asUintN(64, t.value + BigInt(2 + reg.off + insnOff));
      if (((total | t.mask) & BigInt(size - 1)) !== 0n)
        this.fail(`misaligned packet access off 2+${v}+${reg.off}+${insnOff} size ${size}`);
      return;
    }
    const total = BigInt.asUintN(64, t.value + BigInt(reg.off + insnOff));
    if (((total | t.mask) & BigInt(size - 1)) !== 0n)
      this.fail(
        `misaligned ${POINTER_DESC[reg.type] ?? ""}access off ${v}+${reg.off}+${insnOff} size ${size}`,
      );
  }

  mapAccessType(map: MapRef, off: number, size: number, kind: "read" | "write"): void {
    const BPF_F_RDONLY_PROG = 1 << 7;
    const BPF_F_WRONLY_PROG = 1 << 8;
    if (kind === "write" && map.flags & BPF_F_RDONLY_PROG)
      this.fail(`write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
    if (kind === "read" && map.flags & BPF_F_WRONLY_PROG)
      this.fail(`read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  }

  /** __check_mem_access: the message for one out-of-bounds access, or undefined. */
  memAccessError(
    regno: number,
    reg: Reg,
    off: bigint,
    size: number,
    memSize: number,
    zeroOk: boolean,
  ): string | undefined {
    const sizeOk = size > 0 || (size === 0 && zeroOk);
    if (off >= 0n && sizeOk && off + BigInt(size) <= BigInt(memSize)) return undefined;
    const o = BigInt.asIntN(32, off);
    switch (reg.type) {
      case "map_key":
        return `invalid access to map key, key_size=${memSize} off=${o} size=${size}`;
      case "map_value":
        return `invalid access to map value, value_size=${memSize} off=${o} size=${size}`;
      case "pkt":
      case "pkt_meta":
      case "pkt_end":
        return `invalid access to packet, off=${o} size=${size}, R${regno}(id=${reg.id},off=${o},r=${memSize})`;
      default:
        return `invalid access to memory, mem_size=${memSize} off=${o} size=${size}`;
    }
  }

  /** check_mem_region_access: a fixed offset plus the register's variable offset. */
  memRegion(
    regno: number,
    reg: Reg,
    off: number,
    size: number,
    memSize: number,
    zeroOk: boolean,
  ): void {
    const { smin, umax } = reg.s;
    const o = BigInt(off);
    if (
      smin < 0n &&
      (smin === S64_MIN || o + smin !== BigInt.asIntN(32, o + smin) || smin + o < 0n)
    )
      this.fail(
        `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      );
    const lo = this.memAccessError(regno, reg, smin + o, size, memSize, zeroOk);
    if (lo) this.fail(lo, `R${regno} min value is outside of the allowed memory range`);
    if (umax >= BigInt(MAX_VAR_OFF))
      this.fail(`R${regno} unbounded memory access, make sure to bounds check any such access`);
    const hi = this.memAccessError(regno, reg, umax + o, size, memSize, zeroOk);
    if (hi) this.fail(hi, `R${regno} max value is outside of the allowed memory range`);
  }

  packetAccess(regno: number, reg: Reg, off: number, size: number, zeroOk: boolean): void {
    if (reg.s.smin < 0n)
      this.fail(
        `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      );
    if (reg.range < 0) this.fail(`R${regno} offset is outside of the packet`);
    const e = this.memAccessError(regno, reg, BigInt(off), size, reg.range, zeroOk);
    if (e) this.fail(e, `R${regno} offset is outside of the packet`);
  }

  /** __check_ptr_off_reg: a pointer that must be used unmodified. */
  ptrOffReg(regno: number, reg: Reg, fixedOffOk: boolean): void {
    const name = typeName(reg.type, reg.flags);
    if (reg.off < 0) this.fail(`negative offset ${name} ptr R${regno} off=${reg.off} disallowed`);
    if (!fixedOffOk && reg.off)
      this.fail(`dereference of modified ${name} ptr R${regno} off=${reg.off} disallowed`);
    if (!isConst(reg.s) || reg.s.umin !== 0n)
      this.fail(`variable ${name} access var_off=${tnumText(reg.s)} disallowed`);
  }

  /** The frame a stack pointer points into. */
  stackFrame(reg: Reg): Frame {
    return this.state.frames[reg.frameno] as Frame;
  }

  /** check_stack_access_within_bounds; `reads`: the access reads the bytes (stack liveness). */
  stackBounds(
    regno: number,
    reg: Reg,
    off: number,
    size: number,
    what: string,
    reads: boolean,
  ): [number, number] {
    let min: number;
    let max: number;
    if (isConst(reg.s)) {
      min = Number(BigInt.asIntN(64, reg.s.umin)) + off;
      max = min + size;
    } else {
      if (reg.s.smax >= MAX_VAR_OFF || reg.s.smin <= -MAX_VAR_OFF)
        this.fail(`invalid unbounded variable-offset${what} stack R${regno}`);
      min = Number(reg.s.smin) + off;
      max = Number(reg.s.smax) + off + size;
    }
    if (min < -MAX_BPF_STACK || min > -1 || max > 0 || size < 0) {
      if (isConst(reg.s)) this.fail(`invalid${what} stack R${regno} off=${off} size=${size}`);
      this.fail(
        `invalid variable-offset${what} stack R${regno} var_off=${tnumText(reg.s)} off=${off} size=${size}`,
      );
    }
    const f = this.stackFrame(reg);
    if (-min > f.stackDepth) f.stackDepth = -min;
    if (f === this.frame && reads)
      this.stackLive.read(Math.floor(-max / 8), Math.floor((-min - 1) / 8));
    return [min, max];
  }

  stackAccess(
    regno: number,
    reg: Reg,
    off: number,
    size: number,
    kind: "read" | "write",
    value: Reg | undefined,
  ): Reg {
    const [min, max] = this.stackBounds(
      regno,
      reg,
      off,
      size,
      kind === "read" ? " read from" : " write to",
      kind === "read",
    );
    const f = this.stackFrame(reg);
    this.vlog?.touchStack(min, isConst(reg.s) ? min + 1 : max);
    if (!isConst(reg.s)) {
      // Variable offset: every byte it may touch.
      if (kind === "write") {
        for (let a = min; a < max; a++) this.setStackByte(f, a, "m");
        return UNKNOWN;
      }
      return UNKNOWN;
    }
    const spi = Math.floor((-min - 1) / 8);
    if (kind === "write") {
      this.stackWrite(f, min, size, value);
      return UNKNOWN;
    }
    return this.stackRead(f, spi, min, size);
  }

  slot(f: Frame, spi: number): Slot {
    return f.stack[spi] ?? EMPTY_SLOT;
  }

  setSlot(f: Frame, spi: number, s: Slot): void {
    while (f.stack.length <= spi) f.stack.push(EMPTY_SLOT);
    f.stack[spi] = s;
  }

  /** The byte at stack address `a` (negative) becomes `t`; a spill there is broken up. */
  setStackByte(f: Frame, a: number, t: SlotByte): void {
    const spi = Math.floor((-a - 1) / 8);
    const idx = (-a - 1) % 8;
    const s = this.slot(f, spi);
    const bytes = s.bytes.map((b) => (b === "r" ? "m" : b)) as SlotByte[];
    bytes[idx] = t;
    this.setSlot(f, spi, { bytes });
  }

  /** A write of `v` (undefined: bytes of unknown value, as atomics and helpers write). */
  stackWrite(f: Frame, a: number, size: number, v: Reg | undefined): void {
    const spi = Math.floor((-a - 1) / 8);
    const aligned = -a % 8 === 0;
    if (!v) {
      const old = this.slot(f, spi);
      const bytes = old.bytes.map((b) => (b === "r" ? "m" : b)) as SlotByte[];
      const idx = (-a - 1) % 8;
      for (let i = 0; i < size; i++) bytes[idx - i] = "m";
      this.setSlot(f, spi, { bytes });
      return;
    }
    if (aligned && size === 8 && f === this.frame) this.stackLive.wrote(spi);
    if (aligned && v.type === "scalar") {
      this.spill(f, spi, v, size);
      return;
    }
    if (isPointer(v)) {
      if (size !== 8) this.fail("invalid size of register spill");
      if (v.type === "stack" && f !== this.frame)
        this.fail("cannot spill pointers to stack into stack frame of the caller");
      this.spill(f, spi, v, 8);
      return;
    }
    const zero = v.type === "scalar" && isConst(v.s) && v.s.umin === 0n;
    // The zeroed bytes stand for the register's value from now on.
    if (zero && this.spillSource !== undefined) this.markRegsPrecise(this.spillSource);
    const old = this.slot(f, spi);
    const bytes = old.bytes.map((b) => (b === "r" ? "m" : b)) as SlotByte[];
    const idx = (-a - 1) % 8;
    for (let i = 0; i < size; i++) bytes[idx - i] = zero ? "0" : "m";
    this.setSlot(f, spi, { bytes });
  }

  spill(f: Frame, spi: number, v: Reg, size: number): void {
    const old = this.slot(f, spi);
    const bytes = old.bytes.slice() as SlotByte[];
    for (let i = 7; i > 7 - size; i--) bytes[i] = "r";
    for (let i = 7 - size; i >= 0; i--) if (bytes[i] === "r") bytes[i] = "m";
    let spilled = v;
    if (v.type === "scalar") {
      const fits = size === 8 || v.s.umax < 1n << BigInt(size * 8);
      if (fits && v.id === 0 && !isConst(v.s) && this.spillSource !== undefined) {
        // assign_scalar_id_before_mov: the register and its spill stay linked.
        spilled = { ...v, id: this.newId() };
        this.setReg(this.spillSource, spilled);
      } else if (!fits) spilled = { ...v, id: 0 };
    }
    this.setSlot(f, spi, { bytes, spilled });
    this.trail.note({ stack: slotLoc(f.frameno, spi) });
  }

  stackRead(f: Frame, spi: number, a: number, size: number): Reg {
    const s = this.slot(f, spi);
    const idx = (-a - 1) % 8;
    if (s.bytes[7] === "r" && s.spilled) {
      this.trail.note({ stack: slotLoc(f.frameno, spi) });
      let spillSize = 1;
      for (let i = 7; i > 0 && s.bytes[i - 1] === "r"; i--) spillSize++;
      if (size === 8 && spillSize === 8) return s.spilled;
      if (s.spilled.type !== "scalar") this.fail("invalid size of register fill");
      if (size <= spillSize && idx === 7) {
        // A narrow fill of a value that fits keeps the register (and its id) whole.
        if (s.spilled.s.umax < 1n << BigInt(size * 8)) return s.spilled;
        return this.sized({ ...s.spilled, id: 0 }, size, false);
      }
      // Part of a spilled zero, or zeroed bytes beside a spill, still read as zero.
      let spill = 0;
      let zero = 0;
      for (let i = idx; i > idx - size && i >= 0; i--) {
        if (s.bytes[i] === "r") spill++;
        else if (s.bytes[i] === "0") zero++;
      }
      const spilledZero = isConst(s.spilled.s) && s.spilled.s.umin === 0n;
      if ((spill === size && spilledZero) || zero === size) return scalarReg(scalarConst(0n));
      return UNKNOWN;
    }
    let zeros = 0;
    for (let i = 0; i < size; i++) {
      const b = (this.slot(f, Math.floor((-(a + i) - 1) / 8)).bytes[(-(a + i) - 1) % 8] ??
        "?") as SlotByte;
      if (b === "0") zeros++;
    }
    return zeros === size ? scalarReg(scalarConst(0n)) : UNKNOWN;
  }

  legacyLoad(src: number, size: number): void {
    const t = this.opts.progType;
    if (t !== ProgType.SOCKET_FILTER && t !== ProgType.SCHED_CLS && t !== ProgType.SCHED_ACT)
      this.fail("BPF_LD_[ABS|IND] instructions not allowed for this program type");
    this.resourceLeak("BPF_LD_[ABS|IND]");
    const r6 = this.readReg(6);
    if (src >= 0) this.readReg(src);
    if (r6.type !== "ctx") this.fail("at the time of BPF_LD_ABS|IND R6 != pointer to skb");
    if (this.state.frames.length > 1 && !this.frame.callback) {
      // A failed load ends the program with 0; in a subprogram the kernel lets its
      // caller see that as a return of 0.
      const early = copyState(this.state);
      const f = early.frames.pop() as Frame;
      (early.frames[early.frames.length - 1] as Frame).regs[0] = scalarReg(scalarConst(0n));
      this.push(early, f.callsite + 1);
    }
    for (let r = 1; r <= 5; r++) this.setReg(r, NOT_INIT);
    this.setReg(0, scalarReg(scalarOfSize(size / 8)));
  }

  // ------------------------------------------------------------------ jumps

  condJump(insn: JumpInstruction): boolean {
    const { dst, op, bits } = insn;
    const pc = this.pc;
    const target = jumpTarget(insn, pc);
    const src = insn.source === "reg" ? this.readReg(insn.src) : undefined;
    const d = this.readReg(dst);
    const s =
      src ?? scalarReg(scalarConst(bits === 64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0)));
    const taken = this.branchTaken(op, d, s, bits);
    if (taken !== -1 && (d.type === "scalar" || (src && src.type === "scalar"))) {
      this.vlog?.precise();
      this.markRegsPrecise(dst, ...(src ? [insn.src] : []));
    }
    this.noteLinked(d, src);
    if (taken === 1) {
      this.pc = target;
      return false;
    }
    if (taken === 0) {
      this.pc = pc + 1;
      return false;
    }
    const other = copyState(this.state);
    // Refine both: `this` falls through (not taken), `other` jumps.
    this.refine(this.state, insn, d, s, false);
    this.refine(other, insn, d, s, true);
    this.push(other, target);
    this.pc = pc + 1;
    return false;
  }

  /**
   * mark_pkt_end: the branch where a packet pointer compared with pkt_end is found at or
   * beyond it records that in that register's range (-1 at the end, -2 beyond it), so a
   * later access fails and a later comparison with pkt_end is decided.
   */
  markPacketEnd(insn: JumpInstruction, d: Reg, s: Reg, taken: boolean): void {
    let beyond: boolean;
    const endOnRight = s.type === "pkt_end";
    if (!endOnRight && d.type !== "pkt_end") return;
    // As `pkt OP end`: where the pointer is past (or at) the end.
    const op = endOnRight ? insn.op : flipJump(insn.op);
    const regno = endOnRight ? insn.dst : insn.src;
    if (op === "jgt" && taken) beyond = true;
    else if (op === "jge" && taken) beyond = false;
    else if (op === "jle" && !taken) beyond = true;
    else if (op === "jlt" && !taken) beyond = false;
    else return;
    const r = this.frame.regs[regno] as Reg;
    if (r.type !== "pkt") return;
    this.frame.regs[regno] = { ...r, range: beyond ? BEYOND_PKT_END : AT_PKT_END };
  }

  branchTaken(op: JumpOp, d: Reg, s: Reg, bits: 32 | 64): 1 | 0 | -1 {
    if (d.type === "scalar" && s.type === "scalar") return isBranchTaken(op, d.s, s.s, bits);
    const pktAny = (r: Reg) => r.type === "pkt" || r.type === "pkt_meta" || r.type === "pkt_end";
    if (pktAny(d) && pktAny(s)) return bits === 64 ? packetBranchTaken(op, d, s) : -1;
    // A pointer that cannot be NULL is never equal to 0.
    const ptr = d.type === "scalar" ? s : d;
    const other = d.type === "scalar" ? d : s;
    if (other.type !== "scalar" || !isConst(other.s) || other.s.umin !== 0n) return -1;
    // reg_not_null: only these pointers are known not to be NULL (a ctx or stack
    // pointer compared with 0 still takes both ways).
    if (ptr.flags.maybeNull || bits === 32 || !NOT_NULL.has(ptr.type)) return -1;
    if (op === "jeq") return 0;
    if (op === "jne") return 1;
    return -1;
  }

  /** The state on one side of a conditional jump. */
  refine(st: State, insn: JumpInstruction, d: Reg, s: Reg, taken: boolean): void {
    const { dst, op, bits } = insn;
    const saved = this.state;
    this.state = st;
    try {
      if (d.type === "scalar" && s.type === "scalar") {
        const same = insn.source === "reg" && insn.src === dst;
        const [a, b] = refineBranch(op, d.s, s.s, bits, taken, same);
        this.updateLinked(dst, d, a);
        if (insn.source === "reg" && !same) this.updateLinked(insn.src, s, b);
        return;
      }
      // A maybe-NULL pointer found equal to one that cannot be NULL is not NULL either
      // (that register only).
      if (
        insn.source === "reg" &&
        bits === 64 &&
        (op === "jeq" || op === "jne") &&
        (op === "jeq") === taken &&
        d.type !== "scalar" &&
        s.type !== "scalar" &&
        d.type !== "btf_id" &&
        s.type !== "btf_id"
      ) {
        const notNull = (r: Reg) => !r.flags.maybeNull && NOT_NULL.has(r.type);
        const lift = (regno: number) => {
          const r = this.frame.regs[regno] as Reg;
          this.frame.regs[regno] = { ...r, flags: { ...r.flags, maybeNull: false } };
        };
        if (notNull(d) && s.flags.maybeNull) lift(insn.src);
        if (notNull(s) && d.flags.maybeNull) lift(dst);
      }
      // NULL checks: `if rX == 0` / `if rX != 0` on a maybe-NULL pointer.
      if (
        insn.source === "imm" &&
        insn.imm === 0 &&
        bits === 64 &&
        (op === "jeq" || op === "jne") &&
        d.flags.maybeNull
      ) {
        const isNull = (op === "jeq") === taken;
        this.markNull(d, isNull);
        return;
      }
      if (insn.source === "reg" && bits === 64) this.packetCompare(insn, d, s, taken);
    } finally {
      this.state = saved;
    }
  }

  /**
   * collect_linked_regs: the scalars sharing an id with a jump's operands learn their
   * bounds from it, so precision backtracking treats them as one.
   */
  noteLinked(d: Reg, src: Reg | undefined): void {
    const ids: number[] = [];
    if (d.type === "scalar" && d.id) ids.push(d.id);
    if (src?.type === "scalar" && src.id) ids.push(src.id);
    if (ids.length === 0) return;
    const linked: Loc[] = [];
    this.state.frames.forEach((f, fi) => {
      f.regs.forEach((r, i) => {
        if (r.type === "scalar" && ids.includes(r.id)) linked.push(regLoc(fi, i));
      });
      f.stack.forEach((sl, spi) => {
        const r = sl.spilled;
        if (r?.type === "scalar" && ids.includes(r.id)) linked.push(slotLoc(fi, spi));
      });
    });
    if (linked.length > 1) this.trail.note({ linked });
  }

  /** Every register with the same id as `old` (copies of it) learns `s`. */
  updateLinked(regno: number, old: Reg, s: Scalar): void {
    this.setReg(regno, { ...old, s });
    if (old.id === 0) return;
    for (const [r, set] of this.allRegs())
      if (r.type === "scalar" && r.id === old.id) set({ ...r, s });
  }

  /** mark_ptr_or_null_regs: after a NULL check, every copy is NULL or a valid pointer. */
  markNull(ptr: Reg, isNull: boolean): void {
    const id = ptr.id;
    for (const [r, set] of this.allRegs()) {
      if (r.id !== id || !r.flags.maybeNull) continue;
      if (isNull) set(scalarReg(scalarConst(0n)));
      else {
        // The id matters no more (pruning gains), unless a spin lock is known by it.
        const keep = r.type === "map_value" && typeof r.map?.spinLockOff === "number";
        set({
          ...r,
          flags: { ...r.flags, maybeNull: false },
          ...(!keep && { id: 0 }),
        });
      }
    }
    if (isNull && ptr.refObjId && ptr.refObjId === id) {
      // A NULL reference holds nothing to release (a NULL cast of one still does).
      this.state.refs = this.state.refs.filter((x) => x.id !== ptr.refObjId);
    }
  }

  /** try_match_pkt_pointers: `pkt + N` compared with pkt_end proves N bytes. */
  packetCompare(insn: JumpInstruction, d: Reg, s: Reg, taken: boolean): void {
    const op = insn.op;
    const dataVsEnd = (a: Reg, b: Reg) =>
      (a.type === "pkt" && b.type === "pkt_end") ||
      (a.type === "pkt_meta" && b.type === "pkt" && b.off === 0 && isConst(b.s) && b.s.umin === 0n);
    // When the jump is in the direction that proves `ptr <= end` (or `<`), record a range.
    let good: Reg | undefined;
    let open = false;
    if (dataVsEnd(d, s)) {
      // d op end
      if ((op === "jgt" && !taken) || (op === "jle" && taken)) good = d;
      else if ((op === "jlt" && taken) || (op === "jge" && !taken)) {
        good = d;
        open = true;
      }
    } else if (dataVsEnd(s, d)) {
      // end op s
      if ((op === "jlt" && !taken) || (op === "jge" && taken)) good = s;
      else if ((op === "jgt" && taken) || (op === "jle" && !taken)) {
        good = s;
        open = true;
      }
    }
    this.markPacketEnd(insn, d, s, taken);
    if (!good) return;
    if (good.off < 0 || (good.off === 0 && open)) return;
    if (
      good.s.umax > BigInt(MAX_PACKET_OFF) ||
      good.s.umax + BigInt(good.off) > BigInt(MAX_PACKET_OFF)
    )
      return;
    const range = good.off + (open ? 1 : 0);
    for (const [r, set] of this.allRegs())
      if (r.type === good.type && r.id === good.id && r.range < range) set({ ...r, range });
  }

  // ------------------------------------------------------------------ calls

  call(insn: CallInstruction): boolean {
    if (this.state.lock) {
      // Only bpf_spin_unlock and static functions may run while a lock is held.
      if (insn.target === "helper" && insn.imm !== HelperId.spin_unlock)
        this.fail("function calls are not allowed while holding a lock");
      if (insn.target === "bpf" && this.opts.globalFuncs?.has(jumpTarget(insn, this.pc)))
        this.fail(
          "global function calls are not allowed while holding a lock,",
          "use static function instead",
        );
    }
    if (insn.target === "bpf") return this.bpfCall(insn);
    if (insn.target === "kfunc")
      this.fail("calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF");
    this.helperCall(insn);
    this.pc++;
    return false;
  }

  bpfCall(insn: CallInstruction): boolean {
    const target = jumpTarget(insn, this.pc);
    const globalArgs = this.opts.globalFuncs?.get(target);
    if (globalArgs !== undefined) return this.globalCall(target, globalArgs);
    if (this.state.frames.length >= MAX_CALL_FRAMES)
      this.fail(`the call stack of ${this.state.frames.length + 1} frames is too deep`);
    const caller = this.frame;
    this.stackLive.readAll();
    const regs: Reg[] = Array.from({ length: 11 }, () => NOT_INIT);
    for (let r = 1; r <= 5; r++) regs[r] = caller.regs[r] as Reg;
    const frameno = this.state.frames.length;
    regs[10] = pointerReg("stack", { frameno });
    this.state.frames.push({
      regs,
      stack: [],
      subprog: target,
      callsite: this.pc,
      frameno,
      stackDepth: 0,
      callback: false,
      callbackDepth: 0,
    });
    for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
    this.vlog?.called(this.state);
    this.pc = target;
    return false;
  }

  exit(): boolean {
    const frames = this.state.frames;
    const f = this.frame;
    if (frames.length > 1) {
      // A subprogram's r0 goes back as it is, even unset: the caller fails if it reads it.
      const r0 = f.regs[0] as Reg;
      if (r0.type === "stack" && r0.frameno === frames.length - 1)
        this.fail("cannot return stack pointer to the caller");
      if (f.callback) {
        if (r0.type !== "scalar") this.fail("R0 not a scalar value");
        this.markRegsPrecise(0);
        this.trail.note({ hard: true });
        if (r0.s.smin < 0n || r0.s.smax > 1n)
          this.fail(
            `At callback return the register R0 has${boundsText(r0.s)} should have been in [0, 1]`,
          );
      }
      this.recordStackDepth(f);
      frames.pop();
      const caller = this.frame;
      if (f.callback) {
        // Back to the helper's call, which runs the callback again or returns.
        this.pc = f.callsite;
        this.vlog?.returned(this.state, f, this.pc);
        return false;
      }
      caller.regs[0] = r0;
      this.pc = f.callsite + 1;
      this.vlog?.returned(this.state, f, this.pc);
      return false;
    }
    const r0 = this.readReg(0);
    this.resourceLeak("BPF_EXIT instruction in main prog");
    if (f.subprog !== 0) {
      // A global function returns a scalar, whatever the program type allows.
      if (r0.type !== "scalar")
        this.fail(
          `At subprogram exit the register R0 is not a scalar value (${typeName(r0.type, r0.flags)})`,
        );
    } else this.returnCode(r0);
    this.recordStackDepth(f);
    return true;
  }

  /** check_return_code: the program types whose return value has a range. */
  returnCode(r0: Reg): void {
    const range = returnRange(this.opts.progType, this.opts.expectedAttachType);
    if (!range) return;
    if (r0.type !== "scalar")
      this.fail(
        `At program exit the register R0 is not a known value (${typeName(r0.type, r0.flags)})`,
      );
    const [lo, hi] = range;
    this.markRegsPrecise(0);
    if (r0.s.smin < BigInt(lo) || r0.s.smax > BigInt(hi))
      this.fail(
        `At program exit the register R0 has${boundsText(r0.s)} should have been in [${lo}, ${hi}]`,
      );
  }

  recordStackDepth(f: Frame): void {
    const old = this.stackDepth.get(f.subprog) ?? 0;
    if (f.stackDepth > old) this.stackDepth.set(f.subprog, f.stackDepth);
  }

  /** check_max_stack_depth: each chain of calls uses at most 512 bytes, 32-byte rounded. */
  checkStackDepth(): void {
    const round = (d: number) => Math.ceil(Math.max(d, 1) / 32) * 32;
    const calls = new Map<number, Set<number>>();
    for (let s = 0; s < this.subprogs.length; s++) {
      const start = this.subprogs[s] as number;
      const end = this.subprogs[s + 1] ?? this.slots.length;
      const callees = new Set<number>();
      for (let pc = start; pc < end; pc++) {
        const i = this.slots[pc];
        if (i?.kind === "call" && i.target === "bpf") callees.add(jumpTarget(i, pc));
      }
      calls.set(start, callees);
    }
    // Every chain of calls the code has, reached or not: recursion ends at 8 frames.
    const walk = (sub: number, depth: number, frame: number) => {
      const total = depth + round(this.stackDepth.get(sub) ?? 0);
      if (total > MAX_BPF_STACK)
        throw new VerifyFailure(undefined, [
          `combined stack size of ${frame + 1} calls is ${total}. Too large`,
        ]);
      for (const c of calls.get(sub) ?? []) {
        if (frame + 1 >= MAX_CALL_FRAMES)
          throw new VerifyFailure(undefined, [
            `the call stack of ${frame + 1} frames is too deep !`,
          ]);
        walk(c, total, frame + 1);
      }
    };
    walk(0, 0, 0);
  }

  // ------------------------------------------------------------------ helpers

  helperCall(insn: CallInstruction): void {
    const id = insn.imm;
    const found = helperProto(id, this.opts.progType);
    if ("unknown" in found) this.fail(`invalid func unknown#${id}`);
    if ("notAllowed" in found)
      this.fail(`program of this type cannot use helper ${found.notAllowed}#${id}`);
    if ("unmodelled" in found)
      this.fail(`tsbpf does not model helper ${found.unmodelled}#${id} yet`);
    const proto = found.proto;
    if (proto.gplOnly && this.opts.gpl === false)
      this.fail("cannot call GPL-restricted function from non-GPL compatible program");
    const meta: CallMeta = {
      map: undefined,
      refObjId: 0,
      memSize: 0,
      func: -1,
      releaseRegno: 0,
      rawMem: undefined,
    };
    for (const [i, kind] of proto.args.entries()) this.helperArg(proto, kind, i + 1, meta);
    if (id === HelperId.tail_call) {
      this.resourceLeak("tail_call");
      // record_func_key: a constant index picks the program the call may be patched to.
      const key = this.frame.regs[3] as Reg;
      if (key.type === "scalar" && isConst(key.s)) this.markRegsPrecise(3);
    }
    if (id === HelperId.get_local_storage) {
      // It cannot fail, so it takes no flags that could make it.
      const flags = this.frame.regs[2] as Reg;
      if (!(flags.type === "scalar" && isConst(flags.s) && flags.s.umin === 0n))
        this.fail("get_local_storage() doesn't support non-zero flags");
      this.markRegsPrecise(2);
    }
    if (meta.rawMem) {
      // The helper writes that memory: it is no longer what was there.
      const { regno, size } = meta.rawMem;
      const r = this.frame.regs[regno] as Reg;
      if (r.type === "stack")
        for (let i = 0; i < size; i++) this.stackAccess(regno, r, r.off + i, 1, "write", undefined);
    }
    if (meta.releaseRegno) this.releaseReference(meta.refObjId);
    if (proto.callback) {
      this.callbackCall(proto, meta);
      return;
    }
    for (let r = 1; r <= 5; r++) this.setReg(r, NOT_INIT);
    switch (proto.ret) {
      case "integer":
        this.setReg(0, UNKNOWN);
        break;
      case "void":
        this.setReg(0, NOT_INIT);
        break;
      case "map_value_or_null": {
        const m = meta.map;
        if (m && (m.type === MapType.SOCKMAP || m.type === MapType.SOCKHASH)) {
          // A socket map's lookup gives a socket, a reference to release (bpf_sk_release).
          this.setReg(0, pointerReg("sock", { flags: { maybeNull: true } }));
          this.returnRef(proto.name === "bpf_map_lookup_elem" ? "acquire" : undefined, meta);
          break;
        }
        if (m?.inner) {
          // A map of maps holds maps: a lookup gives a map pointer (or NULL) to use.
          this.setReg(
            0,
            pointerReg("map_ptr", { map: m.inner, flags: { maybeNull: true }, id: this.newId() }),
          );
          break;
        }
        // An array lookup with a constant key in range cannot fail (6.13+).
        const sure =
          m !== undefined &&
          (m.type === MapType.ARRAY || m.type === MapType.PERCPU_ARRAY) &&
          meta.constKey !== undefined &&
          meta.constKey < BigInt(m.maxEntries);
        // A value that cannot be NULL still gets an id when it holds a spin lock: the
        // lock is known by the pointer it was taken through.
        this.setReg(
          0,
          sure
            ? pointerReg("map_value", {
                map: m,
                id: typeof m.spinLockOff === "number" ? this.newId() : 0,
              })
            : pointerReg("map_value", { map: m, flags: { maybeNull: true }, id: this.newId() }),
        );
        break;
      }
      case "map_value": {
        const lock = typeof meta.map?.spinLockOff === "number";
        this.setReg(0, pointerReg("map_value", { map: meta.map, id: lock ? this.newId() : 0 }));
        break;
      }
      case "ringbuf_mem_or_null":
        this.setReg(
          0,
          pointerReg("mem", { flags: { ringbuf: true, maybeNull: true }, memSize: meta.memSize }),
        );
        this.returnRef(proto.ref, meta);
        break;
      case "sock_or_null":
      case "sock_common_or_null":
      case "tcp_sock_or_null":
        this.setReg(
          0,
          pointerReg(proto.ret.slice(0, -"_or_null".length) as BaseType, {
            flags: { maybeNull: true },
          }),
        );
        this.returnRef(proto.ref, meta);
        break;
    }
    if (proto.changesPacket) {
      for (const [r, set] of this.allRegs())
        if (isPacketPointer(r.type) || r.type === "pkt_end") set(UNKNOWN);
    }
  }

  /**
   * The ids of a returned pointer that may be NULL (check_helper_call): a fresh id for
   * the NULL check; an acquired reference then replaces it with the reference's own id
   * (so the kernel's count of ids moves twice), a cast shares its argument's reference.
   */
  returnRef(ref: HelperProto["ref"], meta: CallMeta): void {
    const r0 = this.frame.regs[0] as Reg;
    let id = this.newId();
    let refObjId = 0;
    if (ref === "cast") refObjId = meta.refObjId;
    else if (ref === "acquire") {
      id = this.newId();
      refObjId = id;
      this.state.refs = [...this.state.refs, { id, insn: this.pc }];
    }
    this.frame.regs[0] = { ...r0, id, refObjId };
  }

  /**
   * bpf_loop and friends (the kernel's push_callback_call): while the frame has run the
   * callback fewer times than r1 allows, a new path enters the callback; its exit comes
   * back to this call, which decides again. This path goes on as the helper's return.
   */
  callbackCall(proto: HelperProto, meta: CallMeta): void {
    const caller = this.frame;
    // bpf_loop's count decides when the iterations end: the kernel marks it precise.
    if (proto.name === "bpf_loop") {
      this.vlog?.precise();
      this.markRegsPrecise(1);
    }
    // The walk cannot follow values into or out of a callback.
    this.trail.note({ hard: true });
    this.stackLive.readAll();
    const nrLoops = caller.regs[1] as Reg;
    if (BigInt(caller.callbackDepth) < nrLoops.s.umax) {
      const cb = copyState(this.state);
      (cb.frames[cb.frames.length - 1] as Frame).callbackDepth++;
      cb.callbackUnrollDepth++;
      this.enterCallback(cb, meta.func, this.pc, caller.regs[3] as Reg);
      this.push(cb, meta.func);
      this.vlog?.newFrame();
    } else {
      this.vlog?.detail(`frame${this.state.frames.length - 1} bpf_loop iteration limit reached`);
    }
    caller.callbackDepth = 0;
    for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
    caller.regs[0] = UNKNOWN;
  }

  /** Pushes the callback's frame on `st`: r1 the iteration (unknown, as the kernel has it), r2 the context it was given. */
  enterCallback(st: State, subprog: number, callsite: number, ctx: Reg): void {
    if (st.frames.length >= MAX_CALL_FRAMES)
      this.fail(`the call stack of ${st.frames.length + 1} frames is too deep`);
    const regs: Reg[] = Array.from({ length: 11 }, () => NOT_INIT);
    // The kernel knows nothing of the iteration number's range (set_loop_callback_state).
    regs[1] = UNKNOWN;
    regs[2] = ctx;
    const frameno = st.frames.length;
    regs[10] = pointerReg("stack", { frameno });
    st.frames.push({
      regs,
      stack: [],
      subprog,
      callsite,
      frameno,
      stackDepth: 0,
      callback: true,
      callbackDepth: 0,
    });
  }

  /**
   * check_resource_leak: a reference still held where the program may end (exit, a tail
   * call, a legacy packet load that fails); `what` names the instruction that is not exit.
   */
  resourceLeak(what: string, checkLock = true): void {
    if (checkLock && this.state.lock)
      this.fail(`${what} cannot be used inside bpf_spin_lock-ed region`);
    const leaked = this.state.refs[0];
    if (!leaked) return;
    this.fail(
      `Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}`,
      `${what} would lead to reference leak`,
    );
  }

  releaseReference(refObjId: number): void {
    this.state.refs = this.state.refs.filter((r) => r.id !== refObjId);
    for (const [r, set] of this.allRegs()) if (r.refObjId === refObjId) set(UNKNOWN);
  }

  helperArg(proto: HelperProto, argKind: ArgKind, regno: number, meta: CallMeta): void {
    const reg = this.readReg(regno);
    const kind = this.resolveMapArg(proto, argKind, meta);
    if (kind === "anything") return;
    if (isPacketPointer(reg.type) && !proto.pktAccess)
      this.fail("helper access to the packet is not allowed");
    const isNull = reg.type === "scalar" && isConst(reg.s) && reg.s.umin === 0n;
    const mayBeNull = kind === "mem_or_null" || kind === "stack_or_null" || kind === "ctx_or_null";
    if (isNull && mayBeNull) this.markRegsPrecise(regno);
    if (!(isNull && mayBeNull)) {
      const expected = EXPECTED[kind];
      const base = typeName(reg.type, { ringbuf: reg.flags.ringbuf });
      if (!expected.includes(base) || (reg.flags.maybeNull && !mayBeNull))
        this.fail(
          `R${regno} type=${typeName(reg.type, reg.flags)} expected=${expected.join(", ")}`,
        );
      if (kind === "ringbuf_mem_release" || kind === "sock_release") {
        if (reg.off)
          this.fail(
            `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`,
          );
        this.ptrOffReg(regno, reg, false);
      } else if (!MEM_LIKE.has(reg.type) && reg.type !== "scalar") {
        this.ptrOffReg(regno, reg, false);
      }
    }
    if (kind === "ringbuf_mem_release" || kind === "sock_release") {
      if (!reg.refObjId && !isNull)
        this.fail(`R${regno} must be referenced when passed to release function`);
      meta.releaseRegno = regno;
    }
    if (reg.refObjId) meta.refObjId = reg.refObjId;
    switch (kind) {
      case "map_ptr":
        meta.map = reg.map;
        if (
          reg.map &&
          (reg.map.type === MapType.SOCKMAP || reg.map.type === MapType.SOCKHASH) &&
          (proto.name === "bpf_map_update_elem" || proto.name === "bpf_map_delete_elem") &&
          !SOCKMAP_UPDATERS.has(this.opts.progType) &&
          // sock_ops updates through its own helpers, but may delete.
          !(this.opts.progType === ProgType.SOCK_OPS && proto.name === "bpf_map_delete_elem")
        )
          this.fail("cannot update sockmap in this context");
        if (
          reg.map &&
          ((proto.mapTypes && !proto.mapTypes.includes(reg.map.type)) ||
            !mapAllowsHelper(reg.map.type, proto.name))
        )
          this.fail(`cannot pass map_type ${reg.map.type} into func ${proto.name}#${proto.id}`);
        break;
      case "map_key":
        if (!meta.map) this.fail("invalid map_ptr to access map->key");
        this.helperMem(regno, reg, meta.map.keySize, "read", false);
        meta.constKey = this.constantKey(
          reg,
          meta.map.keySize,
          meta.map.type === MapType.ARRAY || meta.map.type === MapType.PERCPU_ARRAY,
        );
        break;
      case "map_value":
        if (!meta.map) this.fail("invalid map_ptr to access map->value");
        this.helperMem(regno, reg, meta.map.valueSize, "read", false);
        break;
      case "spin_lock":
        this.spinLock(proto, regno, reg);
        break;
      case "map_value_out":
        if (!meta.map) this.fail("invalid map_ptr to access map->value");
        this.helperMem(regno, reg, meta.map.valueSize, "write", false);
        meta.rawMem = { regno, size: meta.map.valueSize };
        break;
      case "u64_out":
      case "u32_out": {
        // A fixed-size out-parameter: written whole, and aligned to its size.
        const size = kind === "u64_out" ? 8 : 4;
        this.helperMem(regno, reg, size, "write", false);
        this.alignment(reg, 0, size, true);
        meta.rawMem = { regno, size };
        break;
      }
      case "func":
        meta.func = reg.subprog;
        break;
      case "const_size":
      case "const_size_or_zero": {
        const memKind = proto.args[regno - 2];
        this.memSizeReg(
          regno,
          reg,
          kind === "const_size_or_zero",
          memKind === "uninit_mem" ? "write" : "read",
          meta,
        );
        break;
      }
      case "alloc_size":
        if (!isConst(reg.s)) this.fail(`R${regno} is not a known constant'`);
        // meta->mem_size is an int: a size beyond 32 bits wraps (0x100000000 gives sz=0).
        meta.memSize = Number(BigInt.asUintN(32, reg.s.umin));
        this.vlog?.precise();
        this.markRegsPrecise(regno);
        break;
      default:
        break;
    }
  }

  /**
   * process_spin_lock: the argument points at the map value's lock, at a constant
   * offset; bpf_spin_lock takes it (one at a time), bpf_spin_unlock releases the same one.
   */
  spinLock(proto: HelperProto, regno: number, reg: Reg): void {
    const map = reg.map as MapRef;
    if (!isConst(reg.s))
      this.fail(
        `R${regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`,
      );
    if (map.spinLockOff === undefined)
      this.fail(`tsbpf does not model the bpf_spin_lock of map '${map.name}' (no BTF given)`);
    if (map.spinLockOff === null)
      this.fail(`map '${map.name}' has to have BTF in order to use bpf_spin_lock`);
    const off = Number(BigInt.asIntN(64, reg.s.umin)) + reg.off;
    if (off !== map.spinLockOff)
      this.fail(`off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${map.spinLockOff}`);
    const held = this.state.lock;
    if (proto.id === HelperId.spin_lock) {
      if (held) this.fail("Locking two bpf_spin_locks are not allowed");
      this.state.lock = { map: map.index, id: reg.id };
      return;
    }
    if (!held) this.fail("bpf_spin_unlock without taking a lock");
    if (held.map !== map.index || held.id !== reg.id)
      this.fail("bpf_spin_unlock of different lock");
    this.state.lock = undefined;
  }

  /** check_map_access: no load or store may touch the value's bpf_spin_lock. */
  lockOverlap(reg: Reg, off: number, size: number): void {
    const at = reg.map?.spinLockOff;
    if (typeof at !== "number") return;
    if (
      reg.s.smin + BigInt(off) < BigInt(at + SPIN_LOCK_SIZE) &&
      BigInt(at) < reg.s.umax + BigInt(off + size)
    )
      this.fail("bpf_spin_lock cannot be accessed directly by load/store");
  }

  /**
   * resolve_map_arg_type: a socket map's "value" is a socket; a bloom filter's peek
   * reads the value it is given instead of filling it.
   */
  resolveMapArg(proto: HelperProto, kind: ArgKind, meta: CallMeta): ArgKind {
    if (kind !== "map_value" && kind !== "map_value_out") return kind;
    if (!meta.map) this.fail("invalid map_ptr to access map->type");
    const t = meta.map.type;
    if (t === MapType.SOCKMAP || t === MapType.SOCKHASH) {
      if (kind !== "map_value") this.fail("invalid arg_type for sockmap/sockhash");
      return "btf_sock_common";
    }
    if (t === MapType.BLOOM_FILTER && proto.id === HelperId.map_peek_elem) return "map_value";
    return kind;
  }

  /**
   * get_constant_map_key: a key on the stack whose value is known (zeroed bytes, or a
   * spilled constant of exactly the key's size). For an array map the kernel marks a
   * spilled key precise (`marksPrecise`: the log breaks the line there at level 2).
   */
  constantKey(reg: Reg, keySize: number, marksPrecise: boolean): bigint | undefined {
    if (reg.type !== "stack" || !isConst(reg.s)) return undefined;
    const at = reg.off + Number(BigInt.asIntN(64, constValue(reg.s)));
    const slot = -at - 1;
    const spi = Math.floor(slot / 8);
    const off = slot % 8;
    const st = this.slot(this.stackFrame(reg), spi);
    let zeros = 0;
    for (let i = off; i >= 0 && st.bytes[i] === "0"; i--) zeros++;
    if (zeros >= keySize) return 0n;
    if (st.bytes[7] !== "r" || st.spilled?.type !== "scalar") return undefined;
    let spill = 0;
    for (let i = off; i >= 0 && st.bytes[i] === "r"; i--) spill++;
    if (spill !== keySize || !isConst(st.spilled.s)) return undefined;
    if (marksPrecise) {
      this.vlog?.precise();
      const frame = this.stackFrame(reg).frameno;
      const at = slotLoc(frame, spi);
      markPrecise(this, [at], this.state.frames.length - 1, this.trail, this.parent, true);
    }
    return constValue(st.spilled.s);
  }

  /** check_mem_size_reg: the size argument after a memory argument. */
  memSizeReg(
    regno: number,
    reg: Reg,
    zeroOk: boolean,
    kind: "read" | "write",
    meta: CallMeta,
  ): void {
    const { smin, umin, umax } = reg.s;
    if (smin < 0n)
      this.fail(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
    if (umin === 0n && !zeroOk)
      this.fail(`R${regno} invalid zero-sized read: u64=[${umin},${umax}]`);
    if (umax >= BigInt(MAX_VAR_OFF))
      this.fail(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
    const mem = this.frame.regs[regno - 1] as Reg;
    this.helperMem(regno - 1, mem, Number(umax), kind, zeroOk);
    if (kind === "write" && isConst(reg.s)) meta.rawMem = { regno: regno - 1, size: Number(umax) };
    this.vlog?.precise();
    this.markRegsPrecise(regno);
  }

  /** check_helper_mem_access. */
  helperMem(regno: number, reg: Reg, size: number, kind: "read" | "write", zeroOk: boolean): void {
    const name = typeName(reg.type, reg.flags);
    switch (reg.type) {
      case "pkt":
      case "pkt_meta":
        this.packetAccess(regno, reg, reg.off, size, zeroOk);
        return;
      case "map_key":
        if (kind === "write") this.fail(`R${regno} cannot write into ${name}`);
        this.memRegion(regno, reg, reg.off, size, (reg.map as MapRef).keySize, false);
        return;
      case "map_value": {
        const map = reg.map as MapRef;
        this.mapAccessType(map, reg.off, size, kind);
        this.memRegion(regno, reg, reg.off, size, map.valueSize, zeroOk);
        this.lockOverlap(reg, reg.off, size);
        return;
      }
      case "mem":
        if (reg.flags.rdonly && kind === "write") this.fail(`R${regno} cannot write into ${name}`);
        this.memRegion(regno, reg, reg.off, size, reg.memSize, zeroOk);
        return;
      case "stack": {
        // Before 6.18 the kernel did not tell a helper's reads from its writes.
        const what = olderThan618(this.opts.kernel)
          ? " indirect access to"
          : kind === "read"
            ? " read from"
            : " write to";
        this.stackBounds(regno, reg, reg.off, size, what, kind === "read");
        return;
      }
      default:
        if (zeroOk && size === 0 && reg.type === "scalar" && isConst(reg.s) && reg.s.umin === 0n) {
          this.markRegsPrecise(regno);
          return;
        }
        this.fail(`R${regno} type=${name} expected=fp`);
    }
  }
}

interface CallMeta {
  map: MapRef | undefined;
  /** The key, when the map_key argument's value is known. */
  constKey?: bigint;
  refObjId: number;
  memSize: number;
  func: number;
  releaseRegno: number;
  rawMem: { regno: number; size: number } | undefined;
}

/** A packet pointer's range once a comparison put it at pkt_end / beyond it. */
const AT_PKT_END = -1;
const BEYOND_PKT_END = -2;

/** The jump that tests the same relation with its operands swapped. */
const FLIP: Partial<Record<JumpOp, JumpOp>> = {
  jgt: "jlt",
  jlt: "jgt",
  jge: "jle",
  jle: "jge",
  jsgt: "jslt",
  jslt: "jsgt",
  jsge: "jsle",
  jsle: "jsge",
};
function flipJump(op: JumpOp): JumpOp {
  return FLIP[op] ?? op;
}

/** is_pkt_ptr_branch_taken: a pointer known at/beyond pkt_end decides some comparisons. */
function packetBranchTaken(op: JumpOp, d: Reg, s: Reg): 1 | 0 | -1 {
  let pkt: Reg;
  if (s.type === "pkt_end") pkt = d;
  else if (d.type === "pkt_end") {
    pkt = s;
    op = flipJump(op);
  } else return -1;
  if (pkt.range >= 0) return -1;
  switch (op) {
    case "jle":
    case "jgt":
      if (pkt.range === BEYOND_PKT_END) return op === "jgt" ? 1 : 0;
      return -1;
    case "jlt":
    case "jge":
      return op === "jge" ? 1 : 0;
    default:
      return -1;
  }
}

/** sizeof(struct bpf_spin_lock). */
const SPIN_LOCK_SIZE = 4;

/** is_tracing_prog_type: the types that may not take a bpf_spin_lock. */
const TRACING_TYPES = new Set<number>([
  ProgType.KPROBE,
  ProgType.TRACEPOINT,
  ProgType.PERF_EVENT,
  ProgType.RAW_TRACEPOINT,
  ProgType.RAW_TRACEPOINT_WRITABLE,
]);

const SOCK_ACCESS = {
  sock: bpfSockAccess,
  sock_common: sockCommonAccess,
  tcp_sock: tcpSockAccess,
  xdp_sock: xdpSockAccess,
};

const MEM_TYPES = [
  "fp",
  "pkt",
  "pkt_meta",
  "map_key",
  "map_value",
  "mem",
  "ringbuf_mem",
  "buf",
  "trusted_ptr_",
];
const MEM_LIKE = new Set(["stack", "pkt", "pkt_meta", "map_key", "map_value", "mem", "buf"]);

/** `compatible_reg_types` per argument kind, as the log names them. */
const EXPECTED: Record<ArgKind, readonly string[]> = {
  anything: [],
  map_ptr: ["map_ptr"],
  map_key: MEM_TYPES,
  map_value: MEM_TYPES,
  mem: MEM_TYPES,
  mem_or_null: MEM_TYPES,
  uninit_mem: MEM_TYPES,
  const_size: ["scalar"],
  const_size_or_zero: ["scalar"],
  alloc_size: ["scalar"],
  ctx: ["ctx"],
  func: ["func"],
  stack_or_null: ["fp"],
  ringbuf_mem_release: ["ringbuf_mem"],
  sock_common: ["sock_common", "sock", "tcp_sock", "xdp_sock"],
  btf_sock_common: ["sock_common", "sock", "tcp_sock", "xdp_sock", "ptr_", "trusted_ptr_"],
  spin_lock: ["map_value", "ptr_"],
  ctx_or_null: ["ctx"],
  mem_rw: MEM_TYPES,
  u64_out: MEM_TYPES,
  u32_out: MEM_TYPES,
  map_value_out: MEM_TYPES,
  sock_release: ["sock_common", "sock", "tcp_sock", "xdp_sock", "ptr_", "trusted_ptr_"],
};

/** verbose_invalid_scalar's bounds: ` smin=N smax=M`, or ` unknown scalar value`. */
function boundsText(s: Scalar): string {
  let text = "";
  if (s.smin > S64_MIN) text += ` smin=${s.smin}`;
  if (s.smax < (1n << 63n) - 1n) text += ` smax=${s.smax}`;
  return text || " unknown scalar value";
}

/** The return value ranges the kernel enforces for a privileged program (check_return_code). */
function returnRange(progType: number, attach: number | undefined): [number, number] | undefined {
  switch (progType) {
    case ProgType.CGROUP_SKB:
      return attach === AttachType.CGROUP_INET_EGRESS ? [0, 3] : [0, 1];
    case ProgType.CGROUP_SOCK_ADDR:
      if (attach !== undefined && ONE_ONLY_SOCK_ADDR.has(attach)) return [1, 1];
      if (attach === AttachType.CGROUP_INET4_BIND || attach === AttachType.CGROUP_INET6_BIND)
        return [0, 3];
      return [0, 1];
    case ProgType.CGROUP_SOCK:
    case ProgType.SOCK_OPS:
    case ProgType.CGROUP_DEVICE:
    case ProgType.CGROUP_SYSCTL:
    case ProgType.CGROUP_SOCKOPT:
    case ProgType.SK_LOOKUP:
    case ProgType.NETFILTER:
      return [0, 1];
    default:
      return undefined;
  }
}

/** cgroup sock_addr hooks whose programs must return 1. */
const ONE_ONLY_SOCK_ADDR = new Set<number>([
  AttachType.CGROUP_UDP4_RECVMSG,
  AttachType.CGROUP_UDP6_RECVMSG,
  AttachType.CGROUP_UNIX_RECVMSG,
  AttachType.CGROUP_INET4_GETPEERNAME,
  AttachType.CGROUP_INET6_GETPEERNAME,
  AttachType.CGROUP_UNIX_GETPEERNAME,
  AttachType.CGROUP_INET4_GETSOCKNAME,
  AttachType.CGROUP_INET6_GETSOCKNAME,
  AttachType.CGROUP_UNIX_GETSOCKNAME,
]);

/**
 * Verifies a program as the kernel would for root: the verdict, and for a rejection the
 * kernel's error line and the instruction it stopped at.
 *
 * @example
 * ```ts
 * const r = verify(assemble("exit"), { progType: ProgType.SOCKET_FILTER });
 * r.error?.message; // "R0 !read_ok"
 * ```
 */
export function verify(insns: readonly Instruction[], opts: VerifyOptions): VerifyResult {
  const w = new Walker(insns, opts);
  let error: VerifyResult["error"];
  try {
    w.run();
  } catch (e) {
    if (!(e instanceof VerifyFailure)) throw e;
    // The error line is the first of the block (a second line, when there is one, is
    // the general consequence: "R0 min value is outside of the allowed memory range").
    const lines = opts.kernel ? reword(e.lines, opts.kernel) : e.lines;
    error = { message: lines[0] as string, lines, insn: e.insn };
    w.vlog?.lines(e.lines);
  }
  const stats: VerifyStats = {
    processed: w.processed,
    maxStatesPerInsn: w.maxStatesPerInsn,
    totalStates: w.totalStates,
    peakStates: w.peakStates,
  };
  // At level 1 an accepted program's log is only its statistics (the kernel rewinds it).
  if (w.vlog && !error && w.vlog.level === 1) w.vlog.clear();
  w.vlog?.lines([statsLine(stats)]);
  let states: VerifyResult["states"];
  if (w.recorder) {
    const path: Visit[] = [];
    if (error) for (let v = w.recorder.current; v; v = v.prev) path.push(v);
    states = { ...w.recorder.result(), ...(error ? { path: path.reverse().map(snapshot) } : {}) };
  }
  return {
    accepted: !error,
    ...(error && { error }),
    log: w.vlog?.toString() ?? "",
    stats,
    ...(states && { states }),
  };
}

/** The kernel's last log line: `processed N insns (limit 1000000) max_states_per_insn ...`. */
export function statsLine(stats: VerifyStats): string {
  return `processed ${stats.processed} insns (limit ${COMPLEXITY_LIMIT}) max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates} mark_read 0`;
}
