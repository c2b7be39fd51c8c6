/**
 * CO-RE relocations of the committed test objects resolved against this machine's
 * /sys/kernel/btf/vmlinux (readable without root): each field offset equals the
 * member's offset read straight from vmlinux BTF, and only the field the kernel lacks
 * is poisoned.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applyCoreRelocations, CoreResolver } from "../src/btf/core.ts";
import { CoreReloKind } from "../src/btf/index.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { vmlinuxBTF } from "../src/kernel/btf/kernel-btf.ts";

const skip = existsSync("/sys/kernel/btf/vmlinux") ? false : "no /sys/kernel/btf/vmlinux";

test("task.bpf.o relocates to vmlinux's own offsets", { skip }, () => {
  const spec = loadCollectionSpec(
    new Uint8Array(readFileSync(join(import.meta.dirname, "testdata/core/task.bpf.o"))),
  );
  const vmlinux = vmlinuxBTF();
  const task = vmlinux.findByName("STRUCT", "task_struct")!;
  const offsetOf = (name: string) => task.members.find((m) => m.name === name)!.bitOffset / 8;
  const prog = spec.programs.read_task!;
  const applied = applyCoreRelocations(
    prog.instructions,
    prog.coreRelocations ?? [],
    new CoreResolver(spec.btf!, { vmlinux }),
  );
  const offsets = new Map<string, bigint>();
  for (const r of applied.resolutions) {
    if (r.relocation.kind !== CoreReloKind.FIELD_BYTE_OFFSET || r.poison) continue;
    const m = /struct task_struct\.(\w+) /.exec(r.description);
    if (m) offsets.set(m[1]!, r.newValue);
  }
  for (const f of ["pid", "tgid", "real_parent"]) {
    assert.equal(offsets.get(f), BigInt(offsetOf(f)), f);
  }
  assert.deepEqual(
    applied.poisoned.map((p) => p.resolution.description),
    ["field_byte_offset struct task_struct___missing.no_such_field (0:0)"],
  );
});

test("type-id.bpf.o: local type ids are the object's, target ids vmlinux's", { skip }, () => {
  const spec = loadCollectionSpec(
    new Uint8Array(readFileSync(join(import.meta.dirname, "testdata/core/type-id.bpf.o"))),
  );
  const vmlinux = vmlinuxBTF();
  const local = spec.btf!;
  const prog = spec.programs.type_ids!;
  const applied = applyCoreRelocations(
    prog.instructions,
    prog.coreRelocations ?? [],
    new CoreResolver(local, { vmlinux }),
  );
  assert.deepEqual(applied.poisoned, []);
  const idOf = (btf: typeof local, kind: "STRUCT" | "TYPEDEF", name: string) => {
    const t = btf.findByName(kind, name);
    assert.ok(t, `${name} in ${btf === local ? "the object" : "vmlinux"}`);
    return BigInt(t.id);
  };
  // [kind, the type's C name in the object, the id expected after relocation]
  const want: [CoreReloKind, string, bigint][] = [
    [CoreReloKind.TYPE_ID_LOCAL, "struct task_struct", idOf(local, "STRUCT", "task_struct")],
    [CoreReloKind.TYPE_ID_TARGET, "struct task_struct", idOf(vmlinux, "STRUCT", "task_struct")],
    [
      CoreReloKind.TYPE_ID_LOCAL,
      "struct task_struct___flavour",
      idOf(local, "STRUCT", "task_struct___flavour"),
    ],
    // A ___flavour is the kernel's type without its suffix.
    [
      CoreReloKind.TYPE_ID_TARGET,
      "struct task_struct___flavour",
      idOf(vmlinux, "STRUCT", "task_struct"),
    ],
    [CoreReloKind.TYPE_ID_LOCAL, "typedef pid_t", idOf(local, "TYPEDEF", "pid_t")],
    [CoreReloKind.TYPE_ID_TARGET, "typedef pid_t", idOf(vmlinux, "TYPEDEF", "pid_t")],
    [CoreReloKind.TYPE_ID_TARGET, "typedef __u64", idOf(vmlinux, "TYPEDEF", "__u64")],
  ];
  assert.deepEqual(
    applied.resolutions.map((r) => [r.relocation.kind, r.description, r.newValue]),
    want.map(([kind, name, id]) => [
      kind,
      `${kind === CoreReloKind.TYPE_ID_LOCAL ? "type_id_local" : "type_id_target"} ${name}`,
      id,
    ]),
  );
  // Local ids are what clang wrote; target ids differ from them (vmlinux is another BTF).
  for (const r of applied.resolutions) {
    if (r.relocation.kind === CoreReloKind.TYPE_ID_LOCAL) assert.equal(r.newValue, r.origValue);
  }
  assert.notEqual(want[1]![2], want[0]![2]);
  // The lddw immediates carry the new ids.
  const insns = new DataView(
    applied.instructions.buffer,
    applied.instructions.byteOffset,
    applied.instructions.byteLength,
  );
  for (const r of applied.resolutions) {
    assert.equal(BigInt(insns.getInt32(r.relocation.insn * 8 + 4, true)), r.newValue);
  }
});
