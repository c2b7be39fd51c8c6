/**
 * Attaching programs: one function per hook, each returning a {@link Link}.
 * @module
 */

export * from "./attach-program.ts";
export * from "./cgroup.ts";
export * from "./kprobe.ts";
export * from "./kprobe-multi.ts";
export * from "./link-create.ts";
export * from "./netdev.ts";
export * from "./perf-attach.ts";
export * from "./perf-sampling.ts";
export * from "./raw-tracepoint.ts";
export * from "./tracepoint.ts";
export * from "./tracing.ts";
export * from "./uprobe.ts";
export * from "./uprobe-multi.ts";
export * from "./usdt.ts";
export * from "./usdt-spec.ts";
