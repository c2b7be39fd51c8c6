/**
 * Every test-runnable program of the project's objects through both backends: the
 * kernel (`Collection.load` + BPF_PROG_TEST_RUN) and the VM (`VirtualMachine.load` +
 * run), on the same generated packets (Ethernet + IPv4/IPv6 + TCP/UDP/ICMP, random
 * sizes and bytes) or raw_tp arguments, run after run on the same collections. After
 * each run: the same retval, packet out, and contents of every map (per-CPU values
 * summed over the CPUs word by word, as counters are) and global variable.
 *
 * Objects: test/testdata/elf, test/testdata/core, test/testdata/cli, examples/*
 * (skipped with the reason when one backend cannot load an object: kfuncs, kconfig
 * externs, CO-RE against kernel structs the VM has no BTF for).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { type BpfMap, Collection, ensureBpffs, vmlinuxBTF } from "../src/kernel/index.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { MapType, ProgType, progTypeName } from "../src/uapi/index.ts";
import { VirtualMachine, type VmMap } from "../src/vm/index.ts";
import { seededRandom } from "../src/vm/random.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";
import { randomPacket } from "./vm-random-programs.ts";

const skip = kernelSkip;
const ROOT = join(import.meta.dirname, "..");
/** Maps pinned by name go here (removed after each object), not to a shared /sys/fs/bpf. */
const PIN_DIR = `/sys/fs/bpf/tsbpf-vm-examples-${process.pid}`;

/**
 * Objects whose programs read what only the running kernel has, so the VM cannot give
 * the same answer by design.
 */
const KERNEL_ONLY: Record<string, string> = {
  "task.bpf.o": "reads the current task_struct (bpf_get_current_task): kernel memory",
};

/** Object files to try. */
function objects(): string[] {
  const out: string[] = [];
  for (const dir of ["test/testdata/elf", "test/testdata/core", "test/testdata/cli"]) {
    for (const f of readdirSync(join(ROOT, dir)).sort())
      if (f.endsWith(".bpf.o")) out.push(join(dir, f));
  }
  for (const d of readdirSync(join(ROOT, "examples")).sort()) {
    for (const f of readdirSync(join(ROOT, "examples", d)))
      if (f.endsWith(".bpf.o")) out.push(join("examples", d, f));
  }
  return out;
}

const PACKET_TYPES = new Set<number>([
  ProgType.XDP,
  ProgType.SCHED_CLS,
  ProgType.SCHED_ACT,
  ProgType.SOCKET_FILTER,
  ProgType.CGROUP_SKB,
]);

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Per-CPU values summed word by word (u32, wrapping): what a counter totals. */
function sumWords(values: readonly Uint8Array[]): Uint8Array {
  const size = values[0]?.length ?? 0;
  const out = new Uint8Array(size);
  const ov = new DataView(out.buffer);
  for (const v of values) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i + 4 <= size; i += 4)
      ov.setUint32(i, (ov.getUint32(i, true) + dv.getUint32(i, true)) >>> 0, true);
  }
  return out;
}

const KEY_VALUE = new Set<number>([
  MapType.HASH,
  MapType.ARRAY,
  MapType.LRU_HASH,
  MapType.LPM_TRIE,
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
]);
const PER_CPU = new Set<number>([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
]);

/** A map's entries as sorted "key=value" lines (per-CPU values summed). */
function mapLines(map: BpfMap | VmMap): string[] {
  if (!KEY_VALUE.has(map.type)) return [];
  const out: string[] = [];
  if (PER_CPU.has(map.type)) {
    for (const [k, vs] of map.entriesPerCpu()) out.push(`${hex(k)}=${hex(sumWords(vs))}`);
  } else {
    for (const [k, v] of map.entries()) out.push(`${hex(k)}=${hex(v)}`);
  }
  return out.sort();
}

interface Pair {
  readonly kernel: Collection;
  readonly vm: VirtualMachine;
}

function loadBoth(
  spec: CollectionSpec,
  objectName: string,
  runnable: readonly string[],
  t: { diagnostic(s: string): void },
): Pair | string {
  let vm: VirtualMachine;
  try {
    vm = VirtualMachine.load(spec, { coreTarget: vmlinuxBTF() });
  } catch (e) {
    return `the VM cannot load it: ${(e as Error).message}`;
  }
  try {
    return { kernel: Collection.load(spec, { objectName, pinPath: PIN_DIR }), vm };
  } catch (e) {
    // Load the programs the kernel takes one by one, and say which it refuses.
    const why = (e as Error).message.split("\n")[0];
    const ok = runnable.filter((name) => {
      try {
        Collection.load(spec, { objectName, programs: [name], pinPath: PIN_DIR }).close();
        return true;
      } catch (e2) {
        t.diagnostic(`${name}: the kernel cannot load it: ${(e2 as Error).message.split("\n")[0]}`);
        return false;
      }
    });
    if (ok.length === 0) return `the kernel cannot load it: ${why}`;
    return { kernel: Collection.load(spec, { objectName, programs: ok, pinPath: PIN_DIR }), vm };
  }
}

/** Compares every map and variable of the pair; returns the differences. */
function stateDiff(pair: Pair): string[] {
  const diffs: string[] = [];
  for (const [name, km] of Object.entries(pair.kernel.maps)) {
    const vm = pair.vm.maps[name];
    if (!vm) {
      diffs.push(`map ${name} missing in the VM`);
      continue;
    }
    const k = mapLines(km).join(" ");
    const v = mapLines(vm).join(" ");
    if (k !== v) diffs.push(`map ${name}:\n  kernel ${k}\n  vm     ${v}`);
  }
  for (const [name, kv] of Object.entries(pair.kernel.variables)) {
    const vv = pair.vm.variables[name];
    if (!vv) {
      diffs.push(`variable ${name} missing in the VM`);
      continue;
    }
    if (hex(kv.get()) !== hex(vv.get()))
      diffs.push(`variable ${name}: kernel ${hex(kv.get())}, vm ${hex(vv.get())}`);
  }
  return diffs;
}

/** Runs the programs of an object on both backends; returns how many runs agreed. */
function runObject(path: string, t: { diagnostic(s: string): void }): number {
  const spec = loadCollectionSpec(readFileSync(join(ROOT, path)));
  const runnable = Object.values(spec.programs).filter(
    (p) => PACKET_TYPES.has(p.type) || p.type === ProgType.RAW_TRACEPOINT,
  );
  if (runnable.length === 0) {
    t.diagnostic(`${path}: no test-runnable program`);
    return 0;
  }
  const file = path.split("/").at(-1)!;
  if (KERNEL_ONLY[file]) {
    t.diagnostic(`${path}: skipped, ${KERNEL_ONLY[file]}`);
    return 0;
  }
  const objectName = file.split(".")[0]!;
  const pair = loadBoth(
    spec,
    objectName,
    runnable.map((p) => p.name),
    t,
  );
  if (typeof pair === "string") {
    t.diagnostic(`${path}: skipped, ${pair}`);
    return 0;
  }
  let agreed = 0;
  try {
    const rand = seededRandom(0x5eed);
    for (const ps of runnable) {
      if (!(ps.name in pair.kernel.programs)) continue;
      const kp = pair.kernel.program(ps.name);
      const vp = pair.vm.program(ps.name);
      for (let i = 0; i < 12; i++) {
        const input =
          ps.type === ProgType.RAW_TRACEPOINT
            ? { ctx: Uint8Array.from({ length: 48 }, () => rand() & 0xff) }
            : { data: randomPacket(rand) };
        let k: { retval: number; dataOut: Uint8Array };
        try {
          k = kp.run(input);
        } catch (e) {
          t.diagnostic(
            `${path} ${ps.name}: the kernel cannot test-run it (${(e as Error).message})`,
          );
          break;
        }
        const v = vp.run(input);
        const where = `${path} ${progTypeName(ps.type)} program ${ps.name}, run ${i}, input ${hex(input.data ?? input.ctx!)}`;
        assert.equal(v.retval, k.retval, `retval, ${where}`);
        assert.equal(hex(v.dataOut), hex(k.dataOut), `packet out, ${where}`);
        const diffs = stateDiff(pair);
        assert.deepEqual(diffs, [], `${where}\n${diffs.join("\n")}`);
        agreed++;
      }
    }
  } finally {
    pair.kernel.close();
    pair.vm.close();
  }
  return agreed;
}

describe("vm vs kernel: the project's objects", { skip }, () => {
  const paths = objects();
  test("found objects to run", () => assert.ok(paths.length >= 8, paths.join(", ")));
  let total = 0;
  for (const path of paths) {
    test(path, (t) => {
      const fds = fdCounts();
      // bpffs first: a fresh machine may have none mounted, and a recursive mkdir in
      // sysfs's bare /sys/fs/bpf never returns (ENOENT, then EEXIST for the parent).
      ensureBpffs();
      mkdirSync(PIN_DIR);
      try {
        total += runObject(path, t);
      } finally {
        rmSync(PIN_DIR, { recursive: true, force: true });
      }
      assert.ok(!existsSync(PIN_DIR), `${PIN_DIR} left behind`);
      assertFdCounts(fds);
    });
  }
  test("ran programs in both backends", () => {
    assert.ok(total >= 60, `only ${total} runs compared`);
  });
});
