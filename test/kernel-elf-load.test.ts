/**
 * The kernel as the oracle for the ELF loader, through Collection.load: the test
 * objects' programs run with BPF_PROG_TEST_RUN and the map contents afterwards (read
 * with plain map lookups, not through variables) show that map, global-data,
 * subprogram, callback and function-address relocations went where clang meant; the
 * CO-RE type id relocations give the ids the kernel's BTF and the object's BTF hold;
 * SEC() forms newer than this kernel fail the load with a NotSupportedError.
 * (kernel-collection.test.ts covers the collection loader's own features.)
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection, ensureBpffs, NotSupportedError, vmlinuxBTF } from "../src/kernel/index.ts";
import type { CollectionSpec } from "../src/spec/index.ts";
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;
const DIR = join(import.meta.dirname, "testdata/elf");
const CORE = join(import.meta.dirname, "testdata/core");

function specOf(path: string): CollectionSpec {
  return loadCollectionSpec(new Uint8Array(readFileSync(path)));
}

let pinDir = "";
before(() => {
  if (skip) return;
  ensureBpffs("/sys/fs/bpf");
  pinDir = mkdtempSync("/sys/fs/bpf/tsbpf-elf-load-");
});
after(() => {
  if (pinDir) rmSync(pinDir, { recursive: true, force: true });
});

/** Loads `spec` (pins under this file's directory), runs `fn`, closes; checks no leak. */
function withCollection(spec: CollectionSpec, fn: (c: Collection) => void): void {
  assertNoLeak(() => {
    const c = Collection.load(spec, { pinPath: pinDir });
    try {
      fn(c);
    } finally {
      c.close();
    }
  });
  rmSync(join(pinDir, "stats"), { force: true });
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64At(b: Uint8Array | undefined, off = 0): bigint {
  assert.ok(b);
  return new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
}

const ZERO = u32(0);

describe("ELF specs in the kernel", { skip }, () => {
  test("xdp-maps: maps, global data, subprograms and a bpf_loop callback", () => {
    withCollection(specOf(join(DIR, "xdp-maps.bpf.o")), (c) => {
      const packet = new Uint8Array(64);
      assert.equal(c.program("xdp_count").run({ data: packet }).retval, 2); // XDP_PASS
      const stats = c.map("stats").lookup(ZERO);
      assert.equal(u64At(stats, 0), 1n, "stats.packets");
      assert.equal(u64At(stats, 8), 64n, "stats.bytes");
      assert.equal(u64At(c.map(".data").lookup(ZERO)), 8n, "packets_seen was 7");
      assert.equal(u64At(c.map("counts").lookup(u32(64))), 1n, "count_key(64) ran");
      assert.deepEqual(c.map(".bss").lookup(ZERO), u32(64), "last_len");

      assert.equal(c.program("xdp_loop").run({ data: packet }).retval, 2, "banner starts with t");
      assert.deepEqual(c.map(".bss").lookup(ZERO), u32(64 + 0 + 1 + 2 + 3), "loop_cb ran 4 times");
      assert.equal(u64At(c.map(".data.tagged").lookup(ZERO)), 0x1122334455667789n);

      // A 53-byte packet matches drop_port in .rodata.
      assert.equal(c.program("xdp_count").run({ data: new Uint8Array(53) }).retval, 1); // DROP
      assert.equal(c.program("xdp_frags_prog").run({ data: packet }).retval, 0);
      assert.equal(u64At(c.map("counts").lookup(u32(64))), 2n);
    });
  });

  test("map-in-map: inner map slots and program array slots", () => {
    withCollection(specOf(join(DIR, "map-in-map.bpf.o")), (c) => {
      const packet = new Uint8Array(64);
      c.map("inner_a").update(ZERO, u32(42));
      assert.equal(c.program("entry").run({ data: packet }).retval, 42, "outer[0] is inner_a");
      c.map("outer").delete(ZERO);
      assert.equal(c.program("entry").run({ data: packet }).retval, 1, "jumps[1] = tail_a");
    });
  });

  test("legacy maps: a socket filter counting protocols", () => {
    withCollection(specOf(join(DIR, "legacy.bpf.o")), (c) => {
      const packet = new Uint8Array(64);
      packet[12] = 0x08; // EtherType IPv4: skb->protocol is htons(0x0800)
      const key = u32(0x0008);
      c.map("legacy_hash").update(key, new Uint8Array(8));
      // skb->len: the test run pulls the 14-byte Ethernet header.
      assert.equal(c.program("sock_filter").run({ data: packet }).retval, 64 - 14);
      assert.equal(u64At(c.map("legacy_hash").lookup(key)), 1n);
    });
  });

  test("CO-RE type ids: the kernel runs the program, ids match vmlinux and the object", () => {
    const spec = specOf(join(CORE, "type-id.bpf.o"));
    const vmlinux = vmlinuxBTF();
    const kernelId = (kind: "STRUCT" | "TYPEDEF", name: string) =>
      BigInt(vmlinux.findByName(kind, name)!.id);
    const localId = (kind: "STRUCT" | "TYPEDEF", name: string) =>
      BigInt(spec.btf!.findByName(kind, name)!.id);
    withCollection(spec, (c) => {
      assert.equal(c.program("type_ids").run({ data: new Uint8Array(64) }).retval, 0);
      const v = (n: string) => c.variables[n]!.toBigInt();
      assert.equal(v("kernel_task"), kernelId("STRUCT", "task_struct"));
      assert.equal(v("kernel_flavour"), kernelId("STRUCT", "task_struct"));
      assert.equal(v("kernel_pid_t"), kernelId("TYPEDEF", "pid_t"));
      assert.equal(v("kernel_u64"), kernelId("TYPEDEF", "__u64"));
      assert.equal(v("local_task"), localId("STRUCT", "task_struct"));
      assert.equal(v("local_flavour"), localId("STRUCT", "task_struct___flavour"));
      assert.equal(v("local_pid_t"), localId("TYPEDEF", "pid_t"));
    });
  });

  test("SEC() forms newer than this kernel: NotSupportedError naming the form", () => {
    const spec = specOf(join(DIR, "newer-forms.bpf.o"));
    for (const [prog, form, attachType] of [
      ["multi_entry", "fentry.multi+", "BPF_TRACE_FENTRY_MULTI"],
      ["session", "fsession+", "BPF_TRACE_FSESSION"],
    ]) {
      assertNoLeak(() => {
        assert.throws(
          () => Collection.load(spec, { programs: [prog!] }),
          (e) =>
            e instanceof NotSupportedError &&
            e.message.includes(`libbpf form ${form}, attach type ${attachType}`) &&
            e.message.includes(`uapi has no attach type ${attachType}`),
          prog,
        );
      });
    }
  });
});
