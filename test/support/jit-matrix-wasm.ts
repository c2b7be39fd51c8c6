/**
 * Imported first by test/vm-jit-matrix-wasm.test.ts: every VmProgram built without a
 * `jit` option runs in the JIT's wasm target (see test/support/jit-matrix-always.ts for
 * why this is a module of its own).
 */
import { setDefaultJitMode } from "../../src/vm/jit/index.ts";
import { setDefaultJitTarget } from "../../src/vm/jit/wasm/choose.ts";

setDefaultJitMode("always");
setDefaultJitTarget("wasm");
process.env.TSBPF_DIFF_COUNT ??= "300";
