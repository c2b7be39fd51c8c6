/**
 * What older kernels lack is a NotSupportedError naming the feature and the release
 * that brought it, not a bare EINVAL: the kernel's own uapi enums (read from its BTF)
 * tell a type it has never heard of from a call that was wrong. On Linux 6.1 arena
 * maps (6.9), netfilter programs (6.4) and tcx links (6.6) take that path; on kernels
 * that have them, they load or attach.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeRaw } from "../src/kernel/features/insns.ts";
import { kernelEnumHas, missingFromKernel } from "../src/kernel/features/kernel-enum.ts";
import { NotSupportedError } from "../src/kernel/features/not-supported-error.ts";
import { attachTcx } from "../src/kernel/links/netdev.ts";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { AttachType, MapFlags, MapType, ProgType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, pathSkip } from "./support/kernel.ts";

const skip = kernelSkip;
const btfSkip = pathSkip("/sys/kernel/btf/vmlinux", "the kernel's BTF");

describe("the kernel's uapi enums", { skip: btfSkip }, () => {
  test("kernelEnumHas: types every kernel has, and one none has", () => {
    assert.equal(kernelEnumHas("bpf_map_type", MapType.HASH), true);
    assert.equal(kernelEnumHas("bpf_prog_type", ProgType.XDP), true);
    assert.equal(kernelEnumHas("bpf_attach_type", AttachType.CGROUP_INET_INGRESS), true);
    assert.equal(kernelEnumHas("bpf_map_type", 9999), false);
    assert.equal(kernelEnumHas("no_such_enum_here", 0), undefined);
    assert.equal(missingFromKernel("map", MapType.HASH, "map type hash"), undefined);
    const e = missingFromKernel("map", 9999, "map type 9999", 22);
    assert.ok(e instanceof NotSupportedError);
    assert.equal(
      e.message,
      "map type 9999 is not supported: the running kernel's enum bpf_map_type has no value 9999",
    );
    assert.equal(e.code, "EINVAL");
  });
});

describe("features newer than the kernel", { skip }, () => {
  test("an arena map (Linux 6.9) on a kernel without: NotSupportedError naming 6.9", (t) => {
    const before = fdCounts();
    const create = () =>
      BpfMap.create({
        name: "arena_probe",
        type: MapType.ARENA,
        keySize: 0,
        valueSize: 0,
        maxEntries: 1,
        flags: MapFlags.MMAPABLE,
      });
    if (kernelEnumHas("bpf_map_type", MapType.ARENA) !== false) {
      // the kernel has arena maps: whatever it answers is not "no such type"
      try {
        create().close();
      } catch (e) {
        assert.doesNotMatch(String(e), /has no value/);
      }
      assertFdCounts(before);
      return t.skip("this kernel has arena maps (its enum bpf_map_type has ARENA)");
    }
    assert.throws(
      create,
      (e: unknown) =>
        e instanceof NotSupportedError &&
        e.feature === "map type arena" &&
        e.code === "EINVAL" &&
        /enum bpf_map_type has no value 33: arena maps came in Linux 6\.9$/.test(e.message),
    );
    assertFdCounts(before);
  });

  test("a netfilter program (Linux 6.4) on a kernel without: NotSupportedError naming 6.4", (t) => {
    const before = fdCounts();
    const load = () =>
      Program.load({
        name: "nf_accept",
        type: ProgType.NETFILTER,
        expectedAttachType: AttachType.NETFILTER,
        license: "GPL",
        instructions: encodeRaw([
          [0xb7, 0, 0, 1], // r0 = NF_ACCEPT
          [0x95, 0, 0, 0],
        ]),
      });
    if (kernelEnumHas("bpf_prog_type", ProgType.NETFILTER) !== false) {
      load().close();
      assertFdCounts(before);
      return t.skip("this kernel has netfilter programs: one loaded");
    }
    assert.throws(
      load,
      (e: unknown) =>
        e instanceof NotSupportedError &&
        e.feature === "loading netfilter programs" &&
        /enum bpf_prog_type has no value 32: netfilter programs came in Linux 6\.4$/.test(
          e.message,
        ),
    );
    assertFdCounts(before);
  });

  test("tcx (Linux 6.6): attaches where the kernel has it, else NotSupportedError naming 6.6", (t) => {
    const before = fdCounts();
    {
      using prog = Program.load({
        name: "tcx_next",
        type: ProgType.SCHED_CLS,
        license: "GPL",
        instructions: encodeRaw([
          [0xb7, 0, 0, -1], // r0 = TCX_NEXT: on to what comes after
          [0x95, 0, 0, 0],
        ]),
      });
      if (kernelEnumHas("bpf_attach_type", AttachType.TCX_INGRESS) !== false) {
        using link = attachTcx(prog, "lo", "ingress");
        const info = link.info();
        assert.deepEqual(info.detail, {
          kind: "tcx",
          ifindex: 1,
          attachType: AttachType.TCX_INGRESS,
        });
        t.diagnostic("this kernel has tcx: attached to lo and detached");
      } else {
        assert.throws(
          () => attachTcx(prog, "lo", "ingress"),
          (e: unknown) =>
            e instanceof NotSupportedError &&
            /^attaching sched_cls program "tcx_next" .*to tcx ingress on lo$/.test(e.feature) &&
            /enum bpf_attach_type has no value 46: attach type tcx_ingress came in Linux 6\.6$/.test(
              e.message,
            ),
        );
      }
    }
    assertFdCounts(before);
  });
});
