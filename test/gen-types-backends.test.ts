/**
 * One generated codec, two backends: test/testdata/cli/gen-record.bpf.o (an XDP
 * program that fills a `struct sample` from the packet — bitfields, signed members,
 * an enum, a hoisted anonymous union, nested arrays, an array of structs, a char
 * array, a _Bool — and submits it to a ring buffer) runs on the same packets in the
 * VM and, as root, in the kernel (BPF_PROG_TEST_RUN). The records of both rings,
 * decoded by `Sample` from gen-record.gen.ts (committed, `tsbpf gen types ... type
 * sample`), are the same objects, and the objects a TypeScript mirror of the C code
 * predicts from the packet.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection, RingBufferReader } from "../src/kernel/index.ts";
import { VirtualMachine, VmRingBuf } from "../src/vm/index.ts";
import { noLeak } from "./kernel-ringbuf-programs.ts";
import { kernelSkip } from "./support/kernel.ts";
import { bindGenRecord, Kind, Sample } from "./testdata/cli/gen-record.gen.ts";

const spec = loadCollectionSpec(
  readFileSync(new URL("./testdata/cli/gen-record.bpf.o", import.meta.url)),
);

/** Seeded packets of 64 bytes, the first one chosen to set every sign and flag bit. */
function packets(n: number): Uint8Array[] {
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) & 0xff;
  };
  const first = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 0x85) & 0xff);
  first.set([0x80, 0x01, 0x80, 0x81], 12); // delta < 0, s16v < 0, kind K_NEG
  first[19] = 0x0f; // fl.c = -1
  first[28] = 0x01; // fl.e
  first[37] = 0xff; // grid[0][0] < 0
  first[49] = 0xff; // ok
  const out = [first];
  for (let i = 1; i < n; i++) out.push(Uint8Array.from({ length: 64 }, next));
  return out;
}

/** What the C program writes for packet `p`, computed here from its source. */
function expected(p: Uint8Array): Sample {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const word = v.getBigUint64(29, true);
  const ch = (p[16] as number) & 0x7f;
  const c4 = (p[19] as number) & 0xf;
  return {
    ts: v.getBigUint64(0, true),
    pid: v.getInt32(8, true),
    delta: v.getInt8(12),
    s16v: v.getInt16(13, true),
    kind: (p[15] as number) & 1 ? Kind.K_NEG : Kind.K_OPEN,
    comm: `tsbpf-record${ch ? String.fromCharCode(ch) : ""}`,
    fl: {
      a: (p[17] as number) & 7,
      b: (p[18] as number) & 31,
      c: c4 >= 8 ? c4 - 16 : c4,
      d: v.getBigUint64(20, true) & ((1n << 40n) - 1n),
      e: ((p[28] as number) & 1) === 1,
    },
    word,
    lo: Number(word & 0xffffffffn),
    hi: Number(word >> 32n),
    grid: [0, 1].map((r) => [0, 1, 2].map((c) => v.getInt8(37 + r * 3 + c) * 1000)),
    addrs: [
      { port: v.getUint16(43, true), proto: p[45] as number },
      { port: v.getUint16(46, true), proto: p[48] as number },
    ],
    ok: (p[49] as number) > 127,
  };
}

const PACKETS = packets(16);

/** The records the VM's ring holds after running the program on every packet, decoded. */
function vmRecords(): Sample[] {
  using vm = bindGenRecord(VirtualMachine.load(spec));
  const ring = vm.maps.records;
  assert.ok(ring instanceof VmRingBuf);
  const out: Sample[] = [];
  for (const data of PACKETS) {
    assert.equal(vm.programs.emit_record.run({ data }).retval, 2, "XDP_PASS");
    for (const rec of ring.drain()) out.push(Sample.decode(rec.data));
  }
  return out;
}

describe("a ring buffer record through the generated codec", () => {
  test("in the VM: each record is what the C code wrote", () => {
    const got = vmRecords();
    assert.equal(got.length, PACKETS.length);
    for (const [i, s] of got.entries()) {
      assert.deepEqual(s, expected(PACKETS[i] as Uint8Array), `packet ${i}`);
    }
    // The first packet sets the signs and flags the test is about.
    const first = got[0] as Sample;
    assert.ok(first.fl.c < 0 && first.delta < 0 && first.s16v < 0, "signed values");
    assert.ok(first.kind === Kind.K_NEG && first.fl.e && first.ok, "enum and flags");
    assert.ok(first.grid.flat().some((x) => x < 0));
  });

  test("in the kernel: the same records, decoded to the same objects", { skip: kernelSkip }, () =>
    noLeak(() => {
      using k = bindGenRecord(Collection.load(spec));
      using reader = RingBufferReader.open(k.maps.records);
      const kernel: Sample[] = [];
      for (const data of PACKETS) {
        assert.equal(k.programs.emit_record.run({ data }).retval, 2, "XDP_PASS");
        for (const rec of reader.readAvailable()) kernel.push(Sample.decode(rec));
      }
      assert.equal(kernel.length, PACKETS.length);
      assert.deepEqual(kernel, vmRecords());
      for (const [i, s] of kernel.entries()) {
        assert.deepEqual(s, expected(PACKETS[i] as Uint8Array), `packet ${i}`);
      }
    }),
  );
});
