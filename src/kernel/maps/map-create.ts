/**
 * BPF_MAP_CREATE from a {@link MapSpec}: validation first (so mistakes get a message
 * naming the field rather than a bare EINVAL), then the attribute, then the call.
 *
 * @module
 */

import {
  describeMapType,
  type MapSpec,
  sanitizeObjectName,
  validateMapSpec,
} from "../../spec/map-spec.ts";
import { BpfCmd, bpfAttr, MapFlags, MapType, mapTypeName } from "../../uapi/index.ts";
import { missingFromKernel } from "../features/kernel-enum.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";
import { possibleCpus } from "../system/cpus.ts";

/** Kernel-side options of map creation that are not part of the spec. */
export interface CreateMapOptions {
  /** The BTF object (fd) that the spec's btfKeyTypeId / btfValueTypeId refer to. */
  readonly btfFd?: number;
  /** Network device to offload the map to (map_ifindex). */
  readonly ifindex?: number;
  /** A BPF token fd (map_token_fd; sets BPF_F_TOKEN_FD). */
  readonly tokenFd?: number;
  /** Page size for validating ring buffer sizes; default 4096. */
  readonly pageSize?: number;
}

const RETRY_EAGAIN = { retryEagain: true };

/**
 * The entries a map really gets: PERF_EVENT_ARRAY with 0 entries gets one per possible
 * CPU, as libbpf does.
 */
export function effectiveMaxEntries(spec: MapSpec): number {
  if (spec.type === MapType.PERF_EVENT_ARRAY && spec.maxEntries === 0) return possibleCpus();
  return spec.maxEntries;
}

/**
 * Creates the map `spec` describes and returns its descriptor. An inner map template
 * (`spec.innerMap`) is created for the call and closed right after.
 *
 * @throws MapSpecError for a spec the kernel would refuse; SyscallError when the
 * kernel refuses anyway, naming the map and its parameters.
 */
export function createMapFd(spec: MapSpec, opts: CreateMapOptions = {}): Fd {
  validateMapSpec(spec, { pageSize: opts.pageSize });
  let inner: Fd | undefined;
  try {
    if (spec.innerMap) inner = createMapFd(spec.innerMap, opts);
    const name = sanitizeObjectName(spec.name);
    let flags = spec.flags ?? 0;
    if (spec.numaNode !== undefined) flags |= MapFlags.NUMA_NODE;
    if (opts.tokenFd !== undefined) flags |= MapFlags.TOKEN_FD;
    const maxEntries = effectiveMaxEntries(spec);

    const call = new BpfCall(BpfCmd.MAP_CREATE, bpfAttr.mapCreate);
    call
      .u32("map_type", spec.type)
      .u32("key_size", spec.keySize)
      .u32("value_size", spec.valueSize)
      .u32("max_entries", maxEntries)
      .u32("map_flags", flags >>> 0)
      .inlineString("map_name", name);
    if (inner) call.u32("inner_map_fd", inner.value);
    if (spec.numaNode !== undefined) call.u32("numa_node", spec.numaNode);
    if (opts.ifindex !== undefined) call.u32("map_ifindex", opts.ifindex);
    if (opts.btfFd !== undefined) call.u32("btf_fd", opts.btfFd);
    if (spec.btfKeyTypeId) call.u32("btf_key_type_id", spec.btfKeyTypeId);
    if (spec.btfValueTypeId) call.u32("btf_value_type_id", spec.btfValueTypeId);
    if (spec.btfVmlinuxValueTypeId)
      call.u32("btf_vmlinux_value_type_id", spec.btfVmlinuxValueTypeId);
    if (spec.mapExtra !== undefined) call.set("map_extra", spec.mapExtra);
    if (opts.tokenFd !== undefined) call.u32("map_token_fd", opts.tokenFd);

    try {
      return new Fd(call.invoke("create map", RETRY_EAGAIN));
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      const what = `create ${describeMapType(spec.type)} map "${name}"`;
      if (e.code === "EINVAL" && mapTypeName(spec.type) !== undefined) {
        const type = describeMapType(spec.type);
        const missing = missingFromKernel(
          "map",
          spec.type,
          `map type ${type}`,
          e.errno,
          `${type} maps`,
        );
        if (missing) throw missing;
      }
      throw new SyscallError(e.errno, what, createHint(e.code, spec, maxEntries, flags));
    }
  } finally {
    inner?.close();
  }
}

function createHint(code: string, spec: MapSpec, maxEntries: number, flags: number): string {
  const params = `key ${spec.keySize}, value ${spec.valueSize}, max entries ${maxEntries}, flags 0x${flags.toString(16)}`;
  switch (code) {
    case "EPERM":
      return `${params}; creating maps needs root or CAP_BPF`;
    case "EINVAL":
      return `${params}; the kernel refused this combination`;
    case "E2BIG":
    case "ENOMEM":
      return `${params}; too large for the kernel's limits or memory`;
    case "ENOTSUPP":
    case "EOPNOTSUPP":
      return `${params}; this kernel does not support it`;
    default:
      return params;
  }
}
