/** Micro-benchmark: vmlinux BTF parse and first findByName. `node --import tsx bench/micro/btf-parse-first-lookup.ts` */
import { readFileSync } from "node:fs";
import { parseBTF } from "../../src/btf/index.ts";

const bytes = new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"));
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  const btf = parseBTF(bytes);
  const t1 = performance.now();
  const s = btf.findByName("STRUCT", "task_struct");
  const t2 = performance.now();
  btf.findByName("UNION", "bpf_attr");
  const t3 = performance.now();
  console.log(
    `parse ${(t1 - t0).toFixed(1)} ms, first findByName ${(t2 - t1).toFixed(1)} ms, next ${(t3 - t2).toFixed(3)} ms (${s?.id}, ${btf.count} types)`,
  );
}
