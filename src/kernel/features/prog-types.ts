/**
 * "Scanning eBPF program types": can this kernel load a program of each type?
 *
 * A probe loads the smallest program (`r0 = 0; exit`) with what its type needs, as
 * libbpf and bpftool do: an expected attach type for the cgroup sock_addr, sockopt,
 * sk_lookup, lirc and netfilter hooks, BPF_F_SLEEPABLE for syscall programs. Types
 * that attach through BTF (tracing, lsm, ext, struct_ops) cannot load without a real
 * target, so their probe reads the kernel's refusal instead: attach_btf_id 1 (not a
 * function) must be refused with EINVAL and the verifier's words for it, struct_ops
 * without a target with ENOTSUPP. Any other answer (EPERM here) means the type is not
 * usable on this kernel.
 * @module
 */

import { AttachType, Errno, ProgLoadFlags, ProgType, progTypeName } from "../../uapi/index.ts";
import { epermExplanation } from "../system/capabilities.ts";
import { runningKernelVersion } from "../system/kernel-version.ts";
import { RETURN_ZERO } from "./insns.ts";
import { type ProbeLoadAttrs, probeLoad } from "./probe-load.ts";
import { available, cached, errnoWords, type FeatureStatus, unavailable } from "./status.ts";
import { kernelConfig } from "./system-config.ts";

/** How to load a probe program of one type, and which refusal means "present". */
export interface ProgTypeProbe extends ProbeLoadAttrs {
  /** For BTF-attached types: the refusal that proves the type exists. */
  readonly expect?: { readonly errno: number; readonly messages?: readonly string[] };
  /** Helpers cannot be probed for this type without a real BTF target. */
  readonly noHelperProbe?: boolean;
}

/** The load attributes of a probe for `type` (bpftool's and libbpf's rules). */
export function progTypeProbe(type: number): ProgTypeProbe {
  switch (type) {
    case ProgType.CGROUP_SOCK_ADDR:
      return { expectedAttachType: AttachType.CGROUP_INET4_CONNECT };
    case ProgType.CGROUP_SOCKOPT:
      return { expectedAttachType: AttachType.CGROUP_GETSOCKOPT };
    case ProgType.SK_LOOKUP:
      return { expectedAttachType: AttachType.SK_LOOKUP };
    case ProgType.LIRC_MODE2:
      return { expectedAttachType: AttachType.LIRC_MODE2 };
    case ProgType.NETFILTER:
      return { expectedAttachType: AttachType.NETFILTER };
    case ProgType.KPROBE:
      return { kernVersion: runningKernelVersion() };
    case ProgType.SYSCALL:
      return { flags: ProgLoadFlags.SLEEPABLE };
    case ProgType.TRACING:
      return {
        expectedAttachType: AttachType.TRACE_FENTRY,
        attachBtfId: 1,
        withLog: true,
        expect: { errno: Errno.EINVAL, messages: ["attach_btf_id 1 is not a function"] },
        noHelperProbe: true,
      };
    case ProgType.LSM:
      return {
        expectedAttachType: AttachType.LSM_MAC,
        attachBtfId: 1,
        withLog: true,
        expect: {
          errno: Errno.EINVAL,
          messages: ["attach_btf_id 1 is not a function", "is not a valid LSM hook"],
        },
        noHelperProbe: true,
      };
    case ProgType.EXT:
      return {
        attachBtfId: 1,
        withLog: true,
        expect: { errno: Errno.EINVAL, messages: ["Cannot replace kernel functions"] },
        noHelperProbe: true,
      };
    case ProgType.STRUCT_OPS:
      return { expect: { errno: Errno.ENOTSUPP }, noHelperProbe: true };
    default:
      return {};
  }
}

/** Kernel options that decide whether a type exists, for "not available" reasons. */
const CONFIG_HINTS: Readonly<Partial<Record<number, string>>> = {
  [ProgType.LIRC_MODE2]: "CONFIG_BPF_LIRC_MODE2",
  [ProgType.LWT_IN]: "CONFIG_LWTUNNEL_BPF",
  [ProgType.LWT_OUT]: "CONFIG_LWTUNNEL_BPF",
  [ProgType.LWT_XMIT]: "CONFIG_LWTUNNEL_BPF",
  [ProgType.LWT_SEG6LOCAL]: "CONFIG_IPV6_SEG6_BPF",
  [ProgType.KPROBE]: "CONFIG_BPF_EVENTS",
  [ProgType.TRACEPOINT]: "CONFIG_BPF_EVENTS",
  [ProgType.PERF_EVENT]: "CONFIG_BPF_EVENTS",
  [ProgType.CGROUP_SKB]: "CONFIG_CGROUP_BPF",
  [ProgType.CGROUP_SOCK]: "CONFIG_CGROUP_BPF",
  [ProgType.CGROUP_DEVICE]: "CONFIG_CGROUP_BPF",
  [ProgType.CGROUP_SOCK_ADDR]: "CONFIG_CGROUP_BPF",
  [ProgType.CGROUP_SYSCTL]: "CONFIG_CGROUP_BPF",
  [ProgType.CGROUP_SOCKOPT]: "CONFIG_CGROUP_BPF",
  [ProgType.LSM]: "CONFIG_BPF_LSM",
  [ProgType.NETFILTER]: "CONFIG_NETFILTER_BPF_LINK",
};

/** "(CONFIG_X is not set)" when the kernel configuration explains a missing feature. */
export function configHint(option: string | undefined): string {
  if (!option) return "";
  const config = kernelConfig();
  if (!config) return ` (needs ${option})`;
  const value = config.get(option);
  return value === undefined ? ` (${option} is not set)` : "";
}

/** The name tsbpf prints for a program type. */
export function progTypeLabel(type: number): string {
  return progTypeName(type) ?? `type ${type}`;
}

/**
 * Can this kernel load programs of `type`? Cached per type.
 * @example
 * ```ts
 * if (!haveProgType(ProgType.XDP).available) test.skip("no XDP");
 * ```
 */
export function haveProgType(type: number): FeatureStatus {
  return cached(`prog-type:${type}`, () => probeProgType(type));
}

function probeProgType(type: number): FeatureStatus {
  const feature = `program type ${progTypeLabel(type)}`;
  const probe = progTypeProbe(type);
  const r = probeLoad(type, RETURN_ZERO, probe);
  const expect = probe.expect;
  if (expect) {
    const matches =
      !r.ok &&
      r.errno === expect.errno &&
      (!expect.messages || expect.messages.some((m) => r.log.includes(m)));
    if (matches) return available(feature);
    if (r.ok) return available(feature, "loaded without an attach target");
    return unavailable(feature, refusal(type, r.errno, r.log, expect.errno), r.errno);
  }
  if (r.ok) return available(feature);
  return unavailable(feature, refusal(type, r.errno, r.log), r.errno);
}

function refusal(type: number, errno: number, log: string, expected?: number): string {
  const name = progTypeLabel(type);
  const detail = log.trim() ? `: ${log.trim().split("\n")[0]}` : "";
  if (errno === Errno.EPERM) {
    return `the kernel refused a minimal ${name} program with EPERM ${epermExplanation()}${detail}`;
  }
  if (errno === Errno.EINVAL && expected === undefined) {
    return `the kernel does not accept ${name} programs (EINVAL${detail})${configHint(CONFIG_HINTS[type])}`;
  }
  return `loading a minimal ${name} program failed with ${errnoWords(errno)}${
    expected !== undefined ? ` where ${errnoWords(expected)} proves the type exists` : ""
  }${detail}${configHint(CONFIG_HINTS[type])}`;
}

/** Every program type tsbpf's headers know, in order (UNSPEC excluded). */
export function knownProgTypes(): number[] {
  return [...new Set(Object.values(ProgType))]
    .filter((t) => t !== ProgType.UNSPEC)
    .sort((a, b) => a - b);
}
