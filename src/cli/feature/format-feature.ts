/**
 * The one formatter for `feature probe`: a {@link FeatureReport} as bpftool's plain
 * text sections, its `macros` form (`#define HAVE_...`) or its JSON object. The three
 * walk the report in the same order through one function, so they cannot drift apart.
 */
import type { FeatureReport } from "../../kernel/features/index.ts";
import { HelperId, helperName } from "../../uapi/index.ts";
import type { JsonWriter } from "../format/json-writer.ts";

/** How to print. */
export type FeatureStyle =
  | { readonly kind: "plain" }
  | { readonly kind: "macros"; readonly prefix: string }
  | { readonly kind: "json"; readonly w: JsonWriter };

/** Names bpftool uses for the miscellaneous probes: JSON key, text, macro. */
const MISC: Readonly<Record<string, readonly [string, string, string]>> = {
  "large program size limit": [
    "have_large_insn_limit",
    "Large program size limit",
    "LARGE_INSN_LIMIT",
  ],
  "bounded loop support": ["have_bounded_loops", "Bounded loop support", "BOUNDED_LOOPS"],
  "ISA extension v2": ["have_v2_isa_extension", "ISA extension v2", "V2_ISA_EXTENSION"],
  "ISA extension v3": ["have_v3_isa_extension", "ISA extension v3", "V3_ISA_EXTENSION"],
  "ISA extension v4": ["have_v4_isa_extension", "ISA extension v4", "V4_ISA_EXTENSION"],
};

/** Helpers whose programs make the kernel log a warning; probed only with `full`. */
const NOISY: ReadonlySet<number> = new Set([
  HelperId.trace_printk,
  HelperId.probe_write_user,
  HelperId.trace_vprintk,
]);

function sysctlText(key: string, v: number | undefined): string {
  const u = v ?? -1;
  switch (key) {
    case "unprivileged_bpf_disabled":
      return u === 0
        ? "bpf() syscall for unprivileged users is enabled"
        : u === 1
          ? "bpf() syscall restricted to privileged users (without recovery)"
          : u === 2
            ? "bpf() syscall restricted to privileged users (admin can change)"
            : u === -1
              ? "Unable to retrieve required privileges for bpf() syscall"
              : `bpf() syscall restriction has unknown value ${u}`;
    case "bpf_jit_enable":
      return u === 0
        ? "JIT compiler is disabled"
        : u === 1
          ? "JIT compiler is enabled"
          : u === 2
            ? "JIT compiler is enabled with debugging traces in kernel logs"
            : u === -1
              ? "Unable to retrieve JIT-compiler status"
              : `JIT-compiler status has unknown value ${u}`;
    case "bpf_jit_harden":
      return u === 0
        ? "JIT compiler hardening is disabled"
        : u === 1
          ? "JIT compiler hardening is enabled for unprivileged users"
          : u === 2
            ? "JIT compiler hardening is enabled for all users"
            : u === -1
              ? "Unable to retrieve JIT hardening status"
              : `JIT hardening status has unknown value ${u}`;
    case "bpf_jit_kallsyms":
      return u === 0
        ? "JIT compiler kallsyms exports are disabled"
        : u === 1
          ? "JIT compiler kallsyms exports are enabled for root"
          : u === -1
            ? "Unable to retrieve JIT kallsyms export status"
            : `JIT kallsyms exports status has unknown value ${u}`;
    default:
      return u === -1
        ? "Unable to retrieve global memory limit for JIT compiler for unprivileged users"
        : `Global memory limit for JIT compiler for unprivileged users is ${u} bytes`;
  }
}

/** Every helper id tsbpf knows, in id order, with its name. */
function knownHelpers(full: boolean): { id: number; name: string }[] {
  const out: { id: number; name: string }[] = [];
  for (const id of Object.values(HelperId)) {
    if (id === 0 || (!full && NOISY.has(id))) continue;
    const name = helperName(id);
    if (name) out.push({ id, name });
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Prints `report` in `style`. Returns the text for the plain and macro styles (the JSON
 * style writes through its writer and returns "").
 */
export function formatFeatures(
  report: FeatureReport,
  style: FeatureStyle,
  opts: { readonly full?: boolean } = {},
): string {
  const lines: string[] = [];
  const json = style.kind === "json" ? style.w : undefined;
  const prefix = style.kind === "macros" ? style.prefix : undefined;
  const section = (key: string, title: string, comment: string) => {
    if (json) json.name(key).startObject();
    else lines.push(prefix !== undefined ? comment : title);
  };
  const endSection = () => {
    if (json) json.endObject();
    else lines.push("");
  };
  const bool = (key: string, text: string, define: string, ok: boolean) => {
    if (json) json.field(key, ok);
    else if (prefix !== undefined) lines.push(`#define ${prefix}${ok ? "" : "NO_"}HAVE_${define}`);
    else lines.push(`${text} is ${ok ? "" : "NOT "}available`);
  };

  // System configuration (sysctls are not printed as macros; only CONFIG_HZ is).
  section(
    "system_config",
    "Scanning system configuration...",
    "/*** Misc kernel config items ***/",
  );
  const s = report.systemConfig.sysctls;
  const sysctls: [string, number | undefined][] = [
    ["unprivileged_bpf_disabled", s.unprivilegedBpfDisabled],
    ["bpf_jit_enable", s.jitEnable],
    ["bpf_jit_harden", s.jitHarden],
    ["bpf_jit_kallsyms", s.jitKallsyms],
    ["bpf_jit_limit", s.jitLimit],
  ];
  if (prefix === undefined) {
    for (const [key, v] of sysctls) {
      if (json) json.field(key, v ?? -1);
      else lines.push(sysctlText(key, v));
    }
  }
  for (const [name, value] of report.systemConfig.kernelConfig) {
    if (prefix !== undefined && name !== "CONFIG_HZ") continue;
    if (json) json.field(name, value ?? null);
    else if (prefix !== undefined) {
      lines.push(
        value === undefined
          ? `/* ${prefix}${name} is not set */`
          : `#define ${prefix}${name} ${value}`,
      );
    } else lines.push(value === undefined ? `${name} is not set` : `${name} is set to ${value}`);
  }
  endSection();

  section(
    "syscall_config",
    "Scanning system call availability...",
    "/*** System call availability ***/",
  );
  bool("have_bpf_syscall", "bpf() syscall", "BPF_SYSCALL", report.syscall.available);
  endSection();
  if (!report.syscall.available) return lines.length ? `${lines.join("\n")}\n` : "";

  section("program_types", "Scanning eBPF program types...", "/*** eBPF program types ***/");
  for (const t of report.programTypes) {
    bool(
      `have_${t.name}_prog_type`,
      `eBPF program_type ${t.name}`,
      `${t.name.toUpperCase()}_PROG_TYPE`,
      t.available,
    );
  }
  endSection();

  section("map_types", "Scanning eBPF map types...", "/*** eBPF map types ***/");
  for (const t of report.mapTypes) {
    bool(
      `have_${t.name}_map_type`,
      `eBPF map_type ${t.name}`,
      `${t.name.toUpperCase()}_MAP_TYPE`,
      t.available,
    );
  }
  endSection();

  section("helpers", "Scanning eBPF helper functions...", "/*** eBPF helper functions ***/");
  if (prefix !== undefined) {
    const p = prefix;
    lines.push(
      "/*",
      ` * Use ${p}HAVE_PROG_TYPE_HELPER(prog_type_name, helper_name)`,
      " * to determine if <helper_name> is available for <prog_type_name>,",
      " * e.g.",
      ` *\t#if ${p}HAVE_PROG_TYPE_HELPER(xdp, bpf_redirect)`,
      " *\t\t// do stuff with this helper",
      " *\t#elif",
      " *\t\t// use a workaround",
      " *\t#endif",
      " */",
      `#define ${p}HAVE_PROG_TYPE_HELPER(prog_type, helper)\t\\`,
      `\t${p}BPF__PROG_TYPE_ ## prog_type ## __HELPER_ ## helper`,
    );
  }
  const all = prefix !== undefined ? knownHelpers(opts.full ?? false) : [];
  for (const scan of report.helpers) {
    if (json) {
      json.field(
        `${scan.typeName}_available_helpers`,
        scan.available.map((h) => h.name),
      );
    } else if (prefix !== undefined) {
      const have = new Set(scan.available.map((h) => h.id));
      for (const h of all) {
        lines.push(
          `#define ${prefix}BPF__PROG_TYPE_${scan.typeName}__HELPER_${h.name} ${have.has(h.id) ? 1 : 0}`,
        );
      }
    } else {
      lines.push(`eBPF helpers supported for program type ${scan.typeName}:`);
      if (scan.state === "type-unavailable") lines.push("\tProgram type not supported");
      else if (scan.state === "undetermined" || scan.available.length === 0) {
        lines.push("\tCould not determine which helpers are available");
      } else for (const h of scan.available) lines.push(`\t- ${h.name}`);
    }
  }
  endSection();

  section("misc", "Scanning miscellaneous eBPF features...", "/*** eBPF misc features ***/");
  for (const m of report.misc) {
    const names = MISC[m.feature];
    const [key, text, define] = names ?? [
      `have_${m.feature.replace(/\W+/g, "_").toLowerCase()}`,
      m.feature.charAt(0).toUpperCase() + m.feature.slice(1),
      m.feature.replace(/\W+/g, "_").toUpperCase(),
    ];
    bool(key, text, define, m.available);
  }
  endSection();
  return lines.length ? `${lines.join("\n")}\n` : "";
}
