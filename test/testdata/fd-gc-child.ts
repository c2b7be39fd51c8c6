/** Child of test/kernel-fd-gc.test.ts: forgets five maps, forces GC, reports fd counts. */
import { BpfMap, openFdCount } from "../../src/kernel/index.ts";
import { MapType } from "../../src/uapi/index.ts";
import { procFdCount } from "../leak-check.ts";
const before: [number, number] = [openFdCount(), procFdCount()];
(() => {
  for (let i = 0; i < 5; i++) BpfMap.create({ name: "gc", type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
})();
const during = [openFdCount(), procFdCount()];
for (let i = 0; i < 10 && openFdCount() > before[0]; i++) {
  (globalThis as unknown as { gc: () => void }).gc();
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ before, during, after: [openFdCount(), procFdCount()] }));
