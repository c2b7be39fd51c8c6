/**
 * tsbpf's userspace runtime: the kernel half of eBPF in TypeScript — an address
 * space with bounds-checked regions, an interpreter for the whole ISA, maps, helpers
 * and the contexts BPF_PROG_TEST_RUN builds. Runs anywhere JavaScript runs.
 *
 * Pure: no `node:` imports.
 * @module
 */
export { MapIterationAbortedError } from "../spec/map-iteration-error.ts";
export * from "./context.ts";
export * from "./context-tracing.ts";
export * from "./errors.ts";
export * from "./format.ts";
export * from "./helpers.ts";
export * from "./helpers-callback.ts";
export * from "./helpers-clock.ts";
export * from "./helpers-csum.ts";
export * from "./helpers-lock.ts";
export * from "./helpers-maps.ts";
export * from "./helpers-net.ts";
export * from "./helpers-printk.ts";
export * from "./helpers-string.ts";
export * from "./helpers-trace.ts";
export * from "./helpers-xdp.ts";
export * from "./interpreter.ts";
export * from "./maps/array.ts";
export * from "./maps/bloom-filter.ts";
export * from "./maps/create.ts";
export * from "./maps/hash.ts";
export * from "./maps/jhash.ts";
export * from "./maps/lpm-trie.ts";
export * from "./maps/map.ts";
export * from "./maps/map-of-maps.ts";
export * from "./maps/perf-event-array.ts";
export * from "./maps/prog-array.ts";
export * from "./maps/queue.ts";
export * from "./maps/redirect-map.ts";
export * from "./maps/ringbuf.ts";
export * from "./maps/stack-trace.ts";
export * from "./memory.ts";
export * from "./program.ts";
export * from "./random.ts";
export * from "./run-env.ts";
export * from "./variables.ts";
export * from "./virtual-machine.ts";
