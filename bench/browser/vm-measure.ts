/**
 * The VM's figures as bench/vm-browser.ts compares them: the same code measured in
 * Node and, from the bundle of bench/browser/entry.ts, in headless Chromium. ns per
 * run of bench/vm-programs.ts's programs (interpreter, and the JIT as "auto" picks
 * its target) and ns per map lookup (the JIT). Pure: no `node:` imports.
 * @module
 */
import { assemble, type Instruction } from "../../src/isa/index.ts";
import { MapType, ProgType } from "../../src/uapi/index.ts";
import { createVmMap, VmProgram } from "../../src/vm/index.ts";
import { LOOKUPS, lookupProgram, VM_PROGRAMS } from "../vm-programs.ts";

/** One figure: what was measured, its ns, and the engine that ran it. */
export interface VmFigure {
  readonly name: string;
  readonly ns: number;
  readonly engine: string;
}

const zeros = new Uint8Array(64);

/**
 * Median ns per run of `prog`, after `warmMs` of warming up: timed around `run()` over
 * enough repeats for 20 ms a sample, since a page's clock is coarse (Chromium rounds
 * `performance.now()` to 100 us outside cross-origin isolation).
 */
function nsPerRun(prog: VmProgram, data: Uint8Array, warmMs: number): number {
  let repeat = 1000;
  const until = performance.now() + warmMs;
  for (;;) {
    const t0 = performance.now();
    prog.run({ data, repeat });
    const ms = performance.now() - t0;
    if (ms < 20) repeat = Math.min(repeat * 4, 1e9);
    else if (performance.now() >= until) break;
  }
  const xs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    prog.run({ data, repeat });
    xs.push(((performance.now() - t0) * 1e6) / repeat);
  }
  xs.sort((a, b) => a - b);
  return xs[3]!;
}

/** Every figure, in a fixed order (the names are the keys both sides compare). */
export function measureVm(): VmFigure[] {
  const out: VmFigure[] = [];
  for (const p of VM_PROGRAMS) {
    const insns = assemble(p.text);
    for (const jit of ["never", "always"] as const) {
      const prog = new VmProgram(insns, { type: ProgType.XDP, jit });
      const ns = nsPerRun(prog, p.data ?? zeros, 300);
      const engine = jit === "never" ? "interpreter" : `jit ${prog.jitEngine}`;
      out.push({ name: `${p.name}, ${jit === "never" ? "interpreter" : "JIT"}`, ns, engine });
    }
  }
  for (const kind of ["array", "hash", "hash16"] as const) {
    const keySize = kind === "hash16" ? 16 : 4;
    const map = createVmMap({
      name: kind,
      type: kind === "array" ? MapType.ARRAY : MapType.HASH,
      keySize,
      valueSize: 8,
      maxEntries: 16,
    });
    for (let k = 0; k < 16; k++) {
      const key = new Uint8Array(keySize);
      key[0] = k;
      map.update(key, new Uint8Array(8).fill(k));
    }
    const insns: Instruction[] = lookupProgram(1, LOOKUPS, keySize);
    const prog = new VmProgram(insns, {
      type: ProgType.XDP,
      resolveMap: () => map,
      jit: "always",
    });
    const ns = nsPerRun(prog, zeros, 1000) / LOOKUPS;
    const what = kind === "hash16" ? "hash (16-byte keys)" : kind;
    out.push({ name: `${what} lookup, JIT`, ns, engine: `jit ${prog.jitEngine}` });
  }
  return out;
}
