/**
 * Program contexts of the VM. sched_act, cgroup_skb and raw_tp against the kernel's
 * BPF_PROG_TEST_RUN (same program, same input: same retval, packet out and map
 * contents); tracepoint, kprobe and perf_event, which the kernel cannot test-run,
 * VM-only with named expectations (src/vm/context-tracing.ts says what each gets).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  asm,
  encodeProgram,
  type Instruction,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R7,
  R10,
} from "../src/isa/index.ts";
import { BpfMap, Program } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, ProgType, progTypeName, skBuff } from "../src/uapi/index.ts";
import {
  createVmMap,
  PT_REGS_X86_64,
  perfEventData,
  ptRegs,
  VmError,
  VmProgram,
} from "../src/vm/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";
import { randomPacket } from "./vm-random-programs.ts";

const skip = kernelSkip;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const OUT: MapSpec = { name: "out", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 16 };

/** out[slot] = r7 (clobbers r0..r5). */
function store(slot: number, fd: number): Instruction[] {
  return [
    asm.st(32, R10, -4, slot),
    asm.stx(64, R10, -16, R7),
    asm.ldMapFd(R1, fd),
    asm.mov64(R2, R10),
    asm.add64(R2, -4),
    asm.mov64(R3, R10),
    asm.add64(R3, -16),
    asm.mov64(R4, 0),
    asm.call("map_update_elem"),
  ];
}

/** Runs `build(fd)` in the kernel and the VM with an `out` array map; compares everything. */
function compare(
  type: ProgType,
  build: (fd: number) => Instruction[],
  input: { data?: Uint8Array; ctx?: Uint8Array },
): void {
  const km = BpfMap.create(OUT);
  try {
    const insns = build(km.fd);
    const prog = Program.load({
      name: "ctx",
      type,
      license: "GPL",
      instructions: encodeProgram(insns),
    });
    try {
      const vm = createVmMap(OUT);
      const vp = new VmProgram(insns, { type, resolveMap: () => vm });
      const k = prog.run(input);
      const v = vp.run(input);
      const where = `${progTypeName(type)}, input ${hex(input.data ?? input.ctx!)}`;
      assert.equal(v.retval, k.retval, `retval, ${where}`);
      assert.equal(hex(v.dataOut), hex(k.dataOut), `packet out, ${where}`);
      assert.equal(v.ctxOut === undefined, k.ctxOut === undefined, `ctxOut present, ${where}`);
      const dump = (m: BpfMap | ReturnType<typeof createVmMap>) =>
        [...m.entries()].map(([a, b]) => `${hex(a)}=${hex(b)}`).join(" ");
      assert.equal(dump(vm), dump(km), `map out, ${where}`);
    } finally {
      prog.close();
    }
  } finally {
    km.close();
  }
}

/** Reads __sk_buff fields into out[i], then returns `ret`. */
function skbFieldsProgram(fields: readonly string[], ret: number): (fd: number) => Instruction[] {
  return (fd) => {
    const out: Instruction[] = [asm.mov64(R6, R1)];
    fields.forEach((name, i) => {
      const f = skBuff.fields[name as keyof typeof skBuff.fields]!;
      out.push(asm.ldx(32, R7, R6, f.offset));
      out.push(...store(i, fd));
    });
    out.push(asm.mov64(R0, ret), asm.exit());
    return out;
  };
}

describe("vm vs kernel: skb contexts beyond socket_filter and sched_cls", { skip }, () => {
  const fields = ["len", "protocol", "pkt_type", "mark", "priority", "ifindex", "hash"];
  const rand = seededRandom(99);
  const packets = Array.from({ length: 6 }, () => randomPacket(rand));
  for (const [type, ret] of [
    [ProgType.SCHED_ACT, 7],
    [ProgType.CGROUP_SKB, 1],
  ] as const) {
    test(`${progTypeName(type)}: __sk_buff fields and packet`, () => {
      const fds = fdCounts();
      for (const data of packets) compare(type, skbFieldsProgram(fields, ret), { data });
      assertFdCounts(fds);
    });
  }
  test("sched_act: direct packet access through data/data_end", () => {
    const fds = fdCounts();
    const build = (): Instruction[] => [
      asm.ldx(32, R2, R1, skBuff.fields.data.offset),
      asm.ldx(32, R3, R1, skBuff.fields.data_end.offset),
      asm.mov64(R4, R2),
      asm.add64(R4, 20),
      asm.jmp("jgt", R4, R3, 3),
      asm.ldx(16, R0, R2, 12),
      asm.st(32, R2, 14, 0x01020304),
      asm.exit(),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    for (const data of packets) compare(ProgType.SCHED_ACT, build, { data });
    assertFdCounts(fds);
  });
});

describe("vm vs kernel: raw_tp arguments", { skip }, () => {
  test("raw_tracepoint reads its u64 args from ctx_in (no ctx_out)", () => {
    const fds = fdCounts();
    const rand = seededRandom(7);
    const build = (fd: number): Instruction[] => {
      const out: Instruction[] = [asm.mov64(R6, R1)];
      for (let i = 0; i < 4; i++) out.push(asm.ldx(64, R7, R6, 8 * i), ...store(i, fd));
      out.push(asm.ldx(64, R0, R6, 0), asm.ldx(64, R1, R6, 8), asm.add64(R0, R1), asm.exit());
      return out;
    };
    for (let i = 0; i < 8; i++) {
      const ctx = Uint8Array.from({ length: 32 }, () => rand() & 0xff);
      compare(ProgType.RAW_TRACEPOINT, build, { ctx });
    }
    assertFdCounts(fds);
  });
});

describe("vm: tracing contexts the kernel cannot test-run", () => {
  const u64At = (off: number): Instruction[] => [asm.ldx(64, R0, R1, off), asm.exit()];

  test("tracepoint: the raw record, given as data or ctx", () => {
    // common header (8 bytes: type u16, flags u8, preempt_count u8, pid s32), then fields.
    const record = new Uint8Array(24);
    const v = new DataView(record.buffer);
    v.setUint16(0, 321, true);
    v.setInt32(4, 4242, true);
    v.setBigUint64(16, 0xfeedn, true);
    const prog = new VmProgram(
      [
        asm.ldx(32, R0, R1, 4), // common_pid
        asm.ldx(64, R2, R1, 16), // a field of the event
        asm.add64(R0, R2),
        asm.exit(),
      ],
      { type: ProgType.TRACEPOINT },
    );
    assert.equal(prog.run({ data: record }).r0, 4242n + 0xfeedn, "record as data");
    assert.equal(prog.run({ ctx: record }).r0, 4242n + 0xfeedn, "record as ctx");
    assert.throws(() => prog.run({ data: record, ctx: record }), /not both/);
    assert.throws(() => prog.run({ data: record.subarray(0, 8) }), VmError, "read past the record");
  });

  test("kprobe: x86-64 pt_regs, PT_REGS_PARM1 = rdi, PARM2 = rsi, RC = rax", () => {
    const prog = new VmProgram(
      [
        asm.ldx(64, R0, R1, PT_REGS_X86_64.rdi),
        asm.ldx(64, R2, R1, PT_REGS_X86_64.rsi),
        asm.add64(R0, R2),
        asm.ldx(64, R2, R1, PT_REGS_X86_64.rax),
        asm.add64(R0, R2),
        asm.exit(),
      ],
      { type: ProgType.KPROBE },
    );
    assert.equal(prog.run({ ctx: ptRegs({ rdi: 5n, rsi: 7n, rax: 100n }) }).r0, 112n);
    const past = new VmProgram(u64At(168), { type: ProgType.KPROBE });
    assert.throws(() => past.run({ ctx: ptRegs({}) }), /byte 168\.\.176 of context/);
  });

  test("perf_event: bpf_perf_event_data (regs, sample_period at 168, addr at 176)", () => {
    const ctx = perfEventData({
      regs: { rip: 0xffffffff81000000n },
      samplePeriod: 1000n,
      addr: 0xdeadn,
    });
    assert.equal(ctx.length, 184);
    const run = (off: number) =>
      new VmProgram(u64At(off), { type: ProgType.PERF_EVENT }).run({ ctx }).r0;
    assert.equal(run(168), 1000n, "sample_period");
    assert.equal(run(176), 0xdeadn, "addr");
    assert.equal(run(PT_REGS_X86_64.rip), 0xffffffff81000000n, "regs.rip");
  });

  test("XDP without data says the packet is required", () => {
    const prog = new VmProgram([asm.mov64(R0, 2), asm.exit()], { type: ProgType.XDP });
    assert.throws(() => prog.run(), /data \(the packet\) is required/);
  });

  test("kprobe with data says to pass the context as ctx", () => {
    const prog = new VmProgram([asm.mov64(R0, 0), asm.exit()], { type: ProgType.KPROBE });
    assert.throws(
      () => prog.run({ data: new Uint8Array(8) }),
      /pass the context as ctx \(ctx_in\)/,
    );
  });
});
