/**
 * `VirtualMachine.load` against the kernel's `Collection.load` on the same compiled
 * objects: a C program (built here with clang-19) using bpf_loop and
 * bpf_for_each_map_elem callbacks, array/hash/LPM maps, a ring buffer, snprintf with a
 * .rodata format and global data; and the map-in-map test object (map-in-map lookups,
 * tail calls through its prog_array). Same packet in, same retval, packet and map
 * contents out. The VM part runs without root; the kernel part needs it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/index.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { VirtualMachine, type VmArrayMap, type VmRingBuf } from "../src/vm/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct lpm_key { __u32 prefixlen; __u8 data[4]; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } arr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } h SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 16); __type(key, struct lpm_key); __type(value, __u32); __uint(map_flags, BPF_F_NO_PREALLOC); } lpm SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
__u64 runs;
struct acc { __u64 sum; __u32 n; };
static long sum_cb(__u32 i, void *c) { struct acc *x = c; x->sum += i * i; x->n++; return i == 20; }
static long each_arr(struct bpf_map *m, __u32 *k, __u64 *v, void *c) { *(__u64 *)c += *v * (*k + 1); return *k == 5; }
static long each_h(struct bpf_map *m, __u32 *k, __u64 *v, void *c) { *(__u64 *)c += *v ^ *k; return 0; }
SEC("xdp") int xdp_main(struct xdp_md *ctx) {
  __u8 *p = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  if ((void *)(p + 128) > end) return XDP_ABORTED;
  __u64 *out = (__u64 *)(p + 64);
  struct acc x = {};
  out[0] = bpf_loop(p[0], sum_cb, &x, 0);
  out[1] = x.sum + x.n;
  for (__u32 i = 0; i < 8; i++) { __u64 v = p[i] * 3 + i; bpf_map_update_elem(&arr, &i, &v, 0); }
  for (__u32 i = 0; i < 6; i++) { __u32 k = p[8 + i] & 7; __u64 v = p[16 + i]; bpf_map_update_elem(&h, &k, &v, BPF_NOEXIST); }
  __u64 s1 = 0, s2 = 0;
  out[2] = bpf_for_each_map_elem(&arr, each_arr, &s1, 0) * 1000 + bpf_for_each_map_elem(&h, each_h, &s2, 0);
  out[3] = s1 * 65536 + s2;
  struct lpm_key k = { 24, { p[30], p[31], p[32], 0 } };
  __u32 lv = p[33];
  bpf_map_update_elem(&lpm, &k, &lv, 0);
  struct lpm_key k2 = { 16, { p[30], p[31], 0, 0 } };
  __u32 lv2 = 1000;
  bpf_map_update_elem(&lpm, &k2, &lv2, 0);
  struct lpm_key q = { 32, { p[30], p[31], p[35], p[34] } };
  __u32 *hit = bpf_map_lookup_elem(&lpm, &q);
  out[4] = hit ? *hit : 999;
  __u8 rec[16];
  __builtin_memcpy(rec, p, 16);
  out[5] = bpf_ringbuf_output(&rb, rec, 16, 0);
  static const char fmt[] = "%d:%x";
  __u64 args[] = { p[1], p[2] };
  char buf[16] = {};
  out[6] = bpf_snprintf(buf, sizeof(buf), fmt, args, sizeof(args));
  __builtin_memcpy(&out[7], buf, 8);
  runs++;
  return p[3] & 1 ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
`;

const clang = spawnSync("clang-19", ["--version"]).status === 0;

let objectCache: Uint8Array | undefined;
function compiled(): Uint8Array {
  if (objectCache) return objectCache;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-vm-coll-"));
  try {
    writeFileSync(join(dir, "p.bpf.c"), SOURCE);
    const r = spawnSync(
      "clang-19",
      [
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-I/usr/include/x86_64-linux-gnu",
        "-c",
        "p.bpf.c",
        "-o",
        "p.bpf.o",
      ],
      { cwd: dir, encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`clang-19 failed:\n${r.stderr}`);
    objectCache = new Uint8Array(readFileSync(join(dir, "p.bpf.o")));
    return objectCache;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function packets(n: number): Uint8Array[] {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 16;
  };
  return Array.from({ length: n }, (_, j) => {
    const p = Uint8Array.from({ length: 160 }, () => next() & 0xff);
    p[0] = j === 0 ? 0 : (p[0] as number) % 40;
    p[35] = j % 2 ? (p[32] as number) : (p[35] as number);
    return p;
  });
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "none");

function compare(spec: CollectionSpec, prog: string, inputs: Uint8Array[], maps: string[]): void {
  const fds0 = fdCounts();
  const coll = Collection.load(spec);
  try {
    const vm = VirtualMachine.load(spec);
    inputs.forEach((data, i) => {
      const k = coll.programs[prog]!.run({ data });
      const v = vm.programs[prog]!.run({ data });
      assert.equal(v.retval, k.retval, `${prog} input ${i}: retval`);
      assert.equal(hex(v.dataOut), hex(k.dataOut), `${prog} input ${i}: packet out`);
      for (const name of maps) {
        const km = coll.maps[name]!;
        const vmap = vm.maps[name]!;
        for (const [key, value] of km.entries())
          assert.equal(
            hex(vmap.lookup(key)),
            hex(value),
            `${prog} input ${i}: ${name}[${hex(key)}]`,
          );
        assert.equal([...vmap.keys()].length, [...km.keys()].length, `${name}: number of keys`);
      }
    });
  } finally {
    coll.close();
  }
  assertFdCounts(fds0);
}

describe("VirtualMachine.load", { skip: !clang && "clang-19 is not installed" }, () => {
  test("runs a compiled object: callbacks, maps, ring buffer, snprintf, global data", () => {
    const vm = VirtualMachine.load(loadCollectionSpec(compiled()));
    const data = packets(2)[1] as Uint8Array;
    const r = vm.programs.xdp_main!.run({ data });
    const out = new DataView(r.dataOut.buffer, r.dataOut.byteOffset + 64);
    const n = data[0] as number;
    const loops = Math.min(n, 21);
    let sum = 0;
    for (let i = 0; i < loops; i++) sum += i * i;
    assert.equal(out.getBigUint64(0, true), BigInt(loops));
    assert.equal(out.getBigUint64(8, true), BigInt(sum + loops));
    assert.equal(
      new TextDecoder().decode(r.dataOut.subarray(64 + 56, 64 + 64)).replace(/\0.*$/, ""),
      `${data[1]}:${(data[2] as number).toString(16)}`.slice(0, 8),
    );
    const rb = vm.maps.rb as VmRingBuf;
    assert.equal(hex(rb.read()?.data), hex(data.subarray(0, 16)));
    assert.equal((vm.maps[".bss"] as VmArrayMap).values[0], 1);
  });
  test("same results as the kernel's Collection", { skip: kernelSkip }, () => {
    compare(loadCollectionSpec(compiled()), "xdp_main", packets(12), ["arr", "h", ".bss"]);
  });
  test("map-in-map object: inner map lookups and tail calls as in the kernel", {
    skip: kernelSkip,
  }, () => {
    const bytes = new Uint8Array(readFileSync("test/testdata/elf/map-in-map.bpf.o"));
    compare(loadCollectionSpec(bytes), "entry", packets(2), ["inner_a"]);
  });
});
