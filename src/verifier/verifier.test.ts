/**
 * Named cases for the verifier, each with the verdict and error line the Linux 6.18
 * kernel gives for it as root (the error line is the first line of the message block,
 * as kernelErrorLine reads the kernel's log) (checked by hand with the kernel; the kernel-oracle
 * comparison over generated programs lives in test/verifier-kernel.test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assemble } from "../isa/index.ts";
import { MapType, ProgType } from "../uapi/index.ts";
import { verify } from "./verifier.ts";

const HASH = { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16, name: "m0" };

function check(
  src: string,
  progType: number,
  expected: { accept: true } | { message: string; insn: number },
  maps = [HASH],
): void {
  const r = verify(assemble(src), { progType, maps });
  if ("accept" in expected) {
    assert.equal(r.error?.message, undefined, `accepted:\n${src}`);
    assert.equal(r.accepted, true);
  } else {
    assert.equal(r.accepted, false, `rejected:\n${src}`);
    assert.deepEqual({ message: r.error?.message, insn: r.error?.insn }, expected);
  }
}

const SF = ProgType.SOCKET_FILTER;

describe("verifier: the kernel's verdicts and messages", () => {
  test("registers: uninitialised reads, the read-only frame pointer", () => {
    check("exit", SF, { message: "R0 !read_ok", insn: 0 });
    check("r0 = r5\nexit", SF, { message: "R5 !read_ok", insn: 0 });
    check("r10 = 0\nr0 = 0\nexit", SF, { message: "frame pointer is read only", insn: 0 });
    check("r0 = 2\nexit", SF, { accept: true });
  });

  test("structure: falling off the end, unreachable code, jumps out of range", () => {
    check("r0 = 0", SF, { message: "last insn is not an exit or jmp", insn: 0 });
    check("r0 = 0\nexit\nexit", SF, { message: "unreachable insn 2", insn: 2 });
    check("goto +5\nexit", SF, { message: "jump out of range from insn 0 to 6", insn: 0 });
  });

  test("map lookups: NULL must be checked before use", () => {
    const lookup = `
      r1 = 0
      *(u32 *)(r10 - 4) = r1
      r2 = r10
      r2 += -4
      r1 = map_fd(0)
      call bpf_map_lookup_elem`;
    check(`${lookup}\nr1 = *(u64 *)(r0 + 0)\nr0 = 0\nexit`, SF, {
      message: "R0 invalid mem access 'map_value_or_null'",
      insn: 7,
    });
    check(`${lookup}\nif r0 == 0 goto +1\nr1 = *(u64 *)(r0 + 0)\nr0 = 0\nexit`, SF, {
      accept: true,
    });
    check(`${lookup}\nif r0 == 0 goto +1\nr1 = *(u64 *)(r0 + 8)\nr0 = 0\nexit`, SF, {
      message: "invalid access to map value, value_size=8 off=8 size=8",
      insn: 8,
    });
  });

  test("stack: bounds, alignment, subtraction from the frame pointer", () => {
    check("r0 = *(u64 *)(r10 - 520)\nexit", SF, {
      message: "invalid read from stack R10 off=-520 size=8",
      insn: 0,
    });
    check("r0 = *(u64 *)(r10 - 8)\nexit", SF, { accept: true }); // root may read uninitialised stack
    check("r0 = *(u64 *)(r10 - 4)\nexit", SF, {
      message: "misaligned stack access off 0+0+-4 size 8",
      insn: 0,
    });
    check("r2 = r10\nr2 -= 8\nr0 = 0\nexit", SF, {
      message: "R2 subtraction from stack pointer prohibited",
      insn: 1,
    });
  });

  test("return values: cgroup_skb must return 0 or 1", () => {
    check("r0 = 7\nexit", ProgType.CGROUP_SKB, {
      message: "At program exit the register R0 has smin=7 smax=7 should have been in [0, 1]",
      insn: 1,
    });
    check("r0 = 7\nexit", ProgType.XDP, { accept: true });
  });

  test("packet access needs a bounds check against data_end", () => {
    const xdp = `
      r2 = *(u32 *)(r1 + 0)
      r3 = *(u32 *)(r1 + 4)
      r4 = r2
      r4 += 14
      if r4 > r3 goto +2
      r0 = *(u8 *)(r2 + 13)
      exit
      r0 = 2
      exit`;
    check(xdp, ProgType.XDP, { accept: true });
    check(xdp.replace("(r2 + 13)", "(r2 + 14)"), ProgType.XDP, {
      message: "invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)",
      insn: 5,
    });
  });

  test("helpers: unknown ids and argument types", () => {
    check("call 5000\nr0 = 0\nexit", SF, { message: "invalid func unknown#5000", insn: 0 });
    check("r1 = map_fd(0)\nr2 = 0\ncall bpf_map_lookup_elem\nr0 = 0\nexit", SF, {
      message:
        "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
      insn: 3,
    });
  });

  test("loops: bounded ones are walked, endless ones detected", () => {
    check("r0 = 0\nr0 += 1\nif r0 < 10 goto -2\nexit", SF, { accept: true });
    // A ctx pointer compared with 0 takes both ways (reg_not_null does not trust ctx),
    // and the loop back is the same state: found before insn 3 is printed again.
    check("r0 = r1\nr2 = r0\nr3 = r0\nif r1 == 0 goto -3\nexit", SF, {
      message: "infinite loop detected at insn 3",
      insn: 2,
    });
  });

  test("subprograms: an unset r0 fails where the caller reads it", () => {
    const src = `
      r6 = r1
      call pc+5
      r1 = r0
      r1 = r6
      call pc+2
      r1 = r0
      exit
      if r1 == 0 goto +1
      r0 = 0
      exit`;
    check(src, SF, { message: "R0 !read_ok", insn: 5 });
  });

  test("linked scalars: a 32-bit spill and fill keep the id, so a compare decides both", () => {
    const src = `
      call bpf_get_prandom_u32
      w0 &= 0x80000000
      *(u32 *)(r10 - 8) = r0
      r1 = *(u32 *)(r10 - 8)
      r2 = 0
      if r1 != r2 goto +3
      if r0 == r2 goto +2
      r0 = *(u64 *)(r9 + 0)
      exit
      r0 = 0
      exit`;
    check(src, ProgType.XDP, { accept: true }); // the r9 load is dead code
  });

  test("may_goto: the loop body one level deeper converges", () => {
    check("r0 = 0\nmay_goto +2\nr0 += 1\ngoto -3\nexit", SF, { accept: true });
  });

  test("lddw: pseudo sources and map indexes are checked before the walk", () => {
    const r = verify(assemble("r1 = map_fd(3)\nr0 = 0\nexit"), { progType: SF, maps: [HASH] });
    assert.deepEqual(r.error, {
      message: "fd 3 is not pointing to valid bpf_map",
      lines: ["fd 3 is not pointing to valid bpf_map"],
      insn: undefined,
    });
  });
});
