/**
 * How a refused BPF_PROG_LOAD is reported (src/kernel/programs/program-load.ts), from
 * the errno and log the kernel gave: no kernel needed. EAGAIN is the verifier stopped
 * by a pending signal, not a verdict on the program, though its log reads like one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Attempt, programLoadError } from "../src/kernel/programs/program-load.ts";
import { VerifierError } from "../src/kernel/programs/verifier-error.ts";
import { SyscallError } from "../src/kernel/sys/index.ts";
import type { ProgramSpec } from "../src/spec/index.ts";
import { Errno, ProgType } from "../src/uapi/index.ts";

const spec = {
  name: "xdp_count",
  type: ProgType.XDP,
  license: "GPL",
  instructions: new Uint8Array(16),
} as unknown as ProgramSpec;
const label = 'xdp program "xdp_count"';

// A log cut off where a signal stopped the verifier (seen under `node --cpu-prof`).
const cutLog = [
  "0: R1=ctx() R10=fp0",
  "39: (61) r2 = *(u32 *)(r1 +0)         ; frame1: R1=ctx() R2=pkt(r=0)",
  "42: (95) exit",
  "to caller at 1:",
  " R0=scalar() R10=fp0",
  "processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
  "",
].join("\n");

test("EAGAIN: interrupted by signals, not a verifier verdict", () => {
  const r: Attempt = { fd: -1, errno: Errno.EAGAIN, log: cutLog, trueSize: 0 };
  const e = programLoadError(spec, label, r);
  assert.ok(!(e instanceof VerifierError), "not reported as the verifier's rejection");
  assert.ok(e instanceof SyscallError);
  assert.equal(e.errno, Errno.EAGAIN);
  assert.match(e.message, /program load \(xdp program "xdp_count"\)/);
  assert.match(e.message, /interrupted by a signal 6 times in a row/);
});

test("the same log with EACCES is the verifier's rejection", () => {
  const log = `${cutLog}R0 !read_ok\n`;
  const e = programLoadError(spec, label, { fd: -1, errno: Errno.EACCES, log, trueSize: 0 });
  assert.ok(e instanceof VerifierError);
});
