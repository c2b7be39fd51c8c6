/**
 * kernelVerdict: a CASE.json program (issue 11 item 4) judged by the running kernel —
 * maps created and patched in, minimal BTF for func_info and spin locks, the error line
 * and instruction of a rejection as kernelErrorLine reads them, the summary's figures,
 * and no descriptor left open.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { Errno } from "../src/uapi/index.ts";
import { parseCase } from "../src/verifier/case.ts";
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

/** Hex of assembled instructions (`map[id:N]` is an lddw with src_reg 1 and imm N: maps[N]). */
function hex(src: string): string {
  return Buffer.from(encodeProgram(assemble(src))).toString("hex");
}

/** Looks up key 0 of maps[0] (a 4-byte key) into r0. */
const LOOKUP0 = `
  r1 = 0
  *(u32 *)(r10 - 4) = r1
  r2 = r10
  r2 += -4
  r1 = map[id:0]
  call 1`;

const ARRAY16 = { type: "array", key_size: 4, value_size: 16, max_entries: 1 };
/** A hash map's lookup may fail (an array's with a constant key in range cannot, on 6.x). */
const HASH16 = { type: "hash", key_size: 4, value_size: 16, max_entries: 4 };

describe("kernelVerdict", { skip }, () => {
  test("an accepted program: verdict, summary and verification time", () =>
    assertNoLeak(() => {
      const v = kernelVerdict(parseCase({ prog_type: "xdp", insns: hex("r0 = 2\nexit") }), {
        logLevel: 1 | 4,
      });
      assert.equal(v.accepted, true);
      assert.equal(v.errorLine, undefined);
      assert.equal(v.stats?.processed, 2);
      assert.equal(typeof v.stats?.verificationTimeUs, "number");
      assert.match(v.log, /^processed 2 insns/m);
    }));

  for (const [name, c, line, insn] of [
    ["R0 unread", { prog_type: "socket_filter", insns: hex("exit") }, "R0 !read_ok", 0],
    [
      "stack out of bounds",
      { prog_type: "socket_filter", insns: hex("r1 = *(u64 *)(r10 - 520)\nr0 = 0\nexit") },
      "invalid read from stack R10 off=-520 size=8",
      0,
    ],
    [
      "a lookup result used without a null check",
      {
        prog_type: "xdp",
        insns: hex(`${LOOKUP0}\nr0 = *(u64 *)(r0 + 0)\nr0 = 0\nexit`),
        maps: [HASH16],
      },
      "R0 invalid mem access 'map_value_or_null'",
      7,
    ],
    [
      "a map value read past its end",
      {
        prog_type: "xdp",
        insns: hex(`${LOOKUP0}\nif r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 12)\nr0 = 0\nexit`),
        maps: [ARRAY16],
      },
      // the first of two lines; the second is "R0 min value is outside of the allowed
      // memory range"
      "invalid access to map value, value_size=16 off=12 size=8",
      8,
    ],
    [
      "a structural error names its instruction in the message",
      { prog_type: "xdp", insns: hex("r0 = 0\nexit\nexit") },
      "unreachable insn 2",
      2,
    ],
  ] as const) {
    test(`rejected: ${name}`, () =>
      assertNoLeak(() => {
        const v = kernelVerdict(parseCase(c));
        assert.equal(v.accepted, false, v.log);
        assert.equal(v.errorLine, line, v.log);
        assert.equal(v.insn, insn, v.log);
        assert.ok(v.errno === Errno.EACCES || v.errno === Errno.EINVAL, String(v.errno));
        assert.ok(v.stats, v.log);
      }));
  }

  test("map value pseudo (src_reg 2): a direct pointer into maps[i]'s value", () =>
    assertNoLeak(() => {
      // r1 = map[0] value + 8 (lddw src 2, imm 0, second imm 8); r0 = *(u64 *)(r1 + 0)
      const lddw = "1821000000000000 0000000008000000";
      const ok = parseCase({
        prog_type: "xdp",
        insns: `${lddw} ${hex("r0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit")}`,
        maps: [ARRAY16],
      });
      assert.equal(kernelVerdict(ok).accepted, true);
      const bad = parseCase({
        prog_type: "xdp",
        insns: `${lddw} ${hex("r0 = *(u64 *)(r1 + 4)\nr0 = 0\nexit")}`,
        maps: [ARRAY16],
      });
      const v = kernelVerdict(bad);
      assert.equal(v.accepted, false);
      assert.deepEqual(
        v.errorLines,
        [
          "invalid access to map value, value_size=16 off=12 size=8",
          "R1 min value is outside of the allowed memory range",
        ],
        v.log,
      );
      assert.equal(v.errorLine, "invalid access to map value, value_size=16 off=12 size=8");
      assert.equal(v.insn, 2);
    }));

  test("spin_lock_off: the value's lock is described by BTF; lock and unlock pass, a missing unlock fails", () =>
    assertNoLeak(() => {
      const map = { ...ARRAY16, spin_lock_off: 4 };
      const body = (unlock: boolean) =>
        hex(`${LOOKUP0}
          if r0 == 0 goto +${unlock ? 7 : 4}
          r6 = r0
          r1 = r0
          r1 += 4
          call 93
          ${unlock ? "r1 = r6\nr1 += 4\ncall 94" : ""}
          r0 = 0
          exit`);
      const ok = kernelVerdict(
        parseCase({ prog_type: "sched_cls", insns: body(true), maps: [map] }),
      );
      assert.equal(ok.accepted, true, ok.log);
      const bad = kernelVerdict(
        parseCase({ prog_type: "sched_cls", insns: body(false), maps: [map] }),
      );
      assert.equal(bad.accepted, false);
      // 6.1 says "bpf_spin_unlock is missing"; later kernels name the exit
      assert.match(
        bad.errorLine ?? "",
        /^(bpf_spin_unlock is missing|BPF_EXIT instruction (in main prog )?cannot be used inside bpf_spin_lock-ed region)$/,
        bad.log,
      );
      assert.equal(bad.insn, 13);
      // without the BTF description the kernel knows of no lock in the value
      const noBtf = kernelVerdict(
        parseCase({ prog_type: "sched_cls", insns: body(true), maps: [ARRAY16] }),
      );
      assert.equal(noBtf.accepted, false);
      assert.match(noBtf.errorLine ?? "", /spin_lock/, noBtf.log);
    }));

  test("funcs: bpf_loop's callback needs func_info; a count that does not match is the kernel's error", () =>
    assertNoLeak(() => {
      // r1 = 4; r2 = callback (lddw src_reg 4, pc-relative); r3 = 0; r4 = 0; call bpf_loop; r0 = 0; exit
      // callback: r0 = 0; exit
      const insns = [
        hex("r1 = 4"),
        "1842000006000000 0000000000000000",
        hex("r3 = 0\nr4 = 0\ncall 181\nr0 = 0\nexit\nr0 = 0\nexit"),
      ].join(" ");
      const funcs = [
        { insn_off: 0, linkage: "global" },
        { insn_off: 8, linkage: "static" },
      ];
      const ok = kernelVerdict(parseCase({ prog_type: "xdp", insns, funcs }));
      assert.equal(ok.accepted, true, ok.log);
      const none = kernelVerdict(parseCase({ prog_type: "xdp", insns }));
      assert.equal(none.accepted, false);
      assert.match(none.log, /func_info|BTF/, none.log);
      const short = kernelVerdict(parseCase({ prog_type: "xdp", insns, funcs: funcs.slice(0, 1) }));
      assert.equal(
        short.errorLine,
        "number of funcs in func_info doesn't match number of subprogs",
      );
      assert.equal(short.insn, undefined);
    }));

  test("log level 2 keeps the verdict and the instruction", () =>
    assertNoLeak(() => {
      const c = parseCase({
        prog_type: "xdp",
        insns: hex(`${LOOKUP0}\nr0 = *(u64 *)(r0 + 0)\nr0 = 0\nexit`),
        maps: [HASH16],
      });
      const v = kernelVerdict(c, { logLevel: 2 });
      assert.match(v.log, /Live regs before insn|R10=fp0/);
      assert.equal(v.errorLine, "R0 invalid mem access 'map_value_or_null'");
      assert.equal(v.insn, 7);
    }));
});
