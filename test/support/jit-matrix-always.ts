/**
 * Imported first by test/vm-jit-matrix.test.ts: every VmProgram built without a `jit`
 * option runs in the JIT (JS target), and the kernel differential runs 300 programs.
 * A module of its own because the matrix imports the VM's test files statically (a
 * dynamic import in a loop lets node:test finish before the later files register), and
 * static imports evaluate in order, before the importing module's body.
 */
import { setDefaultJitMode } from "../../src/vm/jit/index.ts";
import { setDefaultJitTarget } from "../../src/vm/jit/wasm/choose.ts";

setDefaultJitMode("always");
setDefaultJitTarget("js");
process.env.TSBPF_DIFF_COUNT ??= "300";
