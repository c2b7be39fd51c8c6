/**
 * The VM's JIT (issue 12, first stage): a program's predecoded code compiled to a
 * JavaScript function with the interpreter's exact semantics ({@link compileCode}),
 * and the engine setting programs choose it with ({@link JitMode}).
 *
 * Pure: no `node:` imports.
 * @module
 */

export {
  compileCode,
  generate,
  JIT_MAX_SLOTS,
  JIT_MAX_SOURCE,
  type JitCompileResult,
} from "./compile.ts";

/**
 * Which engine runs a program (`VmProgramOptions.jit`):
 * - `"never"`: the interpreter;
 * - `"always"`: the JIT from the first run (compiled when the program is built);
 * - `"auto"`: the interpreter for the first `jitThreshold` runs, then the JIT.
 * Where the JIT refuses a program (`new Function` forbidden by a Content-Security-Policy,
 * a program whose function would be too large for V8 to optimise, {@link JIT_MAX_SOURCE}), it runs in the interpreter and
 * `VmProgram.jitRefusal` says why.
 */
export type JitMode = "always" | "never" | "auto";

/** Runs (counting `repeat`) before "auto" compiles a program. */
export const DEFAULT_JIT_THRESHOLD = 10;

/**
 * "never" until the JIT's cost is bounded: V8 optimises a generated function in the
 * background, and for memory-heavy code that takes long (about 4-8 ms per load or
 * store on this 2-core machine: 200 instructions with 100 stack stores, 0.2-0.8 s),
 * during which the unoptimised function runs slower than the (already optimised)
 * interpreter; past 60 KB of bytecode V8 never optimises it (a program of 100 map
 * lookups: ~1,000 ns per lookup against the interpreter's 75). Compute loops gain
 * 8x at once; so the JIT is opt-in per program ("always"/"auto") for now.
 */
let defaultMode: JitMode = "never";

/**
 * The engine of programs built without a `jit` option (initially "never", see above).
 * For test matrices that run whole suites under one engine.
 */
export function setDefaultJitMode(mode: JitMode): void {
  if (mode !== "always" && mode !== "never" && mode !== "auto")
    throw new RangeError(`jit mode must be "always", "never" or "auto", not ${String(mode)}`);
  defaultMode = mode;
}

/** The engine of programs built without a `jit` option. */
export function defaultJitMode(): JitMode {
  return defaultMode;
}

/** Counts since the module loaded: programs compiled and refused, with the last refusal. */
export const jitStats = { compiled: 0, refused: 0, lastRefusal: "" };
