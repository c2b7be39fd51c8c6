/**
 * The VM fuzzer: `npm run fuzz -- vm [--seconds N] [--seed S] [--only I] [--quiet]`.
 *
 * Program `I` of seed `S` is generated from the seeded generator alone (so `--seed S
 * --only I` replays it): random instructions of every opcode, pointer games (r1, r10,
 * map values, r10 + 2^32, forged lddw constants into another program's map and stack,
 * addresses at region edges), helper calls with hostile arguments and sizes, callbacks
 * (bpf_loop, for_each_map_elem), bpf-to-bpf calls and tail calls; a share of them
 * mutated at the byte level. Each runs in a fresh address space next to a "victim"
 * program that holds a secret in its own map and stack.
 *
 * Each outcome is classified:
 * - ok: the run returned;
 * - typed: VmError, InvalidInstructionError, VmMapError, MapSpecError or
 *   MapIterationAbortedError — what a caller is promised;
 * - untyped (a failure): any other exception (RangeError, TypeError, ...);
 * - hang (a failure): one program over 2 s of wall clock (a watchdog in the main
 *   thread terminates the worker running it and starts the next program);
 * - cross (a failure): the run touched what is not its own — the victim's bytes
 *   changed, the secret showed up in anything the run produced, or the machine's
 *   RegionAccess opened a victim region or a window onto one.
 *
 * A failure prints the seed, the program index and the program shrunk to the
 * instructions it needs (the others replaced by `goto +0`), disassembled.
 * @module
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  asm,
  decodeProgram,
  disassembleKernel,
  encodeProgram,
  type Instruction,
  InvalidInstructionError,
  instructionFromFields,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
  R9,
  R10,
  type Reg,
} from "../src/isa/index.ts";
import { MapIterationAbortedError, MapSpecError } from "../src/spec/index.ts";
import { HelperId, MapType, ProgType } from "../src/uapi/index.ts";
import {
  defaultHelpers,
  type Machine,
  VmArrayMap,
  VmError,
  VmHashMap,
  type VmMap,
  VmMapError,
  VmMemory,
  VmProgArray,
  VmProgram,
  VmQueueMap,
  VmRingBuf,
} from "../src/vm/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { mapRegion } from "../src/vm/run-env.ts";

/** Wall-clock time one program may take before it counts as a hang. */
export const HANG_MS = 2000;
/** Instruction budget of a fuzzed run (a loop ends with the budget, in well under 2 s). */
const BUDGET = 20_000;
const SECRET = 0x5ec2e7_c0ffee_42n;
const SECRET_BYTES = new Uint8Array(new BigUint64Array([SECRET]).buffer);
const SECRET_LO = Number(SECRET & 0xffff_ffffn) | 0;
const SECRET_HI = Number(SECRET >> 32n) | 0;
const REGS = [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10] as const;

/** What happened to one program. */
export type Outcome = "ok" | "typed" | "untyped" | "hang" | "cross";

/** Totals of a campaign. */
export interface FuzzStats {
  programs: number;
  ok: number;
  typed: number;
  untyped: number;
  hangs: number;
  cross: number;
  /** Programs over the watchdog once that finished in time when run again alone. */
  stalls: number;
  /** Typed errors by class name. */
  typedBy: Record<string, number>;
  /** Failures, printed. */
  failures: string[];
}

// ---------------------------------------------------------------- the world

/** One program's surroundings: its maps, and a victim program it must not touch. */
interface World {
  memory: VmMemory;
  maps: VmMap[];
  /** Regions that belong to the victim (every region before the fuzzed program's). */
  victimRegions: number;
  /** The victim's bytes before the run. */
  snapshot: Uint8Array[];
  /** Buffers of the victim's regions (a window onto one is a cross-object access). */
  victimBuffers: Set<ArrayBufferLike>;
  /** Addresses worth forging: victim map, victim stack, own map regions. */
  victimAddrs: bigint[];
  /** First region of the program being run (regions before it, past the victim's, are earlier programs'). */
  firstRegion: number;
}

/** Programs that share one world (and its victim); a replay rebuilds the world at the batch start. */
const BATCH = 25;

export function makeWorld(): World {
  const memory = new VmMemory();
  const secret = new VmArrayMap({
    name: "secret",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 2,
  });
  for (let i = 0; i < secret.values.length; i += 8) secret.values.set(SECRET_BYTES, i);
  // The victim reads its secret into its stack and returns it.
  const victim = new VmProgram(
    [
      asm.st(32, R10, -4, 0),
      asm.ldMapFd(R1, 0),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.call("map_lookup_elem"),
      asm.jmp("jeq", R0, 0, 3),
      asm.ldx(64, R0, R0, 0),
      asm.stx(64, R10, -16, R0),
      asm.exit(),
      asm.exit(),
    ],
    { memory, maps: [secret], name: "victim" },
  );
  victim.run({ mem: SECRET_BYTES });
  const victimRegions = memory.count;
  const snapshot: Uint8Array[] = [];
  const victimBuffers = new Set<ArrayBufferLike>();
  for (let id = 0; id < victimRegions; id++) {
    const b = memory.bytes[id] as Uint8Array;
    snapshot.push(b.slice());
    if (b.length > 0) victimBuffers.add(b.buffer);
  }
  const sid = memory.names.indexOf("stack frame 0");
  const victimAddrs = [memory.address(mapRegion(memory, secret), 0), memory.address(sid, 496)];
  return { memory, maps: [], victimRegions, snapshot, victimBuffers, victimAddrs, firstRegion: 0 };
}

/** Fresh maps for the next program in `w` (so no program sees another's map state). */
export function freshMaps(w: World): void {
  w.firstRegion = w.memory.count;
  const maps: VmMap[] = [
    new VmArrayMap({ name: "arr", type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 4 }),
    new VmHashMap({ name: "hash", type: MapType.HASH, keySize: 4, valueSize: 16, maxEntries: 8 }),
    new VmRingBuf({
      name: "rb",
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
    }),
    new VmProgArray({
      name: "jt",
      type: MapType.PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    }),
    new VmQueueMap({ name: "q", type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 4 }),
    new VmHashMap(
      {
        name: "pcpu",
        type: MapType.PERCPU_HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 4,
      },
      { cpus: 2 },
    ),
  ];
  for (let k = 0; k < 2; k++) {
    const key = new Uint8Array([k, 0, 0, 0]);
    (maps[1] as VmHashMap).update(key, new Uint8Array(16).fill(k + 1));
  }
  w.maps = maps;
}

// ---------------------------------------------------------------- the generator

/** A generated instruction, or one whose offset is resolved once the program is laid out. */
type Item =
  | Instruction
  | { t: "jump"; make: (off: number) => Instruction; target: number }
  | { t: "func"; make: (off: number) => Instruction };

/** Opcodes (with fields that make them valid) of every instruction form, found once. */
const TEMPLATES: { code: number; src: number; off: number; imm: number }[] = (() => {
  const out: { code: number; src: number; off: number; imm: number }[] = [];
  const imms = [0, 1, 16, 32, 64, 0x100, 0x110, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1];
  const offs = [0, 1, 8, 16, 32];
  for (let code = 0; code < 256; code++)
    for (const src of [0, 1, 2, 3])
      for (const off of offs)
        for (const imm of [...imms, 0xf1])
          try {
            const i = instructionFromFields({ code, dst: 1, src, off, imm });
            if (i.kind === "call" || i.kind === "exit" || i.kind === "lddw") continue;
            out.push({ code, src, off, imm });
          } catch {}
  return out;
})();

const INTERESTING = [
  0, 1, -1, 2, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 255, 256, 511, 512, 513, 4095, 4096, 0x7fff,
  -0x8000, 0x7fff_ffff, -0x8000_0000, 0x1000_0000, -0x1000_0000, 0x3fff_ffff,
];

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  imm(): number {
    return this.chance(0.6) ? this.pick(INTERESTING) : this.next() | 0;
  }
  off(): number {
    const r = this.int(10);
    if (r < 4) return this.pick([0, 8, 16, -8, -16, -4, -512, -520, 512, 496, 4, 12, 24, -1]);
    if (r < 8) return this.int(1200) - 600;
    return (this.next() << 16) >> 16;
  }
}

/** Registers the prologue fills: r6 = ctx/mem, r7 = a map value, r8 = r10 - 64, r9 = a map. */
const PTRS = [R6, R7, R8, R10, R9, R1];

function prologue(): Item[] {
  return [
    asm.mov64(R6, R1),
    asm.ldMapFd(R9, 0),
    asm.st(32, R10, -4, 1),
    asm.mov64(R1, R9),
    asm.mov64(R2, R10),
    asm.add64(R2, -4),
    asm.call("map_lookup_elem"),
    asm.mov64(R7, R0),
    asm.mov64(R8, R10),
    asm.add64(R8, -64),
  ];
}

const HELPERS = [...defaultHelpers().keys()];
const HOT_HELPERS = [
  HelperId.map_lookup_elem,
  HelperId.map_update_elem,
  HelperId.map_delete_elem,
  HelperId.ringbuf_reserve,
  HelperId.ringbuf_submit,
  HelperId.ringbuf_discard,
  HelperId.ringbuf_output,
  HelperId.ringbuf_query,
  HelperId.loop,
  HelperId.for_each_map_elem,
  HelperId.probe_read_kernel,
  HelperId.probe_read_kernel_str,
  HelperId.snprintf,
  HelperId.trace_printk,
  HelperId.map_push_elem,
  HelperId.map_pop_elem,
  HelperId.spin_lock,
  12,
];

/** A value for an argument register: a pointer, a map, a size, a callback, a forged address. */
function argument(g: Gen, w: World, dst: Reg, nmaps: number, items: Item[]): void {
  const r = g.int(10);
  if (r < 3) items.push(asm.mov64(dst, g.pick(PTRS)));
  else if (r < 5) items.push(asm.ldMapFd(dst, g.int(nmaps)));
  else if (r < 7) {
    const size = g.pick([0, 1, 4, 8, 16, 17, 64, 512, 4096, 0x7fff_ffff, -1, -8, 0x1000_0000]);
    items.push(asm.mov64(dst, size));
  } else if (r < 8) items.push({ t: "func", make: (off) => asm.ldFunc(dst, off) });
  else if (r < 9) items.push(asm.lddw(dst, forged(g, w)));
  else {
    items.push(asm.mov64(dst, R10), asm.add64(dst, -(g.int(70) * 8)));
  }
}

/** An address worth trying: the victim's map or stack, a region edge, a random region. */
function forged(g: Gen, w: World): bigint {
  const r = g.int(6);
  if (r < 3) return g.pick(w.victimAddrs) + BigInt(g.chance(0.6) ? g.int(16) : g.off());
  if (r < 5) {
    // Region `k`, byte `off`: any region of the space, including the ones made later.
    const k = g.int(w.memory.count + 40);
    return w.memory.address(k, g.off());
  }
  return (BigInt(g.next()) << 32n) | BigInt(g.next());
}

/** A base register and offset for a load or store: often in bounds, else hostile. */
function access(g: Gen, size: number): [Reg, number] {
  if (g.chance(0.4)) return [g.pick(PTRS), g.off()];
  const bytes = size / 8;
  const r = g.int(4);
  // r10: its frame; r7: a 16-byte map value; r6: the 64-byte input; the others may
  // hold a forged address.
  if (r === 0) return [R10, -bytes * (1 + g.int(512 / bytes))];
  if (r === 1) return [R7, bytes * g.int(16 / bytes)];
  if (r === 2) return [R6, bytes * g.int(64 / bytes)];
  return [g.pick([R8, R9, R1]), bytes * g.int(16 / bytes)];
}

function randomInsn(g: Gen, w: World, nmaps: number, items: Item[], len: number): void {
  const d = REGS[g.int(10)] as Reg;
  const s = REGS[g.int(11)] as Reg;
  const r = g.int(100);
  if (r < 22) {
    // Any opcode, fields from its template with random registers and operands.
    const t = g.pick(TEMPLATES);
    const f = { code: t.code, dst: d.n, src: t.src, off: t.off, imm: t.imm };
    if (g.chance(0.5)) f.imm = g.imm();
    if (g.chance(0.3)) f.off = g.off();
    if (t.src > 2 && g.chance(0.7)) f.src = s.n;
    if (g.chance(0.03)) f.dst = 10; // r10 writes: refused at construction
    let insn: Instruction;
    try {
      insn = instructionFromFields(f);
    } catch {
      insn = instructionFromFields({ ...t, dst: d.n });
    }
    if (insn.kind === "jump" || insn.kind === "goto" || insn.kind === "may_goto") {
      // A branch lands on an instruction of its function (resolved at layout).
      const long = insn.kind === "goto" && insn.long;
      const raw = { code: insn.code, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm };
      items.push({
        t: "jump",
        target: g.int(len + 1),
        make: (off) => instructionFromFields(long ? { ...raw, imm: off } : { ...raw, off }),
      });
    } else items.push(insn);
  } else if (r < 34) {
    const size = g.pick([8, 16, 32, 64] as const);
    const [p, off] = access(g, size);
    items.push(asm.ldx(size, d, p, off));
  } else if (r < 46) {
    const size = g.pick([8, 16, 32, 64] as const);
    const [p, off] = access(g, size);
    if (g.chance(0.5)) items.push(asm.stx(size, p, off, s));
    else items.push(asm.st(size, p, off, g.imm()));
  } else if (r < 52) {
    const op = g.pick(["add", "or", "and", "xor", "xchg", "cmpxchg"] as const);
    const fetch = op === "xchg" || op === "cmpxchg" || g.chance(0.5);
    const src = REGS[g.int(10)] as Reg;
    items.push(asm.atomic(op, g.pick([32, 64] as const), g.pick(PTRS), g.off(), src, fetch));
  } else if (r < 60) {
    // Pointer arithmetic: +- offsets, +- 2^32, pointer + pointer.
    const p = g.pick(PTRS);
    if (g.chance(0.3)) items.push(asm.lddw(R5, g.pick([1n << 32n, -(1n << 32n), 1n << 31n])));
    else items.push(asm.mov64(R5, g.imm()));
    items.push(asm.mov64(d, p), asm.alu64(g.pick(["add", "sub", "xor", "or"] as const), d, R5));
  } else if (r < 66) {
    // A forged address, often into a register the loads and stores use as a base.
    const p = g.chance(0.6) ? g.pick([R8, R9, R1, R7]) : d;
    items.push(asm.lddw(p, forged(g, w)));
    // Probe it at once: a load kept in the frame (and r0), or a store.
    const size = g.pick([8, 16, 32, 64] as const);
    const off = (size / 8) * g.int(16 / (size / 8));
    const probe = g.int(5);
    if (probe < 2) items.push(asm.ldx(size, R0, p, off), asm.stx(64, R10, -8, R0));
    else if (probe < 4) items.push(asm.st(size, p, off, g.imm()));
  } else if (r < 78) {
    // A helper call with hostile arguments.
    for (const a of [R1, R2, R3, R4, R5]) if (g.chance(0.8)) argument(g, w, a, nmaps, items);
    const id = g.chance(0.7) ? g.pick(HOT_HELPERS) : g.chance(0.95) ? g.pick(HELPERS) : 999;
    items.push(asm.call(id));
  } else if (r < 82) {
    // A tail call into the program array (slot 0: this program, slot 1: empty).
    items.push(asm.mov64(R1, R6), asm.ldMapFd(R2, 3), asm.mov64(R3, g.int(3)), asm.call(12));
  } else if (r < 92) {
    const target = g.int(len + 1);
    const op = g.pick(["jeq", "jne", "jgt", "jge", "jlt", "jsgt", "jslt", "jset"] as const);
    const src: Reg | number = g.chance(0.5) ? s : g.imm();
    const wide = g.chance(0.7);
    items.push({
      t: "jump",
      target,
      make: (off) => (wide ? asm.jmp(op, d, src, off) : asm.jmp32(op, d, src, off)),
    });
  } else if (r < 95) {
    items.push({ t: "func", make: (off) => asm.callBpf(off) });
  } else if (r < 97) {
    items.push({ t: "jump", target: g.int(len + 1), make: (off) => asm.mayGoto(off) });
  } else if (r < 99) {
    items.push(asm.mov64(R0, g.imm()), asm.exit());
  } else {
    items.push(
      g.chance(0.5) ? asm.ldAbs(g.pick([8, 16, 32] as const), g.imm()) : asm.ldInd(32, d, g.imm()),
    );
  }
}

/** Lays out `main` then `sub`, resolving jumps (within their function) and function references. */
function layout(main: Item[], sub: Item[]): Instruction[] {
  const all = [...main, ...sub];
  const slots: number[] = [];
  let slot = 0;
  for (const it of all) {
    slots.push(slot);
    slot += "t" in it ? (it.t === "func" && it.make(0).kind === "lddw" ? 2 : 1) : it.bytes / 8;
  }
  slots.push(slot);
  const subStart = slots[main.length] as number;
  return all.map((it, i) => {
    if (!("t" in it)) return it;
    const at = slots[i] as number;
    if (it.t === "func") return it.make(subStart - at - 1);
    // Jumps stay inside their function: main targets 0..main.length, sub targets shifted.
    const base = i < main.length ? 0 : main.length;
    const end = i < main.length ? main.length - 1 : all.length - 1;
    const target = slots[Math.min(base + it.target, end)] as number;
    return it.make(target - at - 1);
  });
}

/** Program `index` of `seed`: instructions, or bytes when mutated at the byte level. */
export function generate(
  seed: number,
  index: number,
  w: World,
): { insns: Instruction[]; bytes?: Uint8Array; type: ProgType } {
  const g = new Gen((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index, 0x85ebca6b)) >>> 0);
  const nmaps = w.maps.length;
  const mainLen = 1 + g.int(30);
  const body: Item[] = [];
  // A quarter of the programs start with a probe of another program's memory.
  if (g.chance(0.25)) {
    const p = g.pick([R8, R9, R1, R7]);
    const size = g.pick([8, 16, 32, 64] as const);
    body.push(asm.lddw(p, g.pick(w.victimAddrs) + BigInt(g.int(16))));
    if (g.chance(0.5)) body.push(asm.ldx(size, R0, p, 0), asm.stx(64, R10, -8, R0));
    else body.push(asm.st(size, p, 0, g.imm()));
  }
  while (body.length < mainLen) randomInsn(g, w, nmaps, body, mainLen);
  const main = [
    ...prologue(),
    ...body,
    ...(g.chance(0.5) ? [asm.mov64(R0, g.imm())] : []),
    asm.exit(),
  ];
  // The subprogram: a callback (r0 0 or 1) and a bpf-to-bpf callee.
  const subLen = g.int(8);
  const subBody: Item[] = [];
  while (subBody.length < subLen) randomInsn(g, w, nmaps, subBody, subLen);
  const sub = [...subBody, asm.mov64(R0, g.int(2)), asm.exit()];
  // Jump targets were drawn against the body alone: shift them past the prologue.
  for (const it of body) if ("t" in it && it.t === "jump") it.target += 10;
  const insns = layout(main, sub);
  const type = g.chance(0.5) ? ProgType.SOCKET_FILTER : ProgType.XDP;
  if (g.chance(0.25)) {
    // Byte-level mutation: flips, random bytes, a moved lddw half.
    const bytes = encodeProgram(insns);
    const n = 1 + g.int(4);
    for (let i = 0; i < n; i++) {
      const at = g.int(bytes.length);
      if (g.chance(0.5)) bytes[at] = (bytes[at] as number) ^ (1 << g.int(8));
      else bytes[at] = g.int(256);
    }
    return { insns, bytes, type };
  }
  return { insns, type };
}

// ---------------------------------------------------------------- running one program

const TYPED = [
  VmError,
  InvalidInstructionError,
  VmMapError,
  MapSpecError,
  MapIterationAbortedError,
];

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Runs one program in `w`; returns its outcome and, for failures, why. */
export function runOne(
  prog: Instruction[] | Uint8Array,
  type: ProgType,
  w: World,
): { outcome: Outcome; detail: string; typedName?: string } {
  let vp: VmProgram;
  let result: { r0: bigint; dataOut: Uint8Array; printk: string[] } | undefined;
  try {
    vp = new VmProgram(prog, {
      memory: w.memory,
      maps: w.maps,
      type,
      budget: BUDGET,
      mayGotoBudget: 64,
      seed: 1,
    });
    (w.maps[3] as VmProgArray<VmProgram>).set(0, vp);
    const input = new Uint8Array(64).fill(0xab);
    result = type === ProgType.XDP ? vp.run({ data: input }) : vp.run({ mem: input });
  } catch (e) {
    const typed = TYPED.find((c) => e instanceof c);
    if (!typed) {
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { outcome: "untyped", detail };
    }
    if (vp! === undefined) return { outcome: "typed", detail: "", typedName: typed.name };
    const cross = crossCheck(w, vp!, undefined);
    if (cross) return { outcome: "cross", detail: cross };
    return { outcome: "typed", detail: "", typedName: typed.name };
  }
  const cross = crossCheck(w, vp, result);
  if (cross) return { outcome: "cross", detail: cross };
  return { outcome: "ok", detail: "" };
}

/** What, if anything, shows that the run touched the victim (undefined: nothing). */
function crossCheck(
  w: World,
  vp: VmProgram,
  result: { r0: bigint; dataOut: Uint8Array; printk: string[] } | undefined,
): string | undefined {
  const mem = w.memory;
  for (let id = 0; id < w.victimRegions; id++) {
    const now = mem.bytes[id] as Uint8Array;
    const was = w.snapshot[id] as Uint8Array;
    if (now.length !== was.length || !now.every((b, i) => b === was[i]))
      return `victim region ${id} (${mem.names[id]}) changed`;
  }
  const m = (vp as unknown as { machine: Machine }).machine;
  const acc = m.access;
  for (let id = 0; id < mem.count; id++) {
    if (id === w.victimRegions) id = w.firstRegion;
    const open = acc.readHi[id]! > acc.readLo[id]! || acc.writeHi[id]! > acc.writeLo[id]!;
    if (id < w.victimRegions) {
      if (acc.mode[id] !== 0 || open)
        return `the program's RegionAccess grants victim region ${id} (${mem.names[id]})`;
    } else if (open && w.victimBuffers.has((mem.bytes[id] as Uint8Array).buffer)) {
      return `the program's region ${id} (${mem.names[id]}) shows a victim's bytes`;
    }
  }
  // Registers (the machine's shared file) and the program's own stack frames.
  const R = m.R;
  for (let r = 0; r < 11; r++)
    if (R[2 * r] === SECRET_LO && R[2 * r + 1] === SECRET_HI)
      return `r${r} holds the victim's secret`;
  for (const sid of m.stackIds)
    if (contains(mem.bytes[sid] as Uint8Array, SECRET_BYTES))
      return `the program's stack (region ${sid}) holds the victim's secret`;
  if (result) {
    if (result.r0 === SECRET) return "r0 holds the victim's secret";
    if (contains(result.dataOut, SECRET_BYTES)) return "the output holds the victim's secret";
    if (result.printk.some((l) => l.includes(SECRET.toString(16)) || l.includes(`${SECRET}`)))
      return "printk output holds the victim's secret";
  }
  for (const map of w.maps)
    if (map.values.length && contains(map.values, SECRET_BYTES))
      return `map ${map.name} holds the victim's secret`;
  return undefined;
}

// ---------------------------------------------------------------- shrinking and reports

const NOP = asm.ja(0);

/** Replaces instructions by `goto +0` while the program still fails the same way. */
function shrink(
  insns: Instruction[],
  type: ProgType,
  outcome: Outcome,
  deadline: number,
): Instruction[] {
  let cur = insns;
  let changed = true;
  while (changed && performance.now() < deadline) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const c = cur[i] as Instruction;
      if (c.kind === "goto" && c.off === 0) continue;
      const nop = c.kind === "lddw" ? [NOP, NOP] : [NOP];
      const cand = [...cur.slice(0, i), ...nop, ...cur.slice(i + 1)];
      const w = makeWorld();
      freshMaps(w);
      if (runOne(cand, type, w).outcome === outcome) {
        cur = cand;
        changed = true;
      }
    }
  }
  return cur;
}

function report(
  seed: number,
  index: number,
  outcome: Outcome,
  detail: string,
  prog: Instruction[] | Uint8Array,
  type: ProgType,
  shrinkMs: number,
): string {
  let insns: Instruction[] | undefined;
  try {
    insns = prog instanceof Uint8Array ? decodeProgram(prog) : prog;
  } catch {}
  let text: string;
  if (insns && outcome !== "hang") {
    const small = shrink(insns, type, outcome, performance.now() + shrinkMs);
    text = disassembleKernel(
      small.filter((i) => !(i.kind === "goto" && i.off === 0 && i !== small.at(-1))),
    );
    text = `minimal reproduction (goto +0 fillers dropped from the listing):\n${text}`;
  } else if (insns) {
    text = disassembleKernel(insns);
  } else {
    text = `bytes: ${Buffer.from(prog as Uint8Array).toString("hex")}`;
  }
  return `${outcome.toUpperCase()} seed ${seed} program ${index} (${type === ProgType.XDP ? "xdp" : "socket_filter"}): ${detail}\n  replay: npm run fuzz -- vm --seed ${seed} --only ${index}\n${text}`;
}

/** The world program `index` of `seed` runs in, rebuilt by generating the programs before it. */
function worldFor(seed: number, index: number): World {
  const w = makeWorld();
  for (let i = index - (index % BATCH); i <= index; i++) {
    freshMaps(w);
    if (i < index) {
      // Their regions (programs, windows) are part of the world the next one sees.
      const { insns, bytes, type } = generate(seed, i, w);
      runOne(bytes ?? insns, type, w);
    }
  }
  return w;
}

// ---------------------------------------------------------------- worker and main

interface WorkerJob {
  seed: number;
  start: number;
  end: number;
  deadline: number;
  heartbeat: SharedArrayBuffer;
}

/** Runs programs start..end of `seed` until `deadline` (ms since epoch), posting stats. */
function workerLoop(job: WorkerJob): void {
  const beat = new Int32Array(job.heartbeat);
  const stats = emptyStats();
  // Start at the batch's first program, so program i always runs in the same world.
  let i = job.start - (job.start % BATCH);
  let lastPost = Date.now();
  let w: World | undefined;
  for (; i < job.end && Date.now() < job.deadline; i++) {
    if (i % BATCH === 0 || w === undefined) w = makeWorld();
    freshMaps(w);
    const { insns, bytes, type } = generate(job.seed, i, w);
    const prog = bytes ?? insns;
    Atomics.store(beat, 0, i);
    Atomics.store(beat, 1, 1);
    const r = runOne(prog, type, w);
    Atomics.store(beat, 1, 0);
    if (i < job.start) continue;
    count(stats, r.outcome, r.typedName);
    if (r.outcome === "untyped" || r.outcome === "cross")
      stats.failures.push(report(job.seed, i, r.outcome, r.detail, prog, type, 20_000));
    if (Date.now() - lastPost > 500 || stats.failures.length) {
      parentPort?.postMessage({ stats, next: i + 1 });
      Object.assign(stats, emptyStats());
      lastPost = Date.now();
    }
  }
  parentPort?.postMessage({ stats, next: i, done: true });
}

function emptyStats(): FuzzStats {
  return {
    programs: 0,
    ok: 0,
    typed: 0,
    untyped: 0,
    hangs: 0,
    cross: 0,
    stalls: 0,
    typedBy: {},
    failures: [],
  };
}

function count(s: FuzzStats, o: Outcome, typedName?: string): void {
  s.programs++;
  if (o === "ok") s.ok++;
  else if (o === "typed") {
    s.typed++;
    const n = typedName ?? "?";
    s.typedBy[n] = (s.typedBy[n] ?? 0) + 1;
  } else if (o === "untyped") s.untyped++;
  else if (o === "hang") s.hangs++;
  else s.cross++;
}

function merge(into: FuzzStats, from: FuzzStats): void {
  into.programs += from.programs;
  into.ok += from.ok;
  into.typed += from.typed;
  into.untyped += from.untyped;
  into.hangs += from.hangs;
  into.cross += from.cross;
  into.stalls += from.stalls;
  for (const [k, v] of Object.entries(from.typedBy)) into.typedBy[k] = (into.typedBy[k] ?? 0) + v;
  into.failures.push(...from.failures);
}

/** Options of a campaign. */
export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Only this program (a replay). */
  only?: number;
  /** Progress lines on stderr every this many seconds (0: none). */
  progressEvery?: number;
  /** Worker threads run side by side, each on its own range of program indices (default 1). */
  jobs?: number;
  /** Stop after this many programs in all (split evenly between the jobs). */
  programs?: number;
}

/**
 * Job `k` of a campaign runs programs `k * LANE` and on, so every program keeps one
 * index (`--seed S --only I` replays it) whatever the number of jobs. Indices stay
 * below 2^31: the heartbeat is an Int32Array.
 */
export const LANE = 100_000_000;
/** The most jobs a campaign can have with indices below 2^31. */
export const MAX_JOBS = 21;

/** How a worker ended: all its programs done, a program over the watchdog, or a crash. */
interface WorkerEnd {
  hangAt?: number;
  error?: string;
}

/**
 * Runs `job` in a worker thread; `onStats` gets its stats as they come. A program
 * whose heartbeat does not move for {@link HANG_MS} has its worker terminated.
 */
async function runWorker(
  job: Omit<WorkerJob, "heartbeat">,
  onStats: (s: FuzzStats, next: number) => void,
  tick?: () => void,
): Promise<WorkerEnd> {
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new Int32Array(heartbeat);
  Atomics.store(beat, 0, -1);
  // A worker does not inherit tsx's loader: register it, then load this module.
  const boot = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { fuzzVmJob: { ...job, heartbeat } } });
  const end = await new Promise<WorkerEnd>((resolve) => {
    let seen = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const at = Atomics.load(beat, 0);
      const busy = Atomics.load(beat, 1) === 1;
      if (at !== seen || !busy) {
        seen = at;
        since = Date.now();
      } else if (at >= 0 && Date.now() - since > HANG_MS) {
        clearInterval(timer);
        void worker.terminate();
        resolve({ hangAt: at });
      }
      tick?.();
    }, 100);
    worker.on("message", (msg: { stats: FuzzStats; next: number; done?: boolean }) => {
      onStats(msg.stats, msg.next);
      if (msg.done) {
        clearInterval(timer);
        resolve({});
      }
    });
    worker.on("error", (e) => {
      clearInterval(timer);
      resolve({ error: String(e) });
    });
    worker.on("exit", () => {
      clearInterval(timer);
      resolve({});
    });
  });
  if (end.error && Atomics.load(beat, 0) < 0) end.error = `(before its first program) ${end.error}`;
  return end;
}

/**
 * Runs a campaign in a worker thread with a watchdog: a program that runs over
 * {@link HANG_MS} of wall clock has its worker terminated and is run again alone in a
 * new one (a busy machine can stall a thread for seconds); only a program that goes
 * over the limit twice is a hang. The campaign goes on with the next program.
 */
export async function fuzzVm(opts: FuzzOptions): Promise<FuzzStats> {
  const total = emptyStats();
  const deadline = Date.now() + opts.seconds * 1000;
  const t0 = Date.now();
  let lastProgress = t0;
  const tick = () => {
    if (opts.progressEvery && Date.now() - lastProgress > opts.progressEvery * 1000) {
      lastProgress = Date.now();
      const rate = total.programs / ((Date.now() - t0) / 1000);
      process.stderr.write(
        `fuzz vm: ${total.programs} programs (${rate.toFixed(0)}/s), typed ${total.typed}, untyped ${total.untyped}, hangs ${total.hangs}, cross ${total.cross}, stalls retried ${total.stalls}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
      );
    }
  };
  if (opts.only !== undefined) {
    await lane(opts, opts.only, opts.only + 1, deadline, total, tick);
    return total;
  }
  const jobs = Math.max(1, Math.min(MAX_JOBS, Math.floor(opts.jobs ?? 1)));
  const each = opts.programs === undefined ? LANE : Math.ceil(opts.programs / jobs);
  await Promise.all(
    Array.from({ length: jobs }, (_, k) =>
      lane(opts, k * LANE, k * LANE + each, deadline, total, tick),
    ),
  );
  return total;
}

/** One job of a campaign: programs `start` to `end` (exclusive) or until `deadline`. */
async function lane(
  opts: FuzzOptions,
  start: number,
  end: number,
  deadline: number,
  total: FuzzStats,
  tick: () => void,
): Promise<void> {
  const replay = opts.only !== undefined;
  let next = start;
  const onStats = (stats: FuzzStats, n: number) => {
    merge(total, stats);
    for (const f of stats.failures) process.stderr.write(`${f}\n`);
    next = n;
  };
  while (next < end && (Date.now() < deadline || replay)) {
    const limit = replay ? Date.now() + 60_000 : deadline;
    const finished = await runWorker(
      { seed: opts.seed, start: next, end, deadline: limit },
      onStats,
      tick,
    );
    if (finished.hangAt !== undefined) {
      const at = finished.hangAt;
      // Again, alone: a real hang repeats, a stall of a busy machine does not.
      const again = await runWorker(
        { seed: opts.seed, start: at, end: at + 1, deadline: Date.now() + 60_000 },
        (s) => merge(total, s),
      );
      if (again.hangAt === at) {
        const w = worldFor(opts.seed, at);
        const { insns, bytes, type } = generate(opts.seed, at, w);
        const f = report(
          opts.seed,
          at,
          "hang",
          `over ${HANG_MS} ms, twice`,
          bytes ?? insns,
          type,
          0,
        );
        process.stderr.write(`${f}\n`);
        count(total, "hang");
        total.failures.push(f);
      } else total.stalls++;
      // On with the next batch: the rest of this one would replay its world, hung program included.
      next = at - (at % BATCH) + BATCH;
    } else if (finished.error) {
      const f = `WORKER CRASH seed ${opts.seed} near program ${next}: ${finished.error}`;
      process.stderr.write(`${f}\n`);
      total.untyped++;
      total.failures.push(f);
      // A worker that never started cannot run the next program either.
      if (finished.error.startsWith("(before its first program)")) break;
      next++;
    } else if (Date.now() >= deadline && !replay) break;
    else if (next >= end) break;
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * `npm run fuzz -- vm [--seconds N] [--programs N] [--jobs N] [--seed S] [--only I]`;
 * returns the exit code. With `--programs` and no `--seconds` the campaign ends by count.
 */
export async function main(args: string[]): Promise<number> {
  const programsText = flag(args, "--programs");
  const programs = programsText === undefined ? undefined : Number(programsText);
  const secondsText = flag(args, "--seconds");
  const seconds =
    secondsText !== undefined ? Number(secondsText) : programs !== undefined ? Infinity : 20;
  const seed = Number(flag(args, "--seed") ?? Date.now() % 1_000_000);
  const onlyText = flag(args, "--only");
  const only = onlyText === undefined ? undefined : Number(onlyText);
  const jobs = Number(flag(args, "--jobs") ?? 1);
  for (const [n, v] of [
    ["--seconds", Number.isFinite(seconds) ? seconds : 0],
    ["--seed", seed],
    ["--only", only ?? 0],
    ["--programs", programs ?? 0],
  ] as const)
    if (!Number.isFinite(v) || v < 0) {
      console.error(`fuzz vm: ${n} must be a non-negative number`);
      return 2;
    }
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    console.error(`fuzz vm: --jobs must be a whole number from 1 to ${MAX_JOBS}`);
    return 2;
  }
  if (programs !== undefined && Math.ceil(programs / jobs) > LANE) {
    console.error(`fuzz vm: at most ${LANE} programs per job; use more --jobs`);
    return 2;
  }
  const what =
    only !== undefined
      ? `program ${only}`
      : `${programs !== undefined ? `${programs} programs` : ""}${programs !== undefined && Number.isFinite(seconds) ? " or " : ""}${Number.isFinite(seconds) ? `${seconds} s` : ""}, ${jobs} job${jobs > 1 ? "s" : ""}`;
  console.error(`fuzz vm: seed ${seed}, ${what}`);
  const t0 = performance.now();
  const s = await fuzzVm({
    seconds,
    seed,
    only,
    jobs,
    ...(programs !== undefined && { programs }),
    progressEvery: args.includes("--quiet") ? 0 : 30,
  });
  const secs = (performance.now() - t0) / 1000;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `fuzz vm: seed ${seed}: ${s.programs} programs in ${secs.toFixed(1)} s (${(s.programs / secs).toFixed(0)}/s): ok ${s.ok}, typed errors ${s.typed}, untyped errors ${s.untyped}, hangs ${s.hangs} (stalls of the machine retried: ${s.stalls}), cross-object accesses ${s.cross}; peak RSS ${rss.toFixed(0)} MiB`,
  );
  console.log(
    `  typed errors by class: ${Object.entries(s.typedBy)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  return s.untyped + s.hangs + s.cross > 0 ? 1 : 0;
}

if (!isMainThread && (workerData as { fuzzVmJob?: WorkerJob } | undefined)?.fuzzVmJob)
  workerLoop((workerData as { fuzzVmJob: WorkerJob }).fuzzVmJob);
