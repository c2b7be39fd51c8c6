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
import { vmlinuxBTF } from "../src/kernel/btf.ts";

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
