/**
 * A program's SEC() name turned into its {@link AttachDescriptor}, once, when the
 * object is read: the hook (tracepoint group and name, kprobe function and offset,
 * uprobe binary and function...), whether libbpf would auto-attach it, sleepable, and
 * the attach type a form newer than tsbpf's uapi needs. Nothing outside src/elf reads
 * section names; everything else reads this.
 *
 * @module
 */

import {
  type AttachDescriptor,
  type AttachHook,
  CGROUP_PROG_TYPES,
  parseKprobeTarget,
  parseUprobeTarget,
  parseUsdtTarget,
  splitTracepoint,
  typeHook,
} from "../spec/attach.ts";
import { AttachType, ProgType } from "../uapi/index.ts";
import { type ProgramSection, parseSectionName } from "./section-def.ts";

/** The descriptor for a section libbpf's table matched. */
export function attachDescriptor(sec: ProgramSection): AttachDescriptor {
  const { def } = sec;
  const hook = hookOf(sec);
  return {
    section: sec.section,
    form: `${def.prefix}${def.target === "optional" ? "+" : ""}`,
    hook,
    // libbpf's skeleton attaches what has an attach function and a target to use.
    autoAttach: def.attach !== undefined && hook.kind !== "manual" && def.requires === undefined,
    sleepable: def.sleepable === true,
    ...(def.requires && { unsupported: def.requires }),
  };
}

/** A descriptor for a program whose section libbpf does not know (or that has none). */
export function unknownSectionDescriptor(section: string): AttachDescriptor {
  return {
    section,
    form: "",
    hook: { kind: "manual", reason: `libbpf does not know SEC("${section}")` },
    autoAttach: false,
    sleepable: false,
  };
}

function hookOf(sec: ProgramSection): AttachHook {
  const { def } = sec;
  const to = sec.attachTo ?? "";
  const retprobe = /^(kret|uret)/.test(def.prefix);
  const need = (what: string, example: string): AttachHook => ({
    kind: "manual",
    reason: `no ${what} named (SEC("${example}"))`,
  });
  const parsed = (f: () => AttachHook): AttachHook => {
    try {
      return f();
    } catch (e) {
      return { kind: "manual", reason: (e as Error).message };
    }
  };
  switch (def.attach) {
    case "tp":
      if (!to) return need("tracepoint", `${def.prefix}/GROUP/NAME`);
      return parsed(() => ({ kind: "tracepoint", ...splitTracepoint(to) }));
    case "raw_tp":
      if (!to) return need("tracepoint", `${def.prefix}/NAME`);
      return { kind: "raw_tracepoint", name: to };
    case "kprobe":
      if (!to) return need("function", `${def.prefix}/FUNC`);
      return parsed(() => ({ kind: "kprobe", retprobe, ...parseKprobeTarget(to) }));
    case "kprobe_multi":
      if (!to) return need("functions", `${def.prefix}/PATTERN`);
      return { kind: "kprobe_multi", retprobe, pattern: to };
    case "ksyscall":
      if (!to) return need("system call", `${def.prefix}/NAME`);
      return { kind: "ksyscall", retprobe, syscall: to };
    case "uprobe":
      if (!to) return need("binary and function", `${def.prefix}/BINARY:FUNC`);
      return parsed(() => ({ kind: "uprobe", retprobe, ...parseUprobeTarget(to) }));
    case "usdt":
      if (!to) return need("probe", `${def.prefix}/BINARY:PROVIDER:NAME`);
      return parsed(() => ({ kind: "usdt", ...parseUsdtTarget(to) }));
    case "trace":
      if (!to) return need("function", `${def.prefix}/FUNC`);
      return { kind: "tracing", target: to };
    case "lsm":
      if (!to) return need("LSM hook", `${def.prefix}/HOOK`);
      return { kind: "lsm", hook: to };
    case "iter":
      if (!to) return need("iterator", `${def.prefix}/TARGET`);
      return { kind: "iter", target: to };
    case undefined:
      break;
    default:
      return {
        kind: "manual",
        reason: `tsbpf does not attach ${def.prefix} programs automatically yet`,
      };
  }
  if (CGROUP_PROG_TYPES.has(def.type) && def.expectedAttachType !== undefined)
    return { kind: "cgroup" };
  if (def.type === ProgType.XDP && def.expectedAttachType === AttachType.XDP)
    return { kind: "xdp" };
  if (def.expectedAttachType === AttachType.TCX_INGRESS)
    return { kind: "tcx", direction: "ingress" };
  if (def.expectedAttachType === AttachType.TCX_EGRESS) return { kind: "tcx", direction: "egress" };
  const byType = typeHook(def.type, def.expectedAttachType);
  if (byType) return byType;
  return {
    kind: "manual",
    reason: `${def.prefix} programs are attached with their hook's own function`,
  };
}

/**
 * The attach descriptor of SEC(`section`), for a spec built by hand that should attach
 * as an object's program in that section would.
 *
 * @example
 * ```ts
 * const spec = { ...mine, section: "kprobe/do_sys_openat2", attach: describeSection("kprobe/do_sys_openat2") };
 * ```
 */
export function describeSection(section: string): AttachDescriptor {
  const sec = parseSectionName(section);
  return sec ? attachDescriptor(sec) : unknownSectionDescriptor(section);
}

/**
 * The program type and expected attach type a SEC()-style name selects, by libbpf's
 * table (libbpf_prog_type_by_name; what bpftool's `prog load ... type NAME` takes), or
 * undefined for a name libbpf does not know.
 */
export function programTypeForSection(
  name: string,
): { type: ProgType; expectedAttachType: AttachType | undefined } | undefined {
  const sec = parseSectionName(name);
  return sec && { type: sec.type, expectedAttachType: sec.expectedAttachType };
}
