// The kernel as the oracle for src/verifier/scalar.ts: random programs of ALU operations
// and conditional jumps on unknown scalars are loaded with log level 2, and every
// register state the kernel prints along the program's path (after each ALU instruction,
// on both sides of each undecided jump) must be the text formatScalar gives for the
// model's state there. The model follows Linux 6.18, so other kernels skip.
//
// A mismatch names its program as SEED/STEPS: generate(SEED, STEPS) from
// test/support/verifier-scalar-programs.ts rebuilds it (`.text` lists it). The
// environment variable TSBPF_SCALAR_PROGRAMS sets how many programs run (3000: ~6 s).
import assert from "node:assert/strict";
import { release } from "node:os";
import { describe, it } from "node:test";
import { encodeProgram } from "../src/isa/index.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { ProgType } from "../src/uapi/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { compare, generate, type Mismatch } from "./support/verifier-scalar-programs.ts";

const MODEL_KERNEL = "6.18";
const versionSkip: string | false = release().startsWith(`${MODEL_KERNEL}.`)
  ? false
  : `the scalar model follows Linux ${MODEL_KERNEL}; this kernel is ${release()}`;

const PROGRAMS = Number(process.env.TSBPF_SCALAR_PROGRAMS ?? 3000);

describe("scalar bounds against the kernel's verifier log", {
  skip: needs(kernelSkip, versionSkip),
}, () => {
  it(`agrees on every printed register over ${PROGRAMS} random programs`, (t) => {
    let compared = 0;
    let programs = 0;
    const mismatches: (Mismatch & { seed: number; steps: number })[] = [];
    const start = Date.now();
    for (let i = 0; i < PROGRAMS; i++) {
      const seed = 0x5ca1a000 + i;
      const steps = [4, 8, 14][i % 3]!;
      const prog = generate(seed, steps);
      let log: string;
      try {
        using loaded = Program.load(
          {
            name: "scalar_oracle",
            type: ProgType.SOCKET_FILTER,
            license: "GPL",
            instructions: encodeProgram(prog.insns),
          },
          { logLevel: 2, logSize: 1 << 22 },
        );
        log = loaded.verifierLog ?? "";
      } catch (e) {
        assert.fail(
          `program ${seed}/${steps} was rejected: ${(e as Error).message}\n${prog.text.join("\n")}`,
        );
      }
      programs++;
      const c = compare(prog, log);
      compared += c.compared;
      for (const m of c.mismatches) mismatches.push({ ...m, seed, steps });
    }
    const agreement = compared ? 100 * (1 - mismatches.length / compared) : 0;
    t.diagnostic(
      `${programs} programs, ${compared} register texts compared, ${mismatches.length} differ ` +
        `(${agreement.toFixed(3)}% agreement) in ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
    // a log the parser cannot read would compare nothing and pass: guard against that
    assert.ok(compared > PROGRAMS * 4, `only ${compared} register texts were compared`);
    assert.deepEqual(
      mismatches
        .slice(0, 5)
        .map(
          (m) => `${m.seed}/${m.steps} ${m.what} R${m.reg}: model ${m.model}, kernel ${m.kernel}`,
        ),
      [],
    );
  });
});
