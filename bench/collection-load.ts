/**
 * Object open + load time: `loadCollectionSpec` + `Collection.load` against a C libbpf
 * loader (bench/c/loader.c: bpf_object__open_file + bpf_object__load) on the same
 * objects in the same run. Two objects: xdp-maps (maps, global data, three programs,
 * no CO-RE) and core/task (CO-RE against vmlinux BTF).
 *
 * libbpf parses vmlinux BTF on every load of a CO-RE object; tsbpf parses it once per
 * process, so its steady state is compared with libbpf's, and its first (cold) load is
 * reported on its own row against the same libbpf median: the median of first loads in
 * fresh processes (one sample per process, so one slow start does not decide it).
 *
 * Needs root and libbpf-dev. Run alone with `node --import tsx bench/collection-load.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection, ensureBpffs } from "../src/kernel/index.ts";
import { type BenchResult, median } from "./result.ts";

/** Loads measured per object (after WARMUP unmeasured ones), on each side. */
const ROUNDS = 100;
/**
 * Loads run first and not counted: the steady state of a process that loads objects
 * (an agent) is what the first row compares; the cold row is the first load of a
 * fresh process.
 */
const WARMUP = 20;
const ROOT = join(import.meta.dirname, "..");
const OBJECTS = [
  {
    label: "xdp-maps (no CO-RE)",
    core: false,
    path: join(ROOT, "test/testdata/elf/xdp-maps.bpf.o"),
  },
  { label: "core/task (CO-RE)", core: true, path: join(ROOT, "test/testdata/core/task.bpf.o") },
];

function compile(dir: string): string {
  const exe = join(dir, "loader");
  execFileSync("cc", ["-O2", "-o", exe, join(import.meta.dirname, "c", "loader.c"), "-lbpf"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return exe;
}

function libbpfMs(exe: string, obj: string, pinDir: string): number {
  const out = execFileSync(exe, [obj, String(ROUNDS), pinDir], { encoding: "utf8" });
  return median(out.trim().split(/\s+/).map(Number)) / 1000;
}

/** One open + load in ms (the file read included, as libbpf's open reads it). */
function tsbpfOnce(obj: string, pinDir: string): number {
  const t0 = performance.now();
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
  const coll = Collection.load(spec, { pinPath: pinDir, objectName: "bench" });
  const t1 = performance.now();
  coll.close();
  return t1 - t0;
}

const COLD_RUNS = 7;

/**
 * The first open+load of a process (vmlinux BTF read and parsed, code not yet
 * optimised): the median of COLD_RUNS fresh processes, each timing its one load.
 */
function coldMs(obj: string, pinDir: string): number {
  const samples: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "--cold", obj, pinDir],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    samples.push(Number(out.trim()));
  }
  return median(samples);
}

/** Runs the benchmark; skipped (empty) without root or libbpf. */
export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("collection-load: needs root, skipped\n");
    return [];
  }
  ensureBpffs();
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-load-"));
  const pinDir = mkdtempSync("/sys/fs/bpf/tsbpf-bench-load-");
  const results: BenchResult[] = [];
  try {
    const exe = compile(dir);
    for (const { label, core, path } of OBJECTS) {
      const cold = core ? coldMs(path, pinDir) : 0;
      const samples: number[] = [];
      for (let i = 0; i < WARMUP; i++) tsbpfOnce(path, pinDir);
      for (let i = 0; i < ROUNDS; i++) samples.push(tsbpfOnce(path, pinDir));
      const ts = median(samples);
      const c = libbpfMs(exe, path, pinDir);
      results.push({
        name: `open+load ${label} vs C libbpf`,
        value: ts,
        baseline: c,
        ratio: ts / c,
        goal: "<= 1.5",
        unit: "ms",
      });
      if (core) {
        results.push({
          name: `first open+load ${label} (vmlinux BTF parsed) vs C libbpf`,
          value: cold,
          baseline: c,
          ratio: cold / c,
          goal: "<= 3",
          unit: "ms",
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pinDir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === "--cold") {
  process.stdout.write(`${tsbpfOnce(process.argv[3] as string, process.argv[4] as string)}\n`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) {
    console.log(
      `${r.name}: ${r.value.toFixed(2)} ${r.unit} vs ${r.baseline.toFixed(2)} ${r.unit} (ratio ${r.ratio.toFixed(2)}, goal ${r.goal})`,
    );
  }
}
