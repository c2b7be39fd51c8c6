// One process of bench/collection-load.ts: loads OBJ with the built package (dist/),
// as a user's program would, and prints JSON: the first load's ms, then `rounds`
// loads' ms after `warmup` unmeasured ones. Plain JavaScript, run without tsx.
// Usage: node collection-load-child.mjs OBJ PIN_DIR WARMUP ROUNDS
import { readFileSync } from "node:fs";
import { loadCollectionSpec } from "../dist/elf/index.js";
import { Collection } from "../dist/kernel/index.js";

const [obj, pinDir, warmup, rounds] = process.argv.slice(2);

/** One open + load in ms (the file read included, as libbpf's open reads it). */
function once() {
  const t0 = performance.now();
  const spec = loadCollectionSpec(readFileSync(obj));
  const coll = Collection.load(spec, { pinPath: pinDir, objectName: "bench" });
  const t1 = performance.now();
  coll.close();
  return t1 - t0;
}

const first = once();
for (let i = 0; i < Number(warmup); i++) once();
const samples = [];
for (let i = 0; i < Number(rounds); i++) samples.push(once());
process.stdout.write(`${JSON.stringify({ first, samples })}\n`);
