import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelErrorLine, logTail, parseVerifierLog, verifierStats } from "./verifier-log.ts";

const SUMMARY =
  "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0";

test("the last error line and the instruction before it", () => {
  const v = parseVerifierLog(`0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n${SUMMARY}\n`);
  assert.deepEqual(v, {
    message: "R0 !read_ok",
    instruction: 0,
    instructionText: "(95) exit",
    processedInsns: 1,
  });
});

test("level-2 state after ';' is not part of the instruction", () => {
  const log = [
    "func#0 @0",
    "Live regs before insn:",
    "      0: .......... (b7) r0 = 2",
    "0: R1=ctx() R10=fp0",
    "0: (b7) r0 = 2                        ; R0=2",
    "1: (85) call bpf_skb_load_bytes#26",
    "program of this type cannot use helper bpf_skb_load_bytes#26",
    SUMMARY,
  ].join("\n");
  const v = parseVerifierLog(log);
  assert.equal(v.instruction, 1);
  assert.equal(v.instructionText, "(85) call bpf_skb_load_bytes#26");
  assert.equal(v.message, "program of this type cannot use helper bpf_skb_load_bytes#26");
});

test("stats lines (level 4) and state dumps after the verdict are skipped", () => {
  const log = [
    "1: (15) if r0 == 0x0 goto pc-1        ; R0=0",
    "infinite loop detected at insn 1",
    "cur state: R0=0 R1=ctx() R10=fp0",
    "old state: R0=P0 R1=ctx() R10=fp0",
    "verification time 12 usec",
    "stack depth 0",
    "processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0",
  ].join("\n");
  const v = parseVerifierLog(log);
  assert.equal(v.message, "infinite loop detected at insn 1");
  assert.equal(v.instruction, 1);
  assert.equal(v.processedInsns, 9);
});

test("structural errors name the instruction in the message", () => {
  const v = parseVerifierLog(`unreachable insn 2\n${SUMMARY}`);
  assert.equal(v.message, "unreachable insn 2");
  assert.equal(v.instruction, 2);
  assert.equal(v.instructionText, undefined);
  assert.equal(parseVerifierLog("back-edge from insn 3 to 1\n").instruction, 3);
});

test("an empty log or one with only a summary has no verdict", () => {
  assert.equal(parseVerifierLog("").message, undefined);
  const v = parseVerifierLog(`${SUMMARY}\n`);
  assert.equal(v.message, undefined);
  assert.equal(v.instruction, undefined);
  assert.equal(v.processedInsns, 1);
});

test("a log cut mid-walk ends on an instruction: no message, that instruction", () => {
  const v = parseVerifierLog("0: (b7) r0 = 0\n1: (07) r0 += 1\n");
  assert.equal(v.message, undefined);
  assert.equal(v.instruction, 1);
});

test("logTail keeps the last lines without blanks or a NUL tail", () => {
  assert.deepEqual(logTail("a\n\nb\nc\n\0garbage", 2), ["b", "c"]);
});

test("kernelErrorLine: a two-line message, source lines and state skipped", () => {
  const log = [
    "func#0 @0",
    "0: R1=ctx() R10=fp0",
    "; return *(long *)(v + 12); @ t.c:9",
    "8: (79) r0 = *(u64 *)(r0 +12)",
    "invalid access to map value, value_size=16 off=12 size=8",
    "R0 min value is outside of the allowed memory range",
    SUMMARY,
  ].join("\n");
  assert.deepEqual(kernelErrorLine(log), {
    message: "invalid access to map value, value_size=16 off=12 size=8",
    lines: [
      "invalid access to map value, value_size=16 off=12 size=8",
      "R0 min value is outside of the allowed memory range",
    ],
    insn: 8,
  });
  assert.deepEqual(kernelErrorLine(`unreachable insn 2\n${SUMMARY}`), {
    message: "unreachable insn 2",
    lines: ["unreachable insn 2"],
    insn: 2,
  });
  assert.deepEqual(kernelErrorLine(SUMMARY), { message: undefined, lines: [], insn: undefined });
  const loop =
    "1: (05) goto pc-1\ninfinite loop detected at insn 1\ncur state: R1=ctx() R10=fp0\nold state: R1=ctx() R10=fp0\n";
  assert.equal(kernelErrorLine(loop).message, "infinite loop detected at insn 1");
  // a refusal without a reason (a struct_ops program without its attach BTF id)
  assert.deepEqual(kernelErrorLine(`func#0 @0\nfunc#1 @7\n${SUMMARY}`), {
    message: undefined,
    lines: [],
    insn: undefined,
  });
});

test("verifierStats: the summary's figures and the level-4 lines", () => {
  assert.equal(verifierStats("R0 !read_ok\n"), undefined);
  assert.deepEqual(
    verifierStats(
      "verification time 61 usec\nstack depth 8+0\nprocessed 20 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 3 mark_read 4\n",
    ),
    {
      processed: 20,
      maxStatesPerInsn: 1,
      totalStates: 2,
      peakStates: 3,
      markRead: 4,
      verificationTimeUs: 61,
      stackDepth: [8, 0],
    },
  );
});
