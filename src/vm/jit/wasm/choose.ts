/**
 * Which JIT target runs a program: WebAssembly or JavaScript (`VmProgramOptions.jitTarget`).
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { WasmProfile } from "./compile-wasm.ts";

/**
 * The JIT's target (`VmProgramOptions.jitTarget`):
 * - `"auto"`: wasm where the compiler accepts the program and {@link chooseTarget}
 *   prefers it, else JavaScript;
 * - `"wasm"`: wasm whenever the compiler accepts the program (else JavaScript);
 * - `"js"`: always JavaScript.
 */
export type JitTarget = "auto" | "wasm" | "js";

let defaultTarget: JitTarget = "auto";

/** The target of programs built without a `jitTarget` option (initially "auto"). */
export function defaultJitTarget(): JitTarget {
  return defaultTarget;
}

/** Sets the target of programs built without a `jitTarget` option (for test matrices). */
export function setDefaultJitTarget(target: JitTarget): void {
  if (target !== "auto" && target !== "wasm" && target !== "js")
    throw new RangeError(`jit target must be "auto", "wasm" or "js", not ${String(target)}`);
  defaultTarget = target;
}

/**
 * The heuristic behind "auto": wasm unless the program leaves the module often.
 * Instructions the module hands to the interpreter (bpf-to-bpf calls, tail calls) run
 * the rest of the run interpreted, so such programs take the JS
 * target, which compiles them. Each helper call from wasm is a call out to JS (measured
 * on Node 20: ~15 ns for the call and the registers through the arena, against ~0.5 ns
 * per wasm instruction; map_lookup_elem is then answered inline in JS, as the JS target
 * does without the call), so programs with more than one helper call per
 * {@link HELPER_DENSITY} instructions take the JS target.
 */
export function chooseTarget(p: WasmProfile): { readonly wasm: boolean; readonly why: string } {
  if (p.handOvers > 0)
    return {
      wasm: false,
      why: `js: ${p.handOvers} instruction(s) the wasm module would hand to the interpreter (bpf-to-bpf or tail calls)`,
    };
  if (p.helperCalls * HELPER_DENSITY > p.insns)
    return {
      wasm: false,
      why: `js: ${p.helperCalls} helper calls in ${p.insns} instructions (wasm calls out to JS for each)`,
    };
  return { wasm: true, why: `wasm: ${describeProfile(p)}` };
}

/** `N instructions, H helper calls[, L map lookups inline]`, for the engine's reason. */
export function describeProfile(p: WasmProfile): string {
  const inline = p.inlineLookups > 0 ? `, ${p.inlineLookups} map lookups inline` : "";
  return `${p.insns} instructions, ${p.helperCalls} helper calls${inline}`;
}

/** "auto" takes wasm while helper calls are at most one per this many instructions. */
export const HELPER_DENSITY = 16;
