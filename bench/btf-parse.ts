/**
 * BTF benchmarks on the running kernel's BTF (/sys/kernel/btf/vmlinux):
 * - parse time and heap growth, against cilium/ebpf's published figures (50 ms,
 *   38 MiB: there is no Go toolchain here to measure it in the same run);
 * - `format c` (vmlinux.h) and `format raw` dump time against bpftool's, measured in
 *   the same run (bpftool's includes its process start, as a user would see it).
 *
 * Times are the best of several runs: these machines are shared and noisy.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dumpC, dumpRaw, parseBTF } from "../src/btf/index.ts";
import type { BenchResult } from "./result.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const CILIUM_PARSE_MS = 50;
const CILIUM_PARSE_MIB = 38;

function best(runs: number, fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

function bpftoolMs(format: "c" | "raw", runs: number): number | undefined {
  if (spawnSync("bpftool", ["version"]).status !== 0) return undefined;
  return best(runs, () => {
    const r = spawnSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", format], {
      maxBuffer: 1 << 30,
      stdio: ["ignore", "pipe", "ignore"],
    });
    if (r.status !== 0) throw new Error(`bpftool btf dump format ${format} failed`);
  });
}

/** Heap growth while parsing once (after a GC when --expose-gc is on). */
function parseHeapMiB(bytes: Uint8Array): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const btf = parseBTF(bytes);
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (btf.count === 0) throw new Error("unreachable");
  return (after - before) / (1 << 20);
}

/** Runs the BTF benchmarks. */
export async function run(): Promise<BenchResult[]> {
  if (!existsSync(VMLINUX)) throw new Error(`${VMLINUX} does not exist`);
  const bytes = new Uint8Array(readFileSync(VMLINUX));
  const results: BenchResult[] = [];

  const firstParse = best(1, () => parseBTF(bytes));
  const parseMs = best(10, () => parseBTF(bytes));
  results.push({
    name: "parse vmlinux BTF (first run) vs cilium/ebpf's 50 ms",
    value: firstParse,
    baseline: CILIUM_PARSE_MS,
    ratio: firstParse / CILIUM_PARSE_MS,
    goal: "<= 3",
    unit: "ms",
  });
  results.push({
    name: "parse vmlinux BTF (warm) vs cilium/ebpf's 50 ms",
    value: parseMs,
    baseline: CILIUM_PARSE_MS,
    ratio: parseMs / CILIUM_PARSE_MS,
    goal: "<= 1.5",
    unit: "ms",
  });
  const mib = parseHeapMiB(bytes);
  results.push({
    name: "parse vmlinux BTF heap growth vs cilium/ebpf's 38 MiB",
    value: mib,
    baseline: CILIUM_PARSE_MIB,
    ratio: mib / CILIUM_PARSE_MIB,
    goal: "<= 1",
    unit: "MiB",
  });

  const btf = parseBTF(bytes);
  for (const format of ["c", "raw"] as const) {
    const dump = format === "c" ? () => dumpC(btf) : () => dumpRaw(btf);
    dump(); // warm up (and decode every member list once)
    const ours = best(5, dump);
    const theirs = bpftoolMs(format, 5);
    if (theirs === undefined) continue;
    // In-process (the dump alone, against bpftool's whole process): a breakdown of
    // cli-walltime's whole-process comparison, which is the headline.
    results.push({
      name: `btf dump vmlinux format ${format}, in process, vs bpftool's whole process`,
      value: ours,
      baseline: theirs,
      ratio: ours / theirs,
      goal: "(breakdown)",
      unit: "ms",
    });
  }
  return results;
}
