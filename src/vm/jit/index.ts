/**
 * The VM's JIT (issue 12): a program's predecoded code compiled to a JavaScript
 * function ({@link compileCode}) or a WebAssembly module ({@link compileWasm}), both
 * with the interpreter's exact semantics; the engine setting programs choose it with
 * ({@link JitMode}) and the target ({@link JitTarget}, picked per program by
 * {@link chooseTarget} under "auto").
 *
 * Pure: no `node:` imports.
 * @module
 */

export {
  compileCode,
  generate,
  generateChunks,
  JIT_CHUNK_CHARS,
  JIT_MAX_SLOTS,
  type JitChunk,
  type JitCompileResult,
  jitSizes,
  resetJitSizes,
} from "./compile.ts";
export {
  chooseTarget,
  defaultJitTarget,
  HELPER_DENSITY,
  type JitTarget,
  setDefaultJitTarget,
} from "./wasm/choose.ts";
export {
  compileWasm,
  type WasmCompileResult,
  type WasmProfile,
  wasmUnavailable,
} from "./wasm/compile-wasm.ts";

/**
 * Which engine runs a program (`VmProgramOptions.jit`):
 * - `"never"`: the interpreter;
 * - `"always"`: the JIT from the first run (compiled when the program is built);
 * - `"auto"`: the interpreter for the first `jitThreshold` runs, then the JIT.
 * Where the JIT refuses a program (`new Function` forbidden by a Content-Security-Policy,
 * more than {@link JIT_MAX_SLOTS} slots), it runs in the interpreter and
 * `VmProgram.jitRefusal` says why. A large program is compiled in chunks of up to
 * {@link JIT_CHUNK_CHARS} chars of code, each when a run first enters it.
 */
export type JitMode = "always" | "never" | "auto";

/** Runs (counting `repeat`) before "auto" compiles a program. */
export const DEFAULT_JIT_THRESHOLD = 10;

/**
 * "never" for now: V8 optimises a generated function in the background, and until it
 * has (measured on a loaded 2-core machine: ~50 ms for 200 instructions with 100 stack
 * stores, ~230 ms for 40 map lookups in 320 instructions) the unoptimised function
 * runs slower than the interpreter, which every program shares and which is therefore
 * already optimised; a short-lived program would only lose. Once optimised, the JIT
 * runs the 0..999 loop 6x, the packet parser 4x, the 2-instruction program 4x faster
 * than the interpreter (bench/vm-interp.ts). Opt in per program ("always"/"auto") or
 * with {@link setDefaultJitMode}.
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
