/**
 * One function, both backends: `exercise` is written against the shared types of
 * src/spec/backend.ts only, and runs on the kernel (`kernelBackend`, root) and on the
 * VM (`vmBackend`, anywhere). Each run returns what it saw; the two must agree to the
 * byte — the VM's promise of "the same object, the same API".
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelBackend } from "../src/kernel/index.ts";
import type { Backend, CollectionSpec, LoadedCollection } from "../src/spec/index.ts";
import { vmBackend } from "../src/vm/index.ts";
import { kernelSkip } from "./support/kernel.ts";

const XDP_DROP = 1;
const XDP_PASS = 2;

/**
 * xdp-maps.bpf.o: maps (`stats`, `counts`), global data, a constant (`drop_port`) and
 * three XDP programs. Its `stats` map is pinned by name; pins are the kernel's alone, so
 * the spec here asks for none (the generic code must not leave /sys/fs/bpf/stats).
 */
function xdpMaps(): CollectionSpec {
  const spec = loadCollectionSpec(
    new Uint8Array(readFileSync(join(import.meta.dirname, "testdata/elf/xdp-maps.bpf.o"))),
  );
  const maps = Object.fromEntries(
    Object.entries(spec.maps).map(([n, m]) => [n, { ...m, pinning: "none" as const }]),
  );
  return { ...spec, maps };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function hex(b: Uint8Array | undefined): string {
  return b ? Buffer.from(b).toString("hex") : "none";
}

/** Everything a user would look at, through the shared types only. */
function exercise(backend: Backend): Record<string, unknown> {
  const seen: Record<string, unknown> = {};
  const spec = xdpMaps();
  {
    using coll: LoadedCollection<"stats" | "counts", "xdp_count" | "xdp_loop"> = backend.load(spec);
    const packet = new Uint8Array(64).fill(0xab);
    const run = coll.programs.xdp_count.run({ data: packet });
    seen.retval = run.retval;
    seen.dataOut = hex(run.dataOut);
    seen.repeat = coll.program("xdp_count").run({ data: packet, repeat: 3 }).retval;
    seen.stats = hex(coll.maps.stats.lookup(u32(0)));
    seen.statsShape = [coll.map("stats").keySize, coll.map("stats").valueSize];
    seen.counts = [...coll.map("counts").entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`);
    seen.packetsSeen = coll.variable("packets_seen").toBigInt();
    seen.lastLen = coll.variable("last_len").toBigInt();
    seen.dropPortReadOnly = coll.variable("drop_port").readOnly;

    coll.variable("packets_seen").set(100n);
    coll.programs.xdp_loop.run({ data: packet });
    seen.afterLoop = [coll.variable("packets_seen").toBigInt(), coll.variable("last_len").get()];

    coll.map("counts").update(u32(7), new Uint8Array(8).fill(1));
    const chunk = coll.map("counts").lookupBatch(16);
    seen.batch = [...chunk.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
    seen.deleted = [coll.map("counts").delete(u32(7)), coll.map("counts").delete(u32(7))];

    assert.throws(() => coll.program("nope"), /no program "nope".*xdp_count/);
    assert.throws(() => coll.map("nope"), /no map "nope".*stats/);
    assert.throws(() => coll.variable("nope"), /no variable "nope".*packets_seen/);
    assert.throws(
      () => coll.map("stats").update(u32(9), new Uint8Array(16)),
      (e: unknown) => {
        seen.outOfRange = (e as { code?: string }).code;
        return true;
      },
    );
  }
  {
    using dropping = backend.load(spec, { constants: { drop_port: 64 } });
    seen.dropped = dropping.program("xdp_count").run({ data: new Uint8Array(64) }).retval;
  }
  return seen;
}

describe("one generic function over both backends", () => {
  test("the VM", () => {
    const vm = exercise(vmBackend);
    assert.equal(vm.retval, XDP_PASS);
    assert.equal(vm.dropped, XDP_DROP);
    assert.equal(vm.packetsSeen, 11n); // 7, then four runs
  });

  test("the kernel gives the same answers as the VM", { skip: kernelSkip }, () => {
    assert.deepEqual(exercise(kernelBackend), exercise(vmBackend));
  });
});
