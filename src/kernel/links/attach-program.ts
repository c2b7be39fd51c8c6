/**
 * Attach chosen from the program's section: `attachProgram(prog, spec)` reads the
 * spec's type, expected attach type, `attachTo` and `SEC()` name the way libbpf's
 * auto-attach does, and calls the matching attach function.
 *
 * @module
 */

import type { ProgramSpec } from "../../spec/program-spec.ts";
import { AttachType, ProgType, progTypeName } from "../../uapi/index.ts";
import type { Link } from "../link.ts";
import type { Program } from "../program.ts";
import { assertSectionSupported } from "../section-support.ts";
import { attachCgroup } from "./cgroup.ts";
import { attachKprobe, attachKsyscall, parseKprobeTarget } from "./kprobe.ts";
import { attachKprobeMulti, kallsymsMatching } from "./kprobe-multi.ts";
import { attachTcx, attachXdp } from "./netdev.ts";
import { attachRawTracepoint } from "./raw-tracepoint.ts";
import { attachTracepoint, splitTracepoint } from "./tracepoint.ts";
import { attachIter, attachTracing } from "./tracing.ts";
import { attachUprobe, parseUprobeTarget } from "./uprobe.ts";

/** What a spec cannot say: where cgroup and network programs go, and filters. */
export interface AttachTarget {
  /** For cgroup programs: the cgroup2 directory (or an open fd). */
  readonly cgroup?: string | number;
  /** For XDP and tc programs: the interface (name or ifindex). */
  readonly iface?: string | number;
  /** For uprobes: only this process. */
  readonly pid?: number;
  /** bpf_get_attach_cookie() value, where the hook takes one. */
  readonly cookie?: bigint;
}

const CGROUP_TYPES = new Set<number>([
  ProgType.CGROUP_SKB,
  ProgType.CGROUP_SOCK,
  ProgType.CGROUP_DEVICE,
  ProgType.CGROUP_SOCK_ADDR,
  ProgType.CGROUP_SYSCTL,
  ProgType.CGROUP_SOCKOPT,
  ProgType.SOCK_OPS,
]);

function need<T>(value: T | undefined, spec: ProgramSpec, what: string): T {
  if (value === undefined || value === "") {
    throw new Error(
      `cannot attach program "${spec.name}" (${spec.section ?? progTypeName(spec.type)}): ${what}`,
    );
  }
  return value;
}

/**
 * Attaches `prog`, loaded from `spec`, where its section says: a tracepoint for
 * `tracepoint/GROUP/NAME`, a kprobe for `kprobe/FUNC`, a uprobe for
 * `uprobe/BINARY:FUNC`, the loaded BTF target for fentry/fexit/LSM/tp_btf, ...
 * cgroup and network programs need `target.cgroup` / `target.iface`.
 *
 * @throws NotSupportedError for a SEC() form newer than this uapi (`fentry.multi`,
 * `fsession`...), naming the form and the attach type it needs.
 * @throws Error saying what is missing when the spec does not name a target (e.g. a
 * bare `SEC("kprobe")`) or the program type is not attached this way (socket filters,
 * perf_event programs: use the hook's own function).
 * @example
 * ```ts
 * using link = attachProgram(prog, spec); // spec.attachTo = "syscalls/sys_enter_openat"
 * ```
 */
export function attachProgram(prog: Program, spec: ProgramSpec, target: AttachTarget = {}): Link {
  assertSectionSupported(spec, "attaching");
  const section = spec.section ?? "";
  const to = spec.attachTo;
  const cookie = target.cookie === undefined ? {} : { cookie: target.cookie };
  switch (spec.type) {
    case ProgType.TRACEPOINT: {
      const { group, name } = splitTracepoint(
        need(to, spec, 'no tracepoint named (SEC("tracepoint/GROUP/NAME"))'),
      );
      return attachTracepoint(prog, group, name, cookie);
    }
    case ProgType.RAW_TRACEPOINT:
    case ProgType.RAW_TRACEPOINT_WRITABLE:
      return attachRawTracepoint(
        prog,
        need(to, spec, 'no tracepoint named (SEC("raw_tp/NAME"))'),
        cookie,
      );
    case ProgType.KPROBE: {
      if (
        spec.expectedAttachType === AttachType.TRACE_KPROBE_MULTI ||
        /^kretprobe\.multi|^kprobe\.multi/.test(section)
      ) {
        const pattern = need(to, spec, 'no functions named (SEC("kprobe.multi/PATTERN"))');
        const symbols = /[*?]/.test(pattern) ? kallsymsMatching(pattern) : [pattern];
        if (symbols.length === 0) throw new Error(`no kernel function matches "${pattern}"`);
        return attachKprobeMulti(prog, { symbols, retprobe: section.startsWith("kretprobe") });
      }
      if (/^u(ret)?probe/.test(section)) {
        const t = parseUprobeTarget(
          need(to, spec, 'no binary and function named (SEC("uprobe/BINARY:FUNC"))'),
        );
        return attachUprobe(prog, t.binary, t.func, {
          retprobe: section.startsWith("uretprobe"),
          offset: t.offset,
          ...(target.pid !== undefined && { pid: target.pid }),
          ...cookie,
        });
      }
      if (/^usdt/.test(section)) {
        throw new Error(
          `cannot attach program "${spec.name}": USDT probes are not supported by attachProgram yet`,
        );
      }
      if (/^k(ret)?syscall/.test(section)) {
        return attachKsyscall(prog, need(to, spec, 'no system call named (SEC("ksyscall/NAME"))'), {
          retprobe: section.startsWith("kretsyscall"),
          ...cookie,
        });
      }
      const { symbol, offset } = parseKprobeTarget(
        need(to, spec, 'no function named (SEC("kprobe/FUNC"))'),
      );
      return attachKprobe(prog, symbol, {
        retprobe: section.startsWith("kretprobe"),
        offset,
        ...cookie,
      });
    }
    case ProgType.TRACING:
      if (spec.expectedAttachType === AttachType.TRACE_ITER) return attachIter(prog);
      return attachTracing(
        prog,
        need(spec.expectedAttachType, spec, "no expected attach type"),
        cookie,
      );
    case ProgType.LSM:
      return attachTracing(prog, AttachType.LSM_MAC, cookie);
    case ProgType.XDP:
      return attachXdp(prog, need(target.iface, spec, "XDP programs need target.iface"));
    case ProgType.SCHED_CLS:
      if (
        spec.expectedAttachType === AttachType.TCX_INGRESS ||
        spec.expectedAttachType === AttachType.TCX_EGRESS
      ) {
        return attachTcx(
          prog,
          need(target.iface, spec, "tcx programs need target.iface"),
          spec.expectedAttachType === AttachType.TCX_INGRESS ? "ingress" : "egress",
        );
      }
      break;
    default:
      if (CGROUP_TYPES.has(spec.type)) {
        return attachCgroup(
          prog,
          need(target.cgroup, spec, "cgroup programs need target.cgroup"),
          need(spec.expectedAttachType, spec, "no expected attach type"),
        );
      }
  }
  throw new Error(
    `cannot attach program "${spec.name}" automatically: ${progTypeName(spec.type) ?? `type ${spec.type}`} programs${section ? ` (SEC("${section}"))` : ""} are attached with their hook's own function`,
  );
}
