/**
 * tsbpf's userspace runtime (`tsbpf/vm`): the kernel half of eBPF in TypeScript — an
 * address space with bounds-checked regions, an interpreter for the whole ISA, maps,
 * helpers and the contexts BPF_PROG_TEST_RUN builds. Runs anywhere JavaScript runs.
 *
 * This is the public surface; the modules under src/vm/ hold more (helper tables,
 * checksum and hash arithmetic, region layout) that is the runtime's own business.
 *
 * Pure: no `node:` imports.
 * @module
 */

// ---- logging from BPF programs (tsbpf_log.h) ---------------------------------------
export {
  formatLogLine,
  LogDecoder,
  LogError,
  LogLevel,
  type LogOptions,
  type LogRecord,
  logLevelConstants,
} from "../spec/index.ts";
// ---- maps --------------------------------------------------------------------------
export { MapIterationAbortedError } from "../spec/map-iteration-error.ts";
// ---- contexts of tracing programs --------------------------------------------------
export {
  PERF_EVENT_DATA,
  PT_REGS_SIZE,
  PT_REGS_X86_64,
  type PtRegName,
  perfEventData,
  ptRegs,
} from "./context-tracing.ts";
// ---- programs ----------------------------------------------------------------------
export { VmError } from "./errors.ts";
export { formatInstruction } from "./format.ts";
export { defaultHelpers, type HelperSettings } from "./helpers.ts";
export {
  DEFAULT_BUDGET,
  type HelperFunction,
  MAX_CALL_FRAMES,
  MAX_TAIL_CALL_CNT,
  type Machine,
  STACK_SIZE,
} from "./interpreter.ts";
export {
  defaultJitMode,
  defaultJitTarget,
  type JitCompileResult,
  type JitMode,
  type JitTarget,
  jitStats,
  setDefaultJitMode,
  setDefaultJitTarget,
} from "./jit/index.ts";
export { VmArrayMap } from "./maps/array.ts";
export { VmBloomFilter } from "./maps/bloom-filter.ts";
export { createVmMap, VM_MAP_TYPES } from "./maps/create.ts";
export { VmHashMap } from "./maps/hash.ts";
export { VmLpmTrie } from "./maps/lpm-trie.ts";
export { VM_MAP_MAX_BYTES, VmMap, VmMapError, type VmMapOptions } from "./maps/map.ts";
export { VmMapOfMaps } from "./maps/map-of-maps.ts";
export { type PerfSample, type PerfSink, VmPerfEventArray } from "./maps/perf-event-array.ts";
export { VmProgArray } from "./maps/prog-array.ts";
export { VmQueueMap } from "./maps/queue.ts";
export { VmRedirectMap } from "./maps/redirect-map.ts";
export { type RingbufRecord, VmRingBuf } from "./maps/ringbuf.ts";
export { VmStackTraceMap } from "./maps/stack-trace.ts";
export { VmMemory } from "./memory.ts";
export { VmProgram, type VmProgramOptions, type VmRunInput, type VmRunResult } from "./program.ts";
export type {
  HelperInput,
  ProbeRegion,
  VmRedirect,
  VmStackInput,
  VmTaskInfo,
} from "./run-env.ts";
export { VmVariable } from "./variables.ts";
export { type VmVerification, VmVerifierError } from "./verify-load.ts";
// ---- collections: an object's maps, programs and variables, loaded into the VM ------
export { VirtualMachine, type VirtualMachineOptions, vmBackend } from "./virtual-machine.ts";
export { VmLogger } from "./vm-logger.ts";
