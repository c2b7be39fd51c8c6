/**
 * USDT probes for real: test/testdata/hooks/usdt.bpf.o, built on libbpf's own
 * bpf/usdt.bpf.h, on the python:function__entry and python:gc__start probes of the
 * python3 this test starts. The program reads the probe's arguments with
 * bpf_usdt_arg() (file name, function name, line; GC generation), so a count with the
 * right names proves the spec map, the spec id (cookie or IP map) and the semaphore
 * (Python only fires its probes while the semaphore is non-zero) all worked.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { attachUsdt, USDT_SPECS_MAP } from "../src/kernel/links/usdt.ts";
import type { BpfMap } from "../src/kernel/maps/map.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { PYTHON, PythonWorkload, pythonSemaphore, pythonSkip } from "./support/python-usdt.ts";

const OBJ = join(import.meta.dirname, "testdata/hooks/usdt.bpf.o");
const spec = loadCollectionSpec(new Uint8Array(readFileSync(OBJ)));
const key = (name: string) => {
  const k = new Uint8Array(48);
  k.set(new TextEncoder().encode(name));
  return k;
};
const cString = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

function callStats(coll: Collection, func: string) {
  const v = coll.map("calls").lookup(key(func));
  if (!v) return undefined;
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return {
    count: d.getBigUint64(0, true),
    line: d.getBigInt64(8, true),
    argCount: d.getBigInt64(16, true),
    cookie: d.getBigInt64(24, true),
    file: cString(v.subarray(32)),
  };
}

function gcSlot(coll: Collection, slot: number): bigint {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, slot, true);
  const v = coll.map("gc").lookup(k) as Uint8Array;
  return new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
}

describe("USDT with libbpf's usdt.bpf.h", { skip: needs(kernelSkip, pythonSkip()) }, () => {
  let py: PythonWorkload;
  before(async () => {
    py = new PythonWorkload();
    await py.said("ready");
  });
  after(() => py.stop());

  for (const mode of ["cookie", "ip-map"] as const) {
    test(`function__entry by SEC() name and gc__start by attachUsdt (spec id by ${mode})`, async () => {
      const before = fdCounts();
      {
        using coll = Collection.load(spec, {
          constants: { target_tgid: py.pid },
          ...(mode === "ip-map" && { hasBpfCookie: false }),
        });
        const ipMap = mode === "ip-map";
        using entry = ipMap
          ? attachUsdt(
              coll.program("function_entry"),
              "/usr/bin/python3",
              "python",
              "function__entry",
              {
                pid: py.pid,
                cookie: 42n,
                ipMap,
              },
            )
          : coll.program("function_entry").attach({ pid: py.pid, cookie: 42n });
        using gc = attachUsdt(coll.program("gc_start"), PYTHON as string, "python", "gc__start", {
          ipMap,
        });
        assert.match(entry.description, /python:function__entry \(1 site\)/);
        // The kernel set the semaphore through the uprobe's ref_ctr_offset.
        assert.equal(pythonSemaphore(py.pid, "function__entry"), 1);
        await py.round(7);
        const s = callStats(coll, "tsbpf_probe_fn");
        assert.ok(s, "tsbpf_probe_fn was seen");
        assert.equal(s.count, 7n);
        assert.equal(s.line, 4n); // the def line in SCRIPT
        assert.equal(s.argCount, 3n);
        assert.equal(s.cookie, 42n);
        assert.equal(s.file, "<string>");
        assert.ok(gcSlot(coll, 0) >= 1n, "gc__start fired");
        assert.equal(gcSlot(coll, 1), 1n, "generation 1");
        assert.equal(gcSlot(coll, 2), 1n, "gc__start has one argument");
        assert.equal(gcSlot(coll, 3), -2n, "a second argument is -ENOENT");
        gc.close();
        entry.close();
        assert.equal(pythonSemaphore(py.pid, "function__entry"), 0);
        // Detaching removed the specs it wrote.
        assert.deepEqual(usedSpecIds(coll.map(USDT_SPECS_MAP)), []);
      }
      assertFdCounts(before);
    });
  }

  test("a semaphore set by writing the process's memory (BCC's way, for kernels without ref_ctr_offset)", async () => {
    const before = fdCounts();
    {
      using coll = Collection.load(spec, { constants: { target_tgid: py.pid } });
      const gc = attachUsdt(coll.program("gc_start"), PYTHON as string, "python", "gc__start", {
        pid: py.pid,
        semaphore: "memory",
      });
      try {
        assert.equal(pythonSemaphore(py.pid, "gc__start"), 1);
        await py.round(1);
        assert.ok(gcSlot(coll, 0) >= 1n, "gc__start fired");
        assert.equal(gcSlot(coll, 1), 1n);
      } finally {
        gc.close();
      }
      assert.equal(pythonSemaphore(py.pid, "gc__start"), 0);
      assert.throws(
        () =>
          attachUsdt(coll.program("gc_start"), PYTHON as string, "python", "gc__start", {
            semaphore: "memory",
          }),
        /semaphores set by writing memory need a pid/,
      );
    }
    assertFdCounts(before);
  });

  test("errors name the binary, the probe and what it has", () => {
    using coll = Collection.load(spec, { constants: { target_tgid: py.pid } });
    assert.throws(
      () => attachUsdt(coll.program("gc_start"), PYTHON as string, "python", "nope"),
      /has no USDT probe python:nope \(it has python:.*function__entry/,
    );
    assert.throws(
      () => attachUsdt(coll.program("gc_start"), "/bin/true", "python", "gc__start"),
      /has no USDT probe python:gc__start \(it has no .note.stapsdt probes\)/,
    );
  });
});

/** The non-zero slots of the specs array (an array map has every key). */
function usedSpecIds(map: BpfMap): number[] {
  const used: number[] = [];
  for (let i = 0; i < map.maxEntries; i++) {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, i, true);
    if (map.lookup(k)?.some((b) => b !== 0)) used.push(i);
  }
  return used;
}
