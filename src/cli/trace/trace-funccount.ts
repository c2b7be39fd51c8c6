/**
 * `tsbpf trace funccount [-i SECONDS] [--duration SECONDS] [--pid PID] [-T] [-r] [-j]
 * [--perf-links] PATTERN`: BCC's funccount. Calls of the functions (or tracepoints) a
 * pattern names are counted in the kernel, keyed by each probe's BPF cookie, and
 * printed every interval (-i) or once at the end.
 *
 * Many user functions (or USDT probe sites) go in one uprobe.multi link where the
 * kernel has them (Linux >= 6.6), else one perf-event uprobe per function or site; kernel functions get a kprobe each,
 * tracepoints a perf link each. With -d (global --debug) the tool says which it used.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { haveBpfCookie } from "../../kernel/features/helpers.ts";
import { kernelEnumHas } from "../../kernel/features/kernel-enum.ts";
import { NotSupportedError } from "../../kernel/features/not-supported-error.ts";
import { attachKprobe } from "../../kernel/links/kprobe.ts";
import { attachTracepoint } from "../../kernel/links/tracepoint.ts";
import { attachUprobe } from "../../kernel/links/uprobe.ts";
import { attachUprobeMulti } from "../../kernel/links/uprobe-multi.ts";
import { AttachType } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { type ResolvedProbes, resolveProbes } from "./funccount-probes.ts";
import { funccountReport, functionCounts } from "./funccount-report.ts";
import { parseToolArgs, reportSchedule, wholeNumber } from "./tool-options.ts";
import { FUNCCOUNT_OPTIONS } from "./tool-tables.ts";
import { canTrace, type ProbeAttachment, TRACE_EXIT_FAILURE } from "./trace-session.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** How the probes of a pattern are attached. */
export type AttachMethod = "uprobe_multi" | "uprobe" | "kprobe" | "tracepoint";

/** True when the running kernel has uprobe.multi links (its BTF knows the attach type). */
export function haveUprobeMulti(): boolean {
  return kernelEnumHas("bpf_attach_type", AttachType.TRACE_UPROBE_MULTI) === true;
}

/**
 * The method for `r`: uprobe.multi for user functions and USDT probes unless
 * `perfLinks` or the kernel says no.
 */
export function attachMethod(r: ResolvedProbes, perfLinks: boolean): AttachMethod {
  if (r.pattern.kind === "uprobe" || r.pattern.kind === "usdt")
    return !perfLinks && haveUprobeMulti() ? "uprobe_multi" : "uprobe";
  return r.pattern.kind === "kprobe" ? "kprobe" : "tracepoint";
}

/** The attachments of the probes: each probe's cookie is its index. */
export function funccountAttachments(
  r: ResolvedProbes,
  method: AttachMethod,
  pid?: number,
): ProbeAttachment[] {
  const path = r.path ?? "";
  const target = pid !== undefined ? { pid } : {};
  // Each user function, or each site of a USDT probe, with its probe's index as cookie.
  const sites = r.probes.flatMap((p, i) =>
    (p.sites ?? []).map((site) => ({ ...site, name: p.name, cookie: BigInt(i) })),
  );
  if (method === "uprobe_multi") {
    const n = sites.length;
    const semaphores = sites.some((s) => s.refCtrOffset !== 0n);
    return [
      {
        program: "count_uprobe_multi",
        label: `uprobe.multi:${path} (${n} site${n === 1 ? "" : "s"})`,
        attach: (prog) =>
          attachUprobeMulti(prog, path, {
            offsets: sites.map((s) => s.offset),
            cookies: sites.map((s) => s.cookie),
            ...(semaphores && { refCtrOffsets: sites.map((s) => s.refCtrOffset) }),
            ...target,
          }),
      },
    ];
  }
  if (method === "uprobe") {
    return sites.map((s) => ({
      program: "count_probe",
      label: `uprobe:${path}:${s.name}`,
      attach: (prog) =>
        attachUprobe(prog, path, undefined, {
          offset: s.offset,
          cookie: s.cookie,
          ...(s.refCtrOffset !== 0n && { refCtrOffset: s.refCtrOffset }),
          ...target,
        }),
    }));
  }
  return r.probes.map((p, i) => {
    const cookie = BigInt(i);
    if (method === "kprobe") {
      return {
        program: "count_probe",
        label: `kprobe:${p.name}`,
        attach: (prog) => attachKprobe(prog, p.name, { cookie }),
      };
    }
    const [group = "", event = ""] = p.name.split(":");
    return {
      program: "count_tracepoint",
      label: `tracepoint:${p.name}`,
      attach: (prog) => attachTracepoint(prog, group, event, { cookie }),
    };
  });
}

/** Runs `tsbpf trace funccount ...`. */
export async function traceFunccount(ctx: Context, args: Args): Promise<void> {
  const { values: v, positionals } = parseToolArgs(args.rest(), FUNCCOUNT_OPTIONS, "funccount");
  if (v.help) return printHelp(ctx, ctx.usage());
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "trace funccount: give one PATTERN (e.g. 'c:malloc', 't:sched:sched_fork')"
        : `trace funccount: one PATTERN only, not also '${positionals[1]}'`,
    );
  }
  const text = positionals[0] as string;
  const pid = v.pid !== undefined ? wholeNumber(v.pid, "--pid") : undefined;
  if (pid !== undefined && !existsSync(`/proc/${pid}`)) {
    throw new UsageError(`trace funccount: --pid ${pid}: no such process`);
  }
  const schedule = reportSchedule(
    v.interval !== undefined ? [v.interval] : [],
    "funccount",
    v.duration,
  );
  let resolved: ResolvedProbes;
  try {
    resolved = resolveProbes(text, { regex: v.regexp === true, ...(pid !== undefined && { pid }) });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new CliError(`trace funccount: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
  }
  // Every probe shares one program and tells its function by its cookie: without
  // cookies (before 5.15) all would count as the first.
  // (Unprivileged, the probe cannot tell: the session then says root is needed.)
  const cookies = canTrace() ? haveBpfCookie() : undefined;
  if (cookies && !cookies.available && !cookies.undetermined) {
    throw new CliError(
      `trace funccount: ${new NotSupportedError("counting calls per function", `it needs ${cookies.feature}, which came in Linux 5.15${cookies.reason ? ` (${cookies.reason})` : ""}`).message}`,
      TRACE_EXIT_FAILURE,
    );
  }
  const method = attachMethod(resolved, v["perf-links"] === true);
  const names = resolved.probes.map((p) => p.name);
  if (ctx.opts.debug) {
    const how = method === "uprobe_multi" ? "one uprobe.multi link" : `${method} perf-event links`;
    ctx.out.stderr(`trace funccount: ${names.length} probes, attached with ${how}\n`);
  }
  const ifuncs = resolved.probes.filter((p) => p.ifunc).map((p) => p.name);
  if (ifuncs.length > 0) {
    const some = `${ifuncs.slice(0, 5).join(", ")}${ifuncs.length > 5 ? `, and ${ifuncs.length - 5} more` : ""}`;
    ctx.out.stderr(
      `trace funccount: note: ${some} ${ifuncs.length === 1 ? "is an IFUNC" : "are IFUNCs"}: ` +
        "the probe sees the resolver run once at link time, not the calls, which go to the " +
        "implementation it picked (e.g. __strlen_avx2 for strlen, when the library has a .symtab)\n",
    );
  }
  const json = v.json === true || ctx.opts.json;
  await runSummaryTool(ctx, {
    tracing: `Tracing ${names.length} functions for "${text}"... Hit Ctrl-C to end.`,
    schedule,
    resetMaps: ["counts"],
    session: {
      tool: "trace funccount",
      object: "funccount.bpf.o",
      constants: { targ_tgid: pid ?? 0 },
      attachments: funccountAttachments(resolved, method, pid),
    },
    report: (coll, last) =>
      funccountReport(functionCounts(coll.map("counts").entries(), names), {
        json,
        timestamp: v.timestamp === true,
        last,
      }),
  });
}
