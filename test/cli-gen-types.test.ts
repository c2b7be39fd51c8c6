/**
 * `tsbpf gen types`: the module generated for every test object typechecks under
 * `tsc --strict` (with unused locals and parameters as errors), and a file using the
 * modules the way users do typechecks too (typed records, maps and variables; kernel
 * and VM classes kept by bind...(); wrong uses fail); its codecs agree with
 * `decodeValue` on random bytes and round-trip; `type NAME` emits record types no map
 * uses; every example's committed module is what regenerating it gives; and
 * `load<Name>(backend, spec)` loads the object with typed maps and variables in the VM
 * and, as root, in the kernel.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BTF, decodeValue, parseBTF } from "../src/btf/index.ts";
import { generateTypes } from "../src/cli/gen/gen-types.ts";
import { loadCollectionSpec, parseELF } from "../src/elf/index.ts";
import { kernelBackend } from "../src/kernel/index.ts";
import type { Backend } from "../src/spec/index.ts";
import { vmBackend } from "../src/vm/index.ts";
import { fdSnapshot, tsbpf, tsbpfProcess } from "./cli-run.ts";
import { hostOnly, kernelSkip } from "./support/kernel.ts";

const ROOT = join(import.meta.dirname, "..");
const TESTDATA = join(import.meta.dirname, "testdata");
const GEN = join(import.meta.dirname, ".gen-tmp");
const OBJECTS = readdirSync(TESTDATA, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(TESTDATA, d.name))
      .filter((f) => f.endsWith(".bpf.o"))
      .map((f) => join(TESTDATA, d.name, f)),
  );
const VALUES_OBJ = join(TESTDATA, "cli", "btf-values.bpf.o");
const KITCHEN_OBJ = join(TESTDATA, "btf", "kitchen.bpf.o");
const RECORD_OBJ = join(TESTDATA, "cli", "gen-record.bpf.o");
const SPEC_MODULE = relative(GEN, join(ROOT, "src", "spec", "index.ts"));
/** `type NAME` arguments per object. */
const TYPES: Record<string, string[]> = {
  [RECORD_OBJ]: ["type", "sample", "type", "kind", "type", "flags"],
  [KITCHEN_OBJ]: ["type", "nested", "type", "un", "type", "bits"],
};
/** Every committed generated module: the examples' and the tests'. */
const COMMITTED_MODULES = [join(ROOT, "examples"), TESTDATA].flatMap((top) =>
  readdirSync(top, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(top, d.name))
        .filter((f) => f.endsWith(".gen.ts"))
        .map((f) => join(top, d.name, f)),
    ),
);

/** A seeded xorshift generator. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) & 0xff;
  };
}

function objectBTF(path: string): BTF {
  const sec = parseELF(new Uint8Array(readFileSync(path))).section(".BTF");
  assert.ok(sec, `${path} has .BTF`);
  return parseBTF(sec.data);
}

const outName = (obj: string) =>
  `${obj
    .split("/")
    .pop()
    ?.replace(/\.bpf\.o$/, "")}.ts`;

/** The generated module's exports we use (typed loosely: the test imports it at run time). */
interface CodecLike {
  size: number;
  decode(b: Uint8Array, o?: number): unknown;
  encode(v: unknown, b?: Uint8Array, o?: number): Uint8Array;
}

/** Uses of the generated modules that must typecheck (and `@ts-expect-error` ones that must not). */
const USE = `import { type BpfMap, Collection, kernelBackend, type Program } from "../../src/kernel/index.ts";
import type { BackendMap, CollectionSpec } from "../../src/spec/index.ts";
import { VirtualMachine, type VmMap, vmBackend } from "../../src/vm/index.ts";
import { bindBtfValues, btfValuesConstants, type BtfValuesObject, Color, loadBtfValues, type Rich } from "./btf-values.ts";
import { bindGenRecord, Kind, KindCodec, loadGenRecord, Sample } from "./gen-record.ts";

export function records(bytes: Uint8Array): number {
  const s = Sample.decode(bytes);
  const ts: bigint = s.ts;
  const port: number | undefined = s.addrs[0]?.port;
  const grid: number = s.grid[1]?.[2] ?? 0;
  const lo: number | undefined = s.lo;
  const kind: number = KindCodec.decode(bytes, 16);
  // @ts-expect-error: no such member
  s.nope;
  // @ts-expect-error: comm is a string
  const n: number = s.comm;
  return Number(ts) + (port ?? 0) + grid + (lo ?? 0) + kind + Kind.K_NEG + Color.GREEN + n;
}

export function both(spec: CollectionSpec): void {
  using k = loadBtfValues(kernelBackend, spec, { constants: { limit: 5 } });
  // @ts-expect-error: limit is a number
  loadBtfValues(kernelBackend, spec, { constants: { limit: 5n } });
  // @ts-expect-error: not a constant of the object
  loadBtfValues(vmBackend, spec, { constants: { packets: 1n } });
  const r: Rich | undefined = k.maps.flows.lookup({ saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, pad: "" });
  const raw: BackendMap = k.maps.counters.raw;
  k.maps.counters.update(1, 2n);
  // @ts-expect-error: a counter is a bigint
  k.maps.counters.update(1, 2);
  // @ts-expect-error: not a map of the object
  k.maps.nope;
  k.variables.origin.set({ x: 1, y: 2 });
  using kb = bindBtfValues(Collection.load(spec, { constants: btfValuesConstants({ limit: 1 }) }));
  const m: BpfMap = kb.maps.counters.raw;
  const p: Program = kb.programs.count;
  using v = bindBtfValues(VirtualMachine.load(spec));
  const vm: VmMap = v.maps.percpu.raw;
  const generic: BtfValuesObject = v;
  using g = loadGenRecord(vmBackend, spec);
  const ring: BackendMap = g.maps.records;
  using gk = bindGenRecord(Collection.load(spec));
  const kring: BpfMap = gk.maps.records;
  void [r, raw, m, p, vm, generic, ring, kring];
}
`;

before(async () => {
  mkdirSync(GEN, { recursive: true });
  for (const obj of OBJECTS) {
    const r = await tsbpf("gen", "types", obj, ...(TYPES[obj] ?? []), "module", SPEC_MODULE);
    assert.equal(r.code, 0, `${obj}: ${r.stderr}`);
    writeFileSync(join(GEN, outName(obj)), r.stdout);
  }
  // And every named type of every object (but typedefs of forward declarations).
  for (const obj of OBJECTS) {
    const spec = loadCollectionSpec(readFileSync(obj));
    const btf = spec.btf;
    if (!btf) continue;
    const names = btf.ownTypes
      .filter((t) => ["STRUCT", "UNION", "ENUM", "ENUM64", "TYPEDEF"].includes(t.kind) && t.name)
      .filter((t) => t.kind !== "TYPEDEF" || !["FWD", "VOID"].includes(btf.resolve(t.id).kind))
      .map((t) => t.name);
    const code = generateTypes(spec, { name: "all", types: names, module: SPEC_MODULE });
    writeFileSync(join(GEN, outName(obj).replace(/\.ts$/, "-all.ts")), code);
  }
  writeFileSync(join(GEN, "use.ts"), USE);
  writeFileSync(
    join(GEN, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: {
        rootDir: "../..",
        strict: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
      },
      include: ["*.ts"],
    }),
  );
});
after(() => rmSync(GEN, { recursive: true, force: true }));

describe("gen types", () => {
  test("every test object's module (also with every named type), and a file using them, typecheck under tsc --strict", {
    skip: hostOnly("tsc"),
  }, () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", join(GEN, "tsconfig.json")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    // Only the generated files are judged (other modules may be mid-edit).
    const ours = r.stdout.split("\n").filter((l) => l.includes(".gen-tmp/"));
    assert.deepEqual(ours, [], ours.join("\n"));
    assert.ok(OBJECTS.length >= 5);
  });

  test("codecs decode as decodeValue does, and round-trip", async () => {
    const checks: [string, string, string][] = [
      [VALUES_OBJ, "Rich", "rich"],
      [VALUES_OBJ, "FlowKey", "flow_key"],
      [VALUES_OBJ, "Point", "point"],
      [KITCHEN_OBJ, "Nested", "nested"],
      [KITCHEN_OBJ, "Bits", "bits"],
      [KITCHEN_OBJ, "Un", "un"],
      [RECORD_OBJ, "Sample", "sample"],
      [RECORD_OBJ, "Flags", "flags"],
    ];
    for (const [obj, codecName, cName] of checks) {
      const mod = (await import(join(GEN, outName(obj)))) as Record<string, CodecLike>;
      const codec = mod[codecName];
      assert.ok(codec, `${codecName} exported`);
      const btf = objectBTF(obj);
      const t = btf.findByName("STRUCT", cName) ?? btf.findByName("UNION", cName);
      assert.ok(t);
      assert.equal(codec.size, btf.sizeof(t.id));
      const next = rng(cName.length * 7919);
      for (let i = 0; i < 50; i++) {
        const bytes: Uint8Array = Uint8Array.from({ length: codec.size + 8 }, () => next());
        const at = i % 8;
        const value: unknown = codec.decode(bytes, at);
        assert.deepEqual(value, decodeValue(btf, t.id, bytes, at), `${codecName} #${i}`);
        // Encoding what was decoded and decoding again gives the same value (padding
        // and union alternatives other than the first are not kept).
        const again = codec.encode(value);
        assert.equal(again.length, codec.size);
        assert.deepEqual(codec.decode(again), value, `${codecName} round trip #${i}`);
        // And bytes produced by encode are reproduced exactly.
        assert.deepEqual(codec.encode(codec.decode(again)), again);
      }
    }
  });

  test("enums as consts; type NAME emits types no map uses; names in the loader's shapes", async () => {
    const mod = (await import(join(GEN, outName(VALUES_OBJ)))) as Record<string, unknown>;
    assert.deepEqual(mod.Color, { RED: 0, GREEN: 5, BLUE: -1 });
    assert.deepEqual(mod.Big, { BIG_A: 1n << 32n, BIG_B: (1n << 63n) - 1n });
    assert.equal(typeof mod.loadBtfValues, "function");
    assert.equal(typeof mod.bindBtfValues, "function");
    assert.deepEqual(mod.btfValuesNames, {
      maps: ["counters", "percpu", "flows", "names", ".data", ".rodata", ".data.tagged", ".bss"],
      programs: ["count"],
      variables: ["packets", "temps", "limit", "greeting", "tagged", "origin"],
    });
    const src = readFileSync(join(GEN, outName(VALUES_OBJ)), "utf8");
    assert.match(src, /readonly flows: TypedMap<FlowKey, Rich, C\["maps"\]\["flows"\]>;/);
    assert.match(
      src,
      /readonly percpu: TypedPerCpuMap<PercpuKey, Point, C\["maps"\]\["percpu"\]>;/,
    );
    assert.match(src, /readonly origin: TypedVariable<Point, C\["variables"\]\["origin"\]>;/);
    assert.match(src, /@generated by `tsbpf gen types \S+\/btf-values.bpf.o module /);
    // Thin: no runtime in the module, only declarations over the library.
    assert.doesNotMatch(src, /DataView|getBits|class /);

    const rec = (await import(join(GEN, outName(RECORD_OBJ)))) as Record<string, unknown>;
    assert.deepEqual(rec.Kind, { K_OPEN: 1, K_CLOSE: 2, K_NEG: -3 });
    assert.equal((rec.KindCodec as CodecLike).size, 4);
    assert.equal((rec.Sample as CodecLike).size, 96);
    const recSrc = readFileSync(join(GEN, outName(RECORD_OBJ)), "utf8");
    assert.match(
      recSrc,
      /gen types \S+\/gen-record.bpf.o type sample type kind type flags module /,
    );
    // Without `type sample`, struct sample appears only behind a pointer: no codec.
    const plain = await tsbpf("gen", "types", RECORD_OBJ);
    assert.equal(plain.code, 0);
    assert.doesNotMatch(plain.stdout, /export interface Sample/);
    assert.match(plain.stdout, /from "tsbpf\/spec";/);
  });

  test("typedefs: type NAME of a typedef gives its name to what it names", async () => {
    const r = await tsbpf("gen", "types", RECORD_OBJ, "type", "sample_t", "type", "__u64");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /export type SampleT = Sample;\n.*\nexport const SampleT = Sample;/);
    assert.match(r.stdout, /export interface Sample \{/);
    const k = await tsbpf("gen", "types", KITCHEN_OBJ, "type", "u64");
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /export type U64 = bigint;\n.*\nexport const U64: Codec<U64> = u64;/);
  });

  test("errors: missing object, no BTF, bad arguments, unknown type names; name NAME", async () => {
    const missing = tsbpfProcess("gen", "types", "/nonexistent.bpf.o");
    assert.equal(missing.code, 254);
    assert.equal(
      missing.stderr,
      "Error: failed to open BPF object file /nonexistent.bpf.o: No such file or directory\n",
    );
    const bad = await tsbpf("gen", "types", VALUES_OBJ, "colour", "x");
    assert.equal(bad.code, 255);
    assert.equal(bad.stderr, "Error: unknown arg colour\n");
    const noType = await tsbpf("gen", "types", VALUES_OBJ, "type", "nope");
    assert.equal(noType.code, 255);
    assert.equal(noType.stdout, "");
    assert.equal(
      noType.stderr,
      `Error: can't generate types for ${VALUES_OBJ}: no struct, union, enum or typedef named "nope" in the object's BTF\n`,
    );
    const fwd = await tsbpf("gen", "types", KITCHEN_OBJ, "type", "opaque");
    assert.equal(fwd.code, 255);
    assert.match(
      fwd.stderr,
      /type "opaque" is only declared in the object's BTF \(a forward declaration/,
    );
    const core = join(TESTDATA, "btf", "core.bpf.o");
    const toFwd = await tsbpf("gen", "types", core, "type", "kernel_siginfo_t");
    assert.equal(toFwd.code, 255);
    assert.match(
      toFwd.stderr,
      /^Error: can't generate types for \S+core.bpf.o: type "kernel_siginfo_t": type \[\d+\] \(FWD kernel_siginfo\) has no TypeScript value\n$/,
    );
    const dangling = await tsbpf("gen", "types", VALUES_OBJ, "type");
    assert.equal(dangling.code, 255);
    const named = await tsbpf("gen", "types", VALUES_OBJ, "name", "my_obj");
    assert.equal(named.code, 0);
    assert.match(
      named.stdout,
      /export function loadMyObj\(\n {2}backend: Backend,\n {2}spec: CollectionSpec,/,
    );
    assert.match(named.stdout, /export function bindMyObj</);
  });

  test("every committed module is what its header's command generates", async () => {
    assert.ok(COMMITTED_MODULES.length >= 4, "examples and tests have generated modules");
    for (const file of COMMITTED_MODULES) {
      const text = readFileSync(file, "utf8");
      const cmd = /@generated by `tsbpf gen types ([^`]+)`/.exec(text)?.[1];
      assert.ok(cmd, `${file}: a @generated header with the command`);
      // The command as run from the repository's root.
      const [obj, ...rest] = cmd.split(" ");
      const objPath = join(ROOT, obj as string);
      assert.equal(dirname(objPath), dirname(file), `${file}: ${obj} is beside it`);
      assert.ok(existsSync(objPath), `${obj} exists`);
      const r = await tsbpf("gen", "types", objPath, ...rest);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        r.stdout.replace(objPath, obj as string) === text,
        `${relative(ROOT, file)} is stale: regenerate it with \`npm run -s tsbpf -- gen types ${cmd} > ${relative(ROOT, file)}\``,
      );
    }
  });
});

/** Loads btf-values with the generated loader on `backend` and checks typed access. */
async function typedAccess(backend: Backend): Promise<void> {
  const mod = (await import(join(GEN, outName(VALUES_OBJ)))) as {
    // biome-ignore lint/suspicious/noExplicitAny: the generated module's own types are checked by tsc above
    loadBtfValues: (backend: Backend, spec: unknown, opts?: unknown) => any;
  };
  const spec = loadCollectionSpec(readFileSync(VALUES_OBJ));
  const obj = mod.loadBtfValues(backend, spec, { constants: { limit: 250 } });
  try {
    const key = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, pad: "" };
    const value = {
      name: "from-ts",
      raw: [1, 2, 3, 4],
      sc: -1,
      s16: -2,
      u16: 3,
      s32: -4,
      u32v: 5,
      s64: -6n,
      u64v: 7n,
      pts: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      word: 0x1_0000_0002n,
      col: 5,
      bg: 1n << 32n,
      a: 7,
      b: 31,
      c: -8,
      d: (1n << 40n) - 1n,
      ptr: 0xffff888000000000n,
      wide: (1n << 100n) + 5n,
      matrix: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    };
    obj.maps.flows.update(key, value);
    const got = obj.maps.flows.lookup(key);
    assert.deepEqual(got, { ...value, lo: 2, hi: 1 });
    assert.deepEqual([...obj.maps.flows.entries()].length, 1);
    assert.deepEqual([...obj.maps.flows.keys()], [key]);
    assert.equal(obj.maps.flows.delete(key), true);
    assert.equal(obj.maps.flows.lookup(key), undefined);

    obj.maps.names.update(5, "green");
    assert.equal(obj.maps.names.lookup(5), "green");
    obj.maps.counters.update(1, 42n);
    assert.equal(obj.maps.counters.lookup(1), 42n);
    const cpus = obj.collection.map("percpu").cpus as number;
    assert.ok(cpus >= 1);
    obj.maps.percpu.update(
      0,
      Array.from({ length: cpus }, (_, i) => ({ x: i, y: -i })),
    );
    assert.deepEqual(obj.maps.percpu.lookup(0)?.[cpus - 1], { x: cpus - 1, y: 1 - cpus });

    assert.equal(obj.variables.packets.get(), 7n);
    assert.deepEqual(obj.variables.temps.get(), [-1, 0, 1]);
    assert.equal(obj.variables.limit.get(), 250, "set by the typed constants option");
    assert.equal(obj.variables.greeting.get(), "hello");
    assert.equal(obj.variables.tagged.get(), 0xabcdef);
    obj.variables.origin.set({ x: 10, y: -20 });
    assert.deepEqual(obj.variables.origin.get(), { x: 10, y: -20 });
    assert.equal(obj.variables.limit.readOnly, true);
    assert.throws(() => obj.variables.limit.set(1), /read-only/);
    assert.equal(obj.programs.count.name, "count");
  } finally {
    obj.close();
  }
}

describe("gen types: load<Name>(backend, spec)", () => {
  test("in the VM: typed maps, per-CPU maps and variables", () => typedAccess(vmBackend));

  test("in the kernel: the same; nothing left open", { skip: kernelSkip }, async () => {
    const fds = fdSnapshot();
    await typedAccess(kernelBackend);
    assert.deepEqual(fdSnapshot(), fds);
  });

  test("a spec without the module's names is refused, naming the map, and closed", async () => {
    const mod = (await import(join(GEN, outName(VALUES_OBJ)))) as {
      loadBtfValues: (backend: Backend, spec: unknown) => unknown;
    };
    const other = loadCollectionSpec(readFileSync(RECORD_OBJ));
    assert.throws(() => mod.loadBtfValues(vmBackend, other), /counters/);
  });
});
