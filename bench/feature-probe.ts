/**
 * `feature probe` wall time: tsbpf's probe engine (every section, helpers included,
 * cache cleared before each run) against `bpftool feature probe kernel` measured in
 * the same run, alternating, median of several runs each.
 *
 * bpftool's time is a whole process (exec included, ~1 ms); tsbpf's is the engine in
 * a warm process, which is what a library user or a long-lived CLI pays. tsbpf probes
 * more than bpftool 7.1 (netfilter programs, cgrp_storage and arena maps, ISA v4, and
 * helpers up to this kernel's last), so equal time means less time per probe.
 *
 * Run on its own: node --import tsx bench/feature-probe.ts
 */
import { execFileSync } from "node:child_process";
import { clearFeatureCache, probeKernelFeatures } from "../src/kernel/features/index.ts";
import { type BenchResult, median } from "./result.ts";

const RUNS = 7;

function bpftoolMs(): number {
  const t0 = performance.now();
  execFileSync("bpftool", ["feature", "probe", "kernel"], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  return performance.now() - t0;
}

function tsbpfMs(opts: { helpers: boolean }): { ms: number; helperLoads: number } {
  clearFeatureCache();
  const t0 = performance.now();
  const report = probeKernelFeatures({ helpers: opts.helpers });
  const ms = performance.now() - t0;
  return { ms, helperLoads: report.helpers.reduce((n, s) => n + s.probed, 0) };
}

/** Runs the benchmark; needs root (probes load programs) and bpftool for the baseline. */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error("feature probe benchmark needs root");
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error("bpftool is not installed (apt-get install bpftool): no baseline");
  }
  // Warm up both (JIT, page cache).
  tsbpfMs({ helpers: true });
  bpftoolMs();
  const ours: number[] = [];
  const oursNoHelpers: number[] = [];
  const theirs: number[] = [];
  let loads = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = tsbpfMs({ helpers: true });
    ours.push(r.ms);
    loads = r.helperLoads;
    theirs.push(bpftoolMs());
    oursNoHelpers.push(tsbpfMs({ helpers: false }).ms);
  }
  const value = median(ours);
  const baseline = median(theirs);
  process.stderr.write(
    `feature-probe: ${loads} helper loads; without helpers ${median(oursNoHelpers).toFixed(1)} ms\n`,
  );
  return [
    {
      name: "feature probe (all sections) vs bpftool",
      value,
      baseline,
      ratio: value / baseline,
      goal: "<= 2",
      unit: "ms",
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) {
    console.log(
      `${r.name.padEnd(48)} tsbpf ${r.value.toFixed(1).padStart(8)} ${r.unit}  baseline ${r.baseline.toFixed(1).padStart(8)} ${r.unit}  ratio ${r.ratio.toFixed(2)} (goal ${r.goal})`,
    );
  }
}
