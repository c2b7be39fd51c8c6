import assert from "node:assert/strict";
import { test } from "node:test";
import { assemble } from "../isa/index.ts";
import { ProgType } from "../uapi/index.ts";
import { explain, verify } from "./index.ts";

const PKT = `r6 = r1
r7 = *(u32 *)(r6 +0)
r8 = *(u32 *)(r6 +4)
r2 = r7
r2 += 14
if r2 > r8 goto +6
r0 = *(u8 *)(r7 +12)
r0 &= 31
r0 += 4
r3 = r7
r3 += r0
r0 = *(u8 *)(r3 +0)
r0 = 2
exit`;

test("states: typed registers per instruction, with bounds, tnums and def-sites", () => {
  const r = verify(assemble("r1 = 7\n*(u64 *)(r10 -8) = r1\nr0 = *(u8 *)(r10 -8)\nr0 &= 3\nexit"), {
    progType: ProgType.SOCKET_FILTER,
    states: true,
  });
  assert.equal(r.accepted, true);
  const at4 = r.states?.byInsn[4]?.[0];
  const r0 = at4?.frames[0]?.registers.find((x) => x.regno === 0);
  assert.equal(r0?.base, "scalar");
  assert.equal(r0?.constant, 3n);
  assert.equal(r0?.definedAt, 3);
  assert.deepEqual(r0?.bounds.tnum, { value: 3n, mask: 0n });
  const slot = at4?.frames[0]?.stack[0];
  assert.equal(slot?.offset, -8);
  assert.equal(slot?.bytes, "rrrrrrrr");
  assert.equal(slot?.spilled?.constant, 7n);
  // Without the option nothing is recorded.
  assert.equal(
    verify(assemble("r0 = 0\nexit"), { progType: ProgType.SOCKET_FILTER }).states,
    undefined,
  );
});

test("states: the path of a rejection, one state per instruction", () => {
  const r = verify(assemble(PKT), { progType: ProgType.XDP, states: true });
  assert.equal(r.accepted, false);
  assert.deepEqual(
    r.states?.path?.map((s) => s.insn),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  );
  const r3 = r.states?.path?.at(-1)?.frames[0]?.registers.find((x) => x.regno === 3);
  assert.equal(r3?.type, "pkt");
  assert.equal(r3?.range, 0);
  assert.equal(r3?.bounds.umax, 35n);
  assert.equal(r3?.definedAt, 10);
});

test("explain: the branches of the failing path and where the register was set", () => {
  const { result, text } = explain(assemble(PKT), { progType: ProgType.XDP });
  assert.equal(result.accepted, false);
  assert.match(text, /^Verdict: rejected at instruction 11: invalid access to packet/);
  assert.match(text, /5: if r2 > r8 goto pc\+6 +fell through to 6/);
  assert.match(text, /> {2}11: r0 = \*\(u8 \*\)\(r3 \+0\)/);
  assert.match(text, /R3 was last set by instruction 10: r3 \+= r0/);
  assert.match(text, /and R0 came from 8: r0 \+= 4/);
});

test("explain: an accepted program, each instruction beside its state, dead code named", () => {
  const { text } = explain(assemble("r0 = 1\nif r0 == 1 goto +1\nr0 = 2\nexit"), {
    progType: ProgType.SOCKET_FILTER,
  });
  assert.match(text, /^Verdict: accepted/);
  assert.match(text, /0: r0 = 1 +r0=\(not set\)/);
  assert.match(text, /2: r0 = 2 +\(never reached: dead code\)/);
});

test("log level 1: an accepted program's log is its statistics line", () => {
  const r = verify(assemble("r0 = 0\nexit"), { progType: ProgType.SOCKET_FILTER, logLevel: 1 });
  assert.match(
    r.log,
    /^processed 2 insns \(limit 1000000\) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0$/,
  );
  const r2 = verify(assemble("r0 = 0\nexit"), { progType: ProgType.SOCKET_FILTER, logLevel: 2 });
  assert.equal(
    r2.log.split("\n").slice(0, 3).join("\n"),
    "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0=0",
  );
});
