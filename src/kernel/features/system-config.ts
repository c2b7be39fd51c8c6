/**
 * bpftool's "Scanning system configuration" section: the BPF sysctls and the kernel
 * build options that matter to BPF (from /proc/config.gz or /boot/config-$(uname -r)).
 * @module
 */

import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { cached } from "./status.ts";

/** The BPF sysctls; a value is undefined when its file cannot be read. */
export interface BpfSysctls {
  /** kernel.unprivileged_bpf_disabled: 0 allowed, 1 disabled for good, 2 disabled (admin can change). */
  readonly unprivilegedBpfDisabled: number | undefined;
  /** net.core.bpf_jit_enable: 0 off, 1 on, 2 on with debug output. */
  readonly jitEnable: number | undefined;
  /** net.core.bpf_jit_harden: 0 off, 1 unprivileged, 2 everyone. */
  readonly jitHarden: number | undefined;
  /** net.core.bpf_jit_kallsyms: 1 exports JITed programs to kallsyms for root. */
  readonly jitKallsyms: number | undefined;
  /** net.core.bpf_jit_limit: bytes of JIT memory unprivileged users may take. */
  readonly jitLimit: number | undefined;
}

/** The kernel build options bpftool reports, in its order. */
export const BPF_KERNEL_OPTIONS = [
  "CONFIG_BPF",
  "CONFIG_BPF_SYSCALL",
  "CONFIG_HAVE_EBPF_JIT",
  "CONFIG_BPF_JIT",
  "CONFIG_BPF_JIT_ALWAYS_ON",
  "CONFIG_DEBUG_INFO_BTF",
  "CONFIG_DEBUG_INFO_BTF_MODULES",
  "CONFIG_CGROUPS",
  "CONFIG_CGROUP_BPF",
  "CONFIG_CGROUP_NET_CLASSID",
  "CONFIG_SOCK_CGROUP_DATA",
  "CONFIG_BPF_EVENTS",
  "CONFIG_KPROBE_EVENTS",
  "CONFIG_UPROBE_EVENTS",
  "CONFIG_TRACING",
  "CONFIG_FTRACE_SYSCALLS",
  "CONFIG_FUNCTION_ERROR_INJECTION",
  "CONFIG_BPF_KPROBE_OVERRIDE",
  "CONFIG_NET",
  "CONFIG_XDP_SOCKETS",
  "CONFIG_LWTUNNEL_BPF",
  "CONFIG_NET_ACT_BPF",
  "CONFIG_NET_CLS_BPF",
  "CONFIG_NET_CLS_ACT",
  "CONFIG_NET_SCH_INGRESS",
  "CONFIG_XFRM",
  "CONFIG_IP_ROUTE_CLASSID",
  "CONFIG_IPV6_SEG6_BPF",
  "CONFIG_BPF_LIRC_MODE2",
  "CONFIG_BPF_STREAM_PARSER",
  "CONFIG_NETFILTER_XT_MATCH_BPF",
  "CONFIG_BPFILTER",
  "CONFIG_BPFILTER_UMH",
  "CONFIG_TEST_BPF",
  "CONFIG_HZ",
] as const;

/** What the system says about BPF before any probe loads anything. */
export interface SystemConfig {
  readonly sysctls: BpfSysctls;
  /** Where the kernel configuration was read from, or undefined when none was found. */
  readonly configSource: string | undefined;
  /**
   * Each of {@link BPF_KERNEL_OPTIONS} with its value ("y", "m", "250"), or undefined
   * when not set. Empty when no configuration was found.
   */
  readonly kernelConfig: ReadonlyMap<string, string | undefined>;
}

function readInt(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, "latin1").trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

/** Parses kernel .config text into option → value (values unquoted). */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) out.set(m[1] as string, (m[2] as string).replace(/^"(.*)"$/, "$1"));
  }
  return out;
}

function readKernelConfig(): { source: string; options: Map<string, string> } | undefined {
  for (const path of [`/boot/config-${release()}`, "/proc/config.gz"]) {
    try {
      const raw = readFileSync(path);
      const text = path.endsWith(".gz")
        ? gunzipSync(raw).toString("latin1")
        : raw.toString("latin1");
      return { source: path, options: parseKernelConfig(text) };
    } catch {}
  }
  return undefined;
}

/** The whole kernel configuration (every option set), or undefined when unavailable. */
export function kernelConfig(): ReadonlyMap<string, string> | undefined {
  return cached("kernel-config", () => readKernelConfig()?.options);
}

/** Reads the BPF sysctls and kernel options (cached). */
export function probeSystemConfig(): SystemConfig {
  return cached("system-config", () => {
    const sysctls: BpfSysctls = {
      unprivilegedBpfDisabled: readInt("/proc/sys/kernel/unprivileged_bpf_disabled"),
      jitEnable: readInt("/proc/sys/net/core/bpf_jit_enable"),
      jitHarden: readInt("/proc/sys/net/core/bpf_jit_harden"),
      jitKallsyms: readInt("/proc/sys/net/core/bpf_jit_kallsyms"),
      jitLimit: readInt("/proc/sys/net/core/bpf_jit_limit"),
    };
    const config = readKernelConfig();
    const kernelConfig = new Map<string, string | undefined>();
    if (config)
      for (const opt of BPF_KERNEL_OPTIONS) kernelConfig.set(opt, config.options.get(opt));
    return { sysctls, configSource: config?.source, kernelConfig };
  });
}
