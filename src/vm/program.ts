/**
 * `VmProgram`: a BPF program in the userspace VM, answering `run(input)` in the shape
 * of the kernel backend's `Program.run` (BPF_PROG_TEST_RUN).
 *
 * Pure: no `node:` imports.
 * @module
 */

import {
  decodeProgram,
  type Instruction,
  InvalidInstructionError,
  instructionFromFields,
  slotCount,
} from "../isa/index.ts";
import type { BackendProgram } from "../spec/backend.ts";
import {
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  HelperId,
  ProgType,
  progTypeName,
} from "../uapi/index.ts";
import {
  isSkbProgType,
  type PreparedInput,
  prepareMem,
  prepareRawCtx,
  prepareSkb,
  prepareXdp,
} from "./context.ts";
import { VmError } from "./errors.ts";
import { formatInstruction } from "./format.ts";
import { defaultHelpers, type HelperSettings } from "./helpers.ts";
import { toU64 } from "./int64.ts";
import { type BPF_MAX_LOOPS, Code, execute, type HelperFunction, Machine } from "./interpreter.ts";
import {
  compileCode,
  DEFAULT_JIT_THRESHOLD,
  defaultJitMode,
  type JitMode,
  jitStats,
} from "./jit/index.ts";
import {
  chooseTarget,
  defaultJitTarget,
  describeProfile,
  type JitTarget,
} from "./jit/wasm/choose.ts";
import { compileWasm, wasmUnavailable } from "./jit/wasm/compile-wasm.ts";
import { instantiateWasm, type PreparedArena, prepareArena } from "./jit/wasm/runtime.ts";
import { VmArrayMap } from "./maps/array.ts";
import type { VmMap } from "./maps/map.ts";
import { VmProgArray } from "./maps/prog-array.ts";
import { ACCESS_FOLLOW, ACCESS_OWN, REGION_HI_BASE, VmMemory } from "./memory.ts";
import {
  CallbackTarget,
  callbackAddress,
  callbackRegion,
  type HelperInput,
  mapRegion,
  type VmRedirect,
} from "./run-env.ts";

/** How to build a {@link VmProgram}. */
export interface VmProgramOptions extends HelperSettings {
  /** The program type, which decides the context and input (default SOCKET_FILTER). */
  type?: ProgType;
  /** A name for messages. */
  name?: string;
  /**
   * Maps the program refers to: an lddw with a map pseudo source (MAP_FD, MAP_IDX and
   * their VALUE forms) takes its imm as an index into this array, unless
   * {@link resolveMap} answers.
   */
  maps?: readonly VmMap[];
  /** Resolves a map reference (`pseudo` is the lddw's src_reg, `imm` its first imm). */
  resolveMap?: (pseudo: number, imm: number) => VmMap | undefined;
  /** Helpers by id, added to (or replacing) the defaults; undefined removes one. */
  helpers?: Readonly<Record<number, HelperFunction | undefined>>;
  /** The address space; programs that tail-call each other must share one. */
  memory?: VmMemory;
  /** Most instructions one run may execute (default 100 million). */
  budget?: number;
  /**
   * Iterations a function's may_goto allows per call (default {@link BPF_MAX_LOOPS},
   * 8,388,608, as the kernel's interpreter; JIT-ed Linux >= 6.15 bounds may_goto by
   * time instead, about 658 million iterations on a 6.18 test machine).
   */
  mayGotoBudget?: number;
  /**
   * Which engine runs the program (see {@link JitMode}): "never" (the interpreter),
   * "always" (the JIT, compiled now) or "auto" (the interpreter until
   * {@link jitThreshold} runs, then the JIT). Default: `defaultJitMode()`, "never"
   * unless changed with `setDefaultJitMode`. Both engines give the same results,
   * registers, memory and errors.
   */
  jit?: JitMode;
  /** Runs (counting `repeat`) before "auto" compiles (default 10). */
  jitThreshold?: number;
  /**
   * What the JIT compiles to (see {@link JitTarget}): "auto" (default, from
   * `defaultJitTarget()`) picks WebAssembly or JavaScript per program,
   * "wasm" takes wasm whenever it compiles, "js" always JavaScript.
   * `VmProgram.jitEngine` and `jitEngineReason` tell which and why.
   */
  jitTarget?: JitTarget;
}

/**
 * Input of one run, as for BPF_PROG_TEST_RUN, plus what the helpers read
 * ({@link HelperInput}: cpu, task, probeMemory, stack).
 */
export interface VmRunInput extends HelperInput {
  /** The packet (XDP and skb programs need at least 14 bytes). */
  readonly data?: Uint8Array;
  /** The context struct (`xdp_md`, `__sk_buff`, or the raw ctx of other types). */
  readonly ctx?: Uint8Array;
  /**
   * Raw memory mode, for any program type: r1 points at a copy of these bytes and r2
   * holds their length; `dataOut` is the memory after the run.
   */
  readonly mem?: Uint8Array;
  /** Runs in a row on the same input, as the kernel does (default 1). */
  readonly repeat?: number;
}

/** What a run gave back. */
export interface VmRunResult {
  /**
   * The return value as the kernel's test run reports it: the low 32 bits of r0,
   * unsigned (the same `number` as the kernel backend's `RunResult.retval`).
   */
  readonly retval: number;
  /** r0 at exit, all 64 bits, unsigned. */
  readonly r0: bigint;
  /** Nanoseconds per run, averaged over `repeat` runs. */
  readonly duration: number;
  /** The packet (or raw memory) after the run. */
  readonly dataOut: Uint8Array;
  /** The context after the run, when one was given. */
  readonly ctxOut: Uint8Array | undefined;
  /** Lines from trace_printk, in order. */
  readonly printk: string[];
  /** Instructions executed by the last run. */
  readonly instructions: number;
  /** The redirect the program asked for (bpf_redirect, bpf_redirect_map), if any. */
  readonly redirect: VmRedirect | undefined;
}

/**
 * Hand-built instructions, checked as the decoder checks bytes: the interpreter trusts
 * the raw fields (opcode, registers, offset, immediate), so an object literal with
 * `dst: 12`, a 1-byte atomic add or a `kind` that disagrees with its opcode is refused
 * here, not run. Returns the instructions the fields describe.
 * @throws InvalidInstructionError naming the slot.
 */
function revalidate(program: readonly Instruction[]): Instruction[] {
  const out: Instruction[] = [];
  let slot = 0;
  for (const i of program) {
    if (i === null || typeof i !== "object")
      throw new InvalidInstructionError(slot, new Uint8Array(0), `${i} is not an instruction`);
    const fields = { code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm };
    let checked: Instruction;
    try {
      checked = instructionFromFields(i.kind === "lddw" ? { ...fields, imm2: i.imm2 } : fields);
    } catch (e) {
      if (e instanceof InvalidInstructionError)
        throw new InvalidInstructionError(slot, new Uint8Array(0), e.reason);
      throw e;
    }
    if (checked.kind !== i.kind || checked.bytes !== i.bytes)
      throw new InvalidInstructionError(
        slot,
        new Uint8Array(0),
        `the fields encode a ${checked.kind} instruction, not the ${i.kind} its kind says`,
      );
    out.push(checked);
    slot += checked.bytes / 8;
  }
  return out;
}

/** The register an instruction writes besides memory (r0 for calls is not counted), if any. */
function writtenRegister(i: Instruction): number | undefined {
  switch (i.kind) {
    case "alu":
    case "endian":
    case "addr_space_cast":
    case "percpu_addr":
    case "load":
    case "lddw":
      return i.dst;
    case "atomic":
      if (i.op === "load_acquire") return i.dst;
      if (i.op === "cmpxchg") return 0;
      return i.fetch ? i.src : undefined;
    default:
      return undefined;
  }
}

function isJumpLike(i: Instruction): boolean {
  return i.kind === "exit" || i.kind === "goto";
}

/**
 * A program in the VM.
 *
 * @example
 * ```ts
 * const prog = new VmProgram([asm.mov64(R0, XdpAction.PASS), asm.exit()], { type: ProgType.XDP });
 * const { retval, dataOut } = prog.run({ data: new Uint8Array(64) });
 * ```
 */
export class VmProgram implements BackendProgram {
  /** The program type. */
  readonly type: ProgType;
  /** The name, for messages. */
  readonly name: string;
  /** The decoded instructions. */
  readonly instructions: readonly Instruction[];
  /** The address space. */
  readonly memory: VmMemory;
  /** The maps given at construction. */
  readonly maps: readonly VmMap[];
  private readonly machine: Machine;
  private readonly code: Code;
  private readonly tailCodes = new WeakMap<VmProgram, Code>();
  private readonly jitMode: JitMode;
  private readonly jitThreshold: number;
  private runs = 0;
  private jitTried = false;
  private jitWhy: string | undefined;
  private jitText: string | undefined;
  private readonly jitTarget: JitTarget;
  private jitTargetUsed: "wasm" | "js" | undefined;
  private jitTargetWhy: string | undefined;
  private jitWasm: Uint8Array | undefined;

  /**
   * Decodes (when given bytes) and checks the program: jumps and calls land on
   * instructions inside it, the last instruction is an exit or a jump, every map
   * reference resolves.
   * @throws InvalidInstructionError for bad encodings, VmError for the rest.
   */
  constructor(program: Uint8Array | readonly Instruction[], opts: VmProgramOptions = {}) {
    this.type = opts.type ?? ProgType.SOCKET_FILTER;
    this.name = opts.name ?? "prog";
    this.instructions =
      program instanceof Uint8Array ? decodeProgram(program) : revalidate(program);
    this.memory = opts.memory ?? new VmMemory();
    this.maps = opts.maps ?? [];
    this.check();
    const m = new Machine(this.memory);
    this.machine = m;
    m.env.type = this.type;
    const table = defaultHelpers(opts);
    const lookup = table.get(HelperId.map_lookup_elem);
    for (const [id, fn] of Object.entries(opts.helpers ?? {})) {
      if (fn) table.set(Number(id), fn);
      else table.delete(Number(id));
    }
    for (const [id, fn] of table) m.helpers[id] = fn;
    m.inlineLookup = lookup !== undefined && table.get(HelperId.map_lookup_elem) === lookup;
    if (opts.budget !== undefined) m.budget = opts.budget;
    if (opts.mayGotoBudget !== undefined) m.mayGotoBudget = opts.mayGotoBudget;
    m.tailCall = (map, index) => this.tailCallTarget(map, index);
    this.code = this.compile(this.memory, opts);
    this.jitMode = opts.jit ?? defaultJitMode();
    if (this.jitMode !== "always" && this.jitMode !== "never" && this.jitMode !== "auto")
      throw new RangeError(
        `${this}: jit must be "always", "never" or "auto", not ${String(this.jitMode)}`,
      );
    this.jitThreshold = opts.jitThreshold ?? DEFAULT_JIT_THRESHOLD;
    this.jitTarget = opts.jitTarget ?? defaultJitTarget();
    if (this.jitTarget !== "auto" && this.jitTarget !== "wasm" && this.jitTarget !== "js")
      throw new RangeError(
        `${this}: jitTarget must be "auto", "wasm" or "js", not ${String(this.jitTarget)}`,
      );
    if (this.jitMode === "always") this.jitCompile();
  }

  /** The engine the next run uses: "jit" once compiled, else "interpreter". */
  get engine(): "jit" | "interpreter" {
    return this.code.jit !== undefined ? "jit" : "interpreter";
  }

  /** Why the JIT refused this program (it then runs in the interpreter), if it did. */
  get jitRefusal(): string | undefined {
    return this.jitWhy;
  }

  /** What the JIT compiled this program to ("wasm" or "js"), once compiled. */
  get jitEngine(): "wasm" | "js" | undefined {
    return this.jitTargetUsed;
  }

  /** Why the JIT chose {@link jitEngine} (or why wasm was refused), once compiled. */
  get jitEngineReason(): string | undefined {
    return this.jitTargetWhy;
  }

  /** The WebAssembly module the JIT generated for this program, once compiled to wasm. */
  get jitWasmModule(): Uint8Array | undefined {
    return this.jitWasm?.slice();
  }

  /** The JavaScript the JIT generated for this program, once compiled to JS. */
  get jitSource(): string | undefined {
    return this.jitText;
  }

  /**
   * Compiles the program with the JIT now (whatever the mode); returns true when it
   * runs compiled from now on, false when the JIT refused ({@link jitRefusal} says why).
   */
  jitCompile(): boolean {
    if (this.code.jit !== undefined) return true;
    if (this.jitTried) return false;
    this.jitTried = true;
    let why: string | undefined;
    let wasm: Extract<ReturnType<typeof compileWasm>, { ok: true }> | undefined;
    let arena: PreparedArena | undefined;
    const useWasm = (w: NonNullable<typeof wasm>, reason: string): true => {
      const engine = instantiateWasm(w.module, this.code, this.machine, arena);
      this.code.jit = engine.fn;
      this.code.jitLoop = engine.loop;
      this.jitTargetUsed = "wasm";
      this.jitWasm = w.bytes;
      this.jitTargetWhy = `${reason} (${w.bytes.length} bytes, compiled in ${w.ms.toFixed(2)} ms)`;
      jitStats.compiled++;
      return true;
    };
    if (this.jitTarget !== "js") {
      // The array maps the program names move into its arena here (VmArrayMap.relocate),
      // whichever target ends up running it.
      arena = wasmUnavailable() === undefined ? prepareArena(this.code, this.machine) : undefined;
      const w = compileWasm(this.code, arena);
      if (w.ok) {
        if (this.jitTarget === "wasm")
          return useWasm(w, `wasm: jitTarget "wasm"; ${describeProfile(w.profile)}`);
        const pick = chooseTarget(w.profile);
        if (pick.wasm) return useWasm(w, pick.why);
        why = pick.why;
        wasm = w;
      } else why = `js: the wasm target refused (${w.reason})`;
    }
    const r = compileCode(this.code, this.machine);
    if (!r.ok) {
      // The JS target refused what "auto" gave it: wasm, where it compiled, beats the interpreter.
      if (wasm !== undefined) return useWasm(wasm, `wasm: the JS target refused (${r.reason})`);
      this.jitWhy = r.reason;
      jitStats.refused++;
      jitStats.lastRefusal = `${this}: ${r.reason}`;
      return false;
    }
    this.code.jit = r.fn;
    this.jitText = r.source;
    this.jitTargetUsed = "js";
    this.jitTargetWhy = why ?? `js: jitTarget "js"`;
    jitStats.compiled++;
    return true;
  }

  /** `xdp program "name"` for messages. */
  toString(): string {
    return `${progTypeName(this.type) ?? `type ${this.type}`} program "${this.name}"`;
  }

  private check(): void {
    const insns = this.instructions;
    if (insns.length === 0) throw new VmError(`${this}: the program is empty`);
    const starts = new Set<number>();
    let slot = 0;
    for (const i of insns) {
      starts.add(slot);
      // As the kernel's verifier: r10 is the frame pointer and no instruction may write it.
      if (writtenRegister(i) === 10)
        throw new VmError(
          `${this}: r10 is the frame pointer and is read-only`,
          slot,
          formatInstruction(i),
        );
      slot += slotCount(i);
    }
    const total = slot;
    slot = 0;
    for (const i of insns) {
      let target: number | undefined;
      if (i.kind === "goto") target = slot + 1 + (i.long ? i.imm : i.off);
      else if (i.kind === "jump" || i.kind === "may_goto") target = slot + 1 + i.off;
      else if (i.kind === "call" && i.target === "bpf") target = slot + 1 + i.imm;
      if (target !== undefined && !starts.has(target))
        throw new VmError(
          `${this}: jump to ${target} ${target < 0 || target >= total ? "is outside the program" : "lands inside an lddw"}`,
          slot,
          formatInstruction(i),
        );
      slot += slotCount(i);
    }
    const last = insns[insns.length - 1]!;
    if (!isJumpLike(last))
      throw new VmError(
        `${this}: the last instruction must be exit or a jump`,
        total - 1,
        formatInstruction(last),
      );
  }

  private resolveMap(
    opts: VmProgramOptions,
    pseudo: number,
    imm: number,
    pc: number,
    insn: Instruction,
  ): VmMap {
    const map = opts.resolveMap?.(pseudo, imm) ?? this.maps[imm];
    if (!map)
      throw new VmError(
        `${this}: map reference ${imm} does not resolve (${this.maps.length} maps given)`,
        pc,
        formatInstruction(insn),
      );
    return map;
  }

  private mapRegion(memory: VmMemory, map: VmMap): number {
    return mapRegion(memory, map);
  }

  private compile(memory: VmMemory, opts: VmProgramOptions): Code {
    const callbacks = new CallbackTarget();
    // Regions the code names, granted to every machine that runs it (see Code.grants).
    const grants: number[] = [];
    const code = new Code(
      this.instructions,
      this,
      (insn, pc) => {
        switch (insn.pseudo) {
          case 0:
            return insn.value;
          case BPF_PSEUDO_MAP_FD:
          case BPF_PSEUDO_MAP_IDX: {
            const map = this.resolveMap(opts, insn.pseudo, insn.imm, pc, insn);
            const id = this.mapRegion(memory, map);
            grants.push(id, ACCESS_OWN);
            return BigInt(REGION_HI_BASE + id) << 32n;
          }
          case BPF_PSEUDO_MAP_VALUE:
          case BPF_PSEUDO_MAP_IDX_VALUE: {
            const map = this.resolveMap(opts, insn.pseudo, insn.imm, pc, insn);
            if (!(map instanceof VmArrayMap))
              throw new VmError(
                `${this}: map value references need an array map, ${map} is not`,
                pc,
                formatInstruction(insn),
              );
            const off = insn.imm2 >>> 0;
            if (off >= map.valueSize)
              throw new VmError(
                `${this}: offset ${off} is outside the ${map.valueSize}-byte value of ${map}`,
                pc,
                formatInstruction(insn),
              );
            const id = this.mapRegion(memory, map);
            // A direct value (global data): the map's bytes, as its region allows.
            grants.push(id, ACCESS_FOLLOW);
            return memory.address(id, off);
          }
          case BPF_PSEUDO_FUNC: {
            // The function's address: its slot in the program's code region.
            const target = pc + insn.imm + 1;
            if (target < 0 || target >= this.slots)
              throw new VmError(
                `${this}: function address points to slot ${target}, outside the program`,
                pc,
                formatInstruction(insn),
              );
            grants.push(callbackRegion(memory, callbacks), ACCESS_OWN);
            return callbackAddress(memory, callbacks, target);
          }
          default:
            throw new VmError(
              `${this}: lddw pseudo source ${insn.pseudo} is not supported`,
              pc,
              formatInstruction(insn),
            );
        }
      },
      formatInstruction,
    );
    callbacks.code = code;
    code.grants = grants;
    this.machine.grantCode(code);
    return code;
  }

  private get slots(): number {
    let n = 0;
    for (const i of this.instructions) n += slotCount(i);
    return n;
  }

  private tailCallTarget(map: VmMap, index: number): Code | undefined {
    if (!(map instanceof VmProgArray))
      throw this.machine.error(`tail call through ${map}, which is not a prog_array`);
    const target = map.get(index) as VmProgram | undefined;
    if (target === undefined) return undefined;
    if (!(target instanceof VmProgram))
      throw this.machine.error(`slot ${index} of ${map} does not hold a VmProgram`);
    if (target.memory !== this.memory)
      throw this.machine.error(
        `tail call target ${target} lives in another address space; build both programs with the same \`memory\``,
      );
    if (target === this) return this.code;
    let code = this.tailCodes.get(target);
    if (!code) {
      code = target.code;
      this.tailCodes.set(target, code);
      // The target runs on this machine: its maps and callbacks become reachable.
      this.machine.grantCode(code);
    }
    return code;
  }

  private prepare(input: VmRunInput): PreparedInput {
    const m = this.machine;
    m.R.fill(0);
    m.env.input = input;
    m.env.redirect = undefined;
    if (input.mem) return prepareMem(m, input.mem);
    const type = this.type;
    if (type === ProgType.XDP) {
      if (!input.data)
        throw new RangeError(
          `${this}: data (the packet) is required: BPF_PROG_TEST_RUN refuses XDP programs without data_in (EINVAL)`,
        );
      return prepareXdp(m, input.data, input.ctx);
    }
    if (isSkbProgType(type) && input.data) return prepareSkb(m, type, input.data, input.ctx);
    // A tracepoint's context is its raw record: `data` and `ctx` mean the same.
    const raw = input.ctx ?? (type === ProgType.TRACEPOINT ? input.data : undefined);
    if (input.data && input.ctx && type === ProgType.TRACEPOINT)
      throw new RangeError(`${this}: give the raw record as data or as ctx, not both`);
    if (raw) {
      const prepared = prepareRawCtx(m, raw);
      if (type !== ProgType.RAW_TRACEPOINT) return prepared;
      // raw_tp test runs have no ctx_out, as in the kernel.
      return { finish: () => ({ ...prepared.finish(), ctxOut: undefined }) };
    }
    if (input.data)
      throw new RangeError(
        `${this}: ${progTypeName(type) ?? "this"} programs take no packet: pass the context as ctx (ctx_in), or raw memory as mem`,
      );
    // No input: r1 = 0. The kernel refuses skb programs without data (EINVAL); the VM
    // runs them, so pure computations need no packet (the default type is socket_filter).
    m.ldPacket = undefined;
    return { finish: () => ({ dataOut: new Uint8Array(0), ctxOut: undefined }) };
  }

  /**
   * Runs the program once (or `repeat` times on the same input, as the kernel does).
   * @throws VmError when the program faults; RangeError for input the kernel would
   * refuse (EINVAL).
   */
  run(input: VmRunInput = {}): VmRunResult {
    const m = this.machine;
    // The registers are shared by every machine: a run inside another (a helper that
    // runs a program) keeps the outer run's registers.
    const saved = Machine.active > 0 ? m.R.slice() : undefined;
    Machine.active++;
    try {
      return this.runOnce(input);
    } finally {
      Machine.active--;
      if (saved) m.R.set(saved);
    }
  }

  private runOnce(input: VmRunInput): VmRunResult {
    const m = this.machine;
    const prepared = this.prepare(input);
    const repeat = Math.max(1, input.repeat ?? 1);
    if (this.jitMode === "auto" && !this.jitTried) {
      this.runs += repeat;
      if (this.runs >= this.jitThreshold) this.jitCompile();
    }
    m.printk = [];
    const r1lo = m.R[2]!;
    const r1hi = m.R[3]!;
    const r2lo = m.R[4]!;
    const t0 = performance.now();
    const loop = this.code.jitLoop;
    if (loop !== undefined) loop(m, repeat, r1lo, r1hi, r2lo);
    else
      for (let i = 0; i < repeat; i++) {
        m.R[2] = r1lo;
        m.R[3] = r1hi;
        m.R[4] = r2lo;
        m.R[5] = 0;
        execute(m, this.code);
      }
    const duration = ((performance.now() - t0) * 1e6) / repeat;
    const { dataOut, ctxOut } = prepared.finish();
    return {
      retval: m.R[0]! >>> 0,
      r0: toU64(m.R[0]!, m.R[1]!),
      duration,
      dataOut,
      ctxOut,
      printk: m.printk,
      instructions: m.executed,
      redirect: m.env.redirect as VmRedirect | undefined,
    };
  }
}
