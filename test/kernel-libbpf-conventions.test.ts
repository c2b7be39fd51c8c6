/**
 * Objects other projects compile load where libbpf loads them (issue 8, part 5): each
 * case has an object built for it under test/testdata/elf/ and is checked against the
 * kernel (and against bpftool, i.e. libbpf 1.1, where it can load the same object).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { ensureBpffs } from "../src/kernel/objects/pin.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { VerifierError } from "../src/kernel/programs/verifier-error.ts";
import { ProgType } from "../src/uapi/index.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

const ELF = join(import.meta.dirname, "testdata/elf");
const spec = (name: string) => loadCollectionSpec(readFileSync(join(ELF, `${name}.bpf.o`)));
const packet = new Uint8Array(64);

describe("libbpf's loading conventions", { skip: kernelSkip }, () => {
  test("an object without a license loads as non-GPL; a GPL-only helper is the verifier's to refuse", () => {
    const s = spec("no-license");
    assert.equal(s.programs.no_license?.license, "");
    using coll = Collection.load(s);
    assert.equal(coll.program("no_license").run({ data: packet }).retval, 2); // XDP_PASS
    // bpf_trace_printk is GPL-only: the kernel names the reason, tsbpf does not pre-empt it.
    const insns = encodeProgram(
      assemble("r1 = r10\nr1 += -8\n*(u64 *)(r10 - 8) = 0\nr2 = 8\ncall 6\nr0 = 0\nexit"),
    );
    assert.throws(
      () => Program.load({ name: "gplonly", type: ProgType.XDP, license: "", instructions: insns }),
      (e: unknown) => e instanceof VerifierError && /GPL/.test(e.log),
    );
  });

  test("a hidden global function is verified as static, as libbpf marks it (usdt.bpf.h's bpf_usdt_arg)", () => {
    const s = spec("hidden-func");
    using coll = Collection.load(s);
    assert.equal(coll.program("hidden_caller").run({ data: packet }).retval, 2);
  });

  test("hidden-func.bpf.o: bpftool (libbpf) loads it too", { skip: toolSkip("bpftool") }, () => {
    ensureBpffs();
    const dir = mkdtempSync("/sys/fs/bpf/tsbpf-hidden-");
    try {
      execFileSync("bpftool", ["prog", "load", join(ELF, "hidden-func.bpf.o"), join(dir, "p")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("maps pinned by name use their full names: two 24- and 16-character names do not collide", () => {
    ensureBpffs();
    const dir = mkdtempSync("/sys/fs/bpf/tsbpf-pinlong-");
    try {
      {
        using coll = Collection.load(spec("pin-long-names"), { pinPath: dir });
        assert.ok(existsSync(join(dir, "cilium_ratelimit")));
        assert.ok(existsSync(join(dir, "cilium_ratelimit_metrics")));
        coll.program("count").run({ data: packet });
        assert.notEqual(
          coll.map("cilium_ratelimit").info().id,
          coll.map("cilium_ratelimit_metrics").info().id,
        );
      }
      // A second load reuses both pins, each for its own map (values of different sizes).
      using again = Collection.load(spec("pin-long-names"), { pinPath: dir });
      again.program("count").run({ data: packet });
      const key = new Uint8Array(4);
      assert.equal(Buffer.from(again.map("cilium_ratelimit").lookup(key)!).readBigUInt64LE(), 2n);
      assert.equal(
        Buffer.from(again.map("cilium_ratelimit_metrics").lookup(key)!).readUInt32LE(),
        4,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("pinByNamePath refuses names that are not file names", {
  skip: needs(kernelSkip),
}, async () => {
  const { pinByNamePath } = await import("../src/kernel/maps/map.ts");
  assert.equal(
    pinByNamePath("/sys/fs/bpf/x", "cilium_ratelimit_metrics"),
    "/sys/fs/bpf/x/cilium_ratelimit_metrics",
  );
  for (const bad of ["", ".", "..", "a/b"])
    assert.throws(() => pinByNamePath("/d", bad), /not a valid file name/);
});
