/**
 * The VM's helpers against the kernel's through BPF_PROG_TEST_RUN: the same program,
 * the same maps, the same packet; every helper's return value (collected into the
 * packet), the packet out and the maps after the run must agree. Covers
 * skb_load_bytes, skb_store_bytes, l3/l4_csum_replace, redirect, redirect_map,
 * ringbuf output/reserve/submit/discard/query, perf_event_output's errors,
 * queue/stack/bloom push/pop/peek, snprintf and strtol/strtoul. (bpf_loop and
 * for_each_map_elem need BTF func_info for their callbacks: vm-collection.test.ts
 * compares them on a compiled object.) Needs root; each case loads one small program.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  asm,
  disassembleKernel,
  encodeProgram,
  type Instruction,
  ProgramBuilder,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R10,
} from "../src/isa/index.ts";
import { BpfMap, Program } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapFlags, MapType, ProgType, skBuff } from "../src/uapi/index.ts";
import { createVmMap, type VmMap, VmProgram, type VmQueueMap } from "../src/vm/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs, vmModelSkip } from "./support/kernel.ts";

const skip = needs(kernelSkip, !kernelSkip && vmModelSkip());

/** Results go to the stack at r10 + RES + 8 * i, then into the packet at RES_AT. */
const RES = -256;
const RES_AT = 64;

interface Case {
  readonly type: ProgType;
  readonly maps?: readonly MapSpec[];
  /** Map contents written before the run (kernel and VM alike). */
  readonly fill?: readonly { map: number; key: Uint8Array; value: Uint8Array }[];
  /** Freeze map `i` after filling it (snprintf formats). */
  readonly freeze?: readonly number[];
  /** The body: `fd(i)` is map i's fd, `res(b, i)` stores r0 as result i. */
  readonly body: (b: ProgramBuilder, fd: (i: number) => number) => void;
  /** Functions placed after the program's exit (callbacks, which the verifier wants last). */
  readonly functions?: (b: ProgramBuilder) => void;
  readonly results: number;
  readonly data?: Uint8Array;
}

/**
 * A frozen, program-read-only array map holding format strings (bpf_snprintf wants its
 * format in read-only memory), as map 0 of a case: `texts` gives each string's offset.
 */
function formatMap(texts: Record<number, string>): Pick<Case, "maps" | "fill" | "freeze"> {
  const value = new Uint8Array(64);
  for (const [at, text] of Object.entries(texts)) {
    value.set(new TextEncoder().encode(text), Number(at));
  }
  return {
    maps: [
      {
        name: "fmt",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 64,
        maxEntries: 1,
        flags: MapFlags.RDONLY_PROG,
      },
    ],
    fill: [{ map: 0, key: k32(0), value }],
    freeze: [0],
  };
}

function packet(len = 256): Uint8Array {
  const p = Uint8Array.from({ length: len }, (_, i) => (i * 29 + 7) & 0xff);
  p.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00], 0); // to host, IPv4
  p.set([0x45, 0x00, 0x00, 0x54], 14);
  return p;
}

function res(b: ProgramBuilder, i: number): void {
  b.stx(64, R10, RES + 8 * i, R0);
}

/** The whole program: prologue, body, then the results copied into the packet. */
function build(c: Case, fd: (i: number) => number): Instruction[] {
  const b = new ProgramBuilder();
  b.mov64(R6, R1);
  for (let i = 0; i < c.results; i++) b.st(64, R10, RES + 8 * i, 0);
  c.body(b, fd);
  if (c.results === 0) return b.build();
  const xdp = c.type === ProgType.XDP;
  const dataOff = xdp ? 0 : skBuff.fields.data.offset;
  const endOff = xdp ? 4 : skBuff.fields.data_end.offset;
  b.ldx(32, R2, R6, dataOff)
    .ldx(32, R3, R6, endOff)
    .mov64(R4, R2)
    .add64(R4, RES_AT + 8 * c.results);
  b.jmp("jgt", R4, R3, "out");
  for (let i = 0; i < c.results; i++)
    b.ldx(64, R5, R10, RES + 8 * i).stx(64, R2, RES_AT + 8 * i, R5);
  b.label("out")
    .mov64(R0, xdp ? 2 : 0)
    .exit();
  c.functions?.(b);
  return b.build();
}

const k32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Stores `bytes` at r10 + off (8-byte aligned chunks). */
function stackBytes(b: ProgramBuilder, off: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) b.st(8, R10, off + i, bytes[i] as number);
}

function runCase(name: string, c: Case): void {
  const kmaps = (c.maps ?? []).map((s) => BpfMap.create(s));
  try {
    const vmaps: VmMap[] = (c.maps ?? []).map((s) => createVmMap(s));
    for (const f of c.fill ?? []) {
      const km = kmaps[f.map] as BpfMap;
      const vm = vmaps[f.map] as VmMap;
      km.update(f.key, f.value);
      vm.update(f.key, f.value);
    }
    for (const i of c.freeze ?? []) kmaps[i]?.freeze();
    const insns = build(c, (i) => (kmaps[i] as BpfMap).fd);
    const data = c.data ?? packet();
    const prog = Program.load({
      name: "vmhelper",
      type: c.type,
      license: "GPL",
      instructions: encodeProgram(insns),
    });
    let k: { retval: number; dataOut: Uint8Array };
    try {
      k = prog.run({ data });
    } finally {
      prog.close();
    }
    const vp = new VmProgram(insns, {
      type: c.type,
      resolveMap: (_p, imm) => {
        const i = kmaps.findIndex((m) => m.fd === imm);
        return i < 0 ? undefined : vmaps[i];
      },
    });
    const v = vp.run({ data });
    const where = `${name}:\n${disassembleKernel(insns)}`;
    const results = (d: Uint8Array) =>
      Array.from({ length: c.results }, (_, i) =>
        new DataView(d.buffer, d.byteOffset).getBigInt64(RES_AT + 8 * i, true),
      );
    assert.deepEqual(results(v.dataOut), results(k.dataOut), `helper results, ${where}`);
    assert.equal(hex(v.dataOut), hex(k.dataOut), `packet out, ${where}`);
    assert.equal(v.retval, k.retval, `retval, ${where}`);
    (c.maps ?? []).forEach((s, i) => {
      const km = kmaps[i] as BpfMap;
      const vm = vmaps[i] as VmMap;
      if (s.type === MapType.QUEUE || s.type === MapType.STACK) {
        const kv: string[] = [];
        const vv: string[] = [];
        for (let x = km.pop(); x; x = km.pop()) kv.push(hex(x));
        for (let x = (vm as VmQueueMap).pop(); x; x = (vm as VmQueueMap).pop()) vv.push(hex(x));
        assert.deepEqual(vv, kv, `${s.name} contents, ${where}`);
      } else if (s.type === MapType.ARRAY || s.type === MapType.HASH) {
        for (const [key, value] of km.entries())
          assert.equal(hex(vm.lookup(key) ?? new Uint8Array()), hex(value), `${s.name}, ${where}`);
      }
    });
  } finally {
    for (const m of kmaps) m.close();
  }
}

const RINGBUF: MapSpec = {
  name: "rb",
  type: MapType.RINGBUF,
  keySize: 0,
  valueSize: 0,
  maxEntries: 4096,
};

const cases: Record<string, Case> = {
  "skb_load_bytes: in range, at the end, past the end, huge offset": {
    type: ProgType.SCHED_CLS,
    results: 8,
    body(b) {
      [
        [0, 8],
        [248, 8],
        [252, 8],
        [-1, 4],
      ].forEach(([off, len], i) => {
        b.mov64(R1, R6)
          .mov64(R2, off as number)
          .mov64(R3, R10)
          .add64(R3, -16)
          .mov64(R4, len as number);
        b.call("skb_load_bytes");
        res(b, 2 * i);
        b.ldx(64, R0, R10, -16);
        res(b, 2 * i + 1);
      });
    },
  },
  "skb_store_bytes and l3/l4_csum_replace": {
    type: ProgType.SCHED_CLS,
    results: 11,
    body(b) {
      b.st(32, R10, -8, 0x0a000001);
      const store = (off: number, len: number, flags: number) => {
        b.mov64(R1, R6).mov64(R2, off).mov64(R3, R10).add64(R3, -8).mov64(R4, len).mov64(R5, flags);
        b.call("skb_store_bytes");
      };
      store(26, 4, 0);
      res(b, 0);
      store(254, 4, 0);
      res(b, 1);
      store(26, 4, 4);
      res(b, 2);
      const csum = (helper: string, off: number, from: number, to: number, flags: number) => {
        b.mov64(R1, R6).mov64(R2, off).mov64(R3, from).mov64(R4, to).mov64(R5, flags);
        b.call(helper);
      };
      csum("l3_csum_replace", 24, 0x1234, 0x0a000001, 4);
      res(b, 3);
      csum("l3_csum_replace", 24, 0x1234, 0x4321, 2);
      res(b, 4);
      csum("l3_csum_replace", 24, 0, 0x7777, 0);
      res(b, 5);
      csum("l3_csum_replace", 25, 0, 1, 4);
      res(b, 6);
      csum("l4_csum_replace", 50, 0xabcd, 0x1111, 2 | 0x10);
      res(b, 7);
      csum("l4_csum_replace", 50, 0x12345678, 0x0a000001, 4 | 0x10 | 0x20);
      res(b, 8);
      csum("l4_csum_replace", 50, 1, 1, 0);
      res(b, 9);
      csum("l4_csum_replace", 50, 1, 1, 0x100);
      res(b, 10);
    },
  },
  "l4_csum_replace with MARK_MANGLED_0 on a zero checksum": {
    type: ProgType.SCHED_CLS,
    results: 2,
    data: (() => {
      const p = packet();
      p[50] = 0;
      p[51] = 0;
      return p;
    })(),
    body(b) {
      b.mov64(R1, R6)
        .mov64(R2, 50)
        .mov64(R3, 0x1)
        .mov64(R4, 0x2)
        .mov64(R5, 2 | 0x20);
      b.call("l4_csum_replace");
      res(b, 0);
      b.mov64(R1, R6)
        .mov64(R2, 50)
        .mov64(R3, 0xffff)
        .mov64(R4, 0xfffe)
        .mov64(R5, 2 | 0x20 | 0x40);
      b.call("l4_csum_replace");
      res(b, 1);
    },
  },
  "redirect from tc: flags checked": {
    type: ProgType.SCHED_CLS,
    results: 2,
    body(b) {
      b.mov64(R1, 1).mov64(R2, 0).call("redirect");
      res(b, 0);
      b.mov64(R1, 1).mov64(R2, 4).call("redirect");
      res(b, 1);
    },
  },
  "redirect and redirect_map from xdp": {
    type: ProgType.XDP,
    maps: [{ name: "dev", type: MapType.DEVMAP, keySize: 4, valueSize: 4, maxEntries: 4 }],
    fill: [{ map: 0, key: k32(1), value: k32(1) }],
    results: 6,
    body(b, fd) {
      b.mov64(R1, 1).mov64(R2, 0).call("redirect");
      res(b, 0);
      b.mov64(R1, 1).mov64(R2, 1).call("redirect");
      res(b, 1);
      [
        [1, 0],
        [2, 1],
        [3, 2],
        [2, 0x40],
      ].forEach(([key, flags], i) => {
        b.emit(asm.ldMapFd(R1, fd(0)))
          .mov64(R2, key as number)
          .mov64(R3, flags as number);
        b.call("redirect_map");
        res(b, 2 + i);
      });
    },
  },
  "ringbuf output, reserve/submit/discard, query": {
    type: ProgType.XDP,
    maps: [RINGBUF],
    results: 10,
    body(b, fd) {
      b.st(64, R10, -16, 0x1122);
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, R10)
        .add64(R2, -16)
        .mov64(R3, 8)
        .mov64(R4, 0);
      b.call("ringbuf_output");
      res(b, 0);
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, R10)
        .add64(R2, -16)
        .mov64(R3, 5)
        .mov64(R4, 4);
      b.call("ringbuf_output");
      res(b, 1);
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, 4000)
        .mov64(R3, 0)
        .call("ringbuf_reserve");
      b.mov64(R7, R0).mov64(R0, 0).jeq(R7, 0, "z0").mov64(R0, 1).label("z0");
      res(b, 2);
      b.jeq(R7, 0, "no1").mov64(R1, R7).mov64(R2, 0).call("ringbuf_discard").label("no1");
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, 24)
        .mov64(R3, 0)
        .call("ringbuf_reserve");
      b.mov64(R7, R0);
      b.jeq(R7, 0, "no2")
        .st(64, R7, 0, 7)
        .mov64(R1, R7)
        .mov64(R2, 0)
        .call("ringbuf_submit")
        .label("no2");
      b.mov64(R0, 0).jeq(R7, 0, "z").mov64(R0, 1).label("z");
      res(b, 3);
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, 3000)
        .mov64(R3, 0)
        .call("ringbuf_reserve");
      b.mov64(R7, R0).mov64(R0, 0).jeq(R7, 0, "z2").mov64(R0, 1).label("z2");
      res(b, 4);
      b.jeq(R7, 0, "no3").mov64(R1, R7).mov64(R2, 0).call("ringbuf_discard").label("no3");
      for (let q = 0; q < 4; q++) {
        b.emit(asm.ldMapFd(R1, fd(0)))
          .mov64(R2, q)
          .call("ringbuf_query");
        res(b, 5 + q);
      }
      b.emit(asm.ldMapFd(R1, fd(0)))
        .mov64(R2, 9)
        .call("ringbuf_query");
      res(b, 9);
    },
  },
  "perf_event_output errors on empty slots": {
    type: ProgType.XDP,
    maps: [
      { name: "perf", type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 },
    ],
    results: 3,
    body(b, fd) {
      b.st(64, R10, -8, 1);
      [0, 5, 0x1_0000_0000].forEach((flags, i) => {
        b.mov64(R1, R6).emit(asm.ldMapFd(R2, fd(0)));
        if (flags > 0x7fff_ffff) b.lddw(R3, BigInt(flags));
        else b.mov64(R3, flags);
        b.mov64(R4, R10).add64(R4, -8).mov64(R5, 8).call("perf_event_output");
        res(b, i);
      });
    },
  },
  "queue and stack push/pop/peek, bloom push/peek": {
    type: ProgType.XDP,
    maps: [
      { name: "q", type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 3 },
      { name: "s", type: MapType.STACK, keySize: 0, valueSize: 8, maxEntries: 3 },
      {
        name: "bf",
        type: MapType.BLOOM_FILTER,
        keySize: 0,
        valueSize: 8,
        maxEntries: 16,
        flags: MapFlags.ZERO_SEED,
      },
    ],
    results: 16,
    body(b, fd) {
      let r = 0;
      for (const m of [0, 1]) {
        for (const [v, flags] of [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 0],
          [5, 2],
          [6, 1],
        ] as const) {
          b.st(64, R10, -8, v);
          b.emit(asm.ldMapFd(R1, fd(m)))
            .mov64(R2, R10)
            .add64(R2, -8)
            .mov64(R3, flags);
          b.call("map_push_elem");
          if (v >= 4) res(b, r++);
        }
        b.emit(asm.ldMapFd(R1, fd(m)))
          .mov64(R2, R10)
          .add64(R2, -8)
          .call("map_pop_elem");
        res(b, r++);
        b.ldx(64, R0, R10, -8);
        res(b, r++);
        b.emit(asm.ldMapFd(R1, fd(m)))
          .mov64(R2, R10)
          .add64(R2, -8)
          .call("map_peek_elem");
        b.ldx(64, R0, R10, -8);
        res(b, r++);
      }
      b.st(64, R10, -8, 42);
      b.emit(asm.ldMapFd(R1, fd(2)))
        .mov64(R2, R10)
        .add64(R2, -8)
        .mov64(R3, 0)
        .call("map_push_elem");
      res(b, r++);
      b.emit(asm.ldMapFd(R1, fd(2)))
        .mov64(R2, R10)
        .add64(R2, -8)
        .call("map_peek_elem");
      res(b, r++);
      b.emit(asm.ldMapFd(R1, fd(2)))
        .mov64(R2, R10)
        .add64(R2, -8)
        .mov64(R3, 1)
        .call("map_push_elem");
      res(b, r++);
    },
  },
  "snprintf with numbers, strings, widths and IPv4 addresses": {
    type: ProgType.XDP,
    ...formatMap({ 0: "a=%d b=%05u c=%-4x| %lld %s%%", 40: "[%5s|%-3c]", 52: "%pI4 %c" }),
    results: 8,
    body(b, fd) {
      for (let i = 0; i < 6; i++) b.st(64, R10, -128 + 8 * i, 0);
      stackBytes(b, -16, new TextEncoder().encode("hi\0"));
      b.st(64, R10, -64, -5)
        .st(64, R10, -56, 42)
        .st(64, R10, -48, 255)
        .lddw(R0, -7n)
        .stx(64, R10, -40, R0);
      b.mov64(R0, R10).add64(R0, -16).stx(64, R10, -32, R0);
      b.mov64(R1, R10)
        .add64(R1, -128)
        .mov64(R2, 40)
        .emit(asm.ldMapValue(R3, fd(0), 0));
      b.mov64(R4, R10).add64(R4, -64).mov64(R5, 40).call("snprintf");
      res(b, 0);
      for (let i = 0; i < 5; i++) {
        b.ldx(64, R0, R10, -128 + 8 * i);
        res(b, 1 + i);
      }
      b.mov64(R0, R10).add64(R0, -16).stx(64, R10, -64, R0).st(64, R10, -56, 0x5a);
      b.mov64(R1, R10)
        .add64(R1, -128)
        .mov64(R2, 16)
        .emit(asm.ldMapValue(R3, fd(0), 40));
      b.mov64(R4, R10).add64(R4, -64).mov64(R5, 16).call("snprintf");
      res(b, 6);
      b.st(32, R10, -72, 0x0100a8c0);
      b.mov64(R0, R10).add64(R0, -72).stx(64, R10, -64, R0);
      b.mov64(R1, R10)
        .add64(R1, -128)
        .mov64(R2, 8)
        .emit(asm.ldMapValue(R3, fd(0), 52));
      b.mov64(R4, R10).add64(R4, -64).mov64(R5, 16).call("snprintf");
      res(b, 7);
    },
  },
  "snprintf with fields wider than the buffer (padding fills it, digits dropped)": {
    type: ProgType.XDP,
    // 5000, not a width past FIELD_WIDTH_MAX (2^23 - 1): how vsnprintf treats those
    // changed (6.12 kept 24 bits of it, so 99999999 printed no padding; 6.18 clamps)
    ...formatMap({ 0: "a%5000d|%-40d|", 32: "%030d" }),
    results: 10,
    body(b, fd) {
      for (let i = 0; i < 6; i++) b.st(64, R10, -128 + 8 * i, 0);
      b.st(64, R10, -64, 42).st(64, R10, -56, 7);
      b.mov64(R1, R10)
        .add64(R1, -128)
        .mov64(R2, 40)
        .emit(asm.ldMapValue(R3, fd(0), 0));
      b.mov64(R4, R10).add64(R4, -64).mov64(R5, 16).call("snprintf");
      res(b, 0);
      for (let i = 0; i < 5; i++) {
        b.ldx(64, R0, R10, -128 + 8 * i);
        res(b, 1 + i);
      }
      b.st(64, R10, -64, -12345);
      b.mov64(R1, R10)
        .add64(R1, -128)
        .mov64(R2, 24)
        .emit(asm.ldMapValue(R3, fd(0), 32));
      b.mov64(R4, R10).add64(R4, -64).mov64(R5, 8).call("snprintf");
      res(b, 6);
      for (let i = 0; i < 3; i++) {
        b.ldx(64, R0, R10, -128 + 8 * i);
        res(b, 7 + i);
      }
    },
  },
  "strtol and strtoul": {
    type: ProgType.XDP,
    results: 16,
    body(b) {
      const inputs: [string, number, number][] = [
        ["  -1234xyz", 10, 0],
        ["0x1fz", 11, 0],
        ["077", 3, 0],
        ["-", 1, 0],
        ["99999999999999999999", 20, 10],
        ["ff", 2, 16],
        ["12", 2, 7],
        ["-5", 2, 0],
      ];
      let r = 0;
      for (const [s, len, flags] of inputs) {
        for (const fn of ["strtol", "strtoul"]) {
          stackBytes(b, -32, new TextEncoder().encode(`${s}\0`.padEnd(24, "\0")));
          b.mov64(R1, R10).add64(R1, -32).mov64(R2, len).mov64(R3, flags);
          b.mov64(R4, R10).add64(R4, -40).call(fn);
          b.ldx(64, R1, R10, -40).alu64("lsh", R0, 32).alu64("xor", R0, R1);
          res(b, r++);
        }
      }
    },
  },
};

describe("vm helpers vs the kernel", { skip }, () => {
  let fds0 = fdCounts();
  before(() => {
    fds0 = fdCounts();
  });
  after(() => {
    assertFdCounts(fds0);
  });
  for (const [name, c] of Object.entries(cases)) test(name, () => runCase(name, c));
  test("socket_filter: skb_load_bytes counts from the network header", () => {
    runCase("socket_filter load", {
      type: ProgType.SOCKET_FILTER,
      results: 0,
      body(b) {
        b.mov64(R1, R6).mov64(R2, 2).mov64(R3, R10).add64(R3, -8).mov64(R4, 4);
        b.call("skb_load_bytes").jne(R0, 0, "bad").ldx(32, R0, R10, -8).exit();
        b.label("bad").mov64(R0, 7).exit();
      },
    });
  });
});
