/**
 * Micro-benchmark behind the map hot path's choices (src/kernel/maps/map.ts, sys/bpf.ts):
 * koffi call styles for bpf(BPF_MAP_LOOKUP_ELEM) (a `void *` prototype with the koffi
 * pointer or a Uint8Array vs an integer prototype with the address as a number), and
 * what each step of a lookup adds (key copy, value copy styles, BpfMap methods).
 * Windows of 2,000 calls, interleaved; prints best, 10th percentile and median ns.
 * Not part of `npm run bench` (bench/run.ts runs only bench/*.ts). Root:
 * `node --import tsx bench/micro/map-lookup-paths.ts [rounds] [variant filter]`.
 */
import koffi from "koffi";
import { BpfMap } from "../../src/kernel/index.ts";
import { allocNative } from "../../src/kernel/sys/native.ts";
import { BPF_ATTR_SIZE, bpfAttr, MapType } from "../../src/uapi/index.ts";

const libc = koffi.load("libc.so.6");
const sysP = libc.func("long syscall(long nr, long a, void *b, unsigned long c)") as (
  nr: number,
  a: number,
  b: unknown,
  c: number,
) => number;
const sysI = libc.func("long syscall(long nr, long a, long b, unsigned long c)") as (
  nr: number,
  a: number,
  b: number,
  c: number,
) => number;
const SYS_bpf = 321;
const N = 2_000;
const map = BpfMap.create({
  name: "m",
  type: MapType.HASH,
  keySize: 4,
  valueSize: 8,
  maxEntries: 1024,
});
for (let i = 0; i < 1024; i++)
  map.update(new Uint8Array(new Uint32Array([i]).buffer), new Uint8Array(8));
const attr = allocNative(BPF_ATTR_SIZE);
const data = allocNative(16);
const F = bpfAttr.mapElem.fields;
const v = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, BPF_ATTR_SIZE);
v.setUint32(F.map_fd.offset, map.fd, true);
v.setBigUint64(F.key.offset, data.address, true);
v.setBigUint64(F.value.offset, data.address + 8n, true);
const addrNum = Number(attr.address);
const ptr = attr.ptr;
const SZ = BPF_ATTR_SIZE;
const kb = data.bytes.subarray(0, 4);
const vb = data.bytes.subarray(8, 16);
const keys = Array.from({ length: 1024 }, (_, i) => new Uint8Array(new Uint32Array([i]).buffer));
const out = new Uint8Array(8);
const slab = new ArrayBuffer(1 << 16);
let slabOff = 0;
let sink: unknown;
function copyIn(dst: Uint8Array, src: Uint8Array) {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}
function copyOutLoop(src: Uint8Array) {
  const n = src.length;
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) o[i] = src[i]!;
  return o;
}
const kb32 = new Uint32Array(data.bytes.buffer, data.bytes.byteOffset, 1);
const oneKey = keys[5]!;
function copyIn4(dst: Uint8Array, src: Uint8Array) {
  dst[0] = src[0]!;
  dst[1] = src[1]!;
  dst[2] = src[2]!;
  dst[3] = src[3]!;
}
const variants: Record<string, () => void> = {
  "addr+u32key": () => {
    for (let i = 0; i < N; i++) {
      kb32[0] = i & 1023;
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "addr+copyIn one": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, oneKey);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "addr+copyIn4": () => {
    for (let i = 0; i < N; i++) {
      copyIn4(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "addr+set": () => {
    for (let i = 0; i < N; i++) {
      kb.set(keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "raw ptr": () => {
    for (let i = 0; i < N; i++) {
      if (sysP(SYS_bpf, 1, ptr, SZ) < 0) throw 0;
    }
  },
  "raw addr": () => {
    for (let i = 0; i < N; i++) {
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "addr+copyIn": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
    }
  },
  "addr+in+outLoop": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
      sink = copyOutLoop(vb);
    }
  },
  "addr+in+slice": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
      sink = vb.slice();
    }
  },
  "addr+in+slab": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
      if (slabOff + 8 > slab.byteLength) slabOff = 0;
      const o = new Uint8Array(slab, slabOff, 8);
      slabOff += 8;
      copyIn(o, vb);
      sink = o;
    }
  },
  "addr+in+into": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      if (sysI(SYS_bpf, 1, addrNum, SZ) < 0) throw 0;
      copyIn(out, vb);
    }
  },
  "map.lookup": () => {
    for (let i = 0; i < N; i++) sink = map.lookup(keys[i & 1023]!);
  },
  "map.lookupInto": () => {
    for (let i = 0; i < N; i++) map.lookupInto(keys[i & 1023]!, out);
  },
  "map.update": () => {
    for (let i = 0; i < N; i++) map.update(keys[i & 1023]!, out);
  },
  "raw update addr": () => {
    for (let i = 0; i < N; i++) {
      copyIn(kb, keys[i & 1023]!);
      copyIn(vb, out);
      if (sysI(SYS_bpf, 2, addrNum, SZ) < 0) throw 0;
    }
  },
};
const res: Record<string, number[]> = {};
const rounds = Number(process.argv[2] ?? 300);
const only = process.argv[3];
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(variants)) {
    if (only && !name.includes(only)) continue;
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0) / N;
    res[name] = [...(res[name] ?? []), ns];
  }
}
for (const [name, s] of Object.entries(res)) {
  s.sort((a, b) => a - b);
  const q = (f: number) => s[Math.floor(s.length * f)]!.toFixed(0);
  console.log(`${name.padEnd(20)} min ${s[0]!.toFixed(0)}  p10 ${q(0.1)}  p50 ${q(0.5)} ns`);
}
map.close();

// Keeps the results that the loops store alive (so V8 cannot drop the work).
if (sink === Symbol.for("never")) console.log(sink);
