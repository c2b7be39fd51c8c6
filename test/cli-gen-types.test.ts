/**
 * `tsbpf gen types`: the module generated for every test object typechecks with the
 * project's tsconfig; its codecs agree with `decodeValue` on random bytes and
 * round-trip; and `load<Name>()` loads the object into the kernel with typed maps and
 * variables.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BTF, decodeValue, parseBTF } from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";
import { fdSnapshot, tsbpf, tsbpfProcess } from "./cli-run.ts";
import { kernelSkip } from "./support/kernel.ts";

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
const KERNEL_MODULE = relative(GEN, join(ROOT, "src", "kernel", "index.ts"));

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

before(async () => {
  mkdirSync(GEN, { recursive: true });
  for (const obj of OBJECTS) {
    const r = await tsbpf("gen", "types", obj, "module", KERNEL_MODULE);
    assert.equal(r.code, 0, `${obj}: ${r.stderr}`);
    writeFileSync(join(GEN, outName(obj)), r.stdout);
  }
  writeFileSync(
    join(GEN, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: { rootDir: "../.." },
      include: ["*.ts"],
    }),
  );
});
after(() => rmSync(GEN, { recursive: true, force: true }));

describe("gen types", () => {
  test("every test object's module typechecks with the project's tsconfig", () => {
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

  test("enums as consts, names in the loader's shapes", async () => {
    const mod = (await import(join(GEN, outName(VALUES_OBJ)))) as Record<string, unknown>;
    assert.deepEqual(mod.Color, { RED: 0, GREEN: 5, BLUE: -1 });
    assert.deepEqual(mod.Big, { BIG_A: 1n << 32n, BIG_B: (1n << 63n) - 1n });
    assert.equal(typeof mod.loadBtfValues, "function");
    const src = readFileSync(join(GEN, outName(VALUES_OBJ)), "utf8");
    assert.match(
      src,
      /export type BtfValuesMapName = "counters" \| "percpu" \| "flows" \| "names"/,
    );
    assert.match(src, /readonly flows: TypedMap<FlowKey, Rich>;/);
    assert.match(src, /readonly percpu: TypedPerCpuMap<PercpuKey, Point>;/);
    assert.match(src, /readonly origin: TypedVariable<Point>;/);
    assert.match(src, /@generated by `tsbpf gen types btf-values.bpf.o`/);
  });

  test("errors: missing object, no BTF, bad arguments; name NAME", async () => {
    const missing = tsbpfProcess("gen", "types", "/nonexistent.bpf.o");
    assert.equal(missing.code, 254);
    assert.equal(
      missing.stderr,
      "Error: failed to open BPF object file /nonexistent.bpf.o: No such file or directory\n",
    );
    const bad = await tsbpf("gen", "types", VALUES_OBJ, "colour", "x");
    assert.equal(bad.code, 255);
    assert.equal(bad.stderr, "Error: unknown arg colour\n");
    const named = await tsbpf("gen", "types", VALUES_OBJ, "name", "my_obj");
    assert.equal(named.code, 0);
    assert.match(named.stdout, /export function loadMyObj\(/);
    assert.match(named.stdout, /from "tsbpf\/kernel";/);
  });
});

describe("gen types: load<Name>() in the kernel", {
  skip: kernelSkip,
}, () => {
  test("typed maps, per-CPU maps and variables; nothing left open", async () => {
    const mod = (await import(join(GEN, outName(VALUES_OBJ)))) as {
      // biome-ignore lint/suspicious/noExplicitAny: the generated module's own types are checked by tsc above
      loadBtfValues: (src: string) => any;
    };
    const fds = fdSnapshot();
    const obj = mod.loadBtfValues(VALUES_OBJ);
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
      assert.equal(obj.maps.flows.delete(key), true);
      assert.equal(obj.maps.flows.lookup(key), undefined);

      obj.maps.names.update(5, "green");
      assert.equal(obj.maps.names.lookup(5), "green");
      obj.maps.counters.update(1, 42n);
      assert.equal(obj.maps.counters.lookup(1), 42n);
      const cpus = obj.maps.percpu.raw.cpus as number;
      obj.maps.percpu.update(
        0,
        Array.from({ length: cpus }, (_, i) => ({ x: i, y: -i })),
      );
      assert.deepEqual(obj.maps.percpu.lookup(0)?.[cpus - 1], { x: cpus - 1, y: 1 - cpus });

      assert.equal(obj.variables.packets.get(), 7n);
      assert.deepEqual(obj.variables.temps.get(), [-1, 0, 1]);
      assert.equal(obj.variables.limit.get(), 100);
      assert.equal(obj.variables.greeting.get(), "hello");
      assert.equal(obj.variables.tagged.get(), 0xabcdef);
      obj.variables.origin.set({ x: 10, y: -20 });
      assert.deepEqual(obj.variables.origin.get(), { x: 10, y: -20 });
      assert.throws(() => obj.variables.limit.set(1), /read-only/);
      assert.equal(typeof obj.programs.count.fd, "object");
    } finally {
      obj.close();
    }
    assert.deepEqual(fdSnapshot(), fds);
  });
});
