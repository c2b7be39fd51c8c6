/**
 * Objects from before clang marked BPF programs STT_FUNC (iproute2's examples and old
 * kernel samples still ship them): each executable section is one program, as iproute2
 * loads them, named by the global symbol at its start or else by the section. The test
 * makes such objects from a clang-19 one by rewriting its symbol table: FUNC symbols
 * become NOTYPE (size 0), and in a second variant lose their names too.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec, parseELF } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { kernelSkip } from "./support/kernel.ts";

const OBJ = join(import.meta.dirname, "testdata/elf/legacy.bpf.o");

/** The object with every FUNC symbol made NOTYPE (and nameless with `dropNames`). */
function preFuncSymbols(bytes: Uint8Array, dropNames: boolean): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  const symtab = parseELF(out).sections.find((s) => s.name === ".symtab");
  assert.ok(symtab);
  for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += 24) {
    const info = v.getUint8(at + 4);
    if ((info & 0xf) !== 2) continue; // STT_FUNC
    v.setUint8(at + 4, info & 0xf0); // STT_NOTYPE, binding kept
    v.setBigUint64(at + 16, 0n, true); // st_size 0, as old objects had
    if (dropNames) v.setUint32(at, 0, true);
  }
  return out;
}

const original = loadCollectionSpec(readFileSync(OBJ));

describe("objects whose programs are not STT_FUNC", () => {
  test("named by the global symbol at the section start: the same spec as the clang-19 object", () => {
    const spec = loadCollectionSpec(preFuncSymbols(readFileSync(OBJ), false));
    assert.deepEqual(Object.keys(spec.programs).sort(), Object.keys(original.programs).sort());
    for (const [name, p] of Object.entries(spec.programs)) {
      const o = original.programs[name]!;
      assert.equal(p.section, o.section);
      assert.equal(p.type, o.type);
      assert.deepEqual(p.instructions, o.instructions, name);
    }
  });

  test("without symbol names: one program per section, named after it", () => {
    const spec = loadCollectionSpec(preFuncSymbols(readFileSync(OBJ), true));
    const bySection = Object.fromEntries(
      Object.values(spec.programs).map((p) => [p.section, p.name]),
    );
    assert.deepEqual(bySection, {
      socket: "socket",
      "tracepoint/syscalls/sys_enter_openat": "tracepoint_syscalls_sys_enter_openat",
    });
  });

  test("the kernel loads and runs it as it runs the clang-19 object", { skip: kernelSkip }, () => {
    using coll = Collection.load(loadCollectionSpec(preFuncSymbols(readFileSync(OBJ), true)));
    using orig = Collection.load(original);
    const data = new Uint8Array(64);
    const r = coll.program("socket").run({ data });
    assert.equal(r.retval, orig.program("sock_filter").run({ data }).retval);
    assert.equal(r.retval, 50); // skb->len: the packet less its Ethernet header
  });
});
