/**
 * Load stage 2, maps: created in the object's order. Global-data maps are named like
 * libbpf's (object name + section, 15 characters) with their contents written — the
 * `constants` option patched into `.rodata`, `.kconfig` filled from the running
 * kernel's config — and `.rodata` / `.kconfig` frozen by `BpfMap.create`; maps pinned
 * by name reuse a compatible pinned map or are pinned under `pinPath`;
 * `mapReplacements` stand in for maps of the same name. Then map-of-maps slots, which
 * name maps that all exist by then.
 * @module
 */
import { type CollectionSpec, isGlobalDataName } from "../../spec/collection-spec.ts";
import { checkMapCompatible } from "../../spec/map-compat.ts";
import type { MapSpec } from "../../spec/map-spec.ts";
import { constantPatches } from "../../spec/variable-values.ts";
import { MapFlags, MapType } from "../../uapi/index.ts";
import { haveBpfCookie } from "../features/helpers.ts";
import { BpfMap, pinByNamePath, specShape, wasReusedFromPin } from "../maps/map.ts";
import { DEFAULT_BPFFS } from "../objects/pin.ts";
import { kconfigValue } from "./externs.ts";
import type { ObjectBTF } from "./load-btf.ts";
import type { CollectionOptions } from "./options.ts";
import type { Resources } from "./resources.ts";

/** What this stage reads of the load options. */
export type MapStageOptions = Pick<
  CollectionOptions,
  "constants" | "pinPath" | "mapReplacements" | "kconfig" | "hasBpfCookie"
>;

/** Creates (or borrows, or reuses from pins) every map of `spec` into `res.maps`. */
export function createMaps(
  spec: CollectionSpec,
  objectName: string,
  opts: MapStageOptions,
  btf: ObjectBTF,
  res: Resources,
): void {
  const constants = constantPatches(spec, opts.constants ?? {});
  const pinPath = opts.pinPath ?? DEFAULT_BPFFS;
  for (const m of Object.values(spec.maps)) {
    const replacement = opts.mapReplacements?.[m.name];
    if (replacement) {
      checkReplacement(replacement, m);
      res.maps.set(m.name, replacement);
      res.borrowed.add(replacement);
      continue;
    }
    let ms: MapSpec = m;
    if (isGlobalDataName(m.name)) {
      ms = { ...ms, name: internalMapName(objectName, m.name) };
      if (m.name === ".kconfig") {
        ms = {
          ...ms,
          contents: [
            {
              key: u32(0),
              value: kconfigValue(spec, m.valueSize, {
                ...(opts.kconfig && { extra: opts.kconfig }),
                hasBpfCookie: opts.hasBpfCookie ?? (() => haveBpfCookie().available),
              }),
            },
          ],
        };
      } else {
        const patch = constants.get(m.name);
        if (patch) {
          const value = (m.contents?.[0]?.value ?? new Uint8Array(m.valueSize)).slice();
          for (const [off, bytes] of patch) value.set(bytes, off);
          ms = { ...ms, contents: [{ key: u32(0), value }] };
        }
      }
    }
    ms = btf.fd === undefined ? withoutBTF(ms) : btfForType(ms);
    ms = numaAsLibbpf(ms);
    const pinned = ms.pinning === "byName";
    const pinAt = pinned ? pinByNamePath(pinPath, ms.name) : "";
    const map = BpfMap.create(ms, {
      ...(btf.fd !== undefined && { btfFd: btf.fd }),
      ...(pinned && { pinPath }),
    });
    // Asking the map rather than statfs(2)-ing the pin before creating it: one system
    // call fewer per pinned map, and no window between the check and the open.
    const existed = pinned && wasReusedFromPin(map);
    res.maps.set(m.name, map);
    if (pinned && !existed) res.pinnedHere.push(pinAt);
    if (existed) res.reused.add(map);
  }
}

/** Fills map-of-maps slots from the spec (not those of borrowed or reused maps). */
export function fillMapSlots(spec: CollectionSpec, res: Resources): void {
  for (const m of Object.values(spec.maps)) {
    if (m.type === MapType.PROG_ARRAY || !m.contentRefs?.length) continue;
    const outer = res.maps.get(m.name)!;
    if (res.borrowed.has(outer) || res.reused.has(outer)) continue;
    for (const ref of m.contentRefs) {
      const inner = res.maps.get(ref.name);
      if (!inner)
        throw new Error(
          `map "${m.name}" slot ${ref.key} names map "${ref.name}", which the object does not define`,
        );
      outer.update(u32(ref.key), u32(inner.fd));
    }
  }
}

/**
 * libbpf's name for an internal (global data) map: the object name then the section
 * name, 15 characters at most; sections with a second dot (".rodata.str1.1") are
 * named alone.
 *
 * @example
 * ```ts
 * internalMapName("xdp-maps", ".data");          // "xdp_maps.data"
 * internalMapName("xdp-maps", ".rodata.banner"); // ".rodata.banner"
 * ```
 */
export function internalMapName(objectName: string, section: string): string {
  const suffix = Math.max(7, section.length);
  const prefix = section.indexOf(".", 1) >= 0 ? 0 : Math.min(15 - suffix, objectName.length);
  const name = (objectName.slice(0, Math.max(0, prefix)) + section).slice(0, 15);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** `n` as the 4 little-endian bytes of a map key or fd value. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** Map types created without BTF key/value types (libbpf's list). */
const NO_BTF_TYPES = new Set<number>([
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.QUEUE,
  MapType.STACK,
  MapType.ARENA,
]);

/** Drops BTF type ids the kernel refuses for the map's type (and its inner map's). */
function btfForType(m: MapSpec): MapSpec {
  // Unchanged specs are returned as they are: a copy per map per load adds up.
  if (m.btfKeyTypeId === undefined && m.btfValueTypeId === undefined && !m.innerMap) return m;
  let out = m;
  if (NO_BTF_TYPES.has(m.type)) {
    const { btfKeyTypeId: _k, btfValueTypeId: _v, ...rest } = m;
    out = rest;
  } else if (m.type === MapType.STRUCT_OPS) {
    const { btfValueTypeId: _v, ...rest } = m;
    out = rest;
  }
  return out.innerMap ? { ...out, innerMap: btfForType(out.innerMap) } : out;
}

/**
 * libbpf passes a `.maps` definition's numa_node to the kernel without setting
 * BPF_F_NUMA_NODE unless map_flags has it, so the node only counts with the flag; the
 * same here, so maps pinned by either loader have the same flags and can be shared.
 */
function numaAsLibbpf(m: MapSpec): MapSpec {
  if (m.numaNode === undefined && !m.innerMap) return m;
  let out = m;
  if (m.numaNode !== undefined && ((m.flags ?? 0) & MapFlags.NUMA_NODE) === 0) {
    const { numaNode: _n, ...rest } = m;
    out = rest;
  }
  return out.innerMap ? { ...out, innerMap: numaAsLibbpf(out.innerMap) } : out;
}

/** The spec without BTF type ids (the object's BTF is not in the kernel). */
function withoutBTF(m: MapSpec): MapSpec {
  if (m.btfKeyTypeId === undefined && m.btfValueTypeId === undefined && !m.innerMap) return m;
  const { btfKeyTypeId: _k, btfValueTypeId: _v, innerMap, ...rest } = m;
  return innerMap ? { ...rest, innerMap: withoutBTF(innerMap) } : rest;
}

/** Throws MapIncompatibleError listing how a replacement map differs from the spec. */
function checkReplacement(map: BpfMap, spec: MapSpec): void {
  checkMapCompatible("replacement map", spec.name, map, specShape(numaAsLibbpf(spec)));
}
