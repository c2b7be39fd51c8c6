/**
 * VM map lookups: a BPF program doing 100 array (or hash) lookups, run in the VM's
 * interpreter, in its JIT and through the kernel's test run (JIT); ns per lookup and the ratio VM /
 * kernel — and a second ratio against bpftime's published figures (3 ns array, 22 ns
 * hash lookups), which are quoted from bpftime's paper, not measured here.
 * `node --import tsx bench/vm-maps.ts` prints the results alone.
 */
import { encodeProgram } from "../src/isa/index.ts";
import { BpfMap, Program } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import { createVmMap, VmProgram } from "../src/vm/index.ts";
import { type BenchResult, median } from "./result.ts";
import { LOOKUPS, lookupProgram as program } from "./vm-programs.ts";

const REPEAT = 20_000;
/** bpftime's published userspace lookup times (ns), for the second ratio. */
const PUBLISHED = { array: 3, hash: 22 } as const;

/**
 * The JIT's program has as many lookups as the others (it was 40 while the JIT refused
 * functions larger than V8 optimises; large programs now compile in chunks).
 */
const JIT_LOOKUPS = LOOKUPS;

const data = new Uint8Array(64);

type Kind = "array" | "hash" | "hash16";

function measure(kind: Kind): { vm: number; jit: number; kernel: number } {
  const keySize = kind === "hash16" ? 16 : 4;
  const spec: MapSpec = {
    name: `bench_${kind}`,
    type: kind === "array" ? MapType.ARRAY : MapType.HASH,
    keySize,
    valueSize: 8,
    maxEntries: 16,
  };
  const kmap = BpfMap.create(spec);
  try {
    // A VM map per engine (the same contents): a map that one program's address space
    // maps stays out of another's wasm memory (see VmMap.relocate), as two programs of
    // one VirtualMachine would not be.
    const vmaps = [createVmMap(spec), createVmMap(spec)];
    for (let k = 0; k < 16; k++) {
      const key = new Uint8Array(keySize);
      key[0] = k;
      const value = new Uint8Array(8).fill(k);
      kmap.update(key, value);
      for (const vmap of vmaps) vmap.update(key, value);
    }
    const insns = program(kmap.fd, LOOKUPS, keySize);
    const prog = Program.load({
      name: "bench",
      type: ProgType.XDP,
      license: "GPL",
      instructions: encodeProgram(insns),
    });
    const ks: number[] = [];
    try {
      for (let i = 0; i < 5; i++) ks.push(prog.run({ data, repeat: REPEAT }).duration);
    } finally {
      prog.close();
    }
    const vmNs = (jit: "never" | "always"): number => {
      const lookups = jit === "always" ? JIT_LOOKUPS : LOOKUPS;
      const vmap = vmaps[jit === "always" ? 1 : 0]!;
      const vp = new VmProgram(jit === "always" ? program(kmap.fd, lookups, keySize) : insns, {
        type: ProgType.XDP,
        resolveMap: (_p, imm) => (imm === kmap.fd ? vmap : undefined),
        jit,
      });
      if (jit === "always" && vp.engine !== "jit")
        throw new Error(`vm-maps: the JIT refused: ${vp.jitRefusal}`);
      // Warm up (V8 optimises the JIT's function in the background: up to a second here).
      const until = performance.now() + (jit === "always" ? 2000 : 200);
      do vp.run({ data, repeat: REPEAT / 4 });
      while (performance.now() < until);
      const vs: number[] = [];
      for (let i = 0; i < 5; i++) vs.push(vp.run({ data, repeat: REPEAT / 4 }).duration);
      return median(vs) / lookups;
    };
    return { vm: vmNs("never"), jit: vmNs("always"), kernel: median(ks) / LOOKUPS };
  } finally {
    kmap.close();
  }
}

/** VM lookup ns vs the kernel's (measured) and vs bpftime's (published). */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("vm-maps: the kernel baseline needs root");
  const out: BenchResult[] = [];
  for (const kind of ["array", "hash", "hash16"] as const) {
    const { vm, jit, kernel } = measure(kind);
    const what = kind === "hash16" ? "hash (16-byte keys)" : kind;
    const pub = kind === "array" ? "array" : "hash";
    out.push({
      name: `vm ${what} lookup ns (100 per program) vs kernel test run`,
      value: vm,
      baseline: kernel,
      ratio: vm / kernel,
      goal: kind === "array" ? "<= 50" : "<= 10",
      unit: "ns",
    });
    out.push({
      name: `vm ${what} lookup ns vs bpftime's published ${PUBLISHED[pub]} ns (published, not measured)`,
      value: vm,
      baseline: PUBLISHED[pub],
      ratio: vm / PUBLISHED[pub],
      goal: "<= 10",
      unit: "ns",
    });
    out.push({
      name: `vm JIT ${what} lookup ns (${JIT_LOOKUPS} per program) vs kernel test run`,
      value: jit,
      baseline: kernel,
      ratio: jit / kernel,
      goal: kind === "array" ? "<= 50" : "<= 10",
      unit: "ns",
    });
    // Issue 12's goals for the JIT: 3 ns per array lookup, 25 ns per hash lookup.
    const goal = kind === "array" ? 3 : 25;
    out.push({
      name: `vm JIT ${what} lookup ns vs issue 12's goal of ${goal} ns`,
      value: jit,
      baseline: goal,
      ratio: jit / goal,
      goal: "<= 1",
      unit: "ns",
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run())
    console.log(
      `${r.name}: ${r.value.toFixed(1)} vs ${r.baseline.toFixed(1)} ns, ratio ${r.ratio.toFixed(2)} (goal ${r.goal})`,
    );
}
