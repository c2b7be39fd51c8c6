/**
 * The meaning of an ELF section name for a BPF program — libbpf's `SEC("...")`
 * convention: which program type, which expected attach type, what the part after the
 * slash names, and which load flags follow.
 *
 * The table itself is generated from libbpf's source (section-defs.generated.ts);
 * this module holds its shape and the matching rules.
 *
 * @module
 */

import type { SectionRequirement } from "../spec/attach.ts";
import { type AttachType, ProgLoadFlags, type ProgType } from "../uapi/index.ts";
import { SECTION_DEFS } from "./section-defs.generated.ts";

/** One entry of libbpf's `section_defs[]`. */
export interface SectionDef {
  /** The section name, or for `target: "optional"` its part before the `/`. */
  readonly prefix: string;
  /**
   * `"none"`: the section name must be exactly {@link prefix}. `"optional"` (libbpf's
   * `"prefix+"`): either exactly the prefix or `prefix/TARGET`, where TARGET says what
   * to attach to.
   */
  readonly target: "none" | "optional";
  /** The program type. */
  readonly type: ProgType;
  /** `expected_attach_type`; absent when libbpf passes 0. */
  readonly expectedAttachType?: AttachType;
  /** libbpf's SEC_ATTACHABLE: attachable with BPF_PROG_ATTACH (a legacy marker). */
  readonly attachable?: boolean;
  /** libbpf's SEC_EXP_ATTACH_OPT: old kernels may load it without the attach type. */
  readonly attachTypeOptional?: boolean;
  /** libbpf's SEC_ATTACH_BTF: the target is a BTF id, looked up by name at load. */
  readonly attachBtf?: boolean;
  /** Loaded with BPF_F_SLEEPABLE. */
  readonly sleepable?: boolean;
  /** Loaded with BPF_F_XDP_HAS_FRAGS. */
  readonly xdpFrags?: boolean;
  /** A USDT probe (libbpf switches it to uprobe_multi where the kernel has it). */
  readonly usdt?: boolean;
  /**
   * How libbpf attaches it automatically (its `attach_*` function without the
   * prefix: "kprobe", "uprobe", "tp", "raw_tp", "trace", "lsm", "iter", ...); absent
   * when the program is attached by other means (cgroups, XDP, TC, maps...).
   */
  readonly attach?: string;
  /**
   * Set on forms newer than the uapi tsbpf was generated from (Linux 6.18): the attach
   * type the form needs, which this uapi has no name for, so the entry has no
   * {@link expectedAttachType}. `value` is its number in libbpf's copy of the uapi
   * header, when known. Loaders refuse such a program with a `NotSupportedError`.
   */
  readonly requires?: SectionRequirement;
}

/** What a form newer than this uapi needs (see {@link SectionDef.requires}). */
export type { SectionRequirement } from "../spec/attach.ts";

/** What a section name says about the program in it. */
export interface ProgramSection {
  /** The whole section name. */
  readonly section: string;
  /** The table entry that matched. */
  readonly def: SectionDef;
  /** The program type. */
  readonly type: ProgType;
  /** `expected_attach_type`, when the form has one. */
  readonly expectedAttachType?: AttachType;
  /**
   * The text after the form's `/` (`"syscalls/sys_enter_openat"` for
   * `tracepoint/syscalls/sys_enter_openat`, `"do_unlinkat"` for `fentry/do_unlinkat`),
   * absent when there is none.
   */
  readonly attachTo?: string;
  /** `prog_flags` implied by the form (`ProgLoadFlags.SLEEPABLE`, `XDP_HAS_FRAGS`). */
  readonly flags: number;
}

export { SECTION_DEFS };

/**
 * True when `section` is one of the names `def` accepts (libbpf's `sec_def_matches`).
 *
 * @example
 * ```ts
 * sectionMatches({ prefix: "kprobe", target: "optional", type: ProgType.KPROBE }, "kprobe/do_exit"); // true
 * sectionMatches({ prefix: "kprobe", target: "optional", type: ProgType.KPROBE }, "kprobex"); // false
 * ```
 */
export function sectionMatches(def: SectionDef, section: string): boolean {
  if (def.target === "none") return section === def.prefix;
  if (!section.startsWith(def.prefix)) return false;
  const rest = section.length === def.prefix.length ? "" : section[def.prefix.length];
  return rest === "" || rest === "/";
}

/**
 * What the section name `section` means, by libbpf's rules (the first matching
 * entry of its table), or undefined for a name libbpf does not know.
 *
 * @example
 * ```ts
 * const s = parseSectionName("fentry.s/do_unlinkat");
 * // s.type === ProgType.TRACING, s.expectedAttachType === AttachType.TRACE_FENTRY,
 * // s.attachTo === "do_unlinkat", s.flags === ProgLoadFlags.SLEEPABLE
 * ```
 */
export function parseSectionName(section: string): ProgramSection | undefined {
  // The table is scanned in order (libbpf's first match wins), ~2 µs for a name near its
  // middle such as "xdp"; a process loads the same few section names again and again.
  const known = parsedSections.get(section);
  if (known !== undefined) return known ?? undefined;
  const parsed = scanSectionDefs(section);
  if (parsedSections.size >= MAX_PARSED_SECTIONS) parsedSections.clear();
  parsedSections.set(section, parsed ?? null);
  return parsed;
}

/** Names already parsed (`null`: libbpf does not know it); results are immutable. */
const parsedSections = new Map<string, ProgramSection | null>();
/** Bounds that cache: section names come from untrusted objects. */
const MAX_PARSED_SECTIONS = 1024;

function scanSectionDefs(section: string): ProgramSection | undefined {
  for (const def of SECTION_DEFS) {
    if (!sectionMatches(def, section)) continue;
    let flags = 0;
    if (def.sleepable) flags |= ProgLoadFlags.SLEEPABLE;
    if (def.xdpFrags) flags |= ProgLoadFlags.XDP_HAS_FRAGS;
    const attachTo =
      def.target === "optional" && section.length > def.prefix.length
        ? section.slice(def.prefix.length + 1)
        : undefined;
    return Object.freeze({
      section,
      def,
      type: def.type,
      ...(def.expectedAttachType !== undefined && {
        expectedAttachType: def.expectedAttachType,
      }),
      ...(attachTo !== undefined && { attachTo }),
      flags,
    });
  }
  return undefined;
}
