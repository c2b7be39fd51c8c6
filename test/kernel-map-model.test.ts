/**
 * Map semantics compared with the kernel: a seeded generator makes a few thousand
 * random operations per map type (lookup, update with each flag, delete,
 * lookup-and-delete, next-key walks, batch operations, push/pop/peek), applies each
 * to a real map and to the reference model in test/map-model.ts, and compares every
 * result and error code. On a mismatch the message gives the seed, the step and the
 * operations before it; `TSBPF_MAP_SEED=<seed>` replays one seed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { possibleCpus } from "../src/kernel/system/cpus.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapFlags, MapType, UpdateFlags } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import {
  ArrayModel,
  BloomModel,
  hex,
  LpmTrieModel,
  LruHashModel,
  PerCpuHashModel,
  PlainHashModel,
  QueueModel,
} from "./map-model.ts";
import { kernelSkip } from "./support/kernel.ts";

const skip = kernelSkip;

const SEEDS = process.env.TSBPF_MAP_SEED ? [Number(process.env.TSBPF_MAP_SEED)] : [1, 2, 3];
const OPS = Number(process.env.TSBPF_MAP_OPS ?? 1500);

/** mulberry32: a small seeded PRNG. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick<T>(xs: readonly T[]): T {
      return xs[Math.floor(next() * xs.length)] as T;
    },
    bytes(n: number): Uint8Array {
      return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    },
  };
}
type Rng = ReturnType<typeof rng>;

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

/** A result as text, so kernel and model compare as strings ("err:EEXIST", hex, ...). */
function outcome(f: () => unknown): string {
  try {
    return show(f());
  } catch (e) {
    const err = e as { code?: string; processed?: number };
    if (typeof err.code !== "string") throw e;
    return `err:${err.code}${err.processed !== undefined ? `@${err.processed}` : ""}`;
  }
}

function show(v: unknown): string {
  if (v === undefined) return "none";
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return `[${v.map(show).join(",")}]`;
  return String(v);
}

/** Whole contents of a kernel map as key hex → value hex, read one key at a time. */
function kernelSnapshot(m: BpfMap, perCpu = false): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of m.keys()) {
    if (perCpu) {
      const v = m.lookupPerCpu(k);
      if (v) out.set(hex(k), hex(packBlob(v, m.valueSize)));
    } else {
      const v = m.lookup(k);
      if (v) out.set(hex(k), hex(v));
    }
  }
  return out;
}

function packBlob(values: Uint8Array[], valueSize: number): Uint8Array {
  const slot = (valueSize + 7) & ~7;
  const b = new Uint8Array(slot * values.length);
  values.forEach((v, i) => {
    b.set(v, i * slot);
  });
  return b;
}

/** Whole contents through batched lookups of `count` (doubled on ENOSPC), optionally deleting. */
function kernelBatchSnapshot(m: BpfMap, count: number, del: boolean): Map<string, string> {
  const out = new Map<string, string>();
  let cursor: Uint8Array | undefined;
  let n = count;
  for (let guard = 0; guard < 10_000; guard++) {
    let chunk: ReturnType<BpfMap["lookupBatch"]>;
    try {
      chunk = del ? m.lookupAndDeleteBatch(n, cursor) : m.lookupBatch(n, cursor);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOSPC") {
        n *= 2;
        continue;
      }
      throw e;
    }
    for (const [k, v] of chunk.entries()) out.set(hex(k), hex(v));
    if (chunk.cursor === undefined) return out;
    cursor = chunk.cursor;
  }
  throw new Error("batch walk did not end");
}

function sameMaps(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): string | undefined {
  const ka = [...a].sort().map(([k, v]) => `${k}=${v}`);
  const kb = [...b].sort().map(([k, v]) => `${k}=${v}`);
  if (ka.join() === kb.join()) return undefined;
  return `kernel {${ka.join(" ")}} vs model {${kb.join(" ")}}`;
}

/** One generated operation: its description and a check returning a mismatch or undefined. */
interface Step {
  readonly text: string;
  readonly check: () => string | undefined;
}

function compare(text: string, kernel: () => unknown, model: () => unknown): Step {
  return {
    text,
    check() {
      const k = outcome(kernel);
      const m = outcome(model);
      return k === m ? undefined : `kernel ${k}, model ${m}`;
    },
  };
}

/**
 * Applies `OPS` generated steps; on the first mismatch fails with the seed, the step
 * and the steps before it.
 */
function runSequence(label: string, seed: number, gen: (r: Rng, i: number) => Step): void {
  const r = rng(seed);
  const history: string[] = [];
  for (let i = 0; i < OPS; i++) {
    const step = gen(r, i);
    history.push(`${i}: ${step.text}`);
    const bad = step.check();
    if (bad !== undefined) {
      assert.fail(
        `${label}, seed ${seed} (replay with TSBPF_MAP_SEED=${seed}), step ${i}: ${step.text}: ${bad}\n` +
          `operations so far (last 60 of ${history.length}):\n${history.slice(-60).join("\n")}`,
      );
    }
  }
}

function withMap(spec: MapSpec, body: (m: BpfMap) => void): void {
  const before = fdCounts();
  const m = BpfMap.create(spec);
  try {
    body(m);
  } finally {
    m.close();
  }
  assertFdCounts(before);
}

const FLAGS = [UpdateFlags.ANY, UpdateFlags.NOEXIST, UpdateFlags.EXIST];
function updateFlags(r: Rng): number {
  if (r.chance(0.03)) return r.pick([UpdateFlags.NOEXIST | UpdateFlags.EXIST, UpdateFlags.LOCK, 8]);
  return r.pick(FLAGS);
}

/** Operations common to hash-like maps with single values (hash, LRU). */
function hashStep(
  m: BpfMap,
  model: PlainHashModel,
  r: Rng,
  key: () => Uint8Array,
  opts: { updates: boolean },
): Step {
  let roll = r.int(100);
  // Without updates (LRU: its updates are checked by lruStep), those rolls look up.
  if (!opts.updates && ((roll >= 25 && roll < 55) || (roll >= 88 && roll < 94))) roll = 0;
  if (roll < 25) {
    const k = key();
    const flags = r.chance(0.03) ? 1 : 0;
    return compare(
      `lookup ${hex(k)} flags ${flags}`,
      () => m.lookup(k, flags),
      () => model.lookup(k, flags),
    );
  }
  if (roll < 55) {
    const k = key();
    const v = r.bytes(m.valueSize);
    const flags = updateFlags(r);
    return compare(
      `update ${hex(k)}=${hex(v)} flags ${flags}`,
      () => m.update(k, v, flags),
      () => model.update(k, v, flags),
    );
  }
  if (roll < 67) {
    const k = key();
    return compare(
      `delete ${hex(k)}`,
      () => m.delete(k),
      () => model.delete(k),
    );
  }
  if (roll < 75) {
    const k = key();
    return compare(
      `lookupAndDelete ${hex(k)}`,
      () => m.lookupAndDelete(k),
      () => model.lookupAndDelete(k),
    );
  }
  if (roll < 80) {
    const k = r.chance(0.3) ? undefined : key();
    return {
      text: `nextKey ${k ? hex(k) : "(first)"}`,
      check() {
        const next = m.nextKey(k);
        const keys = new Set(model.keyList().map(hex));
        if (next === undefined) {
          // Only after the last key: then `k` is in the map, or the map is empty.
          if (keys.size === 0 || (k && keys.has(hex(k)))) return undefined;
          return `kernel says no next key, but the map holds ${keys.size} keys and ${k ? hex(k) : "no key"} is not one`;
        }
        if (!keys.has(hex(next))) return `kernel's next key ${hex(next)} is not in the model`;
        if (k && hex(next) === hex(k)) return "next key equals the key";
        return undefined;
      },
    };
  }
  if (roll < 84) {
    return {
      text: "walk keys()",
      check() {
        const seen = [...m.keys()].map(hex);
        if (new Set(seen).size !== seen.length) return `walk repeated keys: ${seen.join(" ")}`;
        return sameMaps(
          new Map(seen.map((k) => [k, ""])),
          new Map(model.keyList().map((k) => [hex(k), ""])),
        );
      },
    };
  }
  if (roll < 88) {
    const count = 1 + r.int(m.maxEntries);
    return {
      text: `lookupBatch walk, chunks of ${count}`,
      check: () => sameMaps(kernelBatchSnapshot(m, count, false), model.snapshot()),
    };
  }
  if (roll < 94) {
    const n = 1 + r.int(6);
    const keys = Array.from({ length: n }, key);
    const values = keys.map(() => r.bytes(m.valueSize));
    const flags = updateFlags(r);
    return compare(
      `updateBatch ${keys.map(hex).join(",")} flags ${flags}`,
      () => m.updateBatch(keys, values, { elemFlags: flags }),
      () => model.updateBatchBlobs(keys, values, flags),
    );
  }
  if (roll < 99) {
    const n = 1 + r.int(4);
    const keys = Array.from({ length: n }, key);
    return compare(
      `deleteBatch ${keys.map(hex).join(",")}`,
      () => m.deleteBatch(keys),
      () => model.deleteBatch(keys),
    );
  }
  const count = 1 + r.int(m.maxEntries);
  return {
    text: `lookupAndDeleteBatch walk, chunks of ${count}`,
    check() {
      const got = kernelBatchSnapshot(m, count, true);
      const bad = sameMaps(got, model.snapshot());
      model.clear();
      return bad;
    },
  };
}

describe("map semantics: kernel vs model", { skip }, () => {
  const cpus = skip ? 1 : possibleCpus();

  for (const seed of SEEDS) {
    test(`hash (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_hash",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 24,
      };
      withMap(spec, (m) => {
        const model = new PlainHashModel(spec);
        runSequence("hash", seed, (r) =>
          hashStep(m, model, r, () => u32(r.int(36)), { updates: true }),
        );
      });
    });

    test(`hash without preallocation (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_hash_np",
        type: MapType.HASH,
        keySize: 8,
        valueSize: 12,
        maxEntries: 16,
        flags: MapFlags.NO_PREALLOC,
      };
      withMap(spec, (m) => {
        const model = new PlainHashModel(spec);
        // 8-byte keys: a small counter and a fixed high half.
        const key = (r: ReturnType<typeof rng>) => {
          const k = new Uint8Array(8);
          k.set(u32(r.int(24)));
          k[7] = 0xa5;
          return k;
        };
        runSequence("hash (no prealloc)", seed, (r) =>
          hashStep(m, model, r, () => key(r), { updates: true }),
        );
      });
    });

    test(`array (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_array",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: 12,
      };
      withMap(spec, (m) => {
        const model = new ArrayModel(spec);
        runSequence("array", seed, (r) => arrayStep(m, model, r, false));
      });
    });

    test(`per-CPU array (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_pcarray",
        type: MapType.PERCPU_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 10,
      };
      withMap(spec, (m) => {
        const model = new ArrayModel(spec, cpus);
        runSequence("per-CPU array", seed, (r) => arrayStep(m, model, r, true));
      });
    });

    test(`per-CPU hash (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_pchash",
        type: MapType.PERCPU_HASH,
        keySize: 4,
        valueSize: 12,
        maxEntries: 16,
      };
      withMap(spec, (m) => {
        const model = new PerCpuHashModel(spec, cpus);
        runSequence("per-CPU hash", seed, (r) => perCpuHashStep(m, model, r, 24));
      });
    });

    test(`LRU hash (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_lru",
        type: MapType.LRU_HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 16,
      };
      withMap(spec, (m) => {
        const model = new LruHashModel(spec);
        runSequence("LRU hash", seed, (r) => lruStep(m, model, r, 40));
      });
    });

    test(`LPM trie, IPv4 (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_lpm4",
        type: MapType.LPM_TRIE,
        keySize: 8,
        valueSize: 8,
        maxEntries: 20,
        flags: MapFlags.NO_PREALLOC,
      };
      withMap(spec, (m) => {
        const model = new LpmTrieModel(spec);
        runSequence("LPM trie v4", seed, (r) => lpmStep(m, model, r));
      });
    });

    test(`LPM trie, IPv6 (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_lpm6",
        type: MapType.LPM_TRIE,
        keySize: 20,
        valueSize: 4,
        maxEntries: 20,
        flags: MapFlags.NO_PREALLOC,
      };
      withMap(spec, (m) => {
        const model = new LpmTrieModel(spec);
        runSequence("LPM trie v6", seed, (r) => lpmStep(m, model, r));
      });
    });

    for (const type of [MapType.QUEUE, MapType.STACK]) {
      const name = type === MapType.QUEUE ? "queue" : "stack";
      test(`${name} (seed ${seed})`, () => {
        const spec: MapSpec = {
          name: `model_${name}`,
          type,
          keySize: 0,
          valueSize: 4,
          maxEntries: 8,
        };
        withMap(spec, (m) => {
          const model = new QueueModel(spec);
          runSequence(name, seed, (r) => queueStep(m, model, r));
        });
      });
    }

    test(`bloom filter (seed ${seed})`, () => {
      const spec: MapSpec = {
        name: "model_bloom",
        type: MapType.BLOOM_FILTER,
        keySize: 0,
        valueSize: 4,
        maxEntries: 64,
        mapExtra: 3n,
      };
      withMap(spec, (m) => {
        const model = new BloomModel(spec);
        runSequence("bloom filter", seed, (r) => bloomStep(m, model, r));
      });
    });
  }
});

function arrayStep(m: BpfMap, model: ArrayModel, r: Rng, perCpu: boolean): Step {
  const key = () => u32(r.int(m.maxEntries + 4));
  const value = () =>
    perCpu ? Array.from({ length: model.cpus }, () => r.bytes(m.valueSize)) : r.bytes(m.valueSize);
  const roll = r.int(100);
  if (roll < 30) {
    const k = key();
    if (perCpu)
      return compare(
        `lookupPerCpu ${hex(k)}`,
        () => m.lookupPerCpu(k),
        () => model.lookupPerCpu(k),
      );
    const flags = r.chance(0.03) ? 4 : 0;
    return compare(
      `lookup ${hex(k)} flags ${flags}`,
      () => m.lookup(k, flags),
      () => model.lookup(k, flags),
    );
  }
  if (roll < 60) {
    const k = key();
    const v = value();
    const flags = updateFlags(r);
    if (perCpu) {
      const vs = v as Uint8Array[];
      return compare(
        `updatePerCpu ${hex(k)}=${show(vs)} flags ${flags}`,
        () => m.updatePerCpu(k, vs, flags),
        () => model.updatePerCpu(k, vs, flags),
      );
    }
    const v1 = v as Uint8Array;
    return compare(
      `update ${hex(k)}=${hex(v1)} flags ${flags}`,
      () => m.update(k, v1, flags),
      () => model.update(k, v1, flags),
    );
  }
  if (roll < 65) {
    const k = key();
    return compare(
      `delete ${hex(k)}`,
      () => m.delete(k),
      () => model.delete(k),
    );
  }
  if (roll < 68 && !perCpu) {
    const k = key();
    return compare(
      `lookupAndDelete ${hex(k)}`,
      () => m.lookupAndDelete(k),
      () => model.lookupAndDelete(k),
    );
  }
  if (roll < 78) {
    const k = r.chance(0.2) ? undefined : key();
    return compare(
      `nextKey ${k ? hex(k) : "(first)"}`,
      () => m.nextKey(k),
      () => model.nextKey(k),
    );
  }
  if (roll < 82) {
    return compare(
      "walk keys()",
      () => [...m.keys()],
      () => model.entryList().map(([k]) => k),
    );
  }
  if (roll < 90) {
    // A chunked batch walk, compared chunk by chunk (arrays walk in index order).
    const count = 1 + r.int(m.maxEntries + 2);
    return {
      text: `lookupBatch walk, chunks of ${count}`,
      check() {
        let kc: Uint8Array | undefined;
        let mc: Uint8Array | undefined;
        for (let guard = 0; guard < 100; guard++) {
          const kch = m.lookupBatch(count, kc);
          const mch = model.lookupBatch(count, mc);
          const kt = show([...kch.entries()].flat());
          const mt = show(mch.keys.flatMap((k, i) => [k, mch.values[i] as Uint8Array]));
          if (kt !== mt) return `chunk ${guard}: kernel ${kt}, model ${mt}`;
          if ((kch.cursor === undefined) !== (mch.cursor === undefined)) {
            return `chunk ${guard}: kernel ${kch.cursor ? "goes on" : "ends"}, model ${mch.cursor ? "goes on" : "ends"}`;
          }
          if (kch.cursor === undefined) return undefined;
          if (hex(kch.cursor) !== hex(mch.cursor as Uint8Array))
            return `cursor ${hex(kch.cursor)} vs ${hex(mch.cursor as Uint8Array)}`;
          kc = kch.cursor;
          mc = mch.cursor;
        }
        return "batch walk did not end";
      },
    };
  }
  if (roll < 96) {
    const n = 1 + r.int(5);
    const keys = Array.from({ length: n }, key);
    const blobs = keys.map(() =>
      perCpu ? packBlob(value() as Uint8Array[], m.valueSize) : (value() as Uint8Array),
    );
    const flags = updateFlags(r);
    return compare(
      `updateBatch ${keys.map(hex).join(",")} flags ${flags}`,
      () => m.updateBatch(keys, blobs, { elemFlags: flags }),
      () => model.updateBatchBlobs(keys, blobs, flags),
    );
  }
  const keys = [key()];
  return compare(
    `deleteBatch ${hex(keys[0] as Uint8Array)}`,
    () => m.deleteBatch(keys),
    () => {
      // Arrays have no batch delete: the kernel refuses before touching an entry.
      throw Object.assign(new Error("ENOTSUPP"), { code: "ENOTSUPP", processed: 0 });
    },
  );
}

function perCpuHashStep(m: BpfMap, model: PerCpuHashModel, r: Rng, keySpace: number): Step {
  const key = () => u32(r.int(keySpace));
  const values = () => Array.from({ length: model.cpus }, () => r.bytes(m.valueSize));
  const roll = r.int(100);
  if (roll < 30) {
    const k = key();
    return compare(
      `lookupPerCpu ${hex(k)}`,
      () => m.lookupPerCpu(k),
      () => model.lookupPerCpu(k),
    );
  }
  if (roll < 65) {
    const k = key();
    const vs = values();
    const flags = updateFlags(r);
    return compare(
      `updatePerCpu ${hex(k)}=${show(vs)} flags ${flags}`,
      () => m.updatePerCpu(k, vs, flags),
      () => model.updatePerCpu(k, vs, flags),
    );
  }
  if (roll < 80) {
    const k = key();
    return compare(
      `delete ${hex(k)}`,
      () => m.delete(k),
      () => model.delete(k),
    );
  }
  if (roll < 85) {
    return {
      text: "walk entriesPerCpu()",
      check: () => sameMaps(kernelSnapshot(m, true), model.snapshot()),
    };
  }
  if (roll < 90) {
    const count = 1 + r.int(m.maxEntries);
    return {
      text: `lookupBatch walk, chunks of ${count}`,
      check: () => sameMaps(kernelBatchSnapshot(m, count, false), model.snapshot()),
    };
  }
  if (roll < 96) {
    const n = 1 + r.int(5);
    const keys = Array.from({ length: n }, key);
    const blobs = keys.map(() => packBlob(values(), m.valueSize));
    const flags = updateFlags(r);
    return compare(
      `updateBatch ${keys.map(hex).join(",")} flags ${flags}`,
      () => m.updateBatch(keys, blobs, { elemFlags: flags }),
      () => model.updateBatchBlobs(keys, blobs, flags),
    );
  }
  const keys = Array.from({ length: 1 + r.int(3) }, key);
  return compare(
    `deleteBatch ${keys.map(hex).join(",")}`,
    () => m.deleteBatch(keys),
    () => model.deleteBatch(keys),
  );
}

/**
 * LRU: each step runs on the kernel, then the model is reconciled with what the kernel
 * holds (evictions are the kernel's choice); updates are checked against the outcomes
 * the model allows.
 */
function lruStep(m: BpfMap, model: LruHashModel, r: Rng, keySpace: number): Step {
  const roll = r.int(100);
  const reconcile = () => model.reconcile(kernelSnapshot(m));
  if (roll < 45) {
    const k = u32(r.int(keySpace));
    const v = r.bytes(m.valueSize);
    const flags = updateFlags(r);
    return {
      text: `update ${hex(k)}=${hex(v)} flags ${flags}`,
      check() {
        const allowed = model.updateOutcomes(k, flags);
        const got = outcome(() => m.update(k, v, flags));
        const o = got === "none" ? "ok" : got.replace(/^err:/, "");
        if (!allowed.includes(o)) return `kernel ${o}, model allows ${allowed.join(" or ")}`;
        model.applyUpdate(k, v, o);
        return reconcile();
      },
    };
  }
  const step = hashStep(m, model, r, () => u32(r.int(keySpace)), { updates: false });
  return {
    text: step.text,
    check: () => step.check() ?? reconcile(),
  };
}

/** Base addresses that nest (10.0.0.0/8 ⊃ 10.1.0.0/16 ⊃ 10.1.2.0/24 ...), so prefixes overlap. */
function lpmAddress(r: Rng, bytes: number): Uint8Array {
  const a = new Uint8Array(bytes);
  a[0] = r.pick([10, 10, 10, 192, 0xfe]);
  for (let i = 1; i < bytes; i++) a[i] = r.chance(0.7) ? r.pick([0, 1, 2, 255]) : r.int(256);
  return a;
}

function lpmKey(r: Rng, bytes: number, plen: number): Uint8Array {
  const k = new Uint8Array(4 + bytes);
  new DataView(k.buffer).setUint32(0, plen, true);
  k.set(lpmAddress(r, bytes), 4);
  return k;
}

function lpmStep(m: BpfMap, model: LpmTrieModel, r: Rng): Step {
  const bytes = m.keySize - 4;
  const maxLen = bytes * 8;
  const prefix = () => {
    if (r.chance(0.02)) return maxLen + 1 + r.int(8); // invalid: longer than the data
    return r.pick([0, 8, 16, 24, maxLen, r.int(maxLen + 1)]);
  };
  const roll = r.int(100);
  if (roll < 35) {
    const k = lpmKey(r, bytes, r.chance(0.8) ? maxLen : prefix());
    return compare(
      `lookup ${hex(k)}`,
      () => m.lookup(k),
      () => model.lookup(k),
    );
  }
  if (roll < 70) {
    const k = lpmKey(r, bytes, prefix());
    const v = r.bytes(m.valueSize);
    const flags = r.chance(0.03) ? 3 : r.pick(FLAGS);
    return compare(
      `update ${hex(k)}=${hex(v)} flags ${flags}`,
      () => m.update(k, v, flags),
      () => model.update(k, v, flags),
    );
  }
  if (roll < 85) {
    const k = lpmKey(r, bytes, prefix());
    return compare(
      `delete ${hex(k)}`,
      () => m.delete(k),
      () => model.delete(k),
    );
  }
  if (roll < 87) {
    const k = lpmKey(r, bytes, prefix());
    return compare(
      `lookupAndDelete ${hex(k)}`,
      () => m.lookupAndDelete(k),
      () => model.lookupAndDelete(k),
    );
  }
  if (roll < 95) {
    return { text: "walk entries()", check: () => sameMaps(kernelSnapshot(m), model.snapshot()) };
  }
  const count = 1 + r.int(m.maxEntries);
  return {
    text: `lookupBatch walk, chunks of ${count}`,
    check: () => sameMaps(kernelBatchSnapshot(m, count, false), model.snapshot()),
  };
}

function queueStep(m: BpfMap, model: QueueModel, r: Rng): Step {
  const roll = r.int(100);
  if (roll < 50) {
    const v = r.bytes(4);
    const flags = r.chance(0.05) ? r.pick([1, 3, 4]) : r.pick([0, 0, 2]);
    return compare(
      `push ${hex(v)} flags ${flags}`,
      () => m.push(v, flags),
      () => model.push(v, flags),
    );
  }
  if (roll < 80)
    return compare(
      "pop",
      () => m.pop(),
      () => model.pop(),
    );
  return compare(
    "peek",
    () => m.peek(),
    () => model.peek(),
  );
}

function bloomStep(m: BpfMap, model: BloomModel, r: Rng): Step {
  const v = u32(r.int(200));
  if (r.chance(0.4)) {
    const flags = r.chance(0.05) ? r.pick([1, 2]) : 0;
    return compare(
      `push ${hex(v)} flags ${flags}`,
      () => m.push(v, flags),
      () => model.push(v, flags),
    );
  }
  return {
    text: `has ${hex(v)}`,
    check() {
      const got = m.has(v);
      if (model.pushedBefore(v) && !got)
        return "false negative: pushed, but the kernel says absent";
      return undefined;
    },
  };
}
