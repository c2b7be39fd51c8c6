/**
 * Histograms: read log2 and linear histograms out of any map (kernel or VM) and print
 * them as BCC's tools and bpftrace do, or as JSON.
 *
 * Pure: no `node:` imports.
 *
 * @example
 * ```ts
 * import { formatLog2Histogram, readHistograms } from "tsbpf/hist";
 * for (const { counts } of readHistograms(map)) {
 *   process.stdout.write(formatLog2Histogram(counts, { unit: "usecs" }));
 * }
 * ```
 * @module
 */

export * from "./format.ts";
export * from "./read.ts";
