/**
 * The VM against the kernel: the same program through BPF_PROG_TEST_RUN and through
 * the interpreter must give the same retval and the same packet out — on hand-written
 * programs and on seeded random programs the verifier accepts (ALU64/ALU32 with every
 * op, JMP/JMP32 forward branches, stack and packet loads and stores). Rejected
 * programs are skipped and counted. Set TSBPF_SEED to replay a seed, TSBPF_DIFF_COUNT
 * to change how many random programs run (3000; 600 under an emulated CPU).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  asm,
  disassembleKernel,
  encodeProgram,
  type Instruction,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
} from "../src/isa/index.ts";
import {
  BpfMap,
  Program,
  RingBufferReader,
  SyscallError,
  VerifierError,
} from "../src/kernel/index.ts";
import type { KeyValueMap } from "../src/spec/map-api.ts";
import { ProgType, progTypeName } from "../src/uapi/index.ts";
import { createVmMap, VmArrayMap, VmHashMap, VmProgram, type VmRingBuf } from "../src/vm/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import {
  csumDiffOfTwoWords,
  csumDiffSkip,
  kernelSkip,
  needs,
  timeScale,
  vmModelSkip,
} from "./support/kernel.ts";
import { funcInfoFor, type RandomProgram, randomProgram } from "./vm-random-programs.ts";

const skip = needs(kernelSkip, !kernelSkip && vmModelSkip());

/**
 * Programs the verifier passed but the kernel still failed to load with EFAULT, its
 * "internal error": Debian's 6.12.118 does so for some programs with two bpf_loop
 * callbacks (TSBPF_SEED=1364998396, program 111), where 6.18 loads and runs them.
 * Nothing to compare them with; counted and reported.
 */
let kernelFaults = 0;

/**
 * Loads `insns` in the kernel; undefined when the verifier rejects them or the kernel
 * fails with EFAULT after verifying them (counted in {@link kernelFaults}).
 */
function load(type: ProgType, insns: Instruction[]): Program | undefined {
  try {
    const btf = funcInfoFor(insns);
    return Program.load({
      name: "diff",
      type,
      license: "GPL",
      instructions: encodeProgram(insns),
      ...(btf && { btf }),
    });
  } catch (e) {
    if (e instanceof VerifierError) return undefined;
    if (e instanceof SyscallError && e.code === "EFAULT" && /processed \d+ insns/.test(e.message)) {
      kernelFaults++;
      return undefined;
    }
    throw e;
  }
}

interface Case {
  readonly type: ProgType;
  readonly insns: Instruction[];
  readonly data: Uint8Array;
}

/** Runs a case in both; returns a mismatch description or undefined. Throws if rejected when `mustLoad`. */
function compare(c: Case, mustLoad: boolean): string | undefined | "rejected" {
  const prog = load(c.type, c.insns);
  if (!prog) {
    if (mustLoad) throw new Error(`the kernel rejected:\n${disassembleKernel(c.insns)}`);
    return "rejected";
  }
  try {
    const k = prog.run({ data: c.data });
    const v = new VmProgram(c.insns, { type: c.type }).run({ data: c.data });
    const same = k.retval === v.retval && Buffer.from(k.dataOut).equals(Buffer.from(v.dataOut));
    if (same) return undefined;
    return [
      `kernel retval ${k.retval}, vm ${v.retval} (r0 ${v.r0})`,
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
      insns: csumDiffOfTwoWords(),
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
    test(name, { skip: name.includes("csum_diff") && csumDiffSkip() }, () => {
      const diff = compare(c, true);
      assert.equal(diff, undefined, diff);
    });
  }
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Every entry of a map as sorted "key=value" lines. */
function dump(map: KeyValueMap): string[] {
  return [...map.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
}

/** What one random program did in one backend. */
interface Outcome {
  retval: number;
  dataOut: string;
  maps: string[][];
  ring: string[];
}

function describeOutcome(o: Outcome): string {
  return [
    `retval ${o.retval}`,
    `data ${o.dataOut}`,
    ...o.maps.map((m, i) => `map ${i}: ${m.join(" ")}`),
    `ring: ${o.ring.join(" ")}`,
  ].join("\n  ");
}

/** Statistics of a random run. */
interface Tally {
  compared: number;
  rejected: number;
  executed: number;
  features: Map<string, number>;
}

/**
 * Runs one random program in both backends with the same maps; returns a mismatch
 * description, "rejected" or undefined.
 */
function compareRandom(p: RandomProgram, tally: Tally): string | undefined | "rejected" {
  const kmaps: BpfMap[] = [];
  let prog: Program | undefined;
  try {
    for (const m of p.maps) {
      const km = BpfMap.create(m.spec);
      kmaps.push(km);
      for (const [k, v] of m.contents) km.update(k, v);
    }
    const fds = kmaps.map((m) => m.fd);
    const insns = p.build(fds);
    try {
      prog = load(p.type, insns);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${disassembleKernel(insns)}`, { cause: e });
    }
    if (!prog) return "rejected";
    const vmaps = p.maps.map((m) => {
      const vm = createVmMap(m.spec);
      if (vm instanceof VmArrayMap || vm instanceof VmHashMap)
        for (const [k, v] of m.contents) vm.update(k, v);
      return vm;
    });
    const byFd = new Map(fds.map((fd, i) => [fd, vmaps[i]!]));
    const vprog = new VmProgram(insns, {
      type: p.type,
      resolveMap: (_pseudo, imm) => byFd.get(imm),
    });

    const kr = prog.run({ data: p.data });
    const reader = RingBufferReader.open(kmaps[3]!, { copy: true });
    let kring: string[];
    try {
      kring = reader.readAvailable().map(hex);
    } finally {
      reader.close();
    }
    const k: Outcome = {
      retval: kr.retval,
      dataOut: hex(kr.dataOut),
      maps: kmaps.slice(0, 3).map(dump),
      ring: kring,
    };
    const vr = vprog.run({ data: p.data });
    tally.executed += vr.instructions;
    const v: Outcome = {
      retval: vr.retval,
      dataOut: hex(vr.dataOut),
      maps: vmaps.slice(0, 3).map((m) => dump(m)),
      ring: [...(vmaps[3] as VmRingBuf).drain()].map((r) => hex(r.data)),
    };
    // Both ways: the VM's entries looked up in the kernel too.
    for (let i = 0; i < 3; i++) {
      for (const [key, value] of vmaps[i]!.entries()) {
        const kv = kmaps[i]!.lookup(key);
        if (kv === undefined || hex(kv) !== hex(value))
          k.maps[i]!.push(`(vm key ${hex(key)} in kernel: ${kv ? hex(kv) : "missing"})`);
      }
    }
    if (JSON.stringify(k) === JSON.stringify(v)) {
      for (const f of p.features) tally.features.set(f, (tally.features.get(f) ?? 0) + 1);
      return undefined;
    }
    return [
      `${progTypeName(p.type)} program`,
      `kernel: ${describeOutcome(k)}`,
      `vm:     ${describeOutcome(v)}`,
      `input  data ${hex(p.data)}`,
      ...p.maps.map(
        (m, i) =>
          `map ${i} (${m.spec.name}) before: ${m.contents.map(([a, b]) => `${hex(a)}=${hex(b)}`).join(" ")}`,
      ),
      disassembleKernel(insns),
    ].join("\n");
  } finally {
    prog?.close();
    for (const m of kmaps) m.close();
  }
}

describe("vm vs kernel: random programs", { skip }, () => {
  test("same retval, packet out, map contents and ring records", () => {
    const seed = Number(process.env.TSBPF_SEED ?? Math.floor(Math.random() * 0x7fffffff));
    // Under an emulated CPU (the kernel matrix's guests) a fifth of them: each is a
    // program load and test run in a kernel 10-30 times slower, and the file must end
    // well within the runner's 10-minute limit on a busy machine.
    const count = Number(process.env.TSBPF_DIFF_COUNT ?? (timeScale > 1 ? 600 : 3000));
    const rand = seededRandom(seed);
    const fds0 = fdCounts();
    const tally: Tally = { compared: 0, rejected: 0, executed: 0, features: new Map() };
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      let r: ReturnType<typeof compareRandom>;
      try {
        r = compareRandom(randomProgram(rand, { csumDiff: !csumDiffSkip() }), tally);
      } catch (e) {
        // replay with TSBPF_SEED=<seed>: the same programs come in the same order
        throw new Error(`seed ${seed}, program ${i}: ${(e as Error).message}`, { cause: e });
      }
      if (r === "rejected") {
        tally.rejected++;
        continue;
      }
      tally.compared++;
      assert.equal(r, undefined, `seed ${seed}, program ${i}:\n${r}`);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const feats = [...tally.features].map(([f, n]) => `${f} ${n}`).join(", ");
    console.log(
      `# seed ${seed}: ${tally.compared} programs agreed, ${tally.rejected} rejected by the verifier (${kernelFaults} of them EFAULT after it passed them), ${(tally.executed / Math.max(1, tally.compared)).toFixed(1)} instructions per run (${secs} s); programs with: ${feats}`,
    );
    assert.ok(tally.compared >= count * 0.9, `too many rejected: ${tally.rejected} of ${count}`);
    assertFdCounts(fds0);
  });
});
