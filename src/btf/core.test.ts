import assert from "node:assert/strict";
import { test } from "node:test";
import type { BTF } from "./btf.ts";
import {
  applyCoreRelocations,
  CORE_POISON_HELPER,
  CoreRelocationError,
  CoreResolver,
  essentialName,
} from "./core.ts";
import { typesMatch } from "./core-compat.ts";
import { encodeTypes } from "./encode.ts";
import { CoreReloKind } from "./ext.ts";
import { parseBTF } from "./parse.ts";
import type { BTFType } from "./types.ts";

const int = (id: number, name = "int", size = 4, signed = true): BTFType => ({
  kind: "INT",
  id,
  name,
  size,
  signed,
  char: false,
  bool: false,
  bitOffset: 0,
  bits: size * 8,
});
const struct = (
  id: number,
  name: string,
  size: number,
  members: [string, number, number, number?][],
): BTFType => ({
  kind: "STRUCT",
  id,
  name,
  size,
  members: members.map(([n, type, bitOffset, bitfieldSize]) => ({
    name: n,
    type,
    bitOffset,
    bitfieldSize: bitfieldSize ?? 0,
  })),
});
const btfOf = (types: BTFType[]): BTF => parseBTF(encodeTypes(types));

/** One instruction: opcode, dst|src<<4, off, imm. */
function insn(code: number, regs: number, off: number, imm: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = regs;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}
const concat = (...xs: Uint8Array[]) => {
  const out = new Uint8Array(xs.length * 8);
  xs.forEach((x, i) => {
    out.set(x, i * 8);
  });
  return out;
};
const field = (buf: Uint8Array, i: number) => {
  const v = new DataView(buf.buffer, buf.byteOffset);
  return { code: buf[i * 8]!, off: v.getInt16(i * 8 + 2, true), imm: v.getInt32(i * 8 + 4, true) };
};

// Local: struct task___v2 { int a; int b; } (flavoured), enum e { X = 5 }.
const local = btfOf([
  int(1),
  struct(2, "task___v2", 8, [
    ["a", 1, 0],
    ["b", 1, 32],
  ]),
  {
    kind: "ENUM",
    id: 3,
    name: "e",
    size: 4,
    signed: false,
    values: [{ name: "X___old", value: 5 }],
  },
  struct(4, "bits", 4, [["flag", 5, 3, 1]]),
  int(5, "unsigned int", 4, false),
  struct(6, "", 4, [["a", 1, 0]]),
  struct(7, "wide", 8, [["n", 8, 0]]),
  int(8, "unsigned long", 8, false),
]);
// Target: struct task { long pad; struct { int b; }; int a; }, enum e { Y = 1, X = 7 }.
const target = btfOf([
  int(1),
  int(2, "long", 8),
  struct(3, "", 4, [["b", 1, 0]]),
  struct(4, "task", 16, [
    ["pad", 2, 0],
    ["", 3, 64],
    ["a", 1, 96],
  ]),
  {
    kind: "ENUM",
    id: 5,
    name: "e",
    size: 4,
    signed: false,
    values: [
      { name: "Y", value: 1 },
      { name: "X", value: 7 },
    ],
  },
  struct(6, "bits", 8, [["flag", 7, 37, 1]]),
  int(7, "unsigned int", 4, false),
  struct(8, "wide", 8, [["n", 9, 32]]),
  int(9, "unsigned int", 4, false),
]);

test("essential names drop the last ___flavour", () => {
  assert.equal(essentialName("task_struct___v2"), "task_struct");
  assert.equal(essentialName("a___b___c"), "a___b");
  assert.equal(essentialName("__u32"), "__u32");
  assert.equal(essentialName("x____y"), "x____y");
});

test("field offsets follow the target layout, through anonymous members", () => {
  const r = new CoreResolver(local, { vmlinux: target });
  const a = r.resolve({ insn: 0, typeId: 2, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET });
  assert.equal(a.origValue, 0n);
  assert.equal(a.newValue, 12n);
  assert.equal(a.description, "field_byte_offset struct task___v2.a (0:0)");
  const b = r.resolve({ insn: 0, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_BYTE_OFFSET });
  assert.equal(b.newValue, 8n, "b is inside the anonymous struct at byte 8");
  assert.equal(b.target?.description, "struct task.b (0:1:0)");
  const sz = r.resolve({ insn: 0, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_BYTE_SIZE });
  assert.equal(sz.newValue, 4n);
  const ts = r.resolve({ insn: 0, typeId: 2, access: "0", kind: CoreReloKind.TYPE_SIZE });
  assert.equal(ts.newValue, 16n);
});

test("enumerators by essential name; missing ones", () => {
  const r = new CoreResolver(local, { vmlinux: target });
  const v = r.resolve({ insn: 0, typeId: 3, access: "0", kind: CoreReloKind.ENUMVAL_VALUE });
  assert.equal(v.origValue, 5n);
  assert.equal(v.newValue, 7n);
});

test("bitfields: byte offset, size and shifts", () => {
  const r = new CoreResolver(local, { vmlinux: target });
  const get = (kind: number) => r.resolve({ insn: 0, typeId: 4, access: "0:0", kind }).newValue;
  // flag at bit 37 of the target: read as the u32 at byte 4, bit 5 of it.
  assert.equal(get(CoreReloKind.FIELD_BYTE_OFFSET), 4n);
  assert.equal(get(CoreReloKind.FIELD_BYTE_SIZE), 4n);
  assert.equal(get(CoreReloKind.FIELD_LSHIFT_U64), BigInt(64 - (37 + 1 - 32)));
  assert.equal(get(CoreReloKind.FIELD_RSHIFT_U64), 63n);
  assert.equal(get(CoreReloKind.FIELD_SIGNED), 0n);
});

test("patching: ALU immediates, load offsets and widths, lddw, poison", () => {
  const r = new CoreResolver(local, { vmlinux: target });
  const insns = concat(
    insn(0xb7, 0x01, 0, 0), // r1 = 0 (offsetof a)
    insn(0x61, 0x21, 4, 0), // r1 = *(u32 *)(r2 + 4) (b)
    insn(0x79, 0x21, 0, 0), // r1 = *(u64 *)(r2 + 0) (wide.n, 8 -> 4 bytes)
    insn(0x18, 0x01, 0, 5), // r1 = 5 ll (enum value)
    insn(0x00, 0x00, 0, 0),
    insn(0xb7, 0x01, 0, 0), // r1 = offset of a field the target lacks -> poison
    insn(0xb7, 0x01, 0, 1), // r1 = field exists (1 locally)
  );
  const missing = btfOf([
    int(1),
    struct(2, "task___v2", 8, [
      ["a", 1, 0],
      ["zzz", 1, 32],
    ]),
  ]);
  const applied = applyCoreRelocations(
    insns,
    [
      { insn: 0, typeId: 2, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET },
      { insn: 1, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_BYTE_OFFSET },
      { insn: 2, typeId: 7, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET },
      { insn: 3, typeId: 3, access: "0", kind: CoreReloKind.ENUMVAL_VALUE },
    ],
    r,
  );
  const out = applied.instructions;
  assert.equal(field(out, 0).imm, 12);
  assert.equal(field(out, 1).off, 8);
  assert.deepEqual(field(out, 2), { code: 0x61, off: 4, imm: 0 }, "u64 load narrowed to u32");
  assert.equal(field(out, 3).imm, 7);
  assert.equal(field(out, 4).imm, 0);
  assert.deepEqual(field(insns, 0), { code: 0xb7, off: 0, imm: 0 }, "input untouched");

  const r2 = new CoreResolver(missing, { vmlinux: target });
  const p = applyCoreRelocations(
    insns,
    [{ insn: 5, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_BYTE_OFFSET }],
    r2,
  );
  assert.deepEqual(field(p.instructions, 5), { code: 0x85, off: 0, imm: CORE_POISON_HELPER });
  assert.equal(p.poisoned.length, 1);
  assert.match(p.poisoned[0]!.resolution.reason!, /no struct 'task'.*compatible field \.zzz/);
  const ex = applyCoreRelocations(
    insns,
    [{ insn: 6, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_EXISTS }],
    r2,
  );
  assert.equal(field(ex.instructions, 6).imm, 0, "field_exists is 0, not a poison");
  const lddw = applyCoreRelocations(
    insns,
    [{ insn: 3, typeId: 2, access: "0:1", kind: CoreReloKind.FIELD_BYTE_OFFSET }],
    r2,
  );
  assert.equal(field(lddw.instructions, 3).imm, CORE_POISON_HELPER);
  assert.equal(field(lddw.instructions, 4).code, 0x85, "both halves of lddw are poisoned");
});

test("errors: a wrong expected value, an anonymous root, a bad access string, ambiguity", () => {
  const r = new CoreResolver(local, { vmlinux: target });
  const bad = concat(insn(0xb7, 0x01, 0, 99));
  assert.throws(
    () =>
      applyCoreRelocations(
        bad,
        [{ insn: 0, typeId: 2, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET }],
        r,
      ),
    (e: unknown) =>
      e instanceof CoreRelocationError && /immediate is 99, the local BTF says 0/.test(e.message),
  );
  assert.throws(
    () => r.resolve({ insn: 3, typeId: 6, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET }),
    /anonymous types/,
  );
  assert.throws(
    () => r.resolve({ insn: 3, typeId: 2, access: "0:9", kind: CoreReloKind.FIELD_BYTE_OFFSET }),
    /member 9 of STRUCT 'task___v2'/,
  );
  // Two targets named task with `a` at different offsets.
  const twice = btfOf([
    int(1),
    struct(2, "task", 4, [["a", 1, 0]]),
    struct(3, "task___other", 8, [["a", 1, 32]]),
  ]);
  assert.throws(
    () =>
      new CoreResolver(local, { vmlinux: twice }).resolve({
        insn: 0,
        typeId: 2,
        access: "0:0",
        kind: CoreReloKind.FIELD_BYTE_OFFSET,
      }),
    /field offset ambiguity/,
  );
});

test("module BTF is searched only when vmlinux has no candidate", () => {
  const empty = btfOf([int(1)]);
  let asked = 0;
  const r = new CoreResolver(local, {
    vmlinux: empty,
    modules: () => {
      asked++;
      return [{ name: "mod", btf: target }];
    },
  });
  const a = r.resolve({ insn: 0, typeId: 2, access: "0:0", kind: CoreReloKind.FIELD_BYTE_OFFSET });
  assert.equal(a.target?.source, "mod");
  assert.equal(a.newValue, 12n);
  r.resolve({ insn: 0, typeId: 3, access: "0", kind: CoreReloKind.ENUMVAL_VALUE });
  assert.equal(asked, 1, "module list read once");
});

test("type matches: stricter than compatibility", () => {
  const a = btfOf([int(1), struct(2, "s", 4, [["x", 1, 0]])]);
  const b = btfOf([
    int(1),
    int(2, "unsigned int", 4, false),
    struct(3, "s", 8, [
      ["y", 1, 0],
      ["x", 1, 32],
    ]),
  ]);
  const c = btfOf([int(1, "unsigned int", 4, false), struct(2, "s", 4, [["x", 1, 0]])]);
  assert.equal(typesMatch(a, 2, b, 3), true, "every local member has a namesake of the same type");
  assert.equal(typesMatch(a, 2, c, 2), false, "int vs unsigned int");
  const r = new CoreResolver(a, { vmlinux: c });
  assert.equal(
    r.resolve({ insn: 0, typeId: 2, access: "0", kind: CoreReloKind.TYPE_EXISTS }).newValue,
    1n,
  );
  assert.equal(
    r.resolve({ insn: 0, typeId: 2, access: "0", kind: CoreReloKind.TYPE_MATCHES }).newValue,
    0n,
  );
});
