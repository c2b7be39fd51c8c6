/**
 * The program examples, run the way their headers say, output checked.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

test("examples/verifier-log prints the level-2 log of r0 = 2; exit", { skip }, () => {
  const out = execFileSync(
    process.execPath,
    [...FROM_SOURCE, "examples/verifier-log/verifier-log.ts"],
    { encoding: "utf8" },
  );
  const lines = out.split("\n");
  assert.match(
    lines[0] ?? "",
    /^loaded socket_filter program "ret2" \(id \d+, tag [0-9a-f]{16}\)$/,
  );
  assert.equal(lines[1], "verifier log (level 2):");
  // 6.1 spells out the pointer's zero offset: "R1=ctx(off=0,imm=0)".
  assert.match(out, /^0: R1=ctx\((off=0,imm=0)?\) R10=fp0$/m);
  // Older kernels (6.1, 6.12) mark a register written by this instruction: "R0_w=2".
  assert.match(out, /^0: \(b7\) r0 = 2 +; R0(_w)?=2$/m);
  assert.match(out, /^1: \(95\) exit$/m);
  assert.match(out, /^processed 2 insns \(limit 1000000\)/m);
});
