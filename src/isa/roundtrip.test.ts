import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assemble } from "./assemble.ts";
import { asm, ProgramBuilder, R0, R1, R2, R3, R10 } from "./builder.ts";
import { decodeProgram } from "./decode.ts";
import { encodeProgram } from "./encode.ts";
import { AssemblerError, InvalidInstructionError } from "./errors.ts";
import { disassembleKernel, formatKernel } from "./format-kernel.ts";
import { disassembleLlvm, formatLlvm } from "./format-llvm.ts";
import { type Instruction, instructionFromFields } from "./instruction.ts";

/** One instruction of every form (kernel text is lossless for all of them). */
export function everyForm(): Instruction[] {
  const out: Instruction[] = [];
  const ops = [
    "add",
    "sub",
    "mul",
    "div",
    "sdiv",
    "or",
    "and",
    "lsh",
    "rsh",
    "mod",
    "smod",
    "xor",
    "mov",
    "arsh",
  ] as const;
  for (const op of ops) {
    out.push(
      asm.alu64(op, R1, R2),
      asm.alu64(op, R1, -7),
      asm.alu32(op, R3, R0),
      asm.alu32(op, R3, 0x7fffffff),
    );
  }
  out.push(asm.neg64(R1), asm.neg32(R2));
  out.push(asm.movsx64(R1, R2, 8), asm.movsx64(R1, R2, 16), asm.movsx64(R1, R2, 32));
  out.push(asm.movsx32(R1, R2, 8), asm.movsx32(R1, R2, 16));
  for (const b of [16, 32, 64] as const) out.push(asm.le(R1, b), asm.be(R1, b), asm.bswap(R1, b));
  const jops = [
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
  ] as const;
  for (const op of jops) {
    out.push(
      asm.jmp(op, R1, R2, 3),
      asm.jmp(op, R1, -5, -2),
      asm.jmp32(op, R1, R2, 0),
      asm.jmp32(op, R1, 16, 1),
    );
  }
  out.push(asm.ja(1), asm.ja(-1), asm.gotol(70000), asm.gotol(-3), asm.mayGoto(2));
  for (const s of [8, 16, 32, 64] as const) {
    out.push(asm.ldx(s, R0, R1, 8), asm.st(s, R10, -8, 7), asm.stx(s, R10, -16, R1));
    if (s !== 64) out.push(asm.ldxs(s, R0, R1, -2));
    out.push(asm.atomic("load_acquire", s, R0, 4, R1), asm.atomic("store_release", s, R1, 4, R2));
  }
  for (const s of [32, 64] as const) {
    for (const op of ["add", "or", "and", "xor"] as const) {
      out.push(asm.atomic(op, s, R1, 0, R2, false), asm.atomic(op, s, R1, 8, R2, true));
    }
    out.push(asm.atomic("xchg", s, R1, 0, R2, true), asm.atomic("cmpxchg", s, R1, -8, R2, true));
  }
  out.push(
    asm.lddw(R1, 0x1234567890n),
    asm.lddw(R1, -1n),
    asm.ldMapFd(R1, 5),
    asm.ldMapValue(R2, 5, 16),
    asm.ldFunc(R3, 4),
    asm.ldMapIdx(R1, 2),
    asm.ldMapIdxValue(R1, 2, 8),
    asm.ldBtfId(R1, 1234),
  );
  out.push(
    asm.ldAbs(8, 14),
    asm.ldAbs(16, 12),
    asm.ldAbs(32, 0),
    asm.ldInd(8, R1, 0),
    asm.ldInd(32, R2, -4),
  );
  out.push(asm.call(1), asm.call(12345), asm.callBpf(5), asm.callBpf(-9), asm.callKfunc(4242));
  out.push(instructionFromFields({ code: 0xbf, dst: 1, src: 2, off: 1, imm: 1 }));
  out.push(asm.exit());
  return out;
}

// A small deterministic generator of random valid instructions.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function randomInstruction(r: () => number): Instruction {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const imm = (): number =>
    pick([0, 1, -1, 16, 32, 64, 0x7fffffff, -0x80000000, Math.floor(r() * 2 ** 32) - 2 ** 31]);
  const atomics = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x100, 0x110];
  for (;;) {
    const code = Math.floor(r() * 256);
    const fields = {
      code,
      dst: Math.floor(r() * 11),
      src: r() < 0.5 ? 0 : Math.floor(r() * 11),
      off: pick([0, 0, 1, 8, 16, 32, -1, Math.floor(r() * 65536) - 32768]),
      imm: (code & 0xe7) === 0xc3 ? pick(atomics) : r() < 0.5 ? 0 : imm(),
      imm2: r() < 0.5 ? 0 : imm(),
    };
    try {
      return instructionFromFields(fields);
    } catch (e) {
      if (!(e instanceof InvalidInstructionError)) throw e;
    }
  }
}

// What the kernel text cannot say: kfunc module index, imm2 of map fd / func / btf id.
function kernelLossless(i: Instruction): boolean {
  if (i.kind === "call" && i.target === "kfunc" && i.off !== 0) return false;
  if (
    i.kind === "lddw" &&
    (i.pseudo === 3 || ((i.pseudo === 1 || i.pseudo === 4 || i.pseudo === 5) && i.imm2 !== 0))
  )
    return false;
  return true;
}

// What llvm-objdump's text cannot say.
function llvmLossless(i: Instruction): boolean {
  if (i.kind === "call" && i.target !== "helper") return false;
  if (i.kind === "lddw" && i.pseudo !== 0) return false;
  if (i.kind === "ld_ind" && i.imm !== 0) return false;
  if (i.kind === "atomic" && (i.op === "load_acquire" || i.op === "store_release" || i.size < 32))
    return false;
  return true;
}

const btfText = (i: Instruction & { kind: "lddw" }) =>
  i.pseudo === 3 ? `btf_id(${i.imm}, ${i.imm2})` : undefined;

function same(a: Instruction, b: Instruction | undefined, text: string): void {
  assert.ok(b, `nothing assembled from ${text}`);
  assert.deepEqual(encodeProgram([b]), encodeProgram([a]), `${text} -> ${formatKernel(b)}`);
}

describe("assembler <-> disassembler", () => {
  it("kernel text of every form assembles back to the same bytes", () => {
    for (const insn of everyForm()) {
      const text = formatKernel(insn, { immText: btfText });
      same(insn, assemble(text)[0], text);
    }
  });

  it("llvm-objdump text of every form assembles back (alu32 on and off)", () => {
    for (const alu32 of [true, false]) {
      for (const insn of everyForm().filter(llvmLossless)) {
        const text = formatLlvm(insn, { alu32 });
        // without ALU32, llvm-objdump prints a 32-bit fetch-add as a plain `lock +=`
        if (text === "<unknown>" || (!alu32 && insn.kind === "atomic" && insn.size === 32))
          continue;
        same(insn, assemble(text)[0], text);
      }
    }
  });

  it("whole listings assemble back: bpftool with opcodes, llvm-objdump", () => {
    const prog = everyForm();
    const k = disassembleKernel(prog, { opcodes: true, immText: btfText });
    assert.deepEqual(encodeProgram(assemble(k)), encodeProgram(prog));
    const l = everyForm().filter(llvmLossless);
    assert.deepEqual(encodeProgram(assemble(disassembleLlvm(l))), encodeProgram(l));
  });

  it("random valid instructions survive both round trips", () => {
    const r = rng(12345);
    for (let n = 0; n < 20000; n++) {
      const insn = randomInstruction(r);
      if (kernelLossless(insn)) {
        const text = formatKernel(insn, { immText: btfText });
        same(insn, assemble(text)[0], text);
      }
      if (llvmLossless(insn)) {
        const text = formatLlvm(insn, { alu32: true });
        same(insn, assemble(text)[0], text);
      }
    }
  });
});

describe("assembler syntax", () => {
  it("accepts the forms the kernel and LLVM print", () => {
    const src = `
      r0 = 1                      ; comment
      w1 += w2                    // comment
      r1 = -r1                    # comment
      r0 s/= r1
      r1 = (s8)r2
      r1 = be16 r1
      r1 = bswap32 r1
      if r1 > 0x10 goto +3
      goto pc+3
      goto -1
      if w1 s< w2 goto end
      *(u32 *)(r10 -8) = r1
      *(u8 *)(r10 -1) = 7
      r0 = *(u64 *)(r1 +8)
      r0 = *(s16 *)(r1 +2)
      lock *(u64 *)(r1 +0) += r2
      r0 = atomic_fetch_add((u64 *)(r1 +0), r0)
      lock *(u32 *)(r1 + 0x0) += w2
      r0 = cmpxchg_64(r1 + 0, r0, r2)
      r2 = xchg_64(r1 + 0, r2)
      r1 = 0x1234567890 ll
      r1 = map[id:5]
      r1 = map[id:5][0]+8
      r1 = map_fd(3)
      r2 = map_value(3)+16
      call bpf_map_lookup_elem
      call map_lookup_elem
      call 1
      call pc+5
      call sub
      r0 = *(u8 *)skb[14]
      r0 = *(u16 *)skb[r1 + 2]
    end: exit
    sub:
      exit
    `;
    const insns = assemble(src);
    const t = insns.map((i) => formatKernel(i));
    assert.deepEqual(t, [
      "(b7) r0 = 1",
      "(0c) w1 += w2",
      "(87) r1 = -r1",
      "(3f) r0 s/= r1",
      "(bf) r1 = (s8)r2",
      "(dc) r1 = be16 r1",
      "(d7) r1 = bswap32 r1",
      "(25) if r1 > 0x10 goto pc+3",
      "(05) goto pc+3",
      "(05) goto pc-1",
      "(ce) if w1 s< w2 goto pc+26",
      "(63) *(u32 *)(r10 -8) = r1",
      "(72) *(u8 *)(r10 -1) = 7",
      "(79) r0 = *(u64 *)(r1 +8)",
      "(89) r0 = *(s16 *)(r1 +2)",
      "(db) lock *(u64 *)(r1 +0) += r2",
      "(db) r0 = atomic64_fetch_add((u64 *)(r1 +0), r0)",
      "(c3) lock *(u32 *)(r1 +0) += r2",
      "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
      "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)",
      "(18) r1 = 0x1234567890",
      "(18) r1 = map[id:5]",
      "(18) r1 = map[id:5][0]+8",
      "(18) r1 = map[id:3]",
      "(18) r2 = map[id:3][0]+16",
      "(85) call bpf_map_lookup_elem#1",
      "(85) call bpf_map_lookup_elem#1",
      "(85) call bpf_map_lookup_elem#1",
      "(85) call pc+5",
      "(85) call pc+3",
      "(30) r0 = *(u8 *)skb[14]",
      "(48) r0 = *(u16 *)skb[r1 + 2]",
      "(95) exit",
      "(95) exit",
    ]);
  });

  it("reports line, column and what was expected", () => {
    const cases: [string, number, number, RegExp][] = [
      ["r0 = 1\nr0 +=\n", 2, 6, /unexpected end|expected a register or an immediate/],
      ["  r11 = 1", 1, 3, /expected an instruction/],
      ["r0 = *(u32 *)(r1 +8", 1, 20, /"\)" after the address/],
      ["goto nowhere", 1, 6, /unknown label "nowhere"/],
      ["if r1 ~ 3 goto +1", 1, 7, /unexpected character/],
      ["call not_a_helper", 1, 6, /unknown helper or label/],
      ["w1 = 0x123456789", 1, 6, /needs an r register/],
      ["r1 = *(s64 *)(r1 +0)", 1, 21, /no s64 load/],
      ["l:\nl: exit", 2, 1, /defined twice/],
    ];
    for (const [src, line, col, re] of cases) {
      assert.throws(
        () => assemble(src),
        (e: unknown) => {
          assert.ok(e instanceof AssemblerError, String(e));
          assert.match(e.message, re);
          assert.equal(e.line, line, e.message);
          assert.equal(e.column, col, e.message);
          return true;
        },
      );
    }
  });
});

describe("ProgramBuilder", () => {
  it("resolves labels forwards and backwards", () => {
    const b = new ProgramBuilder();
    b.mov64(R0, 0)
      .label("top")
      .jeq(R1, 0, "out")
      .lddw(R2, 1n << 40n)
      .add64(R0, 1)
      .ja("top");
    b.label("out").callBpf("f").exit().label("f").mov64(R0, 7).exit();
    const text = disassembleKernel(b.build());
    assert.equal(
      text,
      [
        "   0: (b7) r0 = 0",
        "   1: (15) if r1 == 0x0 goto pc+4",
        "   2: (18) r2 = 0x10000000000",
        "   4: (07) r0 += 1",
        "   5: (05) goto pc-5",
        "   6: (85) call pc+1",
        "   7: (95) exit",
        "   8: (b7) r0 = 7",
        "   9: (95) exit",
        "",
      ].join("\n"),
    );
    assert.deepEqual(decodeProgram(encodeProgram(b.build())), b.build());
  });
});
