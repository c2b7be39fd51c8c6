import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assemble } from "../../../isa/index.ts";
import { MapFlags, MapType } from "../../../uapi/index.ts";
import { VmError } from "../../errors.ts";
import { VmArrayMap } from "../../maps/array.ts";
import { VmHashMap } from "../../maps/hash.ts";
import type { VmMap } from "../../maps/map.ts";
import { VmProgram, type VmRunInput } from "../../program.ts";
import { seededRandom } from "../../random.ts";

// Array maps placed in the wasm target's arena (prepareArena in runtime.ts): lookups
// answered in the module, values read and written at their arena addresses; every
// case against the interpreter on a map of its own with the same contents.

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function hashMap(type: MapType, keySize: number, entries: number): VmHashMap {
  const m = new VmHashMap({ name: "h", type, keySize, valueSize: 16, maxEntries: 8 });
  for (let i = 0; i < entries; i++) {
    const k = new Uint8Array(keySize);
    k[0] = i;
    m.update(k, new Uint8Array(16).fill(i + 1));
  }
  return m;
}

function arrayMap(maxEntries: number, valueSize = 8, flags = 0): VmArrayMap {
  const m = new VmArrayMap({
    name: "a",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize,
    maxEntries,
    flags,
  });
  for (let i = 0; i < maxEntries; i++) {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, i, true);
    m.update(k, new Uint8Array(valueSize).fill(i & 0xff));
  }
  return m;
}

/** A run's result or error, the registers and the map's bytes, as text. */
function outcome(p: VmProgram, map: VmMap, input: VmRunInput): string {
  let head: string;
  try {
    const r = p.run(input);
    head = `r0 ${r.r0} insns ${r.instructions}`;
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    head = `error at ${e.pc}: ${e.message}`;
  }
  const R = (p as unknown as { machine: { R: Int32Array } }).machine.R;
  const entries = [...map.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).join(" ");
  return `${head}\nregs ${[...R].join(",")}\nmap ${hex(map.values)}\nentries ${entries}`;
}

/**
 * Runs `text` on a fresh map in the interpreter and on the wasm target; asserts the
 * same outcomes run after run and that the wasm program answered its lookups inline.
 */
function same<M extends VmMap>(
  text: string,
  makeMap: () => M,
  inputs: VmRunInput[] = [{}, { repeat: 3 }],
): { out: string[]; map: M; prog: VmProgram } {
  const insns = assemble(text);
  const ma = makeMap();
  const mb = makeMap();
  const a = new VmProgram(insns, { maps: [ma], jit: "never" });
  const b = new VmProgram(insns, { maps: [mb], jit: "always", jitTarget: "wasm" });
  assert.equal(b.jitEngine, "wasm", b.jitEngineReason);
  assert.equal(mb.home !== undefined, true, "the map moved into the arena");
  if (text.includes("map_lookup_elem")) assert.match(b.jitEngineReason ?? "", /map lookups inline/);
  const out: string[] = [];
  for (const input of inputs) {
    const x = outcome(a, ma, input);
    assert.equal(outcome(b, mb, input), x);
    out.push(x);
  }
  return { out, map: mb, prog: b };
}

const LOOKUP = (key: string) =>
  [key, "r1 = map[idx:0]", "r2 = r10", "r2 += -4", "call map_lookup_elem"].join("\n");

describe("wasm target: array maps in the arena", () => {
  test("a constant key: found, read and written in place; out of range gives NULL", () => {
    const text = [
      LOOKUP("*(u32 *)(r10 -4) = 2"),
      "if r0 == 0 goto miss",
      "r6 = *(u64 *)(r0 +0)",
      "r6 += 5",
      "*(u64 *)(r0 +0) = r6",
      LOOKUP("*(u32 *)(r10 -4) = 9"),
      "if r0 != 0 goto miss",
      "r0 = r6",
      "exit",
      "miss:",
      "r0 = 99",
      "exit",
    ].join("\n");
    const { out, prog } = same(text, () => arrayMap(4));
    assert.match(out[0]!, /^r0 144680345676153351 /); // 0x0202..02 + 5
    assert.match(prog.jitEngineReason ?? "", /2 map lookups inline/);
  });

  test("a key computed at run time, in a loop over every entry", () => {
    const text = [
      "r6 = 0",
      "r7 = 0",
      "l:",
      "*(u32 *)(r10 -4) = r6",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "call map_lookup_elem",
      "if r0 == 0 goto next",
      "r1 = *(u32 *)(r0 +4)",
      "r7 += r1",
      "*(u32 *)(r0 +0) = r7",
      "next:",
      "r6 += 1",
      "if r6 < 12 goto l",
      "r0 = r7",
      "exit",
    ].join("\n");
    same(text, () => arrayMap(10));
  });

  test("past the value's end faults as in the interpreter; a NULL answer faults too", () => {
    const past = [
      LOOKUP("*(u32 *)(r10 -4) = 1"),
      "if r0 == 0 goto out",
      "r0 = *(u64 *)(r0 +8)",
      "out:",
      "exit",
    ];
    const [x] = same(past.join("\n"), () => arrayMap(4)).out;
    assert.match(x!, /^error at 7: /);
    const nil = [LOOKUP("*(u32 *)(r10 -4) = 7"), "r0 = *(u64 *)(r0 +0)", "exit"];
    const [y] = same(nil.join("\n"), () => arrayMap(4)).out;
    assert.match(y!, /^error at 6: /);
  });

  test("a map the program may not write (BPF_F_RDONLY_PROG): the store faults alike", () => {
    const text = [
      LOOKUP("*(u32 *)(r10 -4) = 0"),
      "if r0 == 0 goto out",
      "*(u64 *)(r0 +0) = 1",
      "out:",
      "exit",
    ];
    const [x] = same(text.join("\n"), () => arrayMap(2, 8, MapFlags.RDONLY_PROG)).out;
    assert.match(x!, /^error at 7: /);
  });

  test("more values than the machine keeps windows for (1,024): windows are reused alike", () => {
    const text = [
      "r6 = 0",
      "l:",
      "*(u32 *)(r10 -4) = r6",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "call map_lookup_elem",
      "if r0 == 0 goto out",
      "r1 = 1",
      "lock *(u64 *)(r0 +0) += r1",
      "r6 += 1",
      "goto l",
      "out:",
      "r0 = r6",
      "exit",
    ].join("\n");
    const [x] = same(text, () => arrayMap(1500), [{}, { repeat: 2 }]).out;
    assert.match(x!, /^r0 1500 /);
  });

  test("global data (a map value in an lddw) is read and written in the arena", () => {
    const text = [
      "r1 = map[idx:0][0]+8",
      "r2 = *(u64 *)(r1 +0)",
      "r2 += 1",
      "*(u64 *)(r1 +0) = r2",
      "r0 = *(u64 *)(r1 +8)",
      "exit",
    ].join("\n");
    same(text, () => arrayMap(1, 24), [{}, { repeat: 4 }, {}]);
  });

  test("the user side and other programs see the values where they moved", () => {
    const map = arrayMap(4);
    const before = map.values;
    const text = [
      LOOKUP("*(u32 *)(r10 -4) = 3"),
      "if r0 == 0 goto out",
      "r1 = 1",
      "lock *(u64 *)(r0 +0) += r1",
      "r0 = *(u64 *)(r0 +0)",
      "out:",
      "exit",
    ].join("\n");
    const insns = assemble(text);
    const wasm = new VmProgram(insns, { maps: [map], jit: "always", jitTarget: "wasm" });
    assert.notEqual(map.values, before, "moved into the arena");
    assert.equal(wasm.run().r0, 0x0303030303030304n);
    // Programs of other address spaces (the interpreter's, a second wasm program's,
    // which calls out for the map: it moves once) go on from the same bytes.
    const interp = new VmProgram(insns, { maps: [map], jit: "never" });
    assert.equal(interp.run().r0, 0x0303030303030305n);
    const moved = map.values;
    const other = new VmProgram(insns, { maps: [map], jit: "always", jitTarget: "wasm" });
    assert.equal(other.jitEngine, "wasm");
    assert.equal(map.values, moved);
    assert.equal(other.run({ repeat: 2 }).r0, 0x0303030303030307n);
    const key = new Uint8Array([3, 0, 0, 0]);
    assert.equal(hex(map.lookup(key)!), "0703030303030303");
    map.update(key, new Uint8Array(8));
    assert.equal(wasm.run().r0, 1n);
  });

  test("a map another address space has already stays where it is", () => {
    const map = arrayMap(4);
    const before = map.values;
    const text = [
      LOOKUP("*(u32 *)(r10 -4) = 1"),
      "if r0 == 0 goto out",
      "r0 = *(u64 *)(r0 +0)",
      "out:",
      "exit",
    ];
    const interp = new VmProgram(assemble(text.join("\n")), { maps: [map], jit: "never" });
    const wasm = new VmProgram(assemble(text.join("\n")), {
      maps: [map],
      jit: "always",
      jitTarget: "wasm",
    });
    assert.equal(map.values, before);
    assert.equal(map.home, undefined);
    assert.equal(wasm.run().r0, interp.run().r0);
  });

  test("hash maps: 4- and 16-byte keys found and missing, values read and written in place", () => {
    for (const keySize of [4, 16, 6]) {
      const key =
        keySize === 16
          ? ["*(u64 *)(r10 -16) = 0", "*(u64 *)(r10 -8) = 0"]
          : ["*(u64 *)(r10 -16) = 0"];
      const text = [
        "r6 = 0",
        "r7 = 0",
        "l:",
        ...key,
        `*(u8 *)(r10 -${keySize === 6 ? 16 : keySize}) = r6`,
        "r1 = map[idx:0]",
        "r2 = r10",
        `r2 += -${keySize === 6 ? 16 : keySize}`,
        "call map_lookup_elem",
        "if r0 == 0 goto next",
        "r1 = *(u64 *)(r0 +8)",
        "r7 += r1",
        "*(u32 *)(r0 +0) = r7",
        "next:",
        "r6 += 1",
        "if r6 < 10 goto l",
        "r0 = r7",
        "exit",
      ].join("\n");
      same(text, () => hashMap(MapType.HASH, keySize, 6));
    }
  });

  test("hash maps: an update or delete between lookups, and an LRU map's order, as the interpreter", () => {
    const text = [
      "*(u32 *)(r10 -4) = 2",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "call map_lookup_elem",
      "if r0 == 0 goto out",
      "r6 = r0",
      // A new key in the full LRU map evicts the least recently used (not key 2).
      "*(u32 *)(r10 -4) = 40",
      "*(u64 *)(r10 -24) = 7",
      "*(u64 *)(r10 -16) = 9",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "r3 = r10",
      "r3 += -24",
      "r4 = 0",
      "call map_update_elem",
      "*(u32 *)(r10 -4) = 2",
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -4",
      "call map_delete_elem",
      // The pointer from before the delete still reads the old value.
      "r0 = *(u64 *)(r6 +0)",
      "out:",
      "exit",
    ].join("\n");
    for (const type of [MapType.HASH, MapType.LRU_HASH])
      same(text, () => hashMap(type, 4, 8), [{}, {}, { repeat: 2 }]);
  });

  test("hash maps of 16-byte keys: the module walks the chains as updates and deletes change them", () => {
    const key = (k: number) => [
      "*(u64 *)(r10 -16) = 0",
      "*(u64 *)(r10 -8) = 0",
      `*(u8 *)(r10 -16) = ${k}`,
    ];
    const call = (helper: string, value = false) => [
      "r1 = map[idx:0]",
      "r2 = r10",
      "r2 += -16",
      ...(value ? ["r3 = r10", "r3 += -40", "r4 = 0"] : []),
      `call ${helper}`,
    ];
    const text = [
      "r7 = 0",
      ...key(3),
      ...call("map_lookup_elem"),
      "if r0 == 0 goto a",
      "r7 = *(u64 *)(r0 +0)",
      "a:",
      "*(u64 *)(r10 -40) = 77",
      "*(u64 *)(r10 -32) = 78",
      ...key(12),
      ...call("map_update_elem", true),
      ...key(3),
      ...call("map_delete_elem"),
      ...key(12),
      ...call("map_lookup_elem"),
      "if r0 == 0 goto b",
      "r1 = *(u64 *)(r0 +0)",
      "r7 += r1",
      "b:",
      ...key(3),
      ...call("map_lookup_elem"),
      "if r0 != 0 goto c",
      "r7 += 1000",
      "c:",
      "r0 = r7",
      "exit",
    ].join("\n");
    const { out } = same(text, () => hashMap(MapType.HASH, 16, 6), [{}, {}, {}]);
    assert.match(out[0]!, /^r0 289360691352307769 /); // 0x0404..04 + 77 + 1000
  });

  test("hash maps of 16-byte keys: random lookups, updates and deletes agree with the interpreter", () => {
    const rand = seededRandom(0x16b);
    for (let n = 0; n < 60; n++) {
      const lines = ["r7 = 0"];
      for (let i = 0; i < 24; i++) {
        // Keys from a small set (word 0 and word 2 vary), so that hits, misses and
        // chains of several slots all happen (the map holds 8 keys).
        lines.push(
          "*(u64 *)(r10 -16) = 0",
          "*(u64 *)(r10 -8) = 0",
          `*(u32 *)(r10 -16) = ${rand() % 12}`,
          `*(u32 *)(r10 -8) = ${rand() % 2}`,
          "r1 = map[idx:0]",
          "r2 = r10",
          "r2 += -16",
        );
        const op = rand() % 3;
        if (op === 0)
          lines.push(
            "call map_lookup_elem",
            `if r0 == 0 goto m${i}`,
            "r1 = *(u64 *)(r0 +8)",
            "r7 += r1",
            `*(u64 *)(r0 +0) = r7`,
            `m${i}:`,
          );
        else if (op === 1)
          lines.push(
            `*(u64 *)(r10 -40) = ${i}`,
            `*(u64 *)(r10 -32) = ${rand() % 1000}`,
            "r3 = r10",
            "r3 += -40",
            `r4 = ${rand() % 3}`,
            "call map_update_elem",
            "r7 += r0",
          );
        else lines.push("call map_delete_elem", "r7 += r0");
      }
      lines.push("r0 = r7", "exit");
      same(lines.join("\n"), () => hashMap(MapType.HASH, 16, 5), [{}, {}, { repeat: 2 }]);
    }
  });

  test("atomics on a looked-up value run in place: 4 and 8 bytes, fetch, xchg, through a copy of r0", () => {
    const text = [
      LOOKUP("*(u32 *)(r10 -4) = 1"),
      "if r0 == 0 goto out",
      "r6 = r0",
      "r1 = 5",
      "lock *(u64 *)(r6 +0) += r1",
      "r2 = -1",
      "r2 = atomic_fetch_add((u32 *)(r6 +8), r2)",
      "r3 = 0xf0",
      "r3 = atomic_fetch_or((u64 *)(r6 +0), r3)",
      "r4 = 7",
      "lock *(u32 *)(r6 +12) ^= r4",
      "r5 = 99",
      "r5 = xchg_64(r6 +0, r5)",
      "r0 = r2",
      "r0 += r3",
      "r0 += r5",
      "out:",
      "exit",
    ].join("\n");
    const [x] = same(text, () => arrayMap(4, 16)).out;
    assert.match(x!, /^r0 \d+ /);
    // A NULL answer: the atomic faults as the interpreter's does.
    const nil = [LOOKUP("*(u32 *)(r10 -4) = 9"), "r1 = 1", "lock *(u64 *)(r0 +0) += r1", "exit"];
    const [y] = same(nil.join("\n"), () => arrayMap(4)).out;
    assert.match(y!, /^error at 7: /);
  });
});
