/**
 * Where an open+load of one object spends its time: reading the file, the spec, the
 * load and the close, and inside the load each bpf(2) command (BpfCall.invoke is
 * wrapped to time it). 400 rounds; prints medians per phase and per command.
 * Root: `node --import tsx bench/micro/load-syscall-breakdown.ts OBJ`.
 */
import { readFileSync } from "node:fs";
import { loadCollectionSpec } from "../../src/elf/index.ts";
import { Collection } from "../../src/kernel/index.ts";
import { BpfCall } from "../../src/kernel/sys/bpf.ts";

const obj = process.argv[2] as string;
let cur = new Map<string, number>();
const orig = BpfCall.prototype.invoke;
BpfCall.prototype.invoke = function (this: BpfCall, ...a: Parameters<typeof orig>) {
  const t = performance.now();
  try {
    return orig.apply(this, a);
  } finally {
    const k = `cmd ${this.cmd}`;
    cur.set(k, (cur.get(k) ?? 0) + performance.now() - t);
  }
};
const rows: Map<string, number>[] = [];
for (let i = 0; i < 400; i++) {
  cur = new Map();
  const t0 = performance.now();
  const bytes = new Uint8Array(readFileSync(obj));
  const t1 = performance.now();
  const s = loadCollectionSpec(bytes);
  const t2 = performance.now();
  const c = Collection.load(s);
  const t3 = performance.now();
  c.close();
  const t4 = performance.now();
  cur
    .set("read", t1 - t0)
    .set("spec", t2 - t1)
    .set("load", t3 - t2)
    .set("close", t4 - t3)
    .set("total", t3 - t0);
  if (i >= 100) rows.push(cur);
}
for (const k of rows[0]!.keys()) {
  const v = rows.map((r) => r.get(k) ?? 0).sort((a, b) => a - b);
  console.log(
    `${k.padEnd(8)} median ${(v[v.length >> 1]! * 1000).toFixed(0)} us  p10 ${(v[Math.floor(v.length / 10)]! * 1000).toFixed(0)} us`,
  );
}
