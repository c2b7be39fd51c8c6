/**
 * Names of map, program, attach and link types and of helpers, spelled the way bpftool
 * prints them. Hand-written; the values come from bpf.generated.ts.
 *
 * bpftool prints what libbpf's `libbpf_bpf_*_type_str()` return, and libbpf's tables
 * (map_type_name, prog_type_name, attach_type_name, link_type_name in libbpf.c) are,
 * for every entry, the kernel enum name without its prefix, in lowercase:
 * `BPF_MAP_TYPE_PERCPU_HASH` is "percpu_hash", `BPF_CGROUP_INET_INGRESS` is
 * "cgroup_inet_ingress". The one wrinkle is aliases: the kernel keeps
 * `BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED` and `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED`
 * as second names for the same values, and libbpf names them "cgroup_storage" and
 * "percpu_cgroup_storage"; likewise `BPF_PROG_TEST_RUN`/`BPF_PROG_RUN`. Here the name
 * without `_DEPRECATED` wins, else the first one the kernel declares.
 * (bpftool's `cgroup` and `net` commands print shorter attach names of their own, such
 * as "ingress" and "sock_create"; those belong to the CLI, not here.)
 *
 * @module
 */

import { AttachType, HelperId, LinkType, MapType, ProgType } from "./bpf.generated.ts";

function table(values: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  for (const [key, value] of Object.entries(values)) {
    const existing = names.get(value);
    if (existing === undefined || existing.endsWith("_deprecated"))
      names.set(value, key.toLowerCase());
  }
  return names;
}

const mapTypes = table(MapType);
const progTypes = table(ProgType);
const attachTypes = table(AttachType);
const linkTypes = table(LinkType);
const helpers = new Map<number, string>(Object.entries(HelperId).map(([k, v]) => [v, k]));
const helperIds = new Map<string, number>(Object.entries(HelperId));

/**
 * bpftool's name for a map type, or undefined if this kernel's headers do not know it.
 *
 * @example
 * ```ts
 * mapTypeName(MapType.PERCPU_HASH); // "percpu_hash"
 * ```
 */
export function mapTypeName(t: number): string | undefined {
  return mapTypes.get(t);
}

/**
 * bpftool's name for a program type, or undefined if unknown.
 *
 * @example
 * ```ts
 * progTypeName(ProgType.XDP); // "xdp"
 * ```
 */
export function progTypeName(t: number): string | undefined {
  return progTypes.get(t);
}

/**
 * libbpf's name for an attach type (`"cgroup_inet_ingress"`, `"tcx_ingress"`), or
 * undefined if unknown.
 */
export function attachTypeName(t: number): string | undefined {
  return attachTypes.get(t);
}

/** bpftool's name for a link type (`"perf_event"`, `"tcx"`), or undefined if unknown. */
export function linkTypeName(t: number): string | undefined {
  return linkTypes.get(t);
}

/**
 * A helper's name as bpftool and the kernel's disassembler print it, with the `bpf_`
 * prefix, or undefined for an unknown id.
 *
 * @example
 * ```ts
 * helperName(1); // "bpf_map_lookup_elem"
 * ```
 */
export function helperName(id: number): string | undefined {
  const name = helpers.get(id);
  return name === undefined ? undefined : `bpf_${name}`;
}

/**
 * The id of a helper named with or without its `bpf_` prefix, or undefined.
 *
 * @example
 * ```ts
 * helperIdByName("bpf_map_lookup_elem"); // 1
 * helperIdByName("map_lookup_elem"); // 1
 * ```
 */
export function helperIdByName(name: string): number | undefined {
  if (name.startsWith("bpf_")) {
    const id = helperIds.get(name.slice(4));
    if (id !== undefined) return id;
  }
  return helperIds.get(name);
}
