/**
 * The object loader on the test objects: the specs hold what the C sources say
 * (maps, programs, variables, externs, references, CO-RE records); they agree with
 * `bpftool gen skeleton` (map and program names, in order) and llvm-readelf-19
 * (instruction counts from function sizes); reading twice gives the same spec; and
 * `scripts/build-bpf.sh` rebuilds the committed objects byte for byte.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { loadCollectionSpec, parseELF, SymbolType } from "../src/elf/index.ts";
import type { CollectionSpec } from "../src/spec/index.ts";
import {
  AttachType,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  MapFlags,
  MapType,
  ProgLoadFlags,
  ProgType,
} from "../src/uapi/index.ts";

const ROOT = join(import.meta.dirname, "..");
const DIR = join(import.meta.dirname, "testdata/elf");
const OBJECTS = readdirSync(DIR)
  .filter((f) => f.endsWith(".bpf.o"))
  .sort();
const bytesOf = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));
const load = (f: string): CollectionSpec => loadCollectionSpec(bytesOf(f));

function have(tool: string, arg = "--version"): boolean {
  try {
    execFileSync(tool, [arg], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("reading an object twice gives the same spec", () => {
  for (const f of OBJECTS) assert.deepEqual(load(f), load(f), f);
});

test("xdp-maps: BTF maps, global data, programs per section", () => {
  const s = load("xdp-maps.bpf.o");
  assert.equal(s.license, "Dual BSD/GPL");
  assert.deepEqual(Object.keys(s.programs), ["xdp_count", "xdp_loop", "xdp_frags_prog"]);
  const { counts, stats } = s.maps;
  assert.deepEqual(
    [counts!.type, counts!.keySize, counts!.valueSize, counts!.maxEntries, counts!.flags],
    [MapType.HASH, 4, 8, 1024, MapFlags.NO_PREALLOC],
  );
  assert.deepEqual(
    [
      stats!.type,
      stats!.keySize,
      stats!.valueSize,
      stats!.maxEntries,
      stats!.numaNode,
      stats!.pinning,
    ],
    [MapType.ARRAY, 4, 16, 4, 0, "byName"],
  );
  const ro = s.maps[".rodata"]!;
  assert.equal(ro.freeze, true);
  assert.equal(ro.flags, MapFlags.MMAPABLE | MapFlags.RDONLY_PROG);
  assert.deepEqual(ro.contents?.[0]?.value, new Uint8Array([53, 0, 0, 0]));
  assert.equal(s.maps[".bss"]!.contents, undefined, ".bss starts zeroed");
  assert.deepEqual(
    new TextDecoder().decode(s.maps[".rodata.banner"]!.contents![0]!.value),
    "tsbpf\0\0\0",
  );
  assert.deepEqual(s.variables.drop_port, {
    name: "drop_port",
    map: ".rodata",
    offset: 0,
    size: 4,
    typeId: s.variables.drop_port!.typeId,
    linkage: "global",
    readOnly: true,
  });
  assert.equal(s.variables.tagged?.map, ".data.tagged");

  const count = s.programs.xdp_count!;
  assert.equal(count.type, ProgType.XDP);
  assert.equal(count.expectedAttachType, AttachType.XDP);
  assert.equal(count.section, "xdp");
  assert.equal(s.programs.xdp_frags_prog!.flags, ProgLoadFlags.XDP_HAS_FRAGS);
  assert.deepEqual(
    count.references?.map((r) =>
      r.kind === "mapValue" ? `${r.map}+${r.offset}` : `${r.kind}:${"map" in r ? r.map : r.name}`,
    ),
    ["map:stats", ".data+0", ".bss+0", ".rodata+0", "map:counts", "map:counts"],
  );
  // xdp_loop takes loop_cb's address: lddw src=BPF_PSEUDO_FUNC pointing at the appended callback.
  const loop = s.programs.xdp_loop!.instructions;
  const lddw = loop.findIndex(
    (b, i) => i % 8 === 0 && b === 0x18 && loop[i + 1]! >> 4 === BPF_PSEUDO_FUNC,
  );
  assert.ok(lddw >= 0);
  const target = lddw / 8 + 1 + new DataView(loop.buffer, loop.byteOffset).getInt32(lddw + 4, true);
  assert.equal(target, 152 / 8, "loop_cb follows xdp_loop's 19 instructions");
  // func_info: one record per function in the program (main + packet_len + count_key).
  assert.equal(count.btf!.funcInfo!.length / 8, 3);
});

test("map-in-map and prog_array: inner definitions and initial slots", () => {
  const s = load("map-in-map.bpf.o");
  const outer = s.maps.outer!;
  assert.equal(outer.type, MapType.ARRAY_OF_MAPS);
  assert.equal(outer.valueSize, 4);
  assert.deepEqual(outer.innerMap && { ...outer.innerMap, btfKeyTypeId: 0, btfValueTypeId: 0 }, {
    name: "outer.inner",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
  });
  assert.deepEqual(outer.contentRefs, [
    { key: 0, name: "inner_a" },
    { key: 2, name: "inner_b" },
  ]);
  const hash = s.maps.outer_hash!;
  assert.deepEqual(
    [
      hash.type,
      hash.keySize,
      hash.innerMap?.type,
      hash.innerMap?.valueSize,
      hash.innerMap?.maxEntries,
    ],
    [MapType.HASH_OF_MAPS, 8, MapType.HASH, 8, 32],
  );
  assert.deepEqual(s.maps.jumps!.contentRefs, [
    { key: 1, name: "tail_a" },
    { key: 2, name: "tail_b" },
  ]);
  assert.deepEqual(Object.keys(s.programs), ["tail_a", "tail_b", "entry"]);
  assert.ok(Object.values(s.programs).every((p) => p.type === ProgType.SCHED_CLS));
});

test("legacy maps, socket filter, tracepoint and version", () => {
  const s = load("legacy.bpf.o");
  assert.deepEqual(s.maps.legacy_hash, {
    name: "legacy_hash",
    type: MapType.HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 16,
  });
  assert.equal(s.maps.legacy_array?.maxEntries, 2);
  assert.equal(s.kernelVersion, 0x061200);
  assert.equal(s.programs.sock_filter?.type, ProgType.SOCKET_FILTER);
  assert.equal(s.programs.tp_openat?.type, ProgType.TRACEPOINT);
  assert.equal(s.programs.tp_openat?.attachTo, "syscalls/sys_enter_openat");
  assert.equal(s.programs.tp_openat?.kernelVersion, 0x061200);
});

test("externs and CO-RE relocations are recorded for the loader", () => {
  const s = load("externs.bpf.o");
  const byName = Object.fromEntries(s.externs.map((e) => [e.name, e]));
  assert.deepEqual(s.externs.map((e) => `${e.kind}:${e.name}${e.weak ? "?" : ""}`).sort(), [
    "kconfig:CONFIG_BPF_SYSCALL",
    "kconfig:CONFIG_HZ?",
    "kconfig:LINUX_KERNEL_VERSION",
    "kfunc:bpf_rcu_read_lock",
    "kfunc:bpf_rcu_read_unlock?",
    "ksym:bpf_prog_active",
  ]);
  // libbpf's layout: larger alignment first, then by name.
  assert.deepEqual(
    [
      byName.CONFIG_HZ?.offset,
      byName.LINUX_KERNEL_VERSION?.offset,
      byName.CONFIG_BPF_SYSCALL?.offset,
    ],
    [0, 4, 8],
  );
  assert.equal(s.maps[".kconfig"]?.valueSize, 9);
  assert.equal(s.maps[".kconfig"]?.freeze, true);
  const p = s.programs.core_prog!;
  assert.equal(p.type, ProgType.RAW_TRACEPOINT);
  assert.deepEqual(
    p.coreRelocations?.map((r) => `${r.insn}:${r.kind}:${r.access}`),
    // byte_off real_parent, byte_off tgid, field_exists pid, type_exists, enumval_value
    // at the instructions llvm-objdump-19 -dr marks "CO-RE" (3, 10, 17, 27, 33).
    ["3:0:0:2", "10:0:0:1", "17:2:0:0", "27:8:0", "33:11:1"],
  );
  const kfuncs = p.references?.filter((r) => r.kind === "kfunc") ?? [];
  assert.equal(kfuncs.length, 2);
  for (const r of kfuncs) assert.equal(p.instructions[r.insn * 8 + 1]! >> 4, BPF_PSEUDO_KFUNC_CALL);
});

test("program sizes: own function plus the subprograms it reaches (llvm-readelf symbol sizes)", () => {
  const sizes = (f: string) => {
    const elf = parseELF(bytesOf(f));
    return Object.fromEntries(
      elf.symbols.filter((s) => s.type === SymbolType.FUNC).map((s) => [s.name, s.size / 8]),
    );
  };
  const x = sizes("xdp-maps.bpf.o");
  const s = load("xdp-maps.bpf.o");
  const n = (p: string) => s.programs[p]!.instructions.length / 8;
  assert.equal(n("xdp_count"), x.xdp_count! + x.packet_len! + x.count_key!);
  assert.equal(n("xdp_loop"), x.xdp_loop! + x.loop_cb!);
  assert.equal(n("xdp_frags_prog"), x.xdp_frags_prog! + x.packet_len! + x.count_key!);
});

const noBpftool = have("bpftool", "version") ? false : "bpftool is not installed";

test("map and program names agree with bpftool gen skeleton", { skip: noBpftool }, () => {
  // bpftool 7.1's libbpf refuses legacy `maps` sections, so that object is left out.
  for (const f of OBJECTS.filter((o) => o !== "legacy.bpf.o")) {
    const skel = execFileSync("bpftool", ["gen", "skeleton", join(DIR, f), "name", "x"], {
      encoding: "utf8",
    });
    const block = (what: string) => {
      const m = skel.match(new RegExp(`\\tstruct \\{\\n([^}]*)\\} ${what};`));
      // An object without maps (newer-forms.bpf.o) has no maps block: compared as [].
      return m ? [...m[1]!.matchAll(/\*(\w+);/g)].map((x) => x[1]) : [];
    };
    const s = load(f);
    assert.deepEqual(
      Object.keys(s.maps).map((n) => n.replace(/^\./, "").replace(/\./g, "_")),
      block("maps"),
      f,
    );
    assert.deepEqual(Object.keys(s.programs), block("progs"), f);
  }
});

const noClang = have("clang-19") ? false : "clang-19 is not installed";

/**
 * Directories whose objects include a vmlinux.h generated from the running kernel's
 * BTF, built by their own build.sh; they reproduce only on the kernel whose BTF hash
 * the script recorded in vmlinux.sha256.
 */
const KERNEL_DEPENDENT_DIRS = ["test/testdata/core", "test/testdata/btf"];

test("every committed .bpf.o is rebuilt byte for byte by its recipe", { skip: noClang }, (t) => {
  const out = mkdtempSync(join(tmpdir(), "tsbpf-bpf-"));
  try {
    const built = execFileSync(join(ROOT, "scripts/build-bpf.sh"), [out], { encoding: "utf8" })
      .trim()
      .split("\n");
    assert.ok(built.includes("test/testdata/elf/xdp-maps.bpf.o"));
    const covered = new Set(built);
    const vmlinuxHash = existsSync("/sys/kernel/btf/vmlinux")
      ? createHash("sha256").update(readFileSync("/sys/kernel/btf/vmlinux")).digest("hex")
      : "no /sys/kernel/btf/vmlinux";
    for (const dir of KERNEL_DEPENDENT_DIRS) {
      const recorded = readFileSync(join(ROOT, dir, "vmlinux.sha256"), "utf8").trim();
      const objects = readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".bpf.o"));
      for (const f of objects) covered.add(`${dir}/${f}`);
      if (recorded !== vmlinuxHash) {
        t.diagnostic(`${dir}: not compared, built against another kernel's BTF (${recorded})`);
        continue;
      }
      const lines = execFileSync(join(ROOT, dir, "build.sh"), [join(out, dir)], {
        encoding: "utf8",
      });
      const rebuilt = lines
        .trim()
        .split("\n")
        .map((p) => `${dir}/${basename(p)}`);
      assert.deepEqual(rebuilt.sort(), objects.map((f) => `${dir}/${f}`).sort(), dir);
      built.push(...rebuilt);
    }
    for (const rel of built) {
      assert.deepEqual(readFileSync(join(out, rel)), readFileSync(join(ROOT, rel)), rel);
    }
    // No committed object is without a recipe.
    const committed = execFileSync("git", ["ls-files", "*.bpf.o"], { cwd: ROOT, encoding: "utf8" })
      .trim()
      .split("\n")
      .filter((f) => f !== "");
    assert.deepEqual(
      committed.filter((f) => !covered.has(f)),
      [],
      "committed objects no build script rebuilds",
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
