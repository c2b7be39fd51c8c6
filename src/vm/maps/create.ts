/** Builds the VM map for a MapSpec, by type. @module */

import { describeMapType, type MapSpec } from "../../spec/map-spec.ts";
import { MapType } from "../../uapi/index.ts";
import { VmArrayMap } from "./array.ts";
import { VmBloomFilter } from "./bloom-filter.ts";
import { VmHashMap } from "./hash.ts";
import { VmLpmTrie } from "./lpm-trie.ts";
import type { VmMap, VmMapOptions } from "./map.ts";
import { VmMapOfMaps } from "./map-of-maps.ts";
import { VmPerfEventArray } from "./perf-event-array.ts";
import { VmProgArray } from "./prog-array.ts";
import { VmQueueMap } from "./queue.ts";
import { VmRedirectMap } from "./redirect-map.ts";
import { VmRingBuf } from "./ringbuf.ts";
import { VmStackTraceMap } from "./stack-trace.ts";

/** Map types the VM implements. */
export const VM_MAP_TYPES: readonly MapType[] = [
  MapType.HASH,
  MapType.ARRAY,
  MapType.PROG_ARRAY,
  MapType.PERF_EVENT_ARRAY,
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.STACK_TRACE,
  MapType.LRU_HASH,
  MapType.LRU_PERCPU_HASH,
  MapType.LPM_TRIE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.QUEUE,
  MapType.STACK,
  MapType.BLOOM_FILTER,
  MapType.RINGBUF,
];

/**
 * A new VM map of `spec.type` with the kernel's semantics for that type, after the
 * same validation the kernel backend does (MapSpecError). Initial `contents` are
 * written; `contentRefs` are left to the loader.
 * @throws MapSpecError for a spec the kernel would refuse; RangeError for a map type
 * the VM does not implement (naming it).
 *
 * @example
 * ```ts
 * const m = createVmMap({ name: "q", type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 16 });
 * ```
 */
export function createVmMap(spec: MapSpec, opts: VmMapOptions = {}): VmMap {
  const map = build(spec, opts);
  for (const e of spec.contents ?? []) {
    if (map instanceof VmMapOfMaps) continue;
    if (map instanceof VmQueueMap || map instanceof VmBloomFilter) map.push(e.value);
    else if (map instanceof VmHashMap && map.perCpu)
      map.updatePerCpu(e.key, new Array(map.cpus).fill(e.value));
    else if (map instanceof VmArrayMap && map.perCpu)
      map.updatePerCpu(e.key, new Array(map.cpus).fill(e.value));
    else map.update(e.key, e.value);
  }
  return map;
}

function build(spec: MapSpec, opts: VmMapOptions): VmMap {
  switch (spec.type) {
    case MapType.HASH:
    case MapType.PERCPU_HASH:
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
      return new VmHashMap(spec, opts);
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
      return new VmArrayMap(spec, opts);
    case MapType.PROG_ARRAY:
      return new VmProgArray(spec);
    case MapType.PERF_EVENT_ARRAY:
      return new VmPerfEventArray(spec);
    case MapType.STACK_TRACE:
      return new VmStackTraceMap(spec);
    case MapType.LPM_TRIE:
      return new VmLpmTrie(spec);
    case MapType.ARRAY_OF_MAPS:
    case MapType.HASH_OF_MAPS:
      return new VmMapOfMaps(spec);
    case MapType.DEVMAP:
    case MapType.DEVMAP_HASH:
    case MapType.CPUMAP:
    case MapType.XSKMAP:
      return new VmRedirectMap(spec, opts);
    case MapType.QUEUE:
    case MapType.STACK:
      return new VmQueueMap(spec);
    case MapType.BLOOM_FILTER:
      return new VmBloomFilter(spec, opts);
    case MapType.RINGBUF:
      return new VmRingBuf(spec);
    default:
      throw new RangeError(
        `map "${spec.name}": ${describeMapType(spec.type)} maps are not implemented by the VM`,
      );
  }
}
