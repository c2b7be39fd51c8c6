/**
 * `MapSpec`: what a BPF map should be, as plain data — no kernel, no VM. The ELF loader
 * produces these, tests and users write them by hand, and both backends create maps
 * from them. {@link validateMapSpec} rejects, with a message naming the field, what the
 * kernel would reject with a bare EINVAL.
 *
 * @module
 */

import { BPF_OBJ_NAME_LEN, MapFlags, MapType, mapTypeName } from "../uapi/index.ts";

/** One initial entry of a map: bytes exactly `keySize` and `valueSize` long. */
export interface MapEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * How a map is pinned when it is created from a collection (libbpf's
 * `LIBBPF_PIN_BY_NAME`): `"byName"` pins it at `<pin directory>/<name>` and reuses a
 * compatible map already pinned there.
 */
export type PinType = "none" | "byName";

/** A BPF map's definition. */
export interface MapSpec {
  /** The map's name; the kernel keeps at most 15 characters of `[A-Za-z0-9_.]`. */
  readonly name: string;
  /** `MapType.HASH`, `MapType.ARRAY`, ... */
  readonly type: MapType;
  /** Key size in bytes (0 for queue, stack, bloom filter, ring buffers, arena). */
  readonly keySize: number;
  /** Value size in bytes (for per-CPU maps, of one CPU's value). */
  readonly valueSize: number;
  /** Capacity in entries (for ring buffers, the size in bytes; for an arena, pages). */
  readonly maxEntries: number;
  /** `MapFlags` bits (BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, ...); default 0. */
  readonly flags?: number;
  /** NUMA node to allocate on; setting it sets BPF_F_NUMA_NODE. */
  readonly numaNode?: number;
  /** For ARRAY_OF_MAPS and HASH_OF_MAPS: the template every inner map must match. */
  readonly innerMap?: MapSpec;
  /** BTF type id of the key in the BTF object given at creation. */
  readonly btfKeyTypeId?: number;
  /** BTF type id of the value in the BTF object given at creation. */
  readonly btfValueTypeId?: number;
  /** For STRUCT_OPS: the vmlinux BTF type id of the value. */
  readonly btfVmlinuxValueTypeId?: number;
  /** `map_extra`: the number of hash functions of a bloom filter, an arena's address. */
  readonly mapExtra?: bigint;
  /** Pinning by name when loaded from a collection; default "none". */
  readonly pinning?: PinType;
  /** Entries written right after creation. */
  readonly contents?: readonly MapEntry[];
  /** Freeze the map (read-only from user space) after writing `contents`. */
  readonly freeze?: boolean;
  /**
   * Initial slots of a PROG_ARRAY or map of maps that name another program or map of
   * the same collection: the loader writes that object's fd under key `key`.
   */
  readonly contentRefs?: readonly MapContentRef[];
}

/** An initial slot of a PROG_ARRAY or map of maps: {@link MapSpec.contentRefs}. */
export interface MapContentRef {
  /** The array index (key) of the slot. */
  readonly key: number;
  /** The program (for PROG_ARRAY) or map (for maps of maps) by name. */
  readonly name: string;
}

/**
 * A map specification the kernel would refuse. `field` names the offending field of
 * {@link MapSpec} (dotted for the inner map: `"innerMap.keySize"`).
 *
 * @example
 * ```ts
 * try {
 *   validateMapSpec({ name: "m", type: MapType.ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 });
 * } catch (e) {
 *   if (e instanceof MapSpecError) console.error(e.field); // "keySize"
 * }
 * ```
 */
export class MapSpecError extends Error {
  override readonly name: string = "MapSpecError";
  /** The field that is wrong, e.g. "maxEntries". */
  readonly field: string;
  /** The map's name as written in the spec. */
  readonly mapName: string;

  constructor(mapName: string, field: string, reason: string) {
    super(`map "${mapName}": ${field} ${reason}`);
    this.mapName = mapName;
    this.field = field;
  }
}

/** Page size assumed by {@link validateMapSpec} when none is given. */
export const DEFAULT_PAGE_SIZE = 4096;

/** Per-CPU values are limited to PCPU_MIN_UNIT_SIZE bytes. */
const PCPU_MIN_UNIT_SIZE = 32768;
/** Hash keys may not exceed what a program can hold on its stack (MAX_BPF_STACK). */
const MAX_BPF_STACK = 512;
/** LPM trie keys: a u32 prefix length and 1..256 bytes of data. */
const LPM_KEY_SIZE_MIN = 4 + 1;
const LPM_KEY_SIZE_MAX = 4 + 256;
/** `sizeof(struct bpf_stack_build_id)`. */
const STACK_BUILD_ID_SIZE = 32;

const U32_MAX = 0xffff_ffff;

/**
 * Keeps what the kernel accepts in an object name: at most BPF_OBJ_NAME_LEN-1 (15)
 * characters of `[A-Za-z0-9_.]`; any other character becomes `_`.
 *
 * @example
 * ```ts
 * sanitizeObjectName("my-map:counts!"); // "my_map_counts_"
 * ```
 */
export function sanitizeObjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** True for the map types that hold one value per possible CPU. */
export function isPerCpuMapType(type: number): boolean {
  return (
    type === MapType.PERCPU_HASH ||
    type === MapType.PERCPU_ARRAY ||
    type === MapType.LRU_PERCPU_HASH ||
    type === MapType.PERCPU_CGROUP_STORAGE
  );
}

/** True for ARRAY_OF_MAPS and HASH_OF_MAPS. */
export function isMapInMapType(type: number): boolean {
  return type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS;
}

/** True for map types without keys (queue, stack, bloom filter, ring buffers, arena). */
export function isKeylessMapType(type: number): boolean {
  return (
    type === MapType.QUEUE ||
    type === MapType.STACK ||
    type === MapType.BLOOM_FILTER ||
    type === MapType.RINGBUF ||
    type === MapType.USER_RINGBUF ||
    type === MapType.ARENA
  );
}

/** bpftool's name for a map type, or `type <n>` when this kernel's headers do not know it. */
export function describeMapType(type: number): string {
  return mapTypeName(type) ?? `type ${type}`;
}

/** What one map type requires; checked in this order. */
interface TypeRules {
  /** Exact key size(s), or a [min, max] range. */
  key?: number | readonly number[] | { min: number; max: number };
  /** Exact value size(s), or a [min, max] range. */
  value?: number | readonly number[] | { min: number; max: number };
  /** "positive" (the default), "zero", "one", "any" (0 is fixed up at creation). */
  entries?: "positive" | "zero" | "one" | "any";
  /** Flags that must be set. */
  needFlags?: number;
  /** Flags that must not be set. */
  denyFlags?: number;
  /** Extra checks. */
  check?: (spec: MapSpec, fail: Fail, opts: Required<ValidateOptions>) => void;
}

type Fail = (field: string, reason: string) => never;

const ANY_SIZE = { min: 1, max: U32_MAX };

const hashRules: TypeRules = {
  key: { min: 1, max: MAX_BPF_STACK },
  value: ANY_SIZE,
  denyFlags: MapFlags.NO_COMMON_LRU,
};
const lruRules: TypeRules = {
  key: { min: 1, max: MAX_BPF_STACK },
  value: ANY_SIZE,
  denyFlags: MapFlags.NO_PREALLOC,
};
const fdArrayRules: TypeRules = { key: 4, value: 4 };
const localStorageRules: TypeRules = {
  key: 4,
  value: ANY_SIZE,
  entries: "zero",
  needFlags: MapFlags.NO_PREALLOC,
  check(spec, fail) {
    if (!spec.btfKeyTypeId) fail("btfKeyTypeId", "is required for local storage maps");
    if (!spec.btfValueTypeId) fail("btfValueTypeId", "is required for local storage maps");
  },
};
const ringbufRules: TypeRules = {
  key: 0,
  value: 0,
  check(spec, fail, opts) {
    const n = spec.maxEntries;
    if (n === 0 || (n & (n - 1)) !== 0 || n % opts.pageSize !== 0) {
      fail(
        "maxEntries",
        `must be a power of 2 and a multiple of the page size (${opts.pageSize}) for ${describeMapType(spec.type)} maps, got ${n}`,
      );
    }
  },
};
const queueRules: TypeRules = { key: 0, value: ANY_SIZE };

const RULES: ReadonlyMap<number, TypeRules> = new Map<number, TypeRules>([
  [MapType.HASH, hashRules],
  [MapType.PERCPU_HASH, { ...hashRules, value: { min: 1, max: PCPU_MIN_UNIT_SIZE } }],
  [MapType.LRU_HASH, lruRules],
  [MapType.LRU_PERCPU_HASH, { ...lruRules, value: { min: 1, max: PCPU_MIN_UNIT_SIZE } }],
  [MapType.ARRAY, { key: 4, value: ANY_SIZE }],
  [MapType.PERCPU_ARRAY, { key: 4, value: { min: 1, max: PCPU_MIN_UNIT_SIZE } }],
  [MapType.PROG_ARRAY, fdArrayRules],
  [MapType.PERF_EVENT_ARRAY, { ...fdArrayRules, entries: "any" }],
  [MapType.CGROUP_ARRAY, fdArrayRules],
  [MapType.ARRAY_OF_MAPS, fdArrayRules],
  [MapType.HASH_OF_MAPS, { key: { min: 1, max: MAX_BPF_STACK }, value: 4 }],
  [
    MapType.STACK_TRACE,
    {
      key: 4,
      value: ANY_SIZE,
      check(spec, fail) {
        const unit = (spec.flags ?? 0) & MapFlags.STACK_BUILD_ID ? STACK_BUILD_ID_SIZE : 8;
        if (spec.valueSize % unit !== 0) {
          fail(
            "valueSize",
            `must be a multiple of ${unit} for stack_trace maps, got ${spec.valueSize}`,
          );
        }
      },
    },
  ],
  [
    MapType.LPM_TRIE,
    {
      key: { min: LPM_KEY_SIZE_MIN, max: LPM_KEY_SIZE_MAX },
      value: ANY_SIZE,
      needFlags: MapFlags.NO_PREALLOC,
    },
  ],
  [MapType.QUEUE, queueRules],
  [MapType.STACK, queueRules],
  [
    MapType.BLOOM_FILTER,
    {
      ...queueRules,
      check(spec, fail) {
        const extra = spec.mapExtra ?? 0n;
        if (extra < 0n || extra > 15n) {
          fail(
            "mapExtra",
            `(number of hash functions) must be 0..15 for bloom_filter maps, got ${extra}`,
          );
        }
      },
    },
  ],
  [MapType.RINGBUF, ringbufRules],
  [MapType.USER_RINGBUF, ringbufRules],
  // a u64 cgroup id or struct bpf_cgroup_storage_key (u64 + u32, padded to 16 bytes)
  [MapType.CGROUP_STORAGE, { key: [8, 16], value: ANY_SIZE, entries: "zero" }],
  [
    MapType.PERCPU_CGROUP_STORAGE,
    { key: [8, 16], value: { min: 1, max: PCPU_MIN_UNIT_SIZE }, entries: "zero" },
  ],
  [MapType.SK_STORAGE, localStorageRules],
  [MapType.INODE_STORAGE, localStorageRules],
  [MapType.TASK_STORAGE, localStorageRules],
  [MapType.CGRP_STORAGE, localStorageRules],
  [MapType.DEVMAP, { key: 4, value: [4, 8] }],
  [MapType.DEVMAP_HASH, { key: 4, value: [4, 8] }],
  [MapType.CPUMAP, { key: 4, value: [4, 8] }],
  [MapType.XSKMAP, { key: 4, value: 4 }],
  [MapType.SOCKMAP, { key: 4, value: [4, 8] }],
  [MapType.SOCKHASH, { key: { min: 1, max: MAX_BPF_STACK }, value: [4, 8] }],
  [MapType.REUSEPORT_SOCKARRAY, { key: [4, 8], value: [4, 8] }],
  [
    MapType.STRUCT_OPS,
    {
      key: 4,
      entries: "one",
      check(spec, fail) {
        if (!spec.btfVmlinuxValueTypeId) {
          fail("btfVmlinuxValueTypeId", "is required for struct_ops maps");
        }
      },
    },
  ],
  [MapType.ARENA, { key: 0, value: 0, needFlags: MapFlags.MMAPABLE }],
]);

/** Options of {@link validateMapSpec}. */
export interface ValidateOptions {
  /** The page size of the target (ring buffer sizes must be multiples); default 4096. */
  readonly pageSize?: number;
}

/**
 * Checks a map spec against what the kernel's map constructors accept, and throws a
 * {@link MapSpecError} naming the field for the first problem found: an unknown type,
 * sizes the type does not allow (ARRAY keys are 4 bytes, queues have no key, ring
 * buffers a power-of-2 multiple of the page size...), zero `maxEntries` where the type
 * needs entries, a missing inner map, flags the type requires or refuses, or initial
 * contents of the wrong length. Pure: it needs no kernel.
 *
 * @example
 * ```ts
 * validateMapSpec({ name: "q", type: MapType.QUEUE, keySize: 4, valueSize: 8, maxEntries: 16 });
 * // MapSpecError: map "q": keySize must be 0 for queue maps (they have no keys), got 4
 * ```
 */
export function validateMapSpec(spec: MapSpec, opts: ValidateOptions = {}): void {
  validateAt(spec, "", { pageSize: opts.pageSize ?? DEFAULT_PAGE_SIZE });
}

function validateAt(spec: MapSpec, prefix: string, opts: Required<ValidateOptions>): void {
  const fail: Fail = (field, reason) => {
    throw new MapSpecError(spec.name ?? "", prefix + field, reason);
  };
  if (typeof spec.name !== "string") fail("name", "must be a string");
  const u32 = (field: keyof MapSpec, v: unknown) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
      fail(field, `must be an integer in 0..${U32_MAX}, got ${String(v)}`);
    }
  };
  u32("type", spec.type);
  u32("keySize", spec.keySize);
  u32("valueSize", spec.valueSize);
  u32("maxEntries", spec.maxEntries);
  if (spec.flags !== undefined) u32("flags", spec.flags);
  if (spec.numaNode !== undefined) u32("numaNode", spec.numaNode);
  for (const f of ["btfKeyTypeId", "btfValueTypeId", "btfVmlinuxValueTypeId"] as const) {
    if (spec[f] !== undefined) u32(f, spec[f]);
  }
  if (spec.mapExtra !== undefined && (typeof spec.mapExtra !== "bigint" || spec.mapExtra < 0n)) {
    fail("mapExtra", `must be a non-negative bigint, got ${String(spec.mapExtra)}`);
  }

  const type = spec.type;
  const typeName = describeMapType(type);
  const rules = RULES.get(type);
  if (!rules) {
    fail(
      "type",
      type === MapType.UNSPEC
        ? "is 0 (BPF_MAP_TYPE_UNSPEC): choose a map type"
        : `${type} is not a map type this kernel ABI knows (known: 1..${Math.max(...RULES.keys())})`,
    );
    return;
  }

  const size = (field: "keySize" | "valueSize", got: number, rule: TypeRules["key"]) => {
    if (rule === undefined) return;
    if (typeof rule === "number") {
      if (got !== rule) {
        const why = rule === 0 && field === "keySize" ? " (they have no keys)" : "";
        fail(field, `must be ${rule} for ${typeName} maps${why}, got ${got}`);
      }
    } else if (Array.isArray(rule)) {
      if (!rule.includes(got))
        fail(field, `must be ${rule.join(" or ")} for ${typeName} maps, got ${got}`);
    } else {
      const r = rule as { min: number; max: number };
      if (got < r.min || got > r.max) {
        const range = r.max === U32_MAX ? `at least ${r.min}` : `${r.min}..${r.max}`;
        fail(field, `must be ${range} for ${typeName} maps, got ${got}`);
      }
    }
  };
  size("keySize", spec.keySize, rules.key);
  size("valueSize", spec.valueSize, rules.value);

  switch (rules.entries ?? "positive") {
    case "positive":
      if (spec.maxEntries === 0)
        fail("maxEntries", `must be at least 1 for ${typeName} maps, got 0`);
      break;
    case "zero":
      if (spec.maxEntries !== 0) {
        fail(
          "maxEntries",
          `must be 0 for ${typeName} maps (they grow with their owners), got ${spec.maxEntries}`,
        );
      }
      break;
    case "one":
      if (spec.maxEntries !== 1)
        fail("maxEntries", `must be 1 for ${typeName} maps, got ${spec.maxEntries}`);
      break;
    case "any":
      break;
  }

  const flags = spec.flags ?? 0;
  if (rules.needFlags && (flags & rules.needFlags) !== rules.needFlags) {
    fail("flags", `must include ${flagNames(rules.needFlags)} for ${typeName} maps`);
  }
  if (rules.denyFlags && flags & rules.denyFlags) {
    fail("flags", `must not include ${flagNames(flags & rules.denyFlags)} for ${typeName} maps`);
  }
  if (flags & MapFlags.RDONLY && flags & MapFlags.WRONLY) {
    fail("flags", "cannot include both BPF_F_RDONLY and BPF_F_WRONLY");
  }
  if (flags & MapFlags.RDONLY_PROG && flags & MapFlags.WRONLY_PROG) {
    fail("flags", "cannot include both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
  }
  rules.check?.(spec, fail, opts);

  if (spec.mapExtra !== undefined && spec.mapExtra !== 0n) {
    if (type !== MapType.BLOOM_FILTER && type !== MapType.ARENA) {
      fail("mapExtra", `is only used by bloom_filter and arena maps, not ${typeName}`);
    }
  }

  if (isMapInMapType(type)) {
    if (!spec.innerMap)
      fail("innerMap", `is required for ${typeName} maps (the inner map template)`);
    else {
      if (isMapInMapType(spec.innerMap.type)) {
        fail(
          "innerMap.type",
          "cannot itself be a map of maps (the kernel allows one level of nesting)",
        );
      }
      validateAt(spec.innerMap, `${prefix}innerMap.`, opts);
    }
  } else if (spec.innerMap) {
    fail("innerMap", `is only for array_of_maps and hash_of_maps, not ${typeName}`);
  }

  if (spec.contents) {
    spec.contents.forEach((e, i) => {
      if (e.key.length !== spec.keySize) {
        fail(`contents[${i}].key`, `is ${e.key.length} bytes, the map's keys are ${spec.keySize}`);
      }
      if (!isMapInMapType(type) && e.value.length !== spec.valueSize) {
        fail(
          `contents[${i}].value`,
          `is ${e.value.length} bytes, the map's values are ${spec.valueSize}`,
        );
      }
    });
  }
}

function flagNames(bits: number): string {
  const names = Object.entries(MapFlags)
    .filter(([, v]) => bits & v)
    .map(([k]) => `BPF_F_${k}`);
  return names.join(" and ");
}
