/**
 * Child process of test/kernel-write-safety.test.ts: writes to every byte array tsbpf
 * hands out from mapped kernel memory — ring buffer records (every way of reading),
 * perf buffer samples, global variables (.data, .bss, frozen .rodata), map lookups,
 * and each of those again after its reader or collection is closed. A crash (SIGSEGV)
 * ends this process before it prints "survived".
 */
import { readFileSync } from "node:fs";
import { loadCollectionSpec } from "../../src/elf/index.ts";
import { BpfMap } from "../../src/kernel/maps/map.ts";
import { Collection } from "../../src/kernel/collection/collection.ts";
import { PerfBufferReader } from "../../src/kernel/readers/perfbuf.ts";
import { RingBufferReader, RingBufferSet } from "../../src/kernel/readers/ringbuf.ts";
import { MapType } from "../../src/uapi/index.ts";
import { PACKET, perfSeqProgram, ringbufProgram } from "../kernel-ringbuf-programs.ts";

const scribble = (what: string, bytes: Uint8Array | undefined) => {
  if (bytes === undefined) throw new Error(`${what}: nothing handed out`);
  bytes.fill(0xa5);
  bytes[0] = 1;
  if (bytes.length > 0 && bytes[0] !== 1) throw new Error(`${what}: the write did not stick`);
  console.log(`wrote ${what}`);
};

// Ring buffers: read(), readAvailable(), the async iterator, onRecord, a set.
{
  const map = BpfMap.create({ name: "ws_rb", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
  const prog = ringbufProgram([map.fd], [{ size: 16, how: "output" }, { size: 24, how: "submit" }]);
  const reader = RingBufferReader.open(map);
  prog.run({ data: PACKET });
  const kept = reader.read();
  scribble("ring read()", kept);
  for (const r of reader.readAvailable()) scribble("ring readAvailable()", r);
  prog.run({ data: PACKET });
  const it = reader[Symbol.asyncIterator]();
  const step = await it.next();
  scribble("ring async iterator", step.value);
  reader.close();
  scribble("ring record after close()", kept);

  const cbReader = RingBufferReader.open(map);
  prog.run({ data: PACKET });
  await new Promise<void>((resolve) => {
    let n = 0;
    cbReader.onRecord((r) => {
      scribble("ring onRecord", r);
      if (++n === 2) resolve();
    });
  });
  cbReader.close();

  const set = RingBufferSet.open({ a: map });
  prog.run({ data: PACKET });
  for (const r of set.readAvailable()) scribble("ring set record", r.data);
  set.close();
  prog.close();
  map.close();
}

// Perf buffers: copies by default, views with zeroCopy (mapped read-write).
{
  const events = BpfMap.create({ name: "ws_pb", type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 });
  const seq = BpfMap.create({ name: "ws_seq", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
  const prog = perfSeqProgram(events.fd, seq.fd);
  for (const zeroCopy of [false, true]) {
    const reader = PerfBufferReader.open(events, { zeroCopy });
    prog.run({ data: PACKET, repeat: 3 });
    const recs = reader.readAvailable();
    // Zero-copy views are the documented exception (the kernel faults a write to perf
    // data pages): only copies are written while the reader is open.
    if (!zeroCopy) for (const r of recs) if (r.kind === "sample") scribble("perf sample", r.data);
    reader.close();
    for (const r of recs) if (r.kind === "sample") scribble(`perf sample after close() (zeroCopy ${zeroCopy})`, r.data);
  }
  scribble("map lookup", seq.lookup(new Uint8Array(4)));
  prog.close();
  seq.close();
  events.close();
}

// Global variables: .data and .bss are shared read-write, frozen .rodata is a copy.
{
  const spec = loadCollectionSpec(new Uint8Array(readFileSync("test/testdata/elf/xdp-maps.bpf.o")));
  // its `stats` map is pinned by name: not here, or it would stay in /sys/fs/bpf
  const maps = Object.fromEntries(
    Object.entries(spec.maps).map(([n, m]) => [n, { ...m, pinning: "none" as const }]),
  );
  const coll = Collection.load({ ...spec, maps });
  const views: [string, Uint8Array | undefined][] = [];
  for (const [name, v] of Object.entries(coll.variables)) {
    const mem = v.memory;
    views.push([`${name} (${v.spec.map})`, mem]);
    if (mem) scribble(`variable ${name} (${v.spec.map}${v.readOnly ? ", read-only" : ""})`, mem);
    scribble(`variable ${name}.get()`, v.get());
  }
  const rodata = coll.variables.drop_port;
  if (rodata?.toBigInt() !== 53n) throw new Error("a write to a read-only variable's bytes changed it");
  coll.close();
  for (const [name, mem] of views) if (mem) scribble(`variable ${name} after close()`, mem);
}
console.log("survived");
