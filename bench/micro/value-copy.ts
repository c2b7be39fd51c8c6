/**
 * Micro-benchmark behind BpfMap.lookup's copy of the value out of native memory: ways
 * to make a fresh 8-byte Uint8Array from a koffi view (ns per copy; best, 6th, median of
 * 50 rounds of 100k). `node --import tsx bench/micro/value-copy.ts`.
 */
import koffi from "koffi";

const p = koffi.alloc("uint8_t", 64);
const src = new Uint8Array(koffi.view(p, 64), 8, 8);
const heapSrc = new Uint8Array(8);
const N = 100000;
let sink: unknown;
const v: Record<string, () => void> = {
  loop: () => {
    for (let i = 0; i < N; i++) {
      const o = new Uint8Array(8);
      for (let j = 0; j < 8; j++) o[j] = src[j]!;
      sink = o;
    }
  },
  slice: () => {
    for (let i = 0; i < N; i++) sink = src.slice();
  },
  sliceHeap: () => {
    for (let i = 0; i < N; i++) sink = heapSrc.slice();
  },
  ctorCopy: () => {
    for (let i = 0; i < N; i++) sink = new Uint8Array(src);
  },
  newSet: () => {
    for (let i = 0; i < N; i++) {
      const o = new Uint8Array(8);
      o.set(src);
      sink = o;
    }
  },
  abSlice: () => {
    for (let i = 0; i < N; i++) sink = new Uint8Array((src.buffer as ArrayBuffer).slice(8, 16));
  },
  allocOnly: () => {
    for (let i = 0; i < N; i++) sink = new Uint8Array(8);
  },
  loopOnly: () => {
    const o = new Uint8Array(8);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < 8; j++) o[j] = src[j]!;
    }
    sink = o;
  },
};
const res: Record<string, number[]> = {};
for (let r = 0; r < 50; r++)
  for (const [k, f] of Object.entries(v)) {
    const t = process.hrtime.bigint();
    f();
    res[k] = [...(res[k] ?? []), Number(process.hrtime.bigint() - t) / N];
  }
for (const [k, s] of Object.entries(res)) {
  s.sort((a, b) => a - b);
  console.log(k.padEnd(12), s[0]!.toFixed(1), s[5]!.toFixed(1), s[25]!.toFixed(1));
}

// Keeps the results that the loops store alive (so V8 cannot drop the work).
if (sink === Symbol.for("never")) console.log(sink);
