/**
 * Attach chosen from the program's spec: `attachProgram(prog, spec)` reads the attach
 * descriptor the ELF loader wrote from the `SEC()` name (or, for a spec built by hand,
 * its type, expected attach type and `attachTo`), the way libbpf's auto-attach does,
 * and calls the matching attach function.
 *
 * @module
 */

import {
  type AttachHook,
  CGROUP_PROG_TYPES,
  parseKprobeTarget,
  splitTracepoint,
  typeHook,
} from "../../spec/attach.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { AttachType, ProgType, progTypeName } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { assertSectionSupported } from "../programs/section-support.ts";
import { attachCgroup } from "./cgroup.ts";
import { attachKprobe, attachKsyscall } from "./kprobe.ts";
import { attachKprobeMulti, kallsymsMatching } from "./kprobe-multi.ts";
import type { Link } from "./link.ts";
import { attachTc, attachXdp, type TcOptions, type XdpOptions } from "./netdev.ts";
import { attachNetfilter, type NetfilterOptions } from "./netfilter.ts";
import { attachFlowDissector, attachSkLookup, type NetnsRef } from "./netns.ts";
import { attachRawTracepoint } from "./raw-tracepoint.ts";
import { attachSocketFilter, type SocketRef } from "./socket.ts";
import { attachSockmap, type SockmapRef } from "./sockmap.ts";
import type { TcDirection } from "./tc-clsact.ts";
import { attachTracepoint } from "./tracepoint.ts";
import { attachIter, attachTracing } from "./tracing.ts";
import { attachUprobe } from "./uprobe.ts";
import { attachUsdt } from "./usdt.ts";

/** What a spec cannot say: where cgroup and network programs go, and filters. */
export interface AttachTarget {
  /** For cgroup programs: the cgroup2 directory (or an open fd). */
  readonly cgroup?: string | number;
  /** For XDP and tc programs: the interface (name or ifindex). */
  readonly iface?: string | number;
  /** For tc programs (`SEC("tc")`): the hook. */
  readonly direction?: TcDirection;
  /** For XDP programs: mode, link or netlink, replace. */
  readonly xdp?: XdpOptions;
  /** For tc programs: tcx or clsact, priority, handle... */
  readonly tc?: TcOptions;
  /** For sk_lookup and flow_dissector programs: the namespace (default: this one). */
  readonly netns?: NetnsRef;
  /** For sk_skb and sk_msg programs: the sockmap or sockhash. */
  readonly sockmap?: SockmapRef;
  /** For socket filters: the socket. */
  readonly socket?: SocketRef;
  /** For netfilter programs: family, hook and priority. */
  readonly netfilter?: NetfilterOptions;
  /** For uprobes: only this process. */
  readonly pid?: number;
  /** bpf_get_attach_cookie() value, where the hook takes one (for USDT: bpf_usdt_cookie()). */
  readonly cookie?: bigint;
}

function need<T>(value: T | undefined, spec: ProgramSpec, what: string): T {
  if (value === undefined || value === "") {
    throw new Error(`cannot attach program "${spec.name}" (${where(spec)}): ${what}`);
  }
  return value;
}

/**
 * The hook of a spec built by hand (no descriptor from an ELF object): read from its
 * type, expected attach type and `attachTo`, never from a section name.
 */
function handBuiltHook(spec: ProgramSpec): AttachHook {
  const to = spec.attachTo;
  const missing = (what: string): AttachHook => ({
    kind: "manual",
    reason: `no ${what} named (attachTo)`,
  });
  switch (spec.type) {
    case ProgType.TRACEPOINT:
      return to ? { kind: "tracepoint", ...splitTracepoint(to) } : missing("tracepoint");
    case ProgType.RAW_TRACEPOINT:
    case ProgType.RAW_TRACEPOINT_WRITABLE:
      return to ? { kind: "raw_tracepoint", name: to } : missing("tracepoint");
    case ProgType.KPROBE:
      if (spec.expectedAttachType === AttachType.TRACE_KPROBE_MULTI) {
        return to ? { kind: "kprobe_multi", retprobe: false, pattern: to } : missing("functions");
      }
      return to
        ? { kind: "kprobe", retprobe: false, ...parseKprobeTarget(to) }
        : missing("function");
    case ProgType.TRACING:
      if (spec.expectedAttachType === AttachType.TRACE_ITER)
        return { kind: "iter", target: to ?? "" };
      return { kind: "tracing", target: to ?? "" };
    case ProgType.LSM:
      return { kind: "lsm", hook: to ?? "" };
    case ProgType.XDP:
      return { kind: "xdp" };
    case ProgType.SCHED_CLS:
      if (spec.expectedAttachType === AttachType.TCX_INGRESS)
        return { kind: "tcx", direction: "ingress" };
      if (spec.expectedAttachType === AttachType.TCX_EGRESS)
        return { kind: "tcx", direction: "egress" };
      return { kind: "tc" };
    default: {
      if (CGROUP_PROG_TYPES.has(spec.type)) return { kind: "cgroup" };
      const byType = typeHook(spec.type, spec.expectedAttachType);
      if (byType) return byType;
    }
  }
  return {
    kind: "manual",
    reason: `${progTypeName(spec.type) ?? `type ${spec.type}`} programs are attached with their hook's own function`,
  };
}

/**
 * Attaches `prog`, loaded from `spec`, where its attach descriptor says (the ELF
 * loader reads it from the SEC() name): a tracepoint for `tracepoint/GROUP/NAME`, a
 * kprobe for `kprobe/FUNC`, a uprobe for `uprobe/BINARY:FUNC`, the loaded BTF target
 * for fentry/fexit/LSM/tp_btf, ... cgroup and network programs need `target.cgroup` /
 * `target.iface`. A spec built by hand goes by its type and `attachTo`.
 *
 * @throws NotSupportedError for a SEC() form newer than this uapi (`fentry.multi`,
 * `fsession`...), naming the form and the attach type it needs.
 * @throws Error saying what is missing when the spec does not name a target (e.g. a
 * bare `SEC("kprobe")`) or the program type is not attached this way (socket filters,
 * perf_event programs: use the hook's own function).
 * @example
 * ```ts
 * using link = attachProgram(prog, spec); // SEC("tracepoint/syscalls/sys_enter_openat")
 * ```
 */
export function attachProgram(prog: Program, spec: ProgramSpec, target: AttachTarget = {}): Link {
  assertSectionSupported(spec, "attaching");
  const hook = spec.attach?.hook ?? handBuiltHook(spec);
  const cookie = target.cookie === undefined ? {} : { cookie: target.cookie };
  switch (hook.kind) {
    case "tracepoint":
      return attachTracepoint(prog, hook.group, hook.name, cookie);
    case "raw_tracepoint":
      return attachRawTracepoint(prog, hook.name, cookie);
    case "kprobe_multi": {
      const symbols = /[*?]/.test(hook.pattern) ? kallsymsMatching(hook.pattern) : [hook.pattern];
      if (symbols.length === 0) throw new Error(`no kernel function matches "${hook.pattern}"`);
      return attachKprobeMulti(prog, { symbols, retprobe: hook.retprobe });
    }
    case "uprobe":
      return attachUprobe(prog, hook.binary, hook.func, {
        retprobe: hook.retprobe,
        offset: hook.offset,
        ...(target.pid !== undefined && { pid: target.pid }),
        ...cookie,
      });
    case "usdt":
      return attachUsdt(prog, hook.binary, hook.provider, hook.name, {
        ...(target.pid !== undefined && { pid: target.pid }),
        ...(target.cookie !== undefined && { cookie: target.cookie }),
      });
    case "ksyscall":
      return attachKsyscall(prog, hook.syscall, { retprobe: hook.retprobe, ...cookie });
    case "kprobe":
      return attachKprobe(prog, hook.symbol, {
        retprobe: hook.retprobe,
        offset: hook.offset,
        ...cookie,
      });
    case "iter":
      return attachIter(prog);
    case "tracing":
      return attachTracing(
        prog,
        need(spec.expectedAttachType, spec, "no expected attach type"),
        cookie,
      );
    case "lsm":
      return attachTracing(prog, AttachType.LSM_MAC, cookie);
    case "xdp":
      return attachXdp(
        prog,
        need(target.iface, spec, "XDP programs need target.iface"),
        target.xdp,
      );
    case "tcx":
      return attachTc(
        prog,
        need(target.iface, spec, "tcx programs need target.iface"),
        hook.direction,
        { via: "tcx", ...target.tc },
      );
    case "tc":
      return attachTc(
        prog,
        need(target.iface, spec, "tc programs need target.iface"),
        need(target.direction, spec, "tc programs need target.direction (ingress or egress)"),
        target.tc,
      );
    case "netns":
      return spec.type === ProgType.FLOW_DISSECTOR
        ? attachFlowDissector(prog, target.netns)
        : attachSkLookup(prog, target.netns);
    case "sockmap":
      return attachSockmap(
        prog,
        need(target.sockmap, spec, "sk_skb and sk_msg programs need target.sockmap"),
        need(spec.expectedAttachType, spec, "no expected attach type"),
      );
    case "socket":
      return attachSocketFilter(
        prog,
        need(target.socket, spec, "socket filters need target.socket"),
      );
    case "netfilter":
      return attachNetfilter(
        prog,
        need(
          target.netfilter,
          spec,
          "netfilter programs need target.netfilter (family, hook, priority)",
        ),
      );
    case "cgroup":
      return attachCgroup(
        prog,
        need(target.cgroup, spec, "cgroup programs need target.cgroup"),
        need(spec.expectedAttachType, spec, "no expected attach type"),
      );
    case "manual":
      throw new Error(`cannot attach program "${spec.name}" (${where(spec)}): ${hook.reason}`);
  }
}

/** How a message names a program's hook: its SEC() name, or its type. */
function where(spec: ProgramSpec): string {
  return spec.section !== undefined
    ? `SEC("${spec.section}")`
    : (progTypeName(spec.type) ?? `type ${spec.type}`);
}
