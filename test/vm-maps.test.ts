/**
 * VM maps: their user-side semantics, and the map helpers (lookup/update/delete with
 * every flag) against the kernel's maps on seeded random operation sequences run
 * inside programs (kernel part needs root). TSBPF_SEED replays a seed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  asm,
  disassembleKernel,
  encodeProgram,
  type Instruction,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R7,
  R10,
} from "../src/isa/index.ts";
import { BpfMap, Program } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, ProgType, UpdateFlags } from "../src/uapi/index.ts";
import { VmArrayMap, VmHashMap, type VmMap, VmMapError, VmProgram } from "../src/vm/index.ts";
import { seededRandom as rng } from "../src/vm/random.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs, vmModelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

const k32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const v64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const code = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return e instanceof VmMapError ? e.code : String(e);
  }
};

const HASH: MapSpec = { name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 };
const ARRAY: MapSpec = { name: "a", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 };

describe("VM map semantics", () => {
  test("array: values start zeroed; NOEXIST is EEXIST, out of range E2BIG, delete EINVAL", () => {
    const m = new VmArrayMap(ARRAY);
    assert.deepEqual(m.lookup(k32(3)), new Uint8Array(8));
    assert.equal(m.lookup(k32(4)), undefined);
    assert.equal(
      code(() => m.update(k32(1), v64(5n), UpdateFlags.NOEXIST)),
      "EEXIST",
    );
    assert.equal(
      code(() => m.update(k32(4), v64(5n))),
      "E2BIG",
    );
    assert.equal(
      code(() => m.update(k32(1), v64(5n), 8)),
      "EINVAL",
    );
    assert.equal(
      code(() => m.delete(k32(1))),
      "EINVAL",
    );
    m.update(k32(1), v64(5n), UpdateFlags.EXIST);
    assert.deepEqual(m.lookup(k32(1)), v64(5n));
    assert.deepEqual(
      [...m.keys()].map((k) => k[0]),
      [0, 1, 2, 3],
    );
  });
  test("hash: max_entries, E2BIG, NOEXIST/EXIST, ENOENT", () => {
    const m = new VmHashMap(HASH);
    for (let i = 0; i < 4; i++) m.update(k32(i), v64(BigInt(i)));
    assert.equal(
      code(() => m.update(k32(9), v64(9n))),
      "E2BIG",
    );
    m.update(k32(2), v64(20n)); // replacing in a full map works
    assert.deepEqual(m.lookup(k32(2)), v64(20n));
    assert.equal(
      code(() => m.update(k32(2), v64(1n), UpdateFlags.NOEXIST)),
      "EEXIST",
    );
    assert.equal(
      code(() => m.update(k32(7), v64(1n), UpdateFlags.EXIST)),
      "ENOENT",
    );
    assert.equal(m.delete(k32(7)), false);
    assert.equal(m.delete(k32(2)), true);
    assert.equal(m.lookup(k32(2)), undefined);
    assert.deepEqual(
      [...m.keys()].map((k) => k[0]),
      [0, 1, 3],
    );
    assert.throws(() => m.lookup(new Uint8Array(2)), RangeError);
  });
  test("map helpers inside a program", () => {
    const m = new VmHashMap(HASH);
    const insns = [
      asm.st(32, R10, -4, 7),
      asm.st(64, R10, -16, 99),
      asm.ldMapFd(R1, 0),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.mov64(R3, R10),
      asm.add64(R3, -16),
      asm.mov64(R4, 0),
      asm.call("map_update_elem"),
      asm.ldMapFd(R1, 0),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.call("map_lookup_elem"),
      asm.jmp("jeq", R0, 0, 3),
      asm.ldx(64, R1, R0, 0),
      asm.st(64, R0, 0, 123), // write through the value pointer
      asm.mov64(R0, R1),
      asm.exit(),
    ];
    const prog = new VmProgram(insns, { maps: [m] });
    assert.equal(prog.run().r0, 99n);
    assert.deepEqual(m.lookup(k32(7)), v64(123n));
  });
});

/** A program doing `ops` on map fd `fd`, storing each op's result (8 bytes) in the packet. */
function opsProgram(
  fd: number,
  ops: { op: "update" | "lookup" | "delete"; key: number; value: number; flags: number }[],
): Instruction[] {
  const out: Instruction[] = [
    asm.mov64(R6, R1),
    asm.ldx(32, R7, R6, 0),
    asm.ldx(32, R3, R6, 4),
    asm.mov64(R4, R7),
    asm.add64(R4, 8 * ops.length),
    asm.jmp("jle", R4, R3, 2),
    asm.mov64(R0, 1),
    asm.exit(),
  ];
  ops.forEach((o, i) => {
    out.push(
      asm.st(32, R10, -4, o.key),
      asm.st(64, R10, -16, o.value),
      asm.ldMapFd(R1, fd),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
    );
    if (o.op === "update") {
      out.push(
        asm.mov64(R3, R10),
        asm.add64(R3, -16),
        asm.mov64(R4, o.flags),
        asm.call("map_update_elem"),
      );
    } else if (o.op === "delete") {
      out.push(asm.call("map_delete_elem"));
    } else {
      out.push(
        asm.call("map_lookup_elem"),
        asm.jmp("jeq", R0, 0, 2),
        asm.ldx(64, R0, R0, 0),
        asm.ja(1),
        asm.mov64(R0, -1),
      );
    }
    out.push(asm.stx(64, R7, 8 * i, R0));
  });
  out.push(asm.mov64(R0, 2), asm.exit());
  return out;
}

describe("VM map helpers vs the kernel's maps", {
  skip: needs(skip, !skip && vmModelSkip()),
}, () => {
  for (const spec of [HASH, ARRAY]) {
    test(`${spec.type === MapType.HASH ? "hash" : "array"}: random update/lookup/delete sequences`, () => {
      const seed = Number(process.env.TSBPF_SEED ?? Math.floor(Math.random() * 0x7fffffff));
      const rand = rng(seed);
      const fds0 = fdCounts();
      for (let round = 0; round < 40; round++) {
        const ops = Array.from({ length: 24 }, () => ({
          op: (["update", "update", "lookup", "delete"] as const)[rand() % 4]!,
          key: rand() % 7,
          value: rand() | 0,
          flags: [0, 0, 1, 2, 3][rand() % 5]!,
        }));
        const kmap = BpfMap.create(spec);
        try {
          const insns = opsProgram(kmap.fd, ops);
          const prog = Program.load({
            name: "mapops",
            type: ProgType.XDP,
            license: "GPL",
            instructions: encodeProgram(insns),
          });
          const data = new Uint8Array(8 * ops.length);
          let kernelOut: Uint8Array;
          try {
            kernelOut = prog.run({ data }).dataOut;
          } finally {
            prog.close();
          }
          const vmap: VmMap =
            spec.type === MapType.HASH ? new VmHashMap(spec) : new VmArrayMap(spec);
          const vm = new VmProgram(insns, {
            type: ProgType.XDP,
            resolveMap: (_p, imm) => (imm === kmap.fd ? vmap : undefined),
          });
          const vmOut = vm.run({ data }).dataOut;
          const where = `seed ${seed}, round ${round}:\n${disassembleKernel(insns)}`;
          assert.equal(
            Buffer.from(vmOut).toString("hex"),
            Buffer.from(kernelOut).toString("hex"),
            where,
          );
          for (let k = 0; k < 7; k++)
            assert.deepEqual(vmap.lookup(k32(k)), kmap.lookup(k32(k)), `key ${k}, ${where}`);
        } finally {
          kmap.close();
        }
      }
      assertFdCounts(fds0);
    });
  }
});
