/**
 * The VM's interpreter and its JIT (src/vm/jit) against the kernel's JIT on the same
 * programs, all through their test-run loop (`repeat`): ns per run and the ratio
 * VM / kernel, all measured in the same run: the interpreter, the JIT's JavaScript
 * target and its WebAssembly target. Also each target's compile time per 1,000
 * instructions for programs of 100, 1,000 and 100,000 instructions (issue 12: <= 1 ms
 * per 1,000): all a run pays before its first instruction, the engine's compile
 * included (see compileMs).
 * `node --import tsx bench/vm-interp.ts` prints the results alone.
 */
import { assemble, encodeProgram, type Instruction } from "../src/isa/index.ts";
import { Program } from "../src/kernel/index.ts";
import { ProgType } from "../src/uapi/index.ts";
import { VmProgram } from "../src/vm/index.ts";
import { generateChunks, type JitMode } from "../src/vm/jit/index.ts";
import { callTable } from "../src/vm/jit/wasm/calls.ts";
import type { JitTarget } from "../src/vm/jit/wasm/choose.ts";
import { ARENA, compileWasm, wasmApi } from "../src/vm/jit/wasm/compile-wasm.ts";
import { type BenchResult, median } from "./result.ts";
import { VM_PROGRAMS as PROGRAMS } from "./vm-programs.ts";

const zeros = new Uint8Array(64);

function kernelNs(insns: Instruction[], repeat: number, data: Uint8Array): number {
  const prog = Program.load({
    name: "bench",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(insns),
  });
  try {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(prog.run({ data, repeat }).duration);
    return median(samples);
  } finally {
    prog.close();
  }
}

function vmNs(
  insns: Instruction[],
  repeat: number,
  data: Uint8Array,
  jit: JitMode,
  jitTarget: JitTarget = "js",
): { ns: number; engine: string } {
  const prog = new VmProgram(insns, { type: ProgType.XDP, jit, jitTarget });
  if (prog.engine !== (jit === "always" ? "jit" : "interpreter"))
    throw new Error(`vm-interp: the ${jit} engine is not in use (${prog.jitRefusal})`);
  if (jit === "always" && jitTarget !== "auto" && prog.jitEngine !== jitTarget)
    throw new Error(`vm-interp: the ${jitTarget} target is not in use (${prog.jitEngineReason})`);
  // Warm up: let V8 optimise the interpreter / the compiled code (in the background).
  const until = performance.now() + 300;
  do prog.run({ data, repeat });
  while (performance.now() < until);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push(prog.run({ data, repeat }).duration);
  return { ns: median(samples), engine: prog.jitEngine ?? "interpreter" };
}

/** Interpreter ns/run vs BPF_PROG_TEST_RUN ns/run (needs root for the kernel side). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("vm-interp: the kernel baseline needs root");
  const out: BenchResult[] = [];
  for (const p of PROGRAMS) {
    const insns = assemble(p.text);
    const baseline = kernelNs(insns, p.repeat, p.data ?? zeros);
    const value = vmNs(insns, p.repeat, p.data ?? zeros, "never").ns;
    // The goal is the JIT's as a program gets it ("auto" picks the target); each
    // target forced is a breakdown.
    const auto = vmNs(insns, p.repeat, p.data ?? zeros, "always", "auto");
    const jit = vmNs(insns, p.repeat, p.data ?? zeros, "always", "js").ns;
    const wasm = vmNs(insns, p.repeat, p.data ?? zeros, "always", "wasm").ns;
    out.push(
      {
        name: `vm interpreter: ${p.name}, ns/run vs kernel JIT`,
        value,
        baseline,
        ratio: value / baseline,
        goal: p.goal,
        unit: "ns",
      },
      {
        name: `vm JIT (auto: ${auto.engine}): ${p.name}, ns/run vs kernel JIT`,
        value: auto.ns,
        baseline,
        ratio: auto.ns / baseline,
        goal: p.jitGoal,
        unit: "ns",
      },
      {
        name: `vm JIT (js forced): ${p.name}, ns/run vs kernel JIT`,
        value: jit,
        baseline,
        ratio: jit / baseline,
        goal: "(breakdown)",
        unit: "ns",
      },
      {
        name: `vm JIT (wasm forced): ${p.name}, ns/run vs kernel JIT`,
        value: wasm,
        baseline,
        ratio: wasm / baseline,
        goal: "(breakdown)",
        unit: "ns",
      },
    );
  }
  for (const n of [100, 1000, 100_000]) {
    const insns = straightMix(n);
    // The goal holds for the target auto picks (as the run goals above), the other
    // is a breakdown.
    const auto = new VmProgram(insns, { jit: "always" }).jitEngine;
    for (const target of ["js", "wasm"] as const) {
      const ms = compileMs(insns, target);
      const picked = target === auto;
      out.push({
        name: `vm JIT (${target}${picked ? ", as auto picks" : " forced"}): compile ${n} instructions, ms per 1,000 vs the goal's 1 ms`,
        value: (ms * 1000) / n,
        baseline: 1,
        ratio: (ms * 1000) / n,
        goal: picked ? "<= 1" : "(breakdown)",
        unit: "ms",
      });
    }
  }
  return out;
}

/** A straight-line mix of `n` instructions (ALU, stack stores and loads, forward branches), as compiled code would have. */
function straightMix(n: number): Instruction[] {
  const lines = ["r0 = 0", "r1 = 1", "r2 = 2"];
  for (let i = 0; lines.length < n - 1; i++) {
    switch (i % 6) {
      case 0:
        lines.push(`r0 += r${1 + (i % 2)}`);
        break;
      case 1:
        lines.push(`*(u64 *)(r10 -${8 + ((i * 8) % 256)}) = r0`);
        break;
      case 2:
        lines.push(`r1 = *(u64 *)(r10 -${8 + (((i - 1) * 8) % 256)})`);
        break;
      case 3:
        lines.push("if r1 > 1000 goto +1");
        break;
      case 4:
        lines.push("r2 ^= r0");
        break;
      default:
        lines.push("w1 <<= 3");
    }
  }
  lines.push("exit");
  return assemble(lines.join("\n"));
}

/** The median of the JIT's compile time for `insns` on `target`. */
function compileMs(insns: Instruction[], target: "js" | "wasm"): number {
  const n = insns.length;
  const samples: number[] = [];
  const prog = new VmProgram(insns, { jit: "never" });
  const code = (prog as unknown as { code: Parameters<typeof generateChunks>[0] }).code;
  // What a run of the program pays before its first instruction, with the generator
  // already optimised by V8 (warmed for 1 s; the median of the samples after):
  // - js: generation, `new Function` and making the function (which compiles it to V8's
  //   bytecode: the generated function is parenthesised, so V8 compiles it eagerly), as
  //   compileCode does, for every chunk (compileCode makes chunk 0 and the others when a
  //   run first enters them: a run of this straight program enters them all). Each
  //   sample's source differs by a comment: V8 caches compiled sources, and the same
  //   source again would cost nothing.
  // - wasm: generation, encoding, `new WebAssembly.Module`, instantiating it and its
  //   first call, which is where V8 compiles the function (Node 20 compiles wasm lazily,
  //   on first call; `new WebAssembly.Module` only validates). The call runs nothing:
  //   with a budget of 0 the module hands the run over at its first check. Each
  //   sample's module differs in the first instruction's immediate: V8 caches modules
  //   by their bytes, and the same bytes again would skip the compile.
  const until = performance.now() + (n > 10_000 ? 0 : 1000);
  for (let i = 0; samples.length < (n > 10_000 ? 3 : 15); i++) {
    const t0 = performance.now();
    if (target === "js") {
      for (const c of generateChunks(code))
        new Function("rt", "code", `${c.source}\n// ${i}`)({}, code);
    } else {
      code.imm[0] = i;
      const r = compileWasm(code);
      if (!r.ok) throw new Error(`vm-interp: wasm refused ${n} instructions: ${r.reason}`);
      const W = wasmApi()!;
      const arena = new W.Memory({ initial: ARENA.PAGES, maximum: ARENA.PAGES });
      const instance = new W.Instance(r.module, { vm: { arena, calls: callTable(W) } });
      (instance.exports.run as (count: number) => number)(1);
    }
    const t = performance.now() - t0;
    if (performance.now() > until && i >= 2) samples.push(t);
  }
  return median(samples);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run())
    console.log(
      `${r.name}: ${r.value.toFixed(1)} vs ${r.baseline.toFixed(1)} ${r.unit ?? ""}, ratio ${r.ratio.toFixed(1)} (goal ${r.goal})`,
    );
}
