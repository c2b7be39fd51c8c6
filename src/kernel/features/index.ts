/**
 * Kernel feature probes: what this kernel can do, each answer cached, each "no"
 * with a reason. The engine behind `tsbpf feature probe`.
 * @module
 */
export * from "./format-plain.ts";
export * from "./helpers.ts";
export * from "./kprobes.ts";
export * from "./map-types.ts";
export * from "./misc.ts";
export * from "./not-supported-error.ts";
export * from "./prog-types.ts";
export * from "./report.ts";
export * from "./since.ts";
export * from "./status.ts";
export * from "./system-config.ts";
