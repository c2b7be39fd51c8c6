/**
 * `tsbpf vm verify`: the verdict as `prog load CASE.json` prints the kernel's, for a
 * CASE.json, an ELF object and assembly text; the exit status says which.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { tsbpf } from "./cli-run.ts";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-vm-verify-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("vm verify", () => {
  test("assembly: verified, or the error line with its instruction", async () => {
    const ok = await tsbpf("vm", "verify", file("ok.s", "r0 = 2\nexit\n"));
    assert.deepEqual([ok.code, ok.stdout], [0, "verified\n"]);
    const bad = await tsbpf("vm", "verify", file("bad.s", "r0 = *(u64 *)(r10 - 520)\nexit\n"));
    assert.deepEqual(
      [bad.code, bad.stdout],
      [1, "insn 0: invalid read from stack R10 off=-520 size=8\n"],
    );
    // `kernel` words the line as an older kernel does (6.1 prints a known offset as a tnum).
    const mis = file("mis.s", "r1 = r10\nr1 += -100\nr0 = *(u64 *)(r1 +0)\nexit\n");
    const m18 = await tsbpf("vm", "verify", mis);
    assert.equal(m18.stdout, "insn 2: misaligned stack access off 0+-100+0 size 8\n");
    const m61 = await tsbpf("vm", "verify", mis, "kernel", "6.1");
    assert.equal(m61.stdout, "insn 2: misaligned stack access off (0x0; 0x0)+-100+0 size 8\n");
    const old = await tsbpf("vm", "verify", mis, "kernel", "5.4");
    assert.equal(old.code, 255);
    assert.match(old.stderr, /kernel 5\.4: tsbpf words messages as 6\.1, 6\.12 or 6\.18/);
    const xdp = await tsbpf("vm", "verify", file("x.s", "r0 = r1\nexit\n"), "type", "cgroup_skb");
    assert.equal(
      xdp.stdout,
      "insn 1: At program exit the register R0 is not a known value (ctx)\n",
    );
  });

  test("CASE.json: a map lookup without its NULL check", async () => {
    const c = file(
      "case.json",
      JSON.stringify({
        prog_type: "socket_filter",
        // *(u32 *)(r10 -4) = 0; r2 = r10; r2 += -4; r1 = map[0]; call 1; r0 = *(u64 *)(r0 +0); exit
        insns:
          "62 0a fc ff 00 00 00 00 bf a2 00 00 00 00 00 00 07 02 00 00 fc ff ff ff 18 11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 85 00 00 00 01 00 00 00 79 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
        maps: [{ type: "hash", key_size: 4, value_size: 8, max_entries: 16 }],
      }),
    );
    const r = await tsbpf("vm", "verify", c);
    assert.deepEqual(
      [r.code, r.stdout],
      [1, "insn 6: R0 invalid mem access 'map_value_or_null'\n"],
    );
    const j = await tsbpf("-j", "vm", "verify", c);
    const v = JSON.parse(j.stdout) as { accepted: boolean; error: string; insn: number };
    assert.deepEqual(
      [v.accepted, v.error, v.insn],
      [false, "R0 invalid mem access 'map_value_or_null'", 6],
    );
  });

  test("an ELF object: each program by name", async () => {
    const obj = join(import.meta.dirname, "../examples/tc-clsact/tc-clsact.bpf.o");
    const r = await tsbpf("vm", "verify", obj);
    assert.deepEqual([r.code, r.stdout], [0, "tc_ingress: verified\ntc_egress: verified\n"]);
    const one = await tsbpf("vm", "verify", obj, "name", "tc_egress");
    assert.equal(one.stdout, "verified\n");
    const none = await tsbpf("vm", "verify", obj, "name", "nope");
    assert.equal(none.code, 255);
    assert.match(none.stderr, /no program named nope/);
    // `type` sets every program's type (objects whose sections name none need it): these
    // read __sk_buff fields, which an XDP context does not have.
    const xdp = await tsbpf("vm", "verify", obj, "type", "xdp");
    assert.deepEqual(
      [xdp.code, xdp.stdout],
      [
        1,
        "tc_ingress: insn 1: invalid bpf_context access off=76 size=4\n" +
          "tc_egress: insn 0: invalid bpf_context access off=80 size=4\n",
      ],
    );
  });

  test("bad input: a missing file, an unknown type, a case with a bad field", async () => {
    const missing = await tsbpf("vm", "verify", join(dir, "nope.s"));
    assert.equal(missing.code, 255);
    assert.match(missing.stderr, /failed to open .*nope\.s/);
    const type = await tsbpf("vm", "verify", file("t.s", "exit\n"), "type", "xdpp");
    assert.match(type.stderr, /type xdpp: not a program type/);
    const c = await tsbpf("vm", "verify", file("c.json", '{"prog_type": "hashh", "insns": ""}'));
    assert.equal(c.code, 255);
    assert.match(c.stderr, /prog_type/);
  });

  test("log_level and explain", async () => {
    const src = file("pkt.s", "r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nexit\n");
    const log = await tsbpf("vm", "verify", src, "type", "xdp", "log_level", "1");
    assert.equal(log.code, 1);
    assert.equal(
      log.stdout,
      "0: R1=ctx() R10=fp0\n" +
        "0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)\n" +
        "1: (71) r0 = *(u8 *)(r2 +0)\n" +
        "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\n" +
        "R2 offset is outside of the packet\n" +
        "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n" +
        "insn 1: invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\n",
    );
    const ex = await tsbpf("vm", "verify", src, "type", "xdp", "explain");
    assert.equal(ex.code, 1);
    assert.match(ex.stdout, /^Verdict: rejected at instruction 1/);
    assert.match(ex.stdout, /R2 was last set by instruction 0: r2 = \*\(u32 \*\)\(r1 \+0\)/);
    assert.match(ex.stdout, /\ninsn 1: invalid access to packet/);
  });
});
