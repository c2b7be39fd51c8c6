/**
 * What the running kernel's own uapi enums hold, read from its BTF: a program type,
 * map type or attach type newer than the kernel is absent from its `enum bpf_prog_type`,
 * `enum bpf_map_type` or `enum bpf_attach_type`. Lets an EINVAL be told apart from a
 * kernel that has no such thing at all, which is a {@link NotSupportedError}.
 * @module
 */

import { AttachType } from "../../uapi/index.ts";
import { vmlinuxBTF } from "../btf/kernel-btf.ts";
import { NotSupportedError } from "./not-supported-error.ts";
import { type KernelVersion, MAP_TYPE_SINCE, PROG_TYPE_SINCE } from "./since.ts";

/**
 * True when the running kernel's BTF enum `name` has an enumerator of value `value`
 * (its `__MAX_...` sentinel aside), false when it has not, undefined when there is no
 * vmlinux BTF (or no such enum) to say.
 */
export function kernelEnumHas(name: string, value: number): boolean | undefined {
  let values: readonly { name: string; value: number | bigint }[] | undefined;
  try {
    const t = vmlinuxBTF()
      .findAllByName(name)
      .find((x) => x.kind === "ENUM" || x.kind === "ENUM64");
    values = t && (t.kind === "ENUM" || t.kind === "ENUM64") ? t.values : undefined;
  } catch {
    return undefined;
  }
  if (!values) return undefined;
  return values.some((v) => !v.name.startsWith("__") && Number(v.value) === value);
}

/** The release each attach type newer than 5.10 appeared in (for error messages). */
export const ATTACH_TYPE_SINCE: Readonly<Record<number, KernelVersion>> = {
  [AttachType.TRACE_KPROBE_MULTI]: [5, 18],
  [AttachType.NETFILTER]: [6, 4],
  [AttachType.TCX_INGRESS]: [6, 6],
  [AttachType.TCX_EGRESS]: [6, 6],
  [AttachType.TRACE_UPROBE_MULTI]: [6, 6],
  [AttachType.CGROUP_UNIX_CONNECT]: [6, 7],
  [AttachType.CGROUP_UNIX_SENDMSG]: [6, 7],
  [AttachType.CGROUP_UNIX_RECVMSG]: [6, 7],
  [AttachType.CGROUP_UNIX_GETPEERNAME]: [6, 7],
  [AttachType.CGROUP_UNIX_GETSOCKNAME]: [6, 7],
  [AttachType.NETKIT_PRIMARY]: [6, 7],
  [AttachType.NETKIT_PEER]: [6, 7],
  [AttachType.TRACE_KPROBE_SESSION]: [6, 10],
  [AttachType.TRACE_UPROBE_SESSION]: [6, 15],
};

const ENUMS = {
  prog: { enum: "bpf_prog_type", since: PROG_TYPE_SINCE },
  map: { enum: "bpf_map_type", since: MAP_TYPE_SINCE },
  attach: { enum: "bpf_attach_type", since: ATTACH_TYPE_SINCE },
} as const;

/**
 * A {@link NotSupportedError} for `feature` when the running kernel's enum of `kind`
 * (program, map or attach types) has no `value`; undefined when it has it or cannot
 * say. The reason names the enum and, when known, the release that brought the value.
 *
 * @example
 * ```ts
 * const e = missingFromKernel("map", MapType.ARENA, "map type arena", Errno.EINVAL);
 * if (e) throw e; // "... the running kernel's enum bpf_map_type has no value 33 (arena maps came in Linux 6.9)"
 * ```
 */
export function missingFromKernel(
  kind: keyof typeof ENUMS,
  value: number,
  feature: string,
  errno?: number,
  what = feature,
): NotSupportedError | undefined {
  const e = ENUMS[kind];
  if (kernelEnumHas(e.enum, value) !== false) return undefined;
  const since = (e.since as Readonly<Record<number, KernelVersion>>)[value];
  const needs = since ? `: ${what} came in Linux ${since[0]}.${since[1]}` : "";
  return new NotSupportedError(
    feature,
    `the running kernel's enum ${e.enum} has no value ${value}${needs}`,
    errno,
  );
}
