/**
 * Profile helper for bench/collection-load.ts: open+load of one object N times, with a
 * per-phase breakdown (read+spec, load). `node --cpu-prof --import tsx bench/micro/collection-load-profile.ts [obj] [n]`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadCollectionSpec } from "../../src/elf/index.ts";
import { Collection } from "../../src/kernel/index.ts";

const obj = process.argv[2] ?? "test/testdata/elf/xdp-maps.bpf.o";
const n = Number(process.argv[3] ?? 200);
// Maps pinned by name (LIBBPF_PIN_BY_NAME) go to a temporary bpffs directory, removed
// at the end, unless PIN names one: a profile run must leave nothing pinned.
const pinPath = process.env.PIN ?? mkdtempSync("/sys/fs/bpf/tsbpf-profile-");
const spec: number[] = [];
const load: number[] = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const s = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
  const t1 = performance.now();
  const c = Collection.load(s, { pinPath, objectName: "bench" });
  const t2 = performance.now();
  c.close();
  spec.push(t1 - t0);
  load.push(t2 - t1);
}
if (!process.env.PIN) rmSync(pinPath, { recursive: true, force: true });
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]?.toFixed(3);
console.log(`spec ${med(spec)} ms, load ${med(load)} ms (medians of ${n})`);
