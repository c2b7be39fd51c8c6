import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type AluOp,
  asm,
  type Instruction,
  type JumpOp,
  R0,
  R1,
  R2,
  R3,
  R6,
  R7,
  R8,
  R9,
  R10,
} from "../isa/index.ts";
import { HelperId, MapType, ProgType } from "../uapi/index.ts";
import { VmError } from "./errors.ts";
import { VmArrayMap } from "./maps/array.ts";
import { VmProgArray } from "./maps/prog-array.ts";
import { VmMemory } from "./memory.ts";
import { VmProgram, type VmProgramOptions } from "./program.ts";

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const MIN64 = 0x8000_0000_0000_0000n;

function run(insns: Instruction[], opts: VmProgramOptions = {}): bigint {
  return new VmProgram(insns, opts).run().r0;
}

/** r0 = a; r1 = b; r0 op= r1 (or imm); exit */
function alu(bits: 32 | 64, op: AluOp, a: bigint, b: bigint | number): bigint {
  const insns = [asm.lddw(R0, a)];
  if (typeof b === "bigint") {
    insns.push(asm.lddw(R1, b));
    insns.push(bits === 64 ? asm.alu64(op, R0, R1) : asm.alu32(op, R0, R1));
  } else {
    insns.push(bits === 64 ? asm.alu64(op, R0, b) : asm.alu32(op, R0, b));
  }
  insns.push(asm.exit());
  return run(insns);
}

describe("ISA corner cases", () => {
  test("div64 by zero gives 0", () => assert.equal(alu(64, "div", 1234n, 0n), 0n));
  test("mod64 by zero leaves dst unchanged", () =>
    assert.equal(alu(64, "mod", 0x1_2345_6789n, 0n), 0x1_2345_6789n));
  test("div32 by zero gives 0", () => assert.equal(alu(32, "div", 0xffff_ffff_0000_0007n, 0n), 0n));
  test("mod32 by zero keeps the low word and zero-extends", () =>
    assert.equal(alu(32, "mod", 0xffff_ffff_0000_0007n, 0n), 7n));
  test("div32 by a register whose low word is zero divides by zero", () =>
    assert.equal(alu(32, "div", 100n, 0x1_0000_0000n), 0n));
  test("sdiv64 INT64_MIN / -1 is INT64_MIN", () =>
    assert.equal(alu(64, "sdiv", MIN64, U64(-1n)), MIN64));
  test("smod64 INT64_MIN % -1 is 0", () => assert.equal(alu(64, "smod", MIN64, U64(-1n)), 0n));
  test("sdiv32 INT32_MIN / -1 is INT32_MIN, zero-extended", () =>
    assert.equal(alu(32, "sdiv", 0x8000_0000n, -1), 0x8000_0000n));
  test("smod32 INT32_MIN % -1 is 0", () => assert.equal(alu(32, "smod", 0x8000_0000n, -1), 0n));
  test("sdiv64 by zero gives 0, smod64 by zero leaves dst", () => {
    assert.equal(alu(64, "sdiv", U64(-5n), 0n), 0n);
    assert.equal(alu(64, "smod", U64(-5n), 0n), U64(-5n));
  });
  test("smod32 by zero keeps the low word, zero-extended", () =>
    assert.equal(alu(32, "smod", U64(-5n), 0n), 0xffff_fffbn));
  test("sdiv truncates toward zero; smod takes the dividend's sign", () => {
    assert.equal(alu(64, "sdiv", U64(-7n), 2n), U64(-3n));
    assert.equal(alu(64, "smod", U64(-7n), 2n), U64(-1n));
    assert.equal(alu(64, "smod", 7n, U64(-2n)), 1n);
    assert.equal(alu(32, "sdiv", U64(-7n), 2), 0xffff_fffdn);
    assert.equal(alu(32, "smod", U64(-7n), 2), 0xffff_ffffn);
  });
  test("div64 with a negative imm divides by the sign-extended 64-bit value", () =>
    assert.equal(alu(64, "div", U64(-1n), -1), 1n));
  test("shift amounts are masked to 63 (64-bit) and 31 (32-bit)", () => {
    assert.equal(alu(64, "lsh", 1n, 65n), 2n);
    assert.equal(alu(64, "rsh", 0x8000_0000_0000_0000n, 127n), 1n);
    assert.equal(alu(64, "arsh", MIN64, 64n + 63n), U64(-1n));
    assert.equal(alu(32, "lsh", 1n, 33n), 2n);
    assert.equal(alu(32, "rsh", 0x8000_0000n, 63n), 1n);
    assert.equal(alu(32, "arsh", 0x8000_0000n, 32n + 31n), 0xffff_ffffn);
  });
  test("32-bit ALU results are zero-extended", () => {
    assert.equal(run([asm.mov32(R0, -1), asm.exit()]), 0xffff_ffffn);
    assert.equal(alu(32, "add", U64(-1n), 1), 0n);
    assert.equal(alu(32, "mov", U64(-1n), 5), 5n);
    assert.equal(alu(32, "neg", 1n, 0), 0xffff_ffffn);
    assert.equal(alu(32, "arsh", U64(-16n), 2), 0xffff_fffcn);
  });
  test("64-bit ops sign-extend their 32-bit immediate", () => {
    assert.equal(run([asm.mov64(R0, -1), asm.exit()]), U64(-1n));
    assert.equal(alu(64, "add", 0n, -1), U64(-1n));
    assert.equal(alu(64, "and", U64(-1n), -2), U64(-2n));
    assert.equal(alu(64, "or", 0n, -0x8000_0000), 0xffff_ffff_8000_0000n);
    assert.equal(alu(64, "xor", 0n, 0x7fff_ffff), 0x7fff_ffffn);
  });
  test("jumps compare against the sign-extended imm (64-bit) or the low word (JMP32)", () => {
    const prog = (jmp: Instruction) => [
      asm.mov32(R1, -1),
      asm.mov64(R0, 0),
      jmp,
      asm.mov64(R0, 1),
      asm.exit(),
    ];
    assert.equal(run(prog(asm.jmp("jeq", R1, -1, 1))), 1n); // 0xffffffff != 0xffff..ffff
    assert.equal(run(prog(asm.jmp32("jeq", R1, -1, 1))), 0n);
  });
  test("movsx sign-extends 8, 16 and 32 bits; the 32-bit form zero-extends its result", () => {
    const mv = (bits: 32 | 64, from: 8 | 16 | 32, v: bigint) =>
      run([
        asm.lddw(R1, v),
        bits === 64 ? asm.movsx64(R0, R1, from) : asm.movsx32(R0, R1, from as 8 | 16),
        asm.exit(),
      ]);
    assert.equal(mv(64, 8, 0x180n), U64(-128n));
    assert.equal(mv(64, 16, 0x1_8000n), U64(-32768n));
    assert.equal(mv(64, 32, 0x1_8000_0000n), U64(-0x8000_0000n));
    assert.equal(mv(64, 8, 0x7fn), 0x7fn);
    assert.equal(mv(32, 8, 0x80n), 0xffff_ff80n);
    assert.equal(mv(32, 16, 0xffff_0000_8000n), 0xffff_8000n);
  });
  test("bswap, le and be on 16, 32 and 64 bits", () => {
    const v = 0x0102_0304_0506_0708n;
    const e = (i: Instruction) => run([asm.lddw(R0, v), i, asm.exit()]);
    assert.equal(e(asm.bswap(R0, 16)), 0x0807n);
    assert.equal(e(asm.bswap(R0, 32)), 0x0807_0605n);
    assert.equal(e(asm.bswap(R0, 64)), 0x0807_0605_0403_0201n);
    assert.equal(e(asm.be(R0, 16)), 0x0807n);
    assert.equal(e(asm.be(R0, 32)), 0x0807_0605n);
    assert.equal(e(asm.be(R0, 64)), 0x0807_0605_0403_0201n);
    assert.equal(e(asm.le(R0, 16)), 0x0708n);
    assert.equal(e(asm.le(R0, 32)), 0x0506_0708n);
    assert.equal(e(asm.le(R0, 64)), v);
  });
  test("neg64 of INT64_MIN is INT64_MIN, of 0 is 0", () => {
    assert.equal(alu(64, "neg", MIN64, 0), MIN64);
    assert.equal(alu(64, "neg", 0n, 0), 0n);
    assert.equal(alu(64, "neg", 1n, 0), U64(-1n));
  });
  test("sign-extending loads", () => {
    const ld = (size: 8 | 16 | 32, v: bigint) =>
      run([asm.lddw(R1, v), asm.stx(64, R10, -8, R1), asm.ldxs(size, R0, R10, -8), asm.exit()]);
    assert.equal(ld(8, 0x80n), U64(-128n));
    assert.equal(ld(16, 0x8001n), U64(-32767n));
    assert.equal(ld(32, 0xffff_fffen), U64(-2n));
    assert.equal(ld(32, 0x7fff_fffen), 0x7fff_fffen);
  });
  test("stores of an immediate: DW sign-extends, narrower sizes truncate", () => {
    assert.equal(run([asm.st(64, R10, -8, -2), asm.ldx(64, R0, R10, -8), asm.exit()]), U64(-2n));
    assert.equal(
      run([asm.st(64, R10, -8, 0), asm.st(16, R10, -8, -2), asm.ldx(64, R0, R10, -8), asm.exit()]),
      0xfffen,
    );
  });
  test("lddw loads all 64 bits", () =>
    assert.equal(run([asm.lddw(R0, 0xdead_beef_cafe_f00dn), asm.exit()]), 0xdead_beef_cafe_f00dn));
  test("gotol jumps by its 32-bit imm", () =>
    assert.equal(run([asm.mov64(R0, 1), asm.gotol(1), asm.mov64(R0, 2), asm.exit()]), 1n));
  test("may_goto falls through until the loop budget is spent", () => {
    // r0 counts iterations of an unbounded loop guarded by may_goto.
    const n = run([asm.mov64(R0, 0), asm.mayGoto(2), asm.add64(R0, 1), asm.ja(-3), asm.exit()]);
    assert.equal(
      n,
      BigInt(8 * 1024 * 1024),
      "the default: BPF_MAX_LOOPS, as the kernel's interpreter",
    );
  });
  test("may_goto budget is an option (JIT-ed kernels bound it by time instead)", () => {
    const loop = [asm.mov64(R0, 0), asm.mayGoto(2), asm.add64(R0, 1), asm.ja(-3), asm.exit()];
    assert.equal(run(loop, { mayGotoBudget: 1000 }), 1000n);
    assert.equal(run(loop, { mayGotoBudget: 0 }), 0n);
  });
});

/** A BigInt model of each ALU operation, the ISA's rules written out directly. */
function model(bits: 32 | 64, op: AluOp, a: bigint, b: bigint): bigint {
  const W = BigInt(bits);
  const mask = (1n << W) - 1n;
  const ua = a & mask;
  const ub = b & mask;
  const sa = BigInt.asIntN(bits, a);
  const sb = BigInt.asIntN(bits, b);
  let r: bigint;
  switch (op) {
    case "add":
      r = ua + ub;
      break;
    case "sub":
      r = ua - ub;
      break;
    case "mul":
      r = ua * ub;
      break;
    case "div":
      r = ub === 0n ? 0n : ua / ub;
      break;
    case "mod":
      r = ub === 0n ? ua : ua % ub;
      break;
    case "sdiv":
      r = sb === 0n ? 0n : sa / sb;
      break;
    case "smod":
      r = sb === 0n ? sa : sa % sb;
      break;
    case "or":
      r = ua | ub;
      break;
    case "and":
      r = ua & ub;
      break;
    case "xor":
      r = ua ^ ub;
      break;
    case "lsh":
      r = ua << (ub & (W - 1n));
      break;
    case "rsh":
      r = ua >> (ub & (W - 1n));
      break;
    case "arsh":
      r = sa >> (ub & (W - 1n));
      break;
    case "mov":
      r = ub;
      break;
    default:
      throw new Error(op);
  }
  return r & mask;
}

const INTERESTING = [
  0n,
  1n,
  2n,
  7n,
  31n,
  32n,
  63n,
  64n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x1_2345_6789n,
  0x7fff_ffff_ffff_ffffn,
  MIN64,
  U64(-1n),
  U64(-2n),
  U64(-7n),
  0xdead_beef_cafe_f00dn,
  0x0000_0001_ffff_ffffn,
  0xffff_fffe_0000_0001n,
];

describe("every ALU form against a BigInt model", () => {
  const ops: AluOp[] = [
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "sdiv",
    "smod",
    "or",
    "and",
    "xor",
    "lsh",
    "rsh",
    "arsh",
    "mov",
  ];
  for (const bits of [64, 32] as const) {
    for (const op of ops) {
      test(`${bits === 64 ? "alu64" : "alu32"} ${op} (register and immediate)`, () => {
        for (const a of INTERESTING) {
          for (const b of INTERESTING) {
            assert.equal(alu(bits, op, a, b), model(bits, op, a, b), `${op}${bits} ${a} ${b}`);
            const imm = Number(BigInt.asIntN(32, b));
            const bimm = bits === 64 ? U64(BigInt(imm)) : BigInt(imm >>> 0);
            assert.equal(
              alu(bits, op, a, imm),
              model(bits, op, a, bimm),
              `${op}${bits} ${a} imm ${imm}`,
            );
          }
        }
      });
    }
  }

  const jops: JumpOp[] = [
    "jeq",
    "jne",
    "jgt",
    "jge",
    "jlt",
    "jle",
    "jsgt",
    "jsge",
    "jslt",
    "jsle",
    "jset",
  ];
  const cmp = (bits: 32 | 64, op: JumpOp, a: bigint, b: bigint): boolean => {
    const ua = BigInt.asUintN(bits, a);
    const ub = BigInt.asUintN(bits, b);
    const sa = BigInt.asIntN(bits, a);
    const sb = BigInt.asIntN(bits, b);
    switch (op) {
      case "jeq":
        return ua === ub;
      case "jne":
        return ua !== ub;
      case "jgt":
        return ua > ub;
      case "jge":
        return ua >= ub;
      case "jlt":
        return ua < ub;
      case "jle":
        return ua <= ub;
      case "jsgt":
        return sa > sb;
      case "jsge":
        return sa >= sb;
      case "jslt":
        return sa < sb;
      case "jsle":
        return sa <= sb;
      default:
        return (ua & ub) !== 0n;
    }
  };
  for (const bits of [64, 32] as const) {
    test(`${bits === 64 ? "jmp" : "jmp32"} conditions (register and immediate)`, () => {
      for (const op of jops) {
        for (const a of INTERESTING) {
          for (const b of INTERESTING) {
            const j = bits === 64 ? asm.jmp : asm.jmp32;
            const p = (i: Instruction) => [
              asm.lddw(R1, a),
              asm.lddw(R2, b),
              asm.mov64(R0, 0),
              i,
              asm.exit(),
              asm.mov64(R0, 1),
              asm.exit(),
            ];
            assert.equal(
              run(p(j(op, R1, R2, 1))),
              cmp(bits, op, a, b) ? 1n : 0n,
              `${op}${bits} ${a} ${b}`,
            );
            const imm = Number(BigInt.asIntN(32, b));
            assert.equal(
              run(p(j(op, R1, imm, 1))),
              cmp(bits, op, a, BigInt(imm)) ? 1n : 0n,
              `${op}${bits} ${a} imm ${imm}`,
            );
          }
        }
      }
    });
  }
});

describe("atomics", () => {
  const at = (
    size: 32 | 64,
    op: "add" | "or" | "and" | "xor" | "xchg",
    fetch: boolean,
    mem: bigint,
    v: bigint,
  ) => {
    const p = new VmProgram([
      asm.lddw(R1, mem),
      asm.stx(64, R10, -8, R1),
      asm.lddw(R2, v),
      asm.atomic(op, size, R10, -8, R2, fetch),
      asm.ldx(64, R0, R10, -8),
      asm.stx(64, R10, -16, R2),
      asm.exit(),
    ]);
    return p.run().r0;
  };
  test("add, or, and, xor on 64 and 32 bits", () => {
    assert.equal(at(64, "add", false, 0xffff_ffffn, 1n), 0x1_0000_0000n);
    assert.equal(at(32, "add", false, 0x5_ffff_ffffn, 1n), 0x5_0000_0000n); // the high word is not touched
    assert.equal(at(64, "or", false, 0xf0n, 0x0fn), 0xffn);
    assert.equal(at(64, "and", false, 0xf0n, 0x3cn), 0x30n);
    assert.equal(at(32, "xor", false, 0x1_0000_00ffn, 0xffn), 0x1_0000_0000n);
    assert.equal(at(64, "xchg", true, 1n, 2n), 2n);
  });
  test("fetch forms return the old value (zero-extended for 32 bits)", () => {
    const fetched = (size: 32 | 64, op: "add" | "xchg", mem: bigint, v: bigint) =>
      run([
        asm.lddw(R1, mem),
        asm.stx(64, R10, -8, R1),
        asm.lddw(R2, v),
        asm.atomic(op, size, R10, -8, R2, true),
        asm.mov64(R0, R2),
        asm.exit(),
      ]);
    assert.equal(fetched(64, "add", 41n, 1n), 41n);
    assert.equal(fetched(32, "add", 0xffff_ffff_ffff_fff0n, 1n), 0xffff_fff0n);
    assert.equal(fetched(64, "xchg", 7n, 9n), 7n);
  });
  test("cmpxchg writes when r0 matches and always returns the old value in r0", () => {
    const cx = (size: 32 | 64, mem: bigint, expect: bigint, v: bigint) => {
      const p = new VmProgram([
        asm.lddw(R1, mem),
        asm.stx(64, R10, -8, R1),
        asm.lddw(R0, expect),
        asm.lddw(R2, v),
        asm.atomic("cmpxchg", size, R10, -8, R2, true),
        asm.ldx(64, R3, R10, -8),
        asm.stx(64, R10, -16, R0),
        asm.mov64(R0, R3),
        asm.exit(),
      ]);
      return p.run().r0;
    };
    assert.equal(cx(64, 5n, 5n, 9n), 9n);
    assert.equal(cx(64, 5n, 6n, 9n), 5n);
    assert.equal(cx(32, 0x1_0000_0005n, 5n, 9n), 0x1_0000_0009n);
    // old value returned in r0, zero-extended for 32 bits
    assert.equal(
      run([
        asm.lddw(R1, 0xffff_ffff_ffff_fff5n),
        asm.stx(64, R10, -8, R1),
        asm.mov64(R0, 0),
        asm.mov64(R2, 1),
        asm.atomic("cmpxchg", 32, R10, -8, R2, true),
        asm.exit(),
      ]),
      0xffff_fff5n,
    );
  });
});

describe("calls, frames and limits", () => {
  test("bpf-to-bpf calls preserve r6-r9 and give each frame its own stack", () => {
    const insns = [
      asm.mov64(R6, 6),
      asm.mov64(R7, 7),
      asm.mov64(R8, 8),
      asm.mov64(R9, 9),
      asm.st(64, R10, -8, 100),
      asm.mov64(R1, 5),
      asm.callBpf(8),
      // back in main: r0 = r0 + r6 + r7 + r8 + r9 + *(r10-8)
      asm.add64(R0, R6),
      asm.add64(R0, R7),
      asm.add64(R0, R8),
      asm.add64(R0, R9),
      asm.ldx(64, R1, R10, -8),
      asm.add64(R0, R1),
      asm.exit(),
      asm.exit(), // unreachable padding
      // subprog: clobbers r6-r9 and its own stack
      asm.mov64(R6, 0),
      asm.mov64(R7, 0),
      asm.mov64(R8, 0),
      asm.mov64(R9, 0),
      asm.st(64, R10, -8, 1),
      asm.mov64(R0, R1),
      asm.exit(),
    ];
    assert.equal(run(insns), 5n + 6n + 7n + 8n + 9n + 100n);
  });
  test("the 9th nested frame is an error", () => {
    const insns = [asm.callBpf(-1), asm.exit()];
    assert.throws(
      () => run(insns),
      (e: unknown) => e instanceof VmError && /too many nested calls/.test(e.message),
    );
  });
  test("the instruction budget stops endless loops", () => {
    assert.throws(
      () => run([asm.ja(-1), asm.exit()], { budget: 1000 }),
      (e: unknown) => e instanceof VmError && /budget of 1000/.test(e.message) && e.pc === 0,
    );
  });
  test("tail calls replace the program, at most 33 times", () => {
    const memory = new VmMemory();
    const jt = new VmProgArray<VmProgram>({
      name: "jt",
      type: MapType.PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const counter = new VmArrayMap({
      name: "count",
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
    });
    // Each run adds one to the counter value and tail-calls slot 0 (itself).
    const insns = [
      asm.mov64(R6, R1),
      asm.ldMapValue(R2, 1, 0),
      asm.ldx(64, R3, R2, 0),
      asm.add64(R3, 1),
      asm.stx(64, R2, 0, R3),
      asm.mov64(R1, R6),
      asm.ldMapFd(R2, 0),
      asm.mov64(R3, 0),
      asm.call(12),
      asm.mov64(R0, 42),
      asm.exit(),
    ];
    const prog = new VmProgram(insns, { memory, maps: [jt, counter] });
    jt.set(0, prog);
    assert.equal(prog.run().r0, 42n);
    const v = counter.values;
    const count = new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
    assert.equal(count, 34n); // the first run and 33 tail calls
  });
  test("a tail call to an empty slot falls through", () => {
    const jt = new VmProgArray({
      name: "jt",
      type: MapType.PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const insns = [
      asm.ldMapFd(R2, 0),
      asm.mov64(R3, 1),
      asm.mov64(R0, 7),
      asm.call(12),
      asm.exit(),
    ];
    assert.equal(run(insns, { maps: [jt] }), 7n);
  });
});

describe("faults", () => {
  test("a load outside the stack names the instruction, the address and the region", () => {
    const p = new VmProgram([asm.ldx(64, R0, R10, 0), asm.exit()]);
    assert.throws(
      () => p.run(),
      (e: unknown) =>
        e instanceof VmError &&
        e.pc === 0 &&
        e.instruction === "(79) r0 = *(u64 *)(r10 +0)" &&
        e.address !== undefined &&
        /stack frame 0/.test(e.message) &&
        /byte 512\.\.520/.test(e.message),
    );
  });
  test("a null dereference says so", () =>
    assert.throws(
      () => run([asm.mov64(R1, 0), asm.ldx(8, R0, R1, 0), asm.exit()]),
      /null pointer/,
    ));
  test("a scalar used as a pointer is in no region", () =>
    assert.throws(
      () => run([asm.mov64(R1, 0x1234), asm.stx(32, R1, 0, R1), asm.exit()]),
      /not in any region/,
    ));
  test("stores to the xdp_md context are refused", () => {
    const p = new VmProgram([asm.st(32, R1, 0, 0), asm.mov64(R0, 2), asm.exit()], {
      type: ProgType.XDP,
    });
    assert.throws(() => p.run({ data: new Uint8Array(20) }), /invalid write of 4 bytes/);
  });
  test("an unknown helper is named", () =>
    assert.throws(() => run([asm.call(1000), asm.exit()]), /unknown helper #1000/));
  test("a helper the VM lacks is named with uapi's name", () =>
    assert.throws(() => run([asm.call("fib_lookup"), asm.exit()]), /bpf_fib_lookup#69/));
  test("jumps out of the program are refused at construction", () =>
    assert.throws(() => new VmProgram([asm.ja(5), asm.exit()]), /outside the program/));
  test("a program must end in exit or a jump", () =>
    assert.throws(() => new VmProgram([asm.mov64(R0, 0)]), /last instruction/));
});

describe("64-bit conditional jumps", () => {
  const values = [
    0n,
    1n,
    0x7fff_ffffn,
    0x8000_0000n,
    0xffff_ffffn,
    0x1_0000_0000n,
    MIN64,
    U64(-1n),
    U64(-2n),
    U64(-0x8000_0000n),
  ];
  const S64 = (v: bigint) => BigInt.asIntN(64, v);
  const ops: [JumpOp, (a: bigint, b: bigint) => boolean][] = [
    ["jeq", (a, b) => a === b],
    ["jne", (a, b) => a !== b],
    ["jset", (a, b) => (a & b) !== 0n],
    ["jgt", (a, b) => a > b],
    ["jge", (a, b) => a >= b],
    ["jlt", (a, b) => a < b],
    ["jle", (a, b) => a <= b],
    ["jsgt", (a, b) => S64(a) > S64(b)],
    ["jsge", (a, b) => S64(a) >= S64(b)],
    ["jslt", (a, b) => S64(a) < S64(b)],
    ["jsle", (a, b) => S64(a) <= S64(b)],
  ];
  const taken = (a: bigint, jmp: Instruction, setup: Instruction[] = []) =>
    run([asm.lddw(R1, a), ...setup, asm.mov64(R0, 0), jmp, asm.mov64(R0, 1), asm.exit()]) === 0n;
  for (const [op, ref] of ops) {
    test(`${op} against registers and sign-extended immediates`, () => {
      for (const a of values)
        for (const b of values) {
          const msg = `${op} 0x${a.toString(16)}, 0x${b.toString(16)}`;
          assert.equal(taken(a, asm.jmp(op, R1, R2, 1), [asm.lddw(R2, b)]), ref(a, b), msg);
          const imm = Number(BigInt.asIntN(32, b));
          if (U64(BigInt(imm)) === b)
            assert.equal(taken(a, asm.jmp(op, R1, imm, 1)), ref(a, b), `${msg} (imm)`);
        }
    });
  }
});

describe("registers", () => {
  test("a program run from a helper of another run leaves the outer run's registers", () => {
    const inner = new VmProgram([asm.mov64(R6, 99), asm.mov64(R0, 5), asm.exit()]);
    const outer = new VmProgram(
      [asm.mov64(R6, 42), asm.call("get_prandom_u32"), asm.alu64("add", R0, R6), asm.exit()],
      { helpers: { [HelperId.get_prandom_u32]: () => inner.run().r0 } },
    );
    assert.equal(outer.run().r0, 47n);
  });
});
