/**
 * The VM's interpreter against the kernel's JIT on the same programs, both through
 * their test-run loop (`repeat`): ns per run and the ratio VM / kernel.
 * `node --import tsx bench/vm-interp.ts` prints the results alone.
 */
import { assemble, encodeProgram, type Instruction } from "../src/isa/index.ts";
import { Program } from "../src/kernel/index.ts";
import { ProgType } from "../src/uapi/index.ts";
import { VmProgram } from "../src/vm/index.ts";
import { type BenchResult, median } from "./result.ts";

const PROGRAMS: { name: string; text: string; repeat: number; goal: string }[] = [
  { name: "2 instructions", text: "r0 = 2\nexit", repeat: 1_000_000, goal: "<= 50" },
  {
    name: "loop summing 0..999",
    text: "r0 = 0\nr1 = 0\nloop:\nr0 += r1\nr1 += 1\nif r1 < 1000 goto loop\nexit",
    repeat: 20_000,
    goal: "<= 50",
  },
];

const data = new Uint8Array(64);

function kernelNs(insns: Instruction[], repeat: number): number {
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

function vmNs(insns: Instruction[], repeat: number): number {
  const prog = new VmProgram(insns, { type: ProgType.XDP });
  prog.run({ data, repeat }); // warm up: let V8 optimise the interpreter
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push(prog.run({ data, repeat }).duration);
  return median(samples);
}

/** Interpreter ns/run vs BPF_PROG_TEST_RUN ns/run (needs root for the kernel side). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("vm-interp: the kernel baseline needs root");
  const out: BenchResult[] = [];
  for (const p of PROGRAMS) {
    const insns = assemble(p.text);
    const baseline = kernelNs(insns, p.repeat);
    const value = vmNs(insns, p.repeat);
    out.push({
      name: `vm interpreter: ${p.name}, ns/run vs kernel JIT`,
      value,
      baseline,
      ratio: value / baseline,
      goal: p.goal,
      unit: "ns",
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run())
    console.log(
      `${r.name}: ${r.value.toFixed(1)} vs ${r.baseline.toFixed(1)} ns, ratio ${r.ratio.toFixed(1)} (goal ${r.goal})`,
    );
}
