/**
 * The kernel as the oracle for the ELF loader: the specs read from the test objects
 * are loaded (maps created, references patched with their fds, content slots filled)
 * by a minimal loader written here, accepted by the verifier with their BTF func and
 * line info, and run with BPF_PROG_TEST_RUN; map contents afterwards show that map,
 * global-data, subprogram and function-address relocations went where clang meant.
 * (The real collection loader lives in src/kernel; this test checks the specs only.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { BpfMap } from "../src/kernel/map.ts";
import { Program } from "../src/kernel/program.ts";
import type { CollectionSpec, MapSpec } from "../src/spec/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";

const skip = process.getuid?.() !== 0 ? "needs root (BPF_MAP_CREATE, BPF_PROG_LOAD)" : false;
const DIR = join(import.meta.dirname, "testdata/elf");

function specOf(name: string): CollectionSpec {
  return loadCollectionSpec(new Uint8Array(readFileSync(join(DIR, name))));
}

/** A map spec without what needs the collection loader (BTF fds, pins). */
function plain(m: MapSpec): MapSpec {
  const {
    btfKeyTypeId: _k,
    btfValueTypeId: _v,
    pinning: _p,
    contentRefs: _c,
    innerMap,
    ...rest
  } = m;
  return innerMap ? { ...rest, innerMap: plain(innerMap) } : rest;
}

/** Creates every map and loads every program of `spec`; `fn` gets them; all closed after. */
function withCollection(
  spec: CollectionSpec,
  fn: (maps: Record<string, BpfMap>, progs: Record<string, Program>) => void,
): void {
  const fdsBefore = fdCounts();
  const maps: Record<string, BpfMap> = {};
  const progs: Record<string, Program> = {};
  try {
    for (const [name, m] of Object.entries(spec.maps)) maps[name] = BpfMap.create(plain(m));
    for (const [name, p] of Object.entries(spec.programs)) {
      const insns = p.instructions.slice();
      const view = new DataView(insns.buffer);
      for (const r of p.references ?? []) {
        if (r.kind !== "map" && r.kind !== "mapValue") throw new Error(`cannot resolve ${r.kind}`);
        view.setInt32(r.insn * 8 + 4, maps[r.map]!.fd, true);
      }
      progs[name] = Program.load({ ...p, instructions: insns });
    }
    for (const [name, m] of Object.entries(spec.maps)) {
      for (const ref of m.contentRefs ?? []) {
        const fd = m.type === MapType.PROG_ARRAY ? progs[ref.name]!.fd.value : maps[ref.name]!.fd;
        maps[name]!.update(u32(ref.key), u32(fd));
      }
    }
    fn(maps, progs);
  } finally {
    for (const p of Object.values(progs)) p.close();
    for (const m of Object.values(maps)) m.close();
  }
  assertFdCounts(fdsBefore);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64At(b: Uint8Array | undefined, off = 0): bigint {
  assert.ok(b);
  return new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
}

const ZERO = u32(0);

describe("ELF specs in the kernel", { skip }, () => {
  test("xdp-maps: maps, global data, subprograms and a bpf_loop callback", () => {
    const spec = specOf("xdp-maps.bpf.o");
    withCollection(spec, (maps, progs) => {
      const packet = new Uint8Array(64);
      assert.equal(progs.xdp_count!.run({ data: packet }).retval, 2); // XDP_PASS
      const stats = maps.stats!.lookup(ZERO);
      assert.equal(u64At(stats, 0), 1n, "stats.packets");
      assert.equal(u64At(stats, 8), 64n, "stats.bytes");
      assert.equal(u64At(maps[".data"]!.lookup(ZERO)), 8n, "packets_seen was 7");
      assert.equal(u64At(maps.counts!.lookup(u32(64))), 1n, "count_key(64) ran");
      assert.deepEqual(maps[".bss"]!.lookup(ZERO), u32(64), "last_len");

      assert.equal(progs.xdp_loop!.run({ data: packet }).retval, 2, "banner starts with t");
      assert.deepEqual(maps[".bss"]!.lookup(ZERO), u32(64 + 0 + 1 + 2 + 3), "loop_cb ran 4 times");
      assert.equal(u64At(maps[".data.tagged"]!.lookup(ZERO)), 0x1122334455667789n);

      // A 53-byte packet matches drop_port in .rodata.
      assert.equal(progs.xdp_count!.run({ data: new Uint8Array(53) }).retval, 1); // XDP_DROP
      assert.equal(progs.xdp_frags_prog!.run({ data: packet }).retval, 0);
      assert.equal(u64At(maps.counts!.lookup(u32(64))), 2n);
    });
  });

  test("map-in-map: inner map slots and program array slots", () => {
    const spec = specOf("map-in-map.bpf.o");
    withCollection(spec, (maps, progs) => {
      const packet = new Uint8Array(64);
      maps.inner_a!.update(ZERO, u32(42));
      assert.equal(progs.entry!.run({ data: packet }).retval, 42, "outer[0] is inner_a");
      maps.outer!.delete(ZERO);
      assert.equal(progs.entry!.run({ data: packet }).retval, 1, "tail call to jumps[1] = tail_a");
    });
  });

  test("legacy maps: a socket filter counting protocols", () => {
    const spec = specOf("legacy.bpf.o");
    withCollection(spec, (maps, progs) => {
      const packet = new Uint8Array(64);
      packet[12] = 0x08; // EtherType IPv4: skb->protocol is htons(0x0800)
      const key = u32(0x0008);
      maps.legacy_hash!.update(key, new Uint8Array(8));
      // skb->len: the test run pulls the 14-byte Ethernet header.
      assert.equal(progs.sock_filter!.run({ data: packet }).retval, 64 - 14);
      assert.equal(u64At(maps.legacy_hash!.lookup(key)), 1n);
    });
  });
});
