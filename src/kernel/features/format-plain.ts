/**
 * A {@link FeatureReport} as the plain text of `bpftool feature probe kernel`, line
 * for line, so the two can be compared. With `reasons`, each NOT available line says
 * why (bpftool does not).
 * @module
 */

import type { FeatureReport } from "./report.ts";
import type { FeatureStatus } from "./status.ts";
import type { BpfSysctls } from "./system-config.ts";

function sysctlLines(s: BpfSysctls): string[] {
  const lines: string[] = [];
  const u = s.unprivilegedBpfDisabled;
  lines.push(
    u === undefined
      ? "Unable to retrieve required privileges for bpf() syscall"
      : u === 0
        ? "bpf() syscall for unprivileged users is enabled"
        : u === 1
          ? "bpf() syscall restricted to privileged users (without recovery)"
          : u === 2
            ? "bpf() syscall restricted to privileged users (admin can change)"
            : `bpf() syscall restriction has unknown value ${u}`,
  );
  const j = s.jitEnable;
  lines.push(
    j === undefined
      ? "Unable to retrieve JIT-compiler status"
      : j === 0
        ? "JIT compiler is disabled"
        : j === 1
          ? "JIT compiler is enabled"
          : j === 2
            ? "JIT compiler is enabled with debugging traces in kernel logs"
            : `JIT-compiler status has unknown value ${j}`,
  );
  const h = s.jitHarden;
  lines.push(
    h === undefined
      ? "Unable to retrieve JIT hardening status"
      : h === 0
        ? "JIT compiler hardening is disabled"
        : h === 1
          ? "JIT compiler hardening is enabled for unprivileged users"
          : h === 2
            ? "JIT compiler hardening is enabled for all users"
            : `JIT hardening status has unknown value ${h}`,
  );
  const k = s.jitKallsyms;
  lines.push(
    k === undefined
      ? "Unable to retrieve JIT kallsyms export status"
      : k === 0
        ? "JIT compiler kallsyms exports are disabled"
        : k === 1
          ? "JIT compiler kallsyms exports are enabled for root"
          : `JIT kallsyms exports status has unknown value ${k}`,
  );
  lines.push(
    s.jitLimit === undefined
      ? "Unable to retrieve global memory limit for JIT compiler for unprivileged users"
      : `Global memory limit for JIT compiler for unprivileged users is ${s.jitLimit} bytes`,
  );
  return lines;
}

/**
 * The report in bpftool's words.
 * @example
 * ```ts
 * process.stdout.write(formatFeatureReport(probeKernelFeatures()));
 * ```
 */
export function formatFeatureReport(
  report: FeatureReport,
  opts: { reasons?: boolean } = {},
): string {
  const why = (s: FeatureStatus) =>
    opts.reasons && !s.available && s.reason ? ` (${s.reason})` : "";
  const is = (s: FeatureStatus) => (s.available ? "is available" : "is NOT available");
  const out: string[] = ["Scanning system configuration..."];
  out.push(...sysctlLines(report.systemConfig.sysctls));
  if (report.systemConfig.configSource === undefined) {
    out.push("skipping kernel config, can't open file: No such file or directory");
  } else {
    for (const [opt, value] of report.systemConfig.kernelConfig) {
      out.push(value === undefined ? `${opt} is not set` : `${opt} is set to ${value}`);
    }
  }
  out.push(
    "",
    "Scanning system call availability...",
    `bpf() syscall ${is(report.syscall)}${why(report.syscall)}`,
  );
  if (!report.syscall.available) return `${out.join("\n")}\n`;
  out.push("", "Scanning eBPF program types...");
  for (const t of report.programTypes) out.push(`eBPF program_type ${t.name} ${is(t)}${why(t)}`);
  out.push("", "Scanning eBPF map types...");
  for (const t of report.mapTypes) out.push(`eBPF map_type ${t.name} ${is(t)}${why(t)}`);
  if (report.helpers.length > 0) {
    out.push("", "Scanning eBPF helper functions...");
    for (const scan of report.helpers) {
      out.push(`eBPF helpers supported for program type ${scan.typeName}:`);
      if (scan.state === "type-unavailable") out.push("\tProgram type not supported");
      else if (scan.state === "undetermined") {
        out.push(
          `\tCould not determine which helpers are available${opts.reasons && scan.reason ? ` (${scan.reason})` : ""}`,
        );
      } else for (const h of scan.available) out.push(`\t- ${h.name}`);
    }
  }
  out.push("", "Scanning miscellaneous eBPF features...");
  for (const m of report.misc) {
    const label = m.feature.charAt(0).toUpperCase() + m.feature.slice(1);
    out.push(`${label} ${is(m)}${why(m)}`);
  }
  return `${out.join("\n")}\n\n`;
}
