/**
 * The VM against the kernel: the same program through BPF_PROG_TEST_RUN and through
 * the interpreter must give the same retval and the same packet out — on hand-written
 * programs and on seeded random programs the verifier accepts (ALU64/ALU32 with every
 * op, JMP/JMP32 forward branches, stack and packet loads and stores). Rejected
 * programs are skipped and counted. Set TSBPF_SEED to replay a seed, TSBPF_DIFF_COUNT
 * to change how many random programs run.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type AluOp,
  asm,
  disassembleKernel,
  encodeProgram,
  type Instruction,
  type JumpOp,
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
import { Program, VerifierError } from "../src/kernel/index.ts";
import { ProgType } from "../src/uapi/index.ts";
import { VmProgram } from "../src/vm/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";

const skip = process.getuid?.() !== 0 ? "needs root for BPF_PROG_TEST_RUN" : false;

/** Loads `insns` in the kernel; undefined when the verifier rejects them. */
function load(type: ProgType, insns: Instruction[]): Program | undefined {
  try {
    return Program.load({ name: "diff", type, license: "GPL", instructions: encodeProgram(insns) });
  } catch (e) {
    if (e instanceof VerifierError) return undefined;
    throw e;
  }
}

interface Case {
  readonly type: ProgType;
  readonly insns: Instruction[];
  readonly data: Uint8Array;
}

/** Runs a case in both; returns a mismatch description or undefined. Throws if rejected when `mustLoad`. */
/** Instructions the VM executed in the last comparison. */
let lastInstructions = 0;

function compare(c: Case, mustLoad: boolean): string | undefined | "rejected" {
  const prog = load(c.type, c.insns);
  if (!prog) {
    if (mustLoad) throw new Error(`the kernel rejected:\n${disassembleKernel(c.insns)}`);
    return "rejected";
  }
  try {
    const k = prog.run({ data: c.data });
    const v = new VmProgram(c.insns, { type: c.type }).run({ data: c.data });
    lastInstructions = v.instructions;
    const vr = Number(v.retval & 0xffff_ffffn);
    const same = k.retval === vr && Buffer.from(k.dataOut).equals(Buffer.from(v.dataOut));
    if (same) return undefined;
    return [
      `kernel retval ${k.retval}, vm ${vr} (${v.retval})`,
      `kernel data ${Buffer.from(k.dataOut).toString("hex")}`,
      `vm     data ${Buffer.from(v.dataOut).toString("hex")}`,
      `input  data ${Buffer.from(c.data).toString("hex")}`,
      disassembleKernel(c.insns),
    ].join("\n");
  } finally {
    prog.close();
  }
}

function packet(
  len: number,
  fill: (i: number) => number = (i) => (i * 37 + 11) & 0xff,
): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => fill(i));
}

/** XDP prologue: r6 = ctx, r2 = data, r3 = data_end, bail out unless `len` bytes exist. */
function xdpPrologue(len: number): Instruction[] {
  return [
    asm.mov64(R6, R1),
    asm.ldx(32, R2, R6, 0),
    asm.ldx(32, R3, R6, 4),
    asm.mov64(R4, R2),
    asm.add64(R4, len),
    asm.jmp("jle", R4, R3, 2),
    asm.mov64(R0, 1),
    asm.exit(),
  ];
}

describe("vm vs kernel: hand-written programs", { skip }, () => {
  let fds0 = fdCounts();
  before(() => {
    fds0 = fdCounts();
  });
  after(() => {
    assertFdCounts(fds0);
  });

  const cases: Record<string, Case> = {
    "xdp returns PASS": {
      type: ProgType.XDP,
      insns: [asm.mov64(R0, 2), asm.exit()],
      data: packet(64),
    },
    "xdp reads and writes the packet": {
      type: ProgType.XDP,
      insns: [
        ...xdpPrologue(32),
        asm.ldx(32, R0, R2, 12),
        asm.ldx(64, R5, R2, 0),
        asm.stx(64, R2, 16, R5),
        asm.st(16, R2, 30, -1),
        asm.exit(),
      ],
      data: packet(40),
    },
    "xdp_adjust_head shrinks the front": {
      type: ProgType.XDP,
      insns: [
        asm.mov64(R6, R1),
        asm.mov64(R2, 6),
        asm.call("xdp_adjust_head"),
        asm.mov64(R7, R0),
        ...xdpPrologue(8).slice(1),
        asm.st(8, R2, 0, 0xaa),
        asm.mov64(R0, R7),
        asm.exit(),
      ],
      data: packet(64),
    },
    "xdp_adjust_head grows into the headroom": {
      type: ProgType.XDP,
      insns: [
        asm.mov64(R6, R1),
        asm.mov64(R2, -20),
        asm.call("xdp_adjust_head"),
        asm.mov64(R7, R0),
        ...xdpPrologue(20).slice(1),
        asm.st(32, R2, 0, 0x11223344),
        asm.mov64(R0, R7),
        asm.exit(),
      ],
      data: packet(64),
    },
    "xdp_adjust_head beyond the headroom fails": {
      type: ProgType.XDP,
      insns: [asm.mov64(R2, -300), asm.call("xdp_adjust_head"), asm.exit()],
      data: packet(64),
    },
    "xdp_adjust_tail grows (zeroed) and shrinks": {
      type: ProgType.XDP,
      insns: [
        asm.mov64(R6, R1),
        asm.mov64(R2, 30),
        asm.call("xdp_adjust_tail"),
        asm.mov64(R7, R0),
        asm.mov64(R1, R6),
        asm.mov64(R2, -10),
        asm.call("xdp_adjust_tail"),
        asm.add64(R0, R7),
        asm.exit(),
      ],
      data: packet(64),
    },
    "xdp_adjust_tail past the frame fails": {
      type: ProgType.XDP,
      insns: [asm.mov64(R2, 4000), asm.call("xdp_adjust_tail"), asm.exit()],
      data: packet(64),
    },
    "xdp reads ingress_ifindex and rx_queue_index": {
      type: ProgType.XDP,
      insns: [
        asm.ldx(32, R0, R1, 12),
        asm.ldx(32, R2, R1, 16),
        asm.lsh64(R2, 8),
        asm.or64(R0, R2),
        asm.exit(),
      ],
      data: packet(64),
    },
    "csum_diff of two words": {
      type: ProgType.XDP,
      insns: [
        asm.st(64, R10, -8, 0x12345678),
        asm.st(64, R10, -16, -0x789abcd),
        asm.mov64(R1, R10),
        asm.add64(R1, -8),
        asm.mov64(R2, 8),
        asm.mov64(R3, R10),
        asm.add64(R3, -16),
        asm.mov64(R4, 8),
        asm.mov64(R5, 0x1234),
        asm.call("csum_diff"),
        asm.exit(),
      ],
      data: packet(64),
    },
  };
  const skbFields: [string, number][] = [
    ["len", 0],
    ["pkt_type", 4],
    ["mark", 8],
    ["queue_mapping", 12],
    ["protocol", 16],
    ["priority", 32],
    ["ingress_ifindex", 36],
    ["ifindex", 40],
    ["tc_index", 44],
    ["hash", 68],
    ["wire_len", 160],
  ];
  const packets: [string, Uint8Array][] = [
    [
      "ipv4 to 00:00:00:00:00:00",
      packet(64, (i) => (i < 12 ? 0 : i === 12 ? 8 : i === 13 ? 0 : (i * 7) & 0xff)),
    ],
    ["broadcast", packet(60, (i) => (i < 6 ? 0xff : i === 12 ? 0x86 : i === 13 ? 0xdd : i))],
    [
      "unicast to another host",
      packet(50, (i) => (i === 0 ? 0x02 : i === 12 ? 0x00 : i === 13 ? 0x30 : i)),
    ],
    ["802.3 raw", packet(40, (i) => (i === 0 ? 0x01 : i === 12 ? 0 : i === 13 ? 40 : 0xff))],
  ];
  for (const type of [ProgType.SOCKET_FILTER, ProgType.SCHED_CLS]) {
    for (const [field, off] of skbFields) {
      // The verifier refuses wire_len to socket filters.
      if (type === ProgType.SOCKET_FILTER && field === "wire_len") continue;
      for (const [what, data] of packets) {
        const name = `${type === ProgType.SOCKET_FILTER ? "socket_filter" : "sched_cls"} reads __sk_buff.${field} (${what})`;
        cases[name] = { type, insns: [asm.ldx(32, R0, R1, off), asm.exit()], data };
      }
    }
  }
  cases["sched_cls writes the packet through data/data_end"] = {
    type: ProgType.SCHED_CLS,
    insns: [
      asm.ldx(32, R2, R1, 76),
      asm.ldx(32, R3, R1, 80),
      asm.mov64(R4, R2),
      asm.add64(R4, 20),
      asm.jmp("jgt", R4, R3, 3),
      asm.ldx(16, R0, R2, 12),
      asm.st(32, R2, 14, 0x01020304),
      asm.exit(),
      asm.mov64(R0, 0),
      asm.exit(),
    ],
    data: packet(64),
  };
  cases["socket_filter ld_abs/ld_ind read the network header"] = {
    type: ProgType.SOCKET_FILTER,
    insns: [
      asm.mov64(R6, R1),
      asm.ldAbs(8, 0),
      asm.mov64(R7, R0),
      asm.ldAbs(16, 2),
      asm.add64(R7, R0),
      asm.mov64(R8, 4),
      asm.ldInd(32, R8, 2),
      asm.add64(R0, R7),
      asm.exit(),
    ],
    data: packet(64),
  };
  cases["socket_filter ld_abs past the end returns 0"] = {
    type: ProgType.SOCKET_FILTER,
    insns: [asm.mov64(R6, R1), asm.ldAbs(32, 100), asm.mov64(R0, 5), asm.exit()],
    data: packet(64),
  };
  cases["sched_cls writes mark, priority and cb"] = {
    type: ProgType.SCHED_CLS,
    insns: [
      asm.st(32, R1, 8, 77),
      asm.st(32, R1, 48, 5),
      asm.ldx(32, R0, R1, 8),
      asm.ldx(32, R2, R1, 48),
      asm.add64(R0, R2),
      asm.exit(),
    ],
    data: packet(64),
  };
  for (const [name, c] of Object.entries(cases)) {
    test(name, () => {
      const diff = compare(c, true);
      assert.equal(diff, undefined, diff);
    });
  }
});

/** mulberry32, so a seed replays a run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const SCALARS: Reg[] = [R0, R1, R3, R4, R5, R7, R8, R9];
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
const PKT = 64; // bytes the program reads at random; the registers are stored after them
const STACK_SLOTS = 4;

/** A random XDP program over packet bytes and immediates, whose last act is to store every scalar register in the packet. */
function randomProgram(rand: () => number): Instruction[] {
  const pick = <T>(a: readonly T[]): T => a[rand() % a.length]!;
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
  const out: Instruction[] = [...xdpPrologue(PKT + 8 * SCALARS.length)];
  for (let i = 0; i < STACK_SLOTS; i++) out.push(asm.st(64, R10, -8 * (i + 1), imm()));
  for (const r of SCALARS) {
    if (rand() % 3 === 0) out.push(asm.mov64(r, imm()));
    else out.push(asm.ldx(pick([8, 16, 32, 64] as const), r, R2, rand() % (PKT - 8)));
  }
  const body: (
    | Instruction
    | { jump: JumpOp; bits: 32 | 64; dst: Reg; src: Reg | number; skip: number }
  )[] = [];
  const n = 10 + (rand() % 30);
  for (let i = 0; i < n; i++) {
    const k = rand() % 20;
    const dst = pick(SCALARS);
    if (k < 12) {
      const op = pick(ALU_OPS);
      const bits = rand() % 2 ? 64 : 32;
      const useReg = rand() % 2 === 0;
      let src: Reg | number = useReg ? pick(SCALARS) : imm();
      if (typeof src === "number") {
        if (op === "lsh" || op === "rsh" || op === "arsh") src = rand() % bits;
        if ((op === "div" || op === "mod" || op === "sdiv" || op === "smod") && src === 0) src = 3;
      }
      if (op === "neg") body.push(bits === 64 ? asm.neg64(dst) : asm.neg32(dst));
      else body.push(bits === 64 ? asm.alu64(op, dst, src) : asm.alu32(op, dst, src));
    } else if (k < 13) {
      const from = pick([8, 16, 32] as const);
      if (rand() % 2 || from === 32) body.push(asm.movsx64(dst, pick(SCALARS), from));
      else body.push(asm.movsx32(dst, pick(SCALARS), from));
    } else if (k < 14) {
      const w = pick([16, 32, 64] as const);
      body.push(pick([asm.bswap, asm.le, asm.be])(dst, w));
    } else if (k < 16) {
      body.push({
        jump: pick(JUMP_OPS),
        bits: rand() % 2 ? 64 : 32,
        dst,
        src: rand() % 2 ? pick(SCALARS) : imm(),
        skip: 1 + (rand() % 4),
      });
    } else if (k < 18) {
      const slot = -8 * (1 + (rand() % STACK_SLOTS));
      const size = pick([8, 16, 32, 64] as const);
      const at = slot + (rand() % (8 / (size / 8))) * (size / 8);
      if (rand() % 2) body.push(asm.stx(size, R10, at, pick(SCALARS)));
      else body.push(asm.ldx(size, dst, R10, at));
    } else if (k < 19) {
      const size = pick([8, 16, 32, 64] as const);
      const at = rand() % (PKT - 8);
      if (rand() % 3 === 0) body.push(asm.stx(size, R2, at, pick(SCALARS)));
      else body.push(asm.ldx(size, dst, R2, at));
    } else {
      body.push(asm.ldxs(pick([8, 16, 32] as const), dst, R2, rand() % (PKT - 8)));
    }
  }
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if ("jump" in b) {
      const skip = Math.min(b.skip, body.length - i - 1);
      // lddw takes two slots; none in the body, so instructions = slots.
      out.push(
        b.bits === 64 ? asm.jmp(b.jump, b.dst, b.src, skip) : asm.jmp32(b.jump, b.dst, b.src, skip),
      );
    } else out.push(b);
  }
  SCALARS.forEach((r, i) => {
    out.push(asm.stx(64, R2, PKT + 8 * i, r));
  });
  out.push(asm.exit());
  return out;
}

describe("vm vs kernel: random programs", { skip }, () => {
  test("same retval and packet out", () => {
    const seed = Number(process.env.TSBPF_SEED ?? Math.floor(Math.random() * 0x7fffffff));
    const count = Number(process.env.TSBPF_DIFF_COUNT ?? 5000);
    const rand = rng(seed);
    const fds0 = fdCounts();
    let rejected = 0;
    let compared = 0;
    let executed = 0;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const insns = randomProgram(rand);
      const data = packet(PKT + 8 * SCALARS.length, () => rand() & 0xff);
      const r = compare({ type: ProgType.XDP, insns, data }, false);
      if (r === "rejected") {
        rejected++;
        continue;
      }
      compared++;
      executed += lastInstructions;
      assert.equal(r, undefined, `seed ${seed}, program ${i}:\n${r}`);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `# seed ${seed}: ${compared} programs agreed, ${rejected} rejected by the verifier, ${(executed / Math.max(1, compared)).toFixed(1)} instructions per run (${secs} s)`,
    );
    assert.ok(compared >= count * 0.5, `too many rejected: ${rejected} of ${count}`);
    assertFdCounts(fds0);
  });
});
