/**
 * BTF in the kernel: tsbpf's encoding of vmlinux and of clang objects' BTF is accepted
 * by BPF_BTF_LOAD (also when sanitised for older kernels), read back by id unchanged;
 * a broken blob is refused with the kernel's log in the error. No fd is left behind.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  ALL_BTF_FEATURES,
  type BTF,
  type BTFType,
  dumpRaw,
  encodeBTF,
  encodeTypes,
  parseBTF,
} from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";
import {
  BTFLoadError,
  KernelBTF,
  moduleBTF,
  moduleBTFNames,
  probeBTFFeatures,
  vmlinuxBTF,
} from "../src/kernel/btf/kernel-btf.ts";
import { mapSysfsBTF } from "../src/kernel/btf/vmlinux-mapping.ts";
import { btfIds } from "../src/kernel/objects/objects.ts";
import { kernelVersionCode, runningKernelVersion } from "../src/kernel/system/kernel-version.ts";
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip, needs, pathSkip } from "./support/kernel.ts";

const skip = needs(kernelSkip, pathSkip("/sys/kernel/btf/vmlinux", "the kernel's BTF"));

/** kitchen.bpf.o's BTF with its DATASECs laid out (what a loader does from the ELF symbols). */
function kitchenBTF(): BTF {
  const elf = parseELF(
    new Uint8Array(readFileSync(join(import.meta.dirname, "testdata", "btf", "kitchen.bpf.o"))),
  );
  const btf = parseBTF(elf.sections.find((s) => s.name === ".BTF")!.data);
  const types: BTFType[] = btf.ownTypes.map((t) => {
    if (t.kind !== "DATASEC") return t;
    let off = 0;
    const vars = t.vars.map((v) => {
      off = Math.ceil(off / 8) * 8;
      const placed = { type: v.type, offset: off, size: v.size };
      off += v.size;
      return placed;
    });
    return { kind: "DATASEC", id: t.id, name: t.name, size: Math.max(off, 1), vars };
  });
  return parseBTF(encodeTypes(types));
}

describe("kernel BTF", { skip }, () => {
  test("vmlinux's BTF is mapped where the kernel allows it (>= 6.16), else read", () => {
    const path = "/sys/kernel/btf/vmlinux";
    const mapped = mapSysfsBTF(path);
    const read = readFileSync(path);
    if (runningKernelVersion() >= kernelVersionCode({ major: 6, minor: 16, patch: 0 })) {
      assert.ok(mapped, "Linux >= 6.16 maps /sys/kernel/btf/vmlinux");
    }
    if (mapped)
      assert.ok(Buffer.from(mapped.buffer, mapped.byteOffset, mapped.length).equals(read));
    // what vmlinuxBTF() parsed is the file, whichever way it came
    const v = vmlinuxBTF();
    assert.equal(v.bytes?.length, read.length);
    assert.ok(v.findByName("STRUCT", "task_struct"));
    // files the kernel will not map, and no file at all, are left to be read
    assert.equal(mapSysfsBTF("/proc/self/status"), undefined);
    assert.equal(mapSysfsBTF("/sys/kernel/btf/no-such-module"), undefined);
  });

  test("encoded vmlinux is accepted and reads back by id unchanged", () => {
    assertNoLeak(() => {
      const v = vmlinuxBTF();
      const k = KernelBTF.load(v, { what: "vmlinux re-encoded" });
      try {
        const info = k.info();
        assert.equal(info.kernelBtf, false);
        assert.equal(info.size, encodeBTF(v).length);
        assert.ok([...btfIds()].includes(info.id), "the id is listed");
        const opened = KernelBTF.fromId(info.id);
        assert.ok(opened);
        try {
          assert.equal(dumpRaw(opened.btf()), dumpRaw(v));
        } finally {
          opened.close();
        }
      } finally {
        k.close();
      }
    });
  });

  test("sanitised BTF (each kind an older kernel lacks rewritten) is accepted", () => {
    assertNoLeak(() => {
      const kitchen = kitchenBTF();
      const cases: [string, Partial<typeof ALL_BTF_FEATURES>][] = [
        ["no ENUM64", { enum64: false }],
        ["no FLOAT", { float: false }],
        ["no DECL_TAG", { declTag: false }],
        ["no TYPE_TAG", { typeTag: false }],
        ["no DATASEC/VAR", { datasec: false }],
        ["no global FUNC", { funcGlobal: false }],
        [
          "none of them",
          {
            enum64: false,
            float: false,
            declTag: false,
            typeTag: false,
            datasec: false,
            funcGlobal: false,
          },
        ],
      ];
      for (const [what, off] of cases) {
        const features = { ...ALL_BTF_FEATURES, ...off };
        for (const btf of [kitchen, vmlinuxBTF()]) {
          const k = KernelBTF.load(btf, { features, what });
          const back = k.btf();
          k.close();
          assert.equal(back.count >= btf.count, true, what);
          const kinds = new Set(back.types.map((t) => t.kind));
          if (!features.enum64) assert.ok(!kinds.has("ENUM64"), what);
          if (!features.float) assert.ok(!kinds.has("FLOAT"), what);
          if (!features.declTag) assert.ok(!kinds.has("DECL_TAG"), what);
          if (!features.typeTag) assert.ok(!kinds.has("TYPE_TAG"), what);
          if (!features.datasec) assert.ok(!kinds.has("DATASEC") && !kinds.has("VAR"), what);
        }
      }
    });
  });

  test("a broken blob is refused with the kernel's log in the error", () => {
    assertNoLeak(() => {
      // [1] int, [2] a PTR to type 99, which does not exist.
      const bytes = encodeTypes([
        {
          kind: "INT",
          id: 1,
          name: "int",
          size: 4,
          signed: true,
          char: false,
          bool: false,
          bitOffset: 0,
          bits: 32,
        },
        { kind: "PTR", id: 2, name: "", type: 99 },
      ]);
      assert.throws(
        () => KernelBTF.load(bytes, { what: "broken" }),
        (e: unknown) =>
          e instanceof BTFLoadError &&
          e.code === "EINVAL" &&
          /\[2\] PTR/.test(e.log) &&
          /Invalid type_id/.test(e.log) &&
          /kernel BTF log: .*Invalid type_id/.test(e.message) &&
          /BTF load \(broken\)/.test(e.message),
      );
      // Unsanitised object BTF: DATASEC of size 0, as clang leaves it.
      const elf = parseELF(
        new Uint8Array(readFileSync(join(import.meta.dirname, "testdata", "btf", "kitchen.bpf.o"))),
      );
      assert.throws(
        () => KernelBTF.load(elf.sections.find((s) => s.name === ".BTF")!.data),
        (e: unknown) => e instanceof BTFLoadError && /DATASEC/.test(e.log),
      );
    });
  });

  test("the log buffer grows until the log fits (ENOSPC)", () => {
    assertNoLeak(() => {
      const k = KernelBTF.load(kitchenBTF(), { logLevel: 1, logSize: 128 });
      try {
        assert.ok(k.log.length > 128, `log of ${k.log.length} bytes`);
        assert.match(k.log, /magic: 0xeb9f/);
      } finally {
        k.close();
      }
    });
  });

  test("kernel BTF by id: vmlinux and modules", () => {
    assertNoLeak(() => {
      for (const id of btfIds()) {
        const k = KernelBTF.fromId(id);
        if (!k) continue;
        try {
          const info = k.info();
          if (!info.kernelBtf) continue;
          const btf = k.btf();
          if (info.name === "vmlinux") {
            assert.equal(btf.count, vmlinuxBTF().count);
            assert.equal(btf.base, undefined);
          } else {
            assert.equal(btf.firstId, vmlinuxBTF().count, `module ${info.name} is split BTF`);
          }
        } finally {
          k.close();
        }
      }
    });
  });

  test("module BTF from /sys/kernel/btf", {
    skip: moduleBTFNames().length === 0 ? "no kernel module publishes BTF here" : false,
  }, () => {
    for (const name of moduleBTFNames()) {
      const b = moduleBTF(name);
      assert.equal(b.firstId, vmlinuxBTF().count);
    }
  });

  test("feature probes: this kernel (>= 6.0) accepts every kind", () => {
    assertNoLeak(() => {
      assert.deepEqual(probeBTFFeatures(), ALL_BTF_FEATURES);
    });
  });
});
