/**
 * A seeded generator of random BPF programs the kernel's verifier accepts, for the
 * differential test of the VM against BPF_PROG_TEST_RUN (test/vm-differential.test.ts).
 *
 * A program is a prologue, a body of random blocks and an epilogue:
 * - prologue: r6 = ctx; the stack (random slots, helper scratch) initialised; every
 *   scalar register set from immediates or packet bytes; r7 = a packet pointer checked
 *   for {@link PKT_ACCESS} bytes (XDP and sched_cls; socket filters have no direct
 *   packet access);
 * - blocks: ALU64/ALU32 of every op, movsx, bswap/le/be; forward JMP/JMP32 over whole
 *   blocks; stack and packet loads and stores, sign-extending loads; 32/64-bit atomics
 *   (add/or/and/xor, fetch forms, xchg, cmpxchg) on the stack and on map values; map
 *   lookups (with reads, writes and atomics on the value), updates (every flag) and
 *   deletes on an array and a hash map; csum_diff; xdp_adjust_head/tail/meta;
 *   skb_load_bytes/skb_store_bytes; ringbuf output, reserve + submit/discard and query;
 *   bpf_loop with a callback; bpf-to-bpf calls; bounded loops (a backward jump with a
 *   counter);
 * - epilogue: every scalar register stored in the value of the "out" array map, r0
 *   returned.
 * After a helper or a call, r1..r5 are set again from immediates (the call clobbered
 *   them) and r7 re-derived (the helper may have moved the packet).
 *
 * Scalar registers never hold pointers, so what the program leaves behind (packet,
 * maps, ring records, retval) holds no address and the two backends can be compared
 * byte for byte.
 */
import {
  type AccessSize,
  type AluOp,
  type AtomicOp,
  asm,
  type Instruction,
  type JumpOp,
  ProgramBuilder,
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
import type { MapSpec } from "../src/spec/map-spec.ts";
import type { ProgramBtf } from "../src/spec/program-spec.ts";
import { BPF_PSEUDO_FUNC, MapType, ProgType } from "../src/uapi/index.ts";

/** Packet bytes the program may access through r7. */
export const PKT_ACCESS = 48;
/** Packet size of generated inputs (room for adjust_head/tail to shrink it). */
export const PKT_SIZE = 128;

/** Registers that always hold scalars. */
const SCALARS: Reg[] = [R0, R1, R2, R3, R4, R5, R8, R9];
/** Registers that survive calls. */
const SAVED: Reg[] = [R8, R9];
const ALU_OPS: AluOp[] = [
  "add",
  "sub",
  "mul",
  "div",
  "sdiv",
  "or",
  "and",
  "lsh",
  "rsh",
  "neg",
  "mod",
  "smod",
  "xor",
  "mov",
  "arsh",
];
const JUMP_OPS: JumpOp[] = [
  "jeq",
  "jgt",
  "jge",
  "jset",
  "jne",
  "jsgt",
  "jsge",
  "jlt",
  "jle",
  "jslt",
  "jsle",
];
const ATOMIC_OPS: AtomicOp[] = ["add", "or", "and", "xor", "xchg", "cmpxchg"];

// Stack layout (offsets from r10).
const RANDOM_SLOTS = 4; // -8 .. -32: random loads, stores and atomics
const DUMP = -40; // -40 .. -96: scalar registers at the end
const KEY = -104; // u32 map key
const LOOP_CTX = -112; // u64 bpf_loop's callback context
const VALUE = -128; // 16 bytes: map value to store
const BUF = -160; // 32 bytes: csum_diff, ring records, skb_store_bytes source
const LOAD = -176; // 16 bytes: skb_load_bytes destination
const STACK_INIT_END = -176;

/** The maps a program uses: what to create (the same in both backends) and what to put in. */
export interface RandomMap {
  readonly spec: MapSpec;
  /** Initial entries. */
  readonly contents: readonly [Uint8Array, Uint8Array][];
}

/** One generated program: its type, instructions (map fds as placeholders), maps and input. */
export interface RandomProgram {
  readonly type: ProgType;
  /** Builds the instructions with `fds[i]` standing for map `maps[i]`. */
  readonly build: (fds: readonly number[]) => Instruction[];
  readonly maps: readonly RandomMap[];
  readonly data: Uint8Array;
  /** What the body uses (for the summary: "map", "ringbuf", "loop"...). */
  readonly features: ReadonlySet<string>;
}

/** Map indexes of every program. */
const ARR = 0;
const HASH = 1;
const OUT = 2;
const RING = 3;

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};

type Emit = (b: ProgramBuilder, fds: readonly number[]) => void;

/** What {@link randomProgram} may use. */
export interface RandomProgramOptions {
  /** Calls of bpf_csum_diff (default true; off where the kernel's result differs). */
  readonly csumDiff?: boolean;
}

/**
 * One random program. `rand` gives unsigned 32-bit numbers (see seededRandom).
 */
export function randomProgram(rand: () => number, opts: RandomProgramOptions = {}): RandomProgram {
  const pick = <T>(a: readonly T[]): T => a[rand() % a.length]!;
  const chance = (n: number): boolean => rand() % n === 0;
  const imm = (): number => {
    switch (rand() % 6) {
      case 0:
        return 0;
      case 1:
        return (rand() % 64) - 32;
      case 2:
        return pick([-1, 1, 0x7fffffff, -0x80000000, 0xffff, 0x8000, 31, 32, 63]);
      default:
        return rand() | 0;
    }
  };
  const typeRoll = rand() % 10;
  const type =
    typeRoll < 6 ? ProgType.XDP : typeRoll < 8 ? ProgType.SCHED_CLS : ProgType.SOCKET_FILTER;
  const hasPacket = type !== ProgType.SOCKET_FILTER;
  const features = new Set<string>();
  let labelN = 0;
  const label = (): string => `l${labelN++}`;
  const subprograms: Emit[] = [];

  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rand() & 0xff);
  const maps: RandomMap[] = [
    {
      spec: { name: "arr", type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 4 },
      contents: [0, 1, 2, 3].filter(() => rand() % 2).map((k) => [u32(k), bytes(16)]),
    },
    {
      spec: { name: "hash", type: MapType.HASH, keySize: 4, valueSize: 16, maxEntries: 4 },
      contents: [...new Set(Array.from({ length: rand() % 4 }, () => rand() % 8))].map((k) => [
        u32(k),
        bytes(16),
      ]),
    },
    {
      spec: { name: "out", type: MapType.ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 },
      contents: [],
    },
    {
      spec: { name: "ring", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 },
      contents: [],
    },
  ];

  /** r7 = data, checked for PKT_ACCESS bytes (or the program exits with 1); uses r1, r2. */
  const derivePacket: Emit = (b) => {
    if (!hasPacket) return;
    const [dOff, eOff] = type === ProgType.XDP ? [0, 4] : [76, 80];
    const ok = label();
    b.ldx(32, R7, R6, dOff)
      .ldx(32, R1, R6, eOff)
      .mov64(R2, R7)
      .add64(R2, PKT_ACCESS)
      .jmp("jle", R2, R1, ok)
      .mov64(R0, 1)
      .exit()
      .label(ok);
  };
  /** After a call: r1..r5 from immediates, r7 re-derived. */
  const afterCall: Emit = (b, fds) => {
    derivePacket(b, fds);
    for (const r of [R1, R2, R3, R4, R5]) b.mov64(r, imm());
  };
  const scalarSrc = (): Reg | number => (chance(2) ? pick(SCALARS) : imm());

  const alu = (dst: Reg, regs: readonly Reg[]): Instruction => {
    const op = pick(ALU_OPS);
    const bits = chance(2) ? 64 : 32;
    let src: Reg | number = chance(2) ? pick(regs) : imm();
    if (typeof src === "number") {
      if (op === "lsh" || op === "rsh" || op === "arsh") src = rand() % bits;
      if ((op === "div" || op === "mod" || op === "sdiv" || op === "smod") && src === 0) src = 3;
    }
    if (op === "neg") return bits === 64 ? asm.neg64(dst) : asm.neg32(dst);
    return bits === 64 ? asm.alu64(op, dst, src) : asm.alu32(op, dst, src);
  };

  const atomicOn = (b: ProgramBuilder, base: Reg, off: number, size: 32 | 64, src: Reg): void => {
    const op = pick(ATOMIC_OPS);
    const fetch = op === "xchg" || op === "cmpxchg" || chance(2);
    b.emit(asm.atomic(op, size, base, off, src, fetch));
  };

  // ---------------- blocks ----------------
  const blocks: Emit[] = [];
  const simple = (): Emit => {
    const k = rand() % 16;
    const dst = pick(SCALARS);
    if (k < 8) {
      const insn = alu(dst, SCALARS);
      return (b) => b.emit(insn);
    }
    if (k < 9) {
      const from = pick([8, 16, 32] as const);
      const src = pick(SCALARS);
      const insn =
        chance(2) || from === 32 ? asm.movsx64(dst, src, from) : asm.movsx32(dst, src, from);
      return (b) => b.emit(insn);
    }
    if (k < 10) {
      const insn = pick([asm.bswap, asm.le, asm.be])(dst, pick([16, 32, 64] as const));
      return (b) => b.emit(insn);
    }
    if (k < 12) {
      const slot = -8 * (1 + (rand() % RANDOM_SLOTS));
      const size = pick([8, 16, 32, 64] as const);
      const at = slot + (rand() % (8 / (size / 8))) * (size / 8);
      const insn = chance(2) ? asm.stx(size, R10, at, pick(SCALARS)) : asm.ldx(size, dst, R10, at);
      return (b) => b.emit(insn);
    }
    if (k < 13) {
      features.add("atomic");
      const size = chance(2) ? 64 : 32;
      const at = -8 * (1 + (rand() % RANDOM_SLOTS)) + (size === 32 ? 4 * (rand() % 2) : 0);
      const src = pick(SCALARS.filter((r) => r !== R0));
      return (b) => atomicOn(b, R10, at, size, src);
    }
    if (hasPacket) {
      const size = pick([8, 16, 32, 64] as const);
      const at = rand() % (PKT_ACCESS - 8);
      const roll = rand() % 4;
      const insn =
        roll === 0
          ? asm.stx(size, R7, at, pick(SCALARS))
          : roll === 1
            ? asm.ldxs(pick([8, 16, 32] as const), dst, R7, at)
            : asm.ldx(size, dst, R7, at);
      return (b) => b.emit(insn);
    }
    const insn = alu(dst, SCALARS);
    return (b) => b.emit(insn);
  };

  const keyFrom = (b: ProgramBuilder): void => {
    if (chance(2)) b.st(32, R10, KEY, rand() % 8);
    else b.mov64(R1, pick(SAVED)).alu64("and", R1, 7).stx(32, R10, KEY, R1);
  };
  const mapBlock = (): Emit => {
    features.add("map");
    const map = chance(2) ? ARR : HASH;
    const what = rand() % 4;
    if (what <= 1) {
      // lookup, then reads, writes and atomics on the value
      const ops: ((b: ProgramBuilder) => void)[] = [];
      const n = 1 + (rand() % 4);
      for (let i = 0; i < n; i++) {
        const size = pick([8, 16, 32, 64] as AccessSize[]);
        const at = (rand() % (16 / (size / 8))) * (size / 8);
        const r = pick(SAVED);
        const roll = rand() % 4;
        if (roll === 0) ops.push((b) => b.ldx(size, r, R0, at));
        else if (roll === 1) ops.push((b) => b.stx(size, R0, at, r));
        else if (roll === 2) ops.push((b) => b.st(size, R0, at, imm()));
        else {
          features.add("atomic");
          const asize = chance(2) ? 64 : 32;
          const aat = asize === 64 ? 8 * (rand() % 2) : 4 * (rand() % 4);
          ops.push((b) => {
            // cmpxchg compares with r0, which holds the pointer here: use r1 instead.
            const op = pick(ATOMIC_OPS.filter((o) => o !== "cmpxchg"));
            b.emit(asm.atomic(op, asize, R0, aat, r, op === "xchg" || chance(2)));
          });
        }
      }
      const r0 = imm();
      return (b, fds) => {
        const miss = label();
        keyFrom(b);
        b.ldMapFd(R1, fds[map]!).mov64(R2, R10).add64(R2, KEY).call("map_lookup_elem");
        b.jeq(R0, 0, miss);
        for (const op of ops) op(b);
        b.label(miss).mov64(R0, r0);
        afterCall(b, fds);
      };
    }
    if (what === 2) {
      const flags = pick([0, 0, 1, 2]);
      return (b, fds) => {
        keyFrom(b);
        b.stx(64, R10, VALUE, pick(SAVED)).stx(64, R10, VALUE + 8, pick(SAVED));
        b.ldMapFd(R1, fds[map]!)
          .mov64(R2, R10)
          .add64(R2, KEY)
          .mov64(R3, R10)
          .add64(R3, VALUE)
          .mov64(R4, flags)
          .call("map_update_elem");
        afterCall(b, fds);
      };
    }
    return (b, fds) => {
      keyFrom(b);
      b.ldMapFd(R1, fds[map]!).mov64(R2, R10).add64(R2, KEY).call("map_delete_elem");
      afterCall(b, fds);
    };
  };

  const csumBlock = (): Emit => {
    features.add("csum_diff");
    const from = 4 * (rand() % 5);
    const to = 4 * (rand() % 5);
    const seed = pick(SAVED);
    return (b, fds) => {
      b.mov64(R1, R10).add64(R1, BUF).mov64(R2, from);
      b.mov64(R3, R10)
        .add64(R3, BUF + 16)
        .mov64(R4, to)
        .mov64(R5, seed);
      if (from === 0) b.mov64(R1, 0);
      if (to === 0) b.mov64(R3, 0);
      b.call("csum_diff");
      afterCall(b, fds);
    };
  };

  const xdpBlock = (): Emit => {
    features.add("xdp_adjust");
    const [helper, delta] = pick([
      ["xdp_adjust_head", (rand() % 49) - 32],
      ["xdp_adjust_tail", (rand() % 49) - 16],
      ["xdp_adjust_meta", pick([-4, -8, -32, -36, -6, 0, 4, 8])],
    ] as const);
    return (b, fds) => {
      b.mov64(R1, R6).mov64(R2, delta).call(helper);
      afterCall(b, fds);
    };
  };

  const skbBlock = (): Emit => {
    features.add("skb_bytes");
    const store = type === ProgType.SCHED_CLS && chance(2);
    const off = rand() % 80;
    const len = 1 + (rand() % 16);
    const r = pick(SAVED);
    return (b, fds) => {
      b.mov64(R1, R6)
        .mov64(R2, off)
        .mov64(R3, R10)
        .add64(R3, store ? BUF : LOAD)
        .mov64(R4, len);
      if (store) b.mov64(R5, 0).call("skb_store_bytes");
      else b.call("skb_load_bytes");
      if (!store) b.ldx(64, r, R10, LOAD);
      afterCall(b, fds);
    };
  };

  const ringBlock = (): Emit => {
    features.add("ringbuf");
    const kind = rand() % 3;
    if (kind === 0) {
      const size = 1 + (rand() % 32);
      const flags = pick([0, 1, 2]);
      return (b, fds) => {
        b.stx(64, R10, BUF, pick(SAVED));
        b.ldMapFd(R1, fds[RING]!)
          .mov64(R2, R10)
          .add64(R2, BUF)
          .mov64(R3, size)
          .mov64(R4, flags)
          .call("ringbuf_output");
        afterCall(b, fds);
      };
    }
    if (kind === 1) {
      const size = 8 + (rand() % 40);
      const discard = chance(3);
      const r0 = imm();
      return (b, fds) => {
        const miss = label();
        b.ldMapFd(R1, fds[RING]!).mov64(R2, size).mov64(R3, 0).call("ringbuf_reserve");
        b.jeq(R0, 0, miss);
        b.stx(64, R0, 0, pick(SAVED)).st(32, R0, size - 4, imm());
        b.mov64(R1, R0)
          .mov64(R2, 0)
          .call(discard ? "ringbuf_discard" : "ringbuf_submit");
        b.label(miss).mov64(R0, r0);
        afterCall(b, fds);
      };
    }
    const flag = rand() % 4;
    return (b, fds) => {
      b.ldMapFd(R1, fds[RING]!).mov64(R2, flag).call("ringbuf_query");
      afterCall(b, fds);
    };
  };

  const loopHelperBlock = (): Emit => {
    features.add("bpf_loop");
    const fn = label();
    const n = rand() % 12;
    const stopAt = rand() % 16;
    const k = imm();
    const r = pick(SAVED);
    subprograms.push((b) => {
      // callback(index, ctx): *ctx = (*ctx ^ index) + k; stop at stopAt
      const go = label();
      b.label(fn)
        .ldx(64, R3, R2, 0)
        .alu64("xor", R3, R1)
        .add64(R3, k)
        .stx(64, R2, 0, R3)
        .mov64(R0, 0)
        .jne(R1, stopAt, go)
        .mov64(R0, 1)
        .label(go)
        .exit();
    });
    return (b, fds) => {
      b.stx(64, R10, LOOP_CTX, r);
      b.mov64(R1, n).ldFunc(R2, fn).mov64(R3, R10).add64(R3, LOOP_CTX).mov64(R4, 0).call("loop");
      b.ldx(64, r, R10, LOOP_CTX);
      afterCall(b, fds);
    };
  };

  const callBlock = (): Emit => {
    features.add("bpf_call");
    const fn = label();
    const body: Instruction[] = [];
    const regs = [R0, R1, R2];
    const n = 1 + (rand() % 8);
    for (let i = 0; i < n; i++) body.push(alu(pick(regs), regs));
    const a = pick(SAVED);
    const c = pick(SAVED);
    subprograms.push((b) => {
      b.label(fn).mov64(R0, R1).stx(64, R10, -8, R2);
      for (const i of body) b.emit(i);
      b.ldx(64, R3, R10, -8).alu64("xor", R0, R3).exit();
    });
    return (b, fds) => {
      b.mov64(R1, a).mov64(R2, c).callBpf(fn);
      afterCall(b, fds);
    };
  };

  const loopBlock = (): Emit => {
    features.add("loop");
    const n = 1 + (rand() % 16);
    const regs = SCALARS.filter((r) => r !== R1);
    const body: Instruction[] = [];
    const k = 1 + (rand() % 4);
    for (let i = 0; i < k; i++) body.push(alu(pick(regs), regs));
    return (b) => {
      const top = label();
      b.mov64(R1, 0).label(top);
      for (const i of body) b.emit(i);
      b.add64(R1, 1).jmp(chance(2) ? "jlt" : "jne", R1, n, top);
    };
  };

  const n = 8 + (rand() % 24);
  for (let i = 0; i < n; i++) {
    const k = rand() % 40;
    if (k < 20) blocks.push(simple());
    else if (k < 23) blocks.push(mapBlock());
    else if (k < 24 && type !== ProgType.SOCKET_FILTER && opts.csumDiff !== false)
      blocks.push(csumBlock());
    else if (k < 26 && type === ProgType.XDP) blocks.push(xdpBlock());
    else if (k < 26 && type !== ProgType.XDP) blocks.push(skbBlock());
    else if (k < 28) blocks.push(ringBlock());
    else if (k < 29) blocks.push(loopHelperBlock());
    else if (k < 30) blocks.push(callBlock());
    else if (k < 31) blocks.push(loopBlock());
    else if (k < 36) {
      // a forward jump over the next few blocks
      const op = pick(JUMP_OPS);
      const bits = chance(2) ? 64 : 32;
      const dst = pick(SCALARS);
      const src = scalarSrc();
      const skip = 1 + (rand() % 4);
      const at = i;
      blocks.push((b) => {
        const to = `b${Math.min(at + 1 + skip, n)}`;
        if (bits === 64) b.jmp(op, dst, src, to);
        else b.jmp32(op, dst, src, to);
      });
    } else blocks.push(simple());
  }

  // Registers from immediates or the packet; the stack initialised.
  const inits: ((b: ProgramBuilder) => void)[] = SCALARS.map((r) => {
    if (hasPacket && !chance(3)) {
      const size = pick([8, 16, 32, 64] as const);
      const at = rand() % (PKT_ACCESS - 8);
      return (b) => b.ldx(size, r, R7, at);
    }
    const v = imm();
    return (b) => b.mov64(r, v);
  });
  const stackInit = Array.from({ length: -STACK_INIT_END / 8 }, () => imm());

  const build = (fds: readonly number[]): Instruction[] => {
    const b = new ProgramBuilder();
    b.mov64(R6, R1);
    derivePacket(b, fds);
    stackInit.forEach((v, i) => {
      b.st(64, R10, -8 * (i + 1), v);
    });
    for (const init of inits) init(b);
    blocks.forEach((emit, i) => {
      b.label(`b${i}`);
      emit(b, fds);
    });
    b.label(`b${blocks.length}`);
    // Epilogue: the scalars into out[0], r0 returned.
    SCALARS.forEach((r, i) => {
      b.stx(64, R10, DUMP - 8 * i, r);
    });
    b.st(32, R10, KEY, 0)
      .ldMapFd(R1, fds[OUT]!)
      .mov64(R2, R10)
      .add64(R2, KEY)
      .call("map_lookup_elem")
      .jeq(R0, 0, "done");
    SCALARS.forEach((_, i) => {
      b.ldx(64, R1, R10, DUMP - 8 * i).stx(64, R0, 8 * i, R1);
    });
    b.label("done").ldx(64, R0, R10, DUMP).exit();
    for (const sub of subprograms) sub(b, fds);
    return b.build();
  };

  const data = Uint8Array.from({ length: PKT_SIZE }, () => rand() & 0xff);
  return { type, build, maps, data, features };
}

/** A BTF blob with one type: `static long f(long a, long b)` (id 3), for func_info. */
function funcBTF(): Uint8Array {
  const strings = new TextEncoder().encode("\0long\0f\0a\0");
  const types = new Uint32Array([
    // [1] INT long, 8 bytes, signed, 64 bits
    1,
    (1 << 24) | 0,
    8,
    (1 << 24) | 64,
    // [2] FUNC_PROTO long (long a, long a)
    0,
    (13 << 24) | 2,
    1,
    8,
    1,
    8,
    1,
    // [3] FUNC f, static, proto 2
    6,
    12 << 24,
    2,
  ]);
  const hdr = 24;
  const out = new Uint8Array(hdr + types.byteLength + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, hdr, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, types.byteLength, true);
  v.setUint32(16, types.byteLength, true);
  v.setUint32(20, strings.length, true);
  out.set(new Uint8Array(types.buffer), hdr);
  out.set(strings, hdr + types.byteLength);
  return out;
}
const FUNC_BTF = funcBTF();

/**
 * BTF func_info for a program with subprograms (the kernel wants it for bpf_loop
 * callbacks and bpf-to-bpf calls): one `f` record per function start, or undefined
 * for a program without subprograms.
 */
export function funcInfoFor(insns: readonly Instruction[]): ProgramBtf | undefined {
  const starts = new Set<number>([0]);
  let slot = 0;
  for (const i of insns) {
    if (i.kind === "call" && i.target === "bpf") starts.add(slot + 1 + i.imm);
    if (i.kind === "lddw" && i.pseudo === BPF_PSEUDO_FUNC) starts.add(slot + 1 + i.imm);
    slot += i.bytes / 8;
  }
  if (starts.size === 1) return undefined;
  const sorted = [...starts].sort((a, b) => a - b);
  const info = new Uint8Array(8 * sorted.length);
  const v = new DataView(info.buffer);
  sorted.forEach((s, i) => {
    v.setUint32(8 * i, s, true);
    v.setUint32(8 * i + 4, 3, true);
  });
  return { btf: FUNC_BTF, funcInfo: info, funcInfoRecordSize: 8 };
}

/** A packet: Ethernet, then IPv4 or IPv6, then TCP, UDP or ICMP, random fields and payload. */
export function randomPacket(rand: () => number): Uint8Array {
  const l4 = [6, 17, 1][rand() % 3]!;
  const v6 = rand() % 4 === 0;
  const payload = rand() % 64;
  const l4len = l4 === 6 ? 20 : 8;
  const l3len = v6 ? 40 : 20;
  const len = 14 + l3len + l4len + payload;
  const p = Uint8Array.from({ length: len }, () => rand() & 0xff);
  const v = new DataView(p.buffer);
  v.setUint16(12, v6 ? 0x86dd : 0x0800);
  if (v6) {
    p[14] = 0x60;
    v.setUint16(18, l4len + payload);
    p[20] = l4;
  } else {
    p[14] = 0x45;
    v.setUint16(16, l3len + l4len + payload);
    v.setUint16(20, 0); // not a fragment
    p[23] = l4;
  }
  if (l4 === 6) p[14 + l3len + 12] = 0x50; // data offset 5
  return p;
}
