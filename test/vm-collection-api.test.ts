/**
 * The VM collection and map API in the kernel backend's shapes: variables, constants,
 * map()/program() accessors, batch operations and freeze (compared with the kernel's
 * BpfMap on the same operations), and a map shared by two address spaces.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { asm, ProgramBuilder, R0, R1, R2, R3, R4 } from "../src/isa/index.ts";
import { BpfMap } from "../src/kernel/index.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import { createVmMap, VirtualMachine, VmArrayMap, VmMemory, VmProgram } from "../src/vm/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

const ROOT = join(import.meta.dirname, "..");
const spec = loadCollectionSpec(readFileSync(join(ROOT, "examples/xdp-count/xdp-count.bpf.o")));
const skip = kernelSkip;
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** UDP to port 53 over IPv4. */
function dns(): Uint8Array {
  const p = new Uint8Array(14 + 20 + 8);
  const v = new DataView(p.buffer);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  p[23] = 17;
  v.setUint16(36, 53);
  return p;
}

describe("VirtualMachine: the kernel Collection's shape", () => {
  test("variables read and write global data; .rodata is read-only", () => {
    const vm = VirtualMachine.load<"by_proto", "xdp_count", "dropped" | "drop_dns">(spec);
    assert.equal(vm.variables.dropped.toBigInt(), 0n);
    assert.equal(vm.programs.xdp_count.run({ data: dns() }).retval, 1, "XDP_DROP");
    assert.equal(vm.variables.dropped.toBigInt(), 1n, "the program's write shows at once");
    vm.variables.dropped.set(41n);
    vm.programs.xdp_count.run({ data: dns() });
    assert.equal(vm.variables.dropped.toBigInt(), 42n, "the program sees the user's write");
    assert.equal(vm.variables.drop_dns.readOnly, true);
    assert.throws(() => vm.variables.drop_dns.set(0), /read-only .*constants/);
    assert.throws(() => vm.variables.dropped.set(1n << 64n), /does not fit in 8 bytes/);
  });
  test("constants rewrite .rodata before the programs run", () => {
    const vm = VirtualMachine.load(spec, { constants: { drop_dns: 0 } });
    assert.equal(vm.program("xdp_count").run({ data: dns() }).retval, 2, "XDP_PASS");
    assert.throws(
      () => VirtualMachine.load(spec, { constants: { nope: 1 } }),
      /constant "nope": the object has no such variable \(read-only variables: drop_dns\)/,
    );
    assert.throws(() => VirtualMachine.load(spec, { constants: { dropped: 1 } }), /not \.rodata/);
  });
  test("map() and program() name what the collection has", () => {
    const vm = VirtualMachine.load(spec);
    assert.equal(vm.map("by_proto").type, MapType.HASH);
    assert.throws(
      () => vm.map("nope"),
      /no map "nope" in the collection \(maps: by_proto, .rodata, .bss\)/,
    );
    assert.throws(
      () => vm.program("nope"),
      /no program "nope" in the collection \(programs: xdp_count\)/,
    );
    vm.close();
  });
  test("an array map shared by two address spaces: for_each gives each its own key address", () => {
    const arr = new VmArrayMap({
      name: "shared",
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 3,
    });
    const build = () =>
      new ProgramBuilder()
        .ldMapFd(R1, 0)
        .ldFunc(R2, "cb")
        .mov64(R3, 0)
        .mov64(R4, 0)
        .call("for_each_map_elem")
        .exit()
        .label("cb")
        .emit(asm.ldx(32, R0, R2, 0)) // reads the key: faults if the address is another space's
        .mov64(R0, 0)
        .exit()
        .build();
    const a = new VmProgram(build(), { maps: [arr], type: ProgType.XDP });
    const b = new VmProgram(build(), { maps: [arr], type: ProgType.XDP, memory: new VmMemory() });
    const data = new Uint8Array(64);
    assert.equal(a.run({ data }).retval, 3);
    assert.equal(b.run({ data }).retval, 3);
    assert.equal(a.run({ data }).retval, 3);
  });
});

describe("VM maps vs kernel maps: batch operations and freeze", { skip }, () => {
  const specs: MapSpec[] = [
    { name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64 },
    { name: "a", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 16 },
    { name: "pa", type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 },
  ];
  for (const ms of specs) {
    test(`${ms.name}: lookupBatch, updateBatch, deleteBatch, freeze`, () => {
      const fds = fdCounts();
      const k = BpfMap.create(ms);
      try {
        const cpus = k.type === MapType.PERCPU_ARRAY ? k.batchValueSize / 8 : 1;
        const v = createVmMap(ms, { cpus });
        const n = Math.min(10, ms.maxEntries);
        const keys = Array.from({ length: n }, (_, i) => u32(i));
        const stride = ms.type === MapType.PERCPU_ARRAY ? 8 * cpus : ms.valueSize;
        // Per-CPU slots are 8-byte aligned; the padding after a 4-byte value stays 0 here
        // (the kernel would keep padding bytes a user wrote, the VM zeroes them).
        const values = keys.map((_, i) => {
          const b = new Uint8Array(stride);
          for (let o = 0; o < stride; o += 8) b.fill(i + 1, o, o + ms.valueSize);
          return b;
        });
        assert.equal(v.updateBatch(keys, values), k.updateBatch(keys, values));
        assert.equal(v.batchValueSize, k.batchValueSize, "value stride");
        const walk = (m: { lookupBatch: BpfMap["lookupBatch"] }) => {
          const out: string[] = [];
          let cursor: Uint8Array | undefined;
          for (;;) {
            const c = m.lookupBatch(4, cursor);
            for (const [key, value] of c.entries()) out.push(`${hex(key)}=${hex(value)}`);
            if (c.cursor === undefined) return out.sort();
            cursor = c.cursor;
          }
        };
        assert.deepEqual(walk(v), walk(k));
        if (ms.type === MapType.HASH) {
          assert.equal(v.deleteBatch(keys.slice(0, 3)), k.deleteBatch(keys.slice(0, 3)));
          assert.deepEqual(walk(v), walk(k));
          const code = (f: () => unknown) => {
            try {
              f();
              return "ok";
            } catch (e) {
              return (e as { code?: string }).code;
            }
          };
          assert.equal(
            code(() => v.deleteBatch([u32(0)])),
            code(() => k.deleteBatch([u32(0)])),
            "missing key",
          );
        }
        v.freeze();
        k.freeze();
        const code = (f: () => unknown) => {
          try {
            f();
            return "ok";
          } catch (e) {
            return (e as { code?: string }).code;
          }
        };
        const upd = (m: typeof v | BpfMap) => () =>
          ms.type === MapType.PERCPU_ARRAY
            ? m.updatePerCpu(
                u32(0),
                Array.from({ length: cpus }, () => new Uint8Array(ms.valueSize)),
              )
            : m.update(u32(0), new Uint8Array(ms.valueSize));
        assert.equal(code(upd(v)), code(upd(k)), "update of a frozen map");
        assert.equal(code(upd(v)), "EPERM");
        // Freezing twice is EPERM (the first freeze took the fd's write permission, which
        // is checked first); 6.1 looks at the frozen flag first: EBUSY there.
        const vTwice = code(() => v.freeze());
        const kTwice = code(() => k.freeze());
        assert.equal(vTwice, "EPERM", "freezing twice (vm)");
        assert.ok(
          kTwice === vTwice || kTwice === "EBUSY",
          `freezing twice: the kernel said ${kTwice}`,
        );
      } finally {
        k.close();
      }
      assertFdCounts(fds);
    });
  }
});
