import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeTypes, parseBTF } from "../btf/index.ts";
import type { BTFType } from "../btf/types.ts";
import { AttachType, MapType, ProgLoadFlags, ProgType } from "../uapi/index.ts";
import { CaseError, caseBtf, formatCase, parseCase } from "./case.ts";

// r1 = map[0] (lddw src 1, imm 0); r0 = 0; exit
const LDDW_MAP0 = "1810000000000000 0000000000000000";
const RET0 = "b700000000000000 9500000000000000";

function fails(json: unknown, field: string, reason: RegExp): void {
  assert.throws(
    () => parseCase(typeof json === "string" ? json : JSON.stringify(json)),
    (e: unknown) => {
      assert.ok(e instanceof CaseError, String(e));
      assert.equal(e.field, field, e.message);
      assert.match(e.message, reason);
      assert.ok(e.message.startsWith(`case.json: ${field ? `${field}: ` : ""}`), e.message);
      return true;
    },
  );
}

describe("parseCase", () => {
  test("a whole case: names, maps, funcs, flags", () => {
    const c = parseCase({
      prog_type: "xdp",
      insns: `${LDDW_MAP0} 0x${RET0.replace(" ", "\n")}`,
      maps: [
        { type: "hash", key_size: 4, value_size: 8, max_entries: 16, flags: 1 },
        { type: "array", key_size: 4, value_size: 16, max_entries: 1, spin_lock_off: 8 },
        {
          type: "array_of_maps",
          key_size: 4,
          value_size: 4,
          max_entries: 1,
          inner_map: { type: "array", key_size: 4, value_size: 4, max_entries: 1 },
        },
      ],
      expected_attach_type: "cgroup_inet_ingress",
      prog_flags: ["BPF_F_ANY_ALIGNMENT", "TEST_STATE_FREQ"],
      funcs: [
        { insn_off: 0, linkage: "global" },
        { insn_off: 3, linkage: "static" },
      ],
    });
    assert.equal(c.progType, ProgType.XDP);
    assert.equal(c.expectedAttachType, AttachType.CGROUP_INET_INGRESS);
    assert.equal(c.progFlags, ProgLoadFlags.ANY_ALIGNMENT | ProgLoadFlags.TEST_STATE_FREQ);
    assert.equal(c.insns.length, 32);
    assert.equal(c.insns[0], 0x18);
    assert.equal(c.license, "GPL");
    assert.equal(c.maps.length, 3);
    assert.deepEqual(c.maps[0]?.spec, {
      name: "m0",
      type: MapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 16,
      flags: 1,
    });
    assert.equal(c.maps[1]?.spinLockOff, 8);
    assert.equal(c.maps[2]?.spec.innerMap?.type, MapType.ARRAY);
    assert.deepEqual(c.funcs, [
      { insnOff: 0, linkage: "global" },
      { insnOff: 3, linkage: "static" },
    ]);
    // formatCase writes what parseCase reads
    assert.deepEqual(parseCase(formatCase(c)), c);
  });

  test("numbers stand for types tsbpf has no name for", () => {
    const c = parseCase({
      prog_type: 6,
      insns: RET0,
      maps: [{ type: 2, key_size: 4, value_size: 4, max_entries: 1 }],
    });
    assert.equal(c.progType, ProgType.XDP);
    assert.equal(c.maps[0]?.spec.type, MapType.ARRAY);
    assert.equal(parseCase({ prog_type: 9999, insns: RET0 }).progType, 9999);
  });

  test("each bad field is named with the reason", () => {
    const ok = { prog_type: "xdp", insns: RET0 };
    const map = { type: "hash", key_size: 4, value_size: 8, max_entries: 16 };
    fails("{", "", /not JSON/);
    fails([], "", /must be an object, not an array/);
    fails({ insns: RET0 }, "prog_type", /is required/);
    fails({ ...ok, prog_type: "xdpp" }, "prog_type", /"xdpp" is not a program type/);
    fails({ ...ok, prog_type: "unspec" }, "prog_type", /unspec/);
    fails({ ...ok, prog_type: -1 }, "prog_type", /-1 is not an integer/);
    fails({ ...ok, prog_typo: 1 }, "prog_typo", /unknown field/);
    fails({ prog_type: "xdp" }, "insns", /is required/);
    fails({ ...ok, insns: 12 }, "insns", /must be a string, not 12/);
    fails({ ...ok, insns: "b7000000000000" }, "insns", /14 hex digits is not a whole number/);
    fails({ ...ok, insns: "b70000000000000g" }, "insns", /"g" is not a hex digit/);
    fails({ ...ok, insns: "" }, "insns", /no instructions/);
    fails({ ...ok, maps: {} }, "maps", /must be an array/);
    fails(
      { ...ok, maps: [map, map, { ...map, type: "hashh" }] },
      "maps[2].type",
      /"hashh" is not a map type/,
    );
    fails({ ...ok, maps: [{ ...map, key_size: undefined }] }, "maps[0].key_size", /is required/);
    fails(
      { ...ok, maps: [{ ...map, value_size: 1.5 }] },
      "maps[0].value_size",
      /1.5 is not an integer/,
    );
    fails({ ...ok, maps: [{ ...map, flags: 2 ** 32 }] }, "maps[0].flags", /not an integer in/);
    fails(
      { ...ok, maps: [{ ...map, spin_lock_off: 6 }] },
      "maps[0].spin_lock_off",
      /not a multiple of 4/,
    );
    fails(
      { ...ok, maps: [{ ...map, spin_lock_off: 8 }] },
      "maps[0].spin_lock_off",
      /does not fit in a 8-byte value/,
    );
    fails({ ...ok, maps: [{ ...map, keysize: 4 }] }, "maps[0].keysize", /unknown field/);
    fails(
      { ...ok, maps: [{ ...map, inner_map: { ...map, inner_map: map } }] },
      "maps[0].inner_map.inner_map",
      /cannot hold maps/,
    );
    fails(
      { ...ok, expected_attach_type: "ingress" },
      "expected_attach_type",
      /"ingress" is not an attach type/,
    );
    fails({ ...ok, prog_flags: ["SLEEPY"] }, "prog_flags[0]", /"SLEEPY" is not a load flag/);
    fails({ ...ok, prog_flags: "1" }, "prog_flags", /must be an array/);
    fails(
      { ...ok, funcs: [{ insn_off: 2 }] },
      "funcs[0].insn_off",
      /past the last instruction \(1\)/,
    );
    fails({ ...ok, funcs: [{ insn_off: 0, linkage: "extern" }] }, "funcs[0].linkage", /neither/);
    fails({ ...ok, funcs: [{ linkage: "static" }] }, "funcs[0].insn_off", /is required/);
    fails({ ...ok, license: "G\0PL" }, "license", /NUL/);
    fails(
      { ...ok, insns: `${LDDW_MAP0} ${RET0}` },
      "insns[0]",
      /refers to maps\[0\], but the case has 0 maps/,
    );
    fails(
      { ...ok, insns: `1820000001000000 0000000000000000 ${RET0}`, maps: [map] },
      "insns[0]",
      /src_reg 2 refers to maps\[1\], but the case has 1 map$/,
    );
  });

  test("an lddw of another kind (src_reg 0) is not a map reference", () => {
    const c = parseCase({ prog_type: "xdp", insns: `1800000005000000 0000000000000000 ${RET0}` });
    assert.equal(c.insns.length, 32);
  });
});

describe("caseBtf", () => {
  test("no funcs and no locks: no BTF", () => {
    assert.equal(caseBtf(parseCase({ prog_type: "xdp", insns: RET0 })), undefined);
  });

  test("funcs are int f(void) with their linkage; a locked value is a struct with bpf_spin_lock", () => {
    const c = parseCase({
      name: "my-prog",
      prog_type: "sched_cls",
      insns: `${RET0} ${RET0}`,
      maps: [
        { type: "hash", key_size: 8, value_size: 16, max_entries: 1 },
        { type: "array", key_size: 4, value_size: 12, max_entries: 1, spin_lock_off: 4 },
        { type: "hash", key_size: 6, value_size: 8, max_entries: 1, spin_lock_off: 0 },
      ],
      funcs: [
        { insn_off: 0, linkage: "global" },
        { insn_off: 2, linkage: "static" },
      ],
    });
    const b = caseBtf(c);
    assert.ok(b);
    const btf = parseBTF(encodeTypes(b.types));
    assert.ok(b.funcInfo);
    const view = new DataView(b.funcInfo.buffer);
    const f0 = btf.types[view.getUint32(4, true)];
    const f1 = btf.types[view.getUint32(12, true)];
    assert.equal(view.getUint32(8, true), 2);
    assert.ok(f0?.kind === "FUNC" && f1?.kind === "FUNC");
    assert.equal(f0.name, "my_prog");
    assert.equal(f0.linkage, "global");
    assert.equal(f1.linkage, "static");
    const proto = btf.types[f0.type];
    assert.ok(proto?.kind === "FUNC_PROTO");
    assert.equal(proto.params.length, 0);
    assert.equal(btf.types[proto.returnType]?.name, "int");

    assert.equal(b.mapTypeIds[0], undefined);
    for (const [i, off, keySize] of [
      [1, 4, 4],
      [2, 0, 6],
    ] as const) {
      const ids: { key: number; value: number } | undefined = b.mapTypeIds[i];
      assert.ok(ids);
      const value: BTFType | undefined = btf.types[ids.value];
      assert.ok(value?.kind === "STRUCT");
      assert.equal(value.size, c.maps[i]?.spec.valueSize);
      assert.equal(value.members[0]?.bitOffset, off * 8);
      const lock = btf.types[value.members[0]?.type ?? 0];
      assert.ok(lock?.kind === "STRUCT" && lock.name === "bpf_spin_lock" && lock.size === 4);
      const key = btf.types[ids.key];
      if (keySize === 4) assert.ok(key?.kind === "INT" && key.size === 4);
      else assert.ok(key?.kind === "ARRAY" && key.nelems === keySize);
    }
  });
});
