/**
 * `VirtualMachine.load` verifies each program first (issue 11): a program Linux would
 * refuse is refused with the kernel's error line at its instruction, `verify: false`
 * loads it anyway, and `verification` says what was judged. Pure: no kernel needed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { ProgType } from "../src/uapi/index.ts";
import { VirtualMachine, VmVerifierError } from "../src/vm/index.ts";

const ROOT = join(import.meta.dirname, "..");

/** A collection of one program written in assembly. */
function oneProgram(asm: string, type: ProgType = ProgType.XDP): CollectionSpec {
  return {
    programs: {
      prog: { name: "prog", type, license: "GPL", instructions: encodeProgram(assemble(asm)) },
    },
    maps: {},
    variables: {},
    externs: [],
    license: "GPL",
  };
}

describe("VirtualMachine.load verifies", () => {
  test("a program reading a register it never set is refused as the kernel refuses it", () => {
    const spec = oneProgram("r0 = r2\nexit");
    assert.throws(
      () => VirtualMachine.load(spec),
      (e: unknown) =>
        e instanceof VmVerifierError &&
        e.line === "R2 !read_ok" &&
        e.pc === 0 &&
        e.program === "prog" &&
        /rejected by the verifier at insn 0: R2 !read_ok/.test(e.message),
    );
  });

  test("an out-of-bounds packet read is refused before it could run", () => {
    const spec = oneProgram("r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nr0 = 2\nexit");
    assert.throws(() => VirtualMachine.load(spec), /invalid access to packet, off=0 size=1/);
  });

  test("verify: false loads it anyway and says it was not judged", () => {
    const vm = VirtualMachine.load(oneProgram("r0 = r2\nexit"), { verify: false });
    assert.deepEqual(vm.verification.prog, { verdict: "unverified", reason: "verify: false" });
  });

  test("the examples load verified", () => {
    const spec = loadCollectionSpec(readFileSync(join(ROOT, "examples/xdp-count/xdp-count.bpf.o")));
    const vm = VirtualMachine.load(spec);
    const v = vm.verification.xdp_count;
    assert.equal(v?.verdict, "verified");
    assert.ok(v?.verdict === "verified" && v.stats.processed > 0);
  });

  test("a program beyond what the verifier models loads unverified, saying why", () => {
    // bpf_snprintf_btf is allowed for tc but not modelled: the verifier cannot judge.
    const spec = oneProgram("call bpf_snprintf_btf\nr0 = 0\nexit", ProgType.SCHED_CLS);
    const vm = VirtualMachine.load(spec);
    const v = vm.verification.prog;
    assert.equal(v?.verdict, "unverified");
    assert.match(
      v?.verdict === "unverified" ? v.reason : "",
      /does not model helper bpf_snprintf_btf/,
    );
  });
});
