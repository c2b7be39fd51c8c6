import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asm, R0, R1, R2 } from "./builder.ts";
import { decodeInstruction, decodeProgram } from "./decode.ts";
import { encodeInstruction, encodeProgram } from "./encode.ts";
import { InvalidInstructionError } from "./errors.ts";
import { disassembleKernel } from "./format-kernel.ts";

// Every opcode byte that has at least one valid encoding (RFC 9669 tables plus the
// kernel's extensions: may_goto, load-acquire/store-release of bytes and halves).
function expectedOpcodes(): Set<number> {
  const s = new Set<number>();
  for (const cls of [0x04, 0x07]) {
    for (let op = 0; op <= 0xc; op++) {
      s.add(cls | (op << 4));
      if (op !== 0x8) s.add(cls | (op << 4) | 0x08); // no neg with BPF_X
    }
  }
  s.add(0xd4).add(0xdc).add(0xd7); // le, be, bswap
  for (const cls of [0x05, 0x06]) {
    for (const op of [1, 2, 3, 4, 5, 6, 7, 0xa, 0xb, 0xc, 0xd]) {
      s.add(cls | (op << 4));
      s.add(cls | (op << 4) | 0x08);
    }
  }
  for (const c of [0x05, 0x06, 0x85, 0x95, 0xe5]) s.add(c);
  for (const c of [0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) s.add(c);
  for (const c of [0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91]) s.add(c);
  for (const c of [0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b]) s.add(c);
  for (const c of [0xc3, 0xcb, 0xd3, 0xdb]) s.add(c);
  return s;
}

function bytesOf(code: number, dst: number, src: number, off: number, imm: number, imm2 = 0) {
  const b = new Uint8Array(code === 0x18 ? 16 : 8);
  const v = new DataView(b.buffer);
  v.setUint8(0, code);
  v.setUint8(1, (src << 4) | dst);
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  if (code === 0x18) v.setInt32(12, imm2, true);
  return b;
}

describe("decode/encode", () => {
  it("round-trips every opcode byte and rejects the invalid ones with a reason", () => {
    const expected = expectedOpcodes();
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // ~170k rejections below; stacks would dominate the time
    try {
      const dsts = [0, 1, 11];
      const srcs = [0, 1, 2, 11];
      const offs = [0, 1, -1, 8, 32];
      const imms = [0, 7, -1, 16, 0x41, 0xe1, 0xf1, 0x100, 0x110, 0x10000];
      for (let code = 0; code < 256; code++) {
        let accepted = 0;
        for (const dst of dsts)
          for (const src of srcs)
            for (const off of offs)
              for (const imm of imms) {
                const b = bytesOf(code, dst, src, off, imm, imm === -1 ? 7 : 0);
                let insn: ReturnType<typeof decodeInstruction>;
                try {
                  insn = decodeInstruction(b);
                } catch (e) {
                  assert.ok(e instanceof InvalidInstructionError, `${code}: ${e}`);
                  assert.ok(e.reason.length > 10);
                  assert.deepEqual(e.bytes, b);
                  assert.equal(e.index, 0);
                  continue;
                }
                accepted++;
                assert.deepEqual(encodeInstruction(insn), b, `re-encode ${code.toString(16)}`);
                assert.equal(insn.code, code);
                assert.equal(insn.off, off);
                assert.equal(insn.imm, imm);
              }
        assert.equal(
          accepted > 0,
          expected.has(code),
          `opcode 0x${code.toString(16)} ${accepted ? "accepted" : "rejected"}`,
        );
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
  });

  it("never accepts registers above r10 where a register is used", () => {
    assert.throws(() => decodeInstruction(bytesOf(0xbf, 11, 1, 0, 0)), /dst register r11/);
    assert.throws(() => decodeInstruction(bytesOf(0xbf, 1, 12, 0, 0)), /src register r12/);
  });

  it("explains common invalid encodings", () => {
    const cases: [Uint8Array, RegExp][] = [
      [bytesOf(0xdf, 0, 0, 0, 16), /alu64 opcode 0xdf: bswap has no big-endian form/],
      [bytesOf(0xdb, 1, 2, 0, 0x33), /unknown atomic operation imm=0x33/],
      [bytesOf(0xd3, 1, 2, 0, 0x01), /only for 32- and 64-bit/],
      [bytesOf(0x99, 1, 2, 0, 0), /no sign-extending 64-bit load/],
      [bytesOf(0x95, 0, 0, 0, 1), /reserved imm must be 0/],
      [bytesOf(0xb7, 0, 1, 0, 0), /reserved src register must be 0/],
      [bytesOf(0xd4, 1, 0, 0, 8), /width must be 16, 32 or 64/],
      [bytesOf(0x85, 0, 3, 0, 0), /call source 3/],
      [bytesOf(0x38, 0, 0, 0, 0), /no DW size/],
      [bytesOf(0x18, 1, 7, 0, 0), /pseudo source 7/],
      [bytesOf(0x3f, 1, 2, 2, 0), /0 \(unsigned\) or 1 \(signed\)/],
      [bytesOf(0xbc, 1, 2, 32, 0), /sign-extending move/],
    ];
    for (const [b, re] of cases) assert.throws(() => decodeInstruction(b), re);
  });

  it("reads every kernel-internal form of a translated program, and only with kernelInternal", () => {
    const k = { kernelInternal: true };
    // The verifier's zero-extension marker: w3 = w3 with imm 1.
    const zext = bytesOf(0xbc, 3, 3, 0, 1);
    assert.throws(() => decodeInstruction(zext), /reserved imm must be 0, is 1/);
    const z = decodeInstruction(zext, 0, k);
    assert.equal(z.kind, "alu");
    assert.deepEqual(encodeInstruction(z), zext, "the marker encodes back unchanged");
    assert.equal(disassembleKernel(zext, { xlated: true }), "   0: (bc) w3 = w3\n");
    // PROBE_MEM / PROBE_MEMSX / PROBE_MEM32 loads, PROBE_MEM32 stores, PROBE_ATOMIC.
    const forms: [Uint8Array, string, boolean?][] = [
      [bytesOf(0x39, 1, 2, 8, 0), "load"], // ldx dw, PROBE_MEM
      [bytesOf(0x51, 1, 2, 8, 0), "load", true], // ldx b, PROBE_MEMSX
      [bytesOf(0xb9, 1, 2, 8, 0), "load"], // ldx dw, PROBE_MEM32
      [bytesOf(0xd1, 1, 2, 8, 0), "load", true], // ldx b, PROBE_MEM32SX
      [bytesOf(0xbb, 1, 2, 8, 0), "store"], // stx dw, PROBE_MEM32
      [bytesOf(0xba, 1, 0, 8, 7), "store"], // st dw, PROBE_MEM32
      [bytesOf(0xfb, 1, 2, 8, 0), "atomic"], // stx dw, PROBE_ATOMIC add
    ];
    for (const [b, kind, sx] of forms) {
      assert.throws(() => decodeInstruction(b), InvalidInstructionError, `0x${b[0]?.toString(16)}`);
      const insn = decodeInstruction(b, 0, k);
      assert.equal(insn.kind, kind, `0x${b[0]?.toString(16)}`);
      if (insn.kind === "load") assert.equal(insn.signExtend, sx === true);
      assert.deepEqual(encodeInstruction(insn), b);
    }
    // Forms loadable programs also carry: addr_space_cast, may_goto, kfunc calls with a
    // module BTF index in off, every lddw pseudo source.
    assert.equal(decodeInstruction(bytesOf(0xbf, 1, 2, 1, 0x10000), 0, k).kind, "addr_space_cast");
    assert.equal(decodeInstruction(bytesOf(0xe5, 0, 0, 3, 0), 0, k).kind, "may_goto");
    assert.equal(decodeInstruction(bytesOf(0x85, 0, 2, 1, 1234), 0, k).kind, "call");
    for (let src = 0; src <= 6; src++) {
      const lddw = new Uint8Array(16);
      lddw.set(bytesOf(0x18, 1, src, 0, 5));
      assert.equal(decodeInstruction(lddw, 0, k).kind, "lddw");
    }
  });

  it("reports truncated programs and lddw with a bad second slot", () => {
    const lddw = encodeInstruction(asm.lddw(R1, 0x1234567890n));
    assert.throws(
      () => decodeProgram(lddw.slice(0, 8)),
      (e: unknown) => {
        assert.ok(e instanceof InvalidInstructionError);
        assert.match(e.reason, /truncated lddw/);
        return true;
      },
    );
    assert.throws(() => decodeProgram(new Uint8Array(12)), /not a multiple of 8/);
    const bad = lddw.slice();
    bad[8] = 0x18;
    assert.throws(
      () => decodeProgram(new Uint8Array([...encodeInstruction(asm.exit()), ...bad])),
      (e: unknown) =>
        e instanceof InvalidInstructionError && e.index === 1 && /second slot/.test(e.reason),
    );
  });

  it("decodes lddw as one 16-byte instruction with a bigint value", () => {
    const prog = [asm.lddw(R1, -1n), asm.ldMapValue(R2, 5, 8), asm.mov64(R0, R1), asm.exit()];
    const bytes = encodeProgram(prog);
    assert.equal(bytes.length, 48);
    const back = decodeProgram(bytes);
    assert.equal(back.length, 4);
    const [a, b] = back;
    assert.ok(a?.kind === "lddw" && a.value === 0xffffffffffffffffn && a.pseudo === 0);
    assert.ok(b?.kind === "lddw" && b.pseudo === 2 && b.imm === 5 && b.imm2 === 8);
    assert.deepEqual(encodeProgram(back), bytes);
  });
});
