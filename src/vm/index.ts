/**
 * tsbpf's userspace runtime: the kernel half of eBPF in TypeScript — an address
 * space with bounds-checked regions, an interpreter for the whole ISA, maps, helpers
 * and the contexts BPF_PROG_TEST_RUN builds. Runs anywhere JavaScript runs.
 *
 * Pure: no `node:` imports.
 * @module
 */
export * from "./context.ts";
export * from "./errors.ts";
export * from "./format.ts";
export * from "./helpers.ts";
export * from "./interpreter.ts";
export * from "./maps/array.ts";
export * from "./maps/hash.ts";
export * from "./maps/map.ts";
export * from "./maps/prog-array.ts";
export * from "./memory.ts";
export * from "./program.ts";
