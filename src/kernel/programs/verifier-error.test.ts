import assert from "node:assert/strict";
import { test } from "node:test";
import { Errno } from "../../uapi/index.ts";
import { VerifierError } from "./verifier-error.ts";

const SUMMARY =
  "processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0";

test("a rejection quotes the verifier's reason and the instruction", () => {
  const e = new VerifierError({
    errno: Errno.EACCES,
    log: `0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n${SUMMARY}\n`,
    program: 'xdp program "bad"',
  });
  assert.match(e.message, /^R0 !read_ok \(insn 0: \(95\) exit\) in xdp program "bad"\n/);
  assert.equal(e.code, "EACCES");
});

test("EAGAIN without a reason is an interrupted verifier, not a rejection", () => {
  // What the kernel leaves when a signal arrives mid-verification (seen with a
  // sampling profiler): the log stops at the instruction it was at.
  const e = new VerifierError({
    errno: Errno.EAGAIN,
    log: `0: R1=ctx() R10=fp0\n3: (bf) r3 = r6\n4: (0f) r3 += r1\n${SUMMARY}\n`,
    program: 'raw_tracepoint program "read_task"',
  });
  assert.match(e.message, /^the verifier was interrupted by signals \(insn 4: \(0f\) r3 \+= r1\)/);
  assert.match(e.message, /the program was not judged/);
  assert.doesNotMatch(e.message, /rejected/);
  assert.equal(e.code, "EAGAIN");
});
