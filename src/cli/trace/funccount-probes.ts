/**
 * What `tsbpf trace funccount PATTERN` probes, as BCC's funccount reads its pattern:
 *
 * - `func`, `p::func`: kernel functions (kprobes), from tracefs available_filter_functions;
 * - `lib:func`, `p:lib:func`, `/path/to/bin:func`: user functions of a library (found
 *   like the dynamic linker does, or in the process's maps with --pid), an executable
 *   path or a program in $PATH, from its `.symtab` and `.dynsym`;
 * - `t:group:event`: tracepoints, from tracefs events/;
 * - `u:lib:probe`: USDT probes of a binary (by probe name, every site of each, with the
 *   kernel keeping their semaphores), from its `.note.stapsdt`.
 *
 * `*` is the only wildcard (the whole name must match); with -r the function part is a
 * regular expression matched from the start of the name, as Python's re.match does.
 * A user function whose address or name was already taken is skipped (one uprobe per
 * address), and at most {@link MAX_PROBES} functions are probed.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { usdtProbes } from "../../elf/index.ts";
import { NotSupportedError } from "../../kernel/features/not-supported-error.ts";
import { KPROBES_UNAVAILABLE } from "../../kernel/links/kprobe.ts";
import { pmuType } from "../../kernel/links/perf-event.ts";
import { tracefsDir, tracefsHas } from "../../kernel/links/tracefs.ts";
import { resolveBinary } from "../../kernel/links/uprobe-library.ts";
import { functionSymbols, readBinaryElf } from "../../kernel/links/uprobe-symbols.ts";
import { UsageError } from "../format/output.ts";

/** BCC's funccount refuses more probes than this. */
export const MAX_PROBES = 1000;

/** A pattern, split: what kind of probe, in which binary, matching what. */
export interface ProbePattern {
  /** "uprobe": user functions; "kprobe": kernel functions; "tracepoint"; "usdt". */
  readonly kind: "uprobe" | "kprobe" | "tracepoint" | "usdt";
  /** The library or binary as given ("c", "/bin/bash"); "" for the kernel. */
  readonly library: string;
  /** The name pattern: "mall*", "vfs_*", "block:*". */
  readonly pattern: string;
  /** The names it takes. */
  readonly match: RegExp;
}

/** One place a uprobe goes: a user function, or one site of a USDT probe. */
export interface UprobeSite {
  /** The file offset of the instruction. */
  readonly offset: bigint;
  /** The file offset of the USDT semaphore the kernel counts up while attached; 0n: none. */
  readonly refCtrOffset: bigint;
}

/** A function (or tracepoint, or USDT probe) found for a pattern. */
export interface Probe {
  /** Its name as the report shows it: "malloc", "vfs_read", "block:block_rq_issue". */
  readonly name: string;
  /** A user function that is an IFUNC resolver (its probe sees the resolver run, not the calls). */
  readonly ifunc?: boolean;
  /** For user functions and USDT probes: where the uprobes go (every site of a probe). */
  readonly sites?: readonly UprobeSite[];
}

/** The probes of a pattern, with the binary they are in. */
export interface ResolvedProbes {
  readonly pattern: ProbePattern;
  /** The binary's path (user functions and USDT probes only). */
  readonly path?: string;
  /** In the order they were found; a probe's index is its BPF cookie. */
  readonly probes: readonly Probe[];
}

/** BCC's `*` wildcard as a regular expression of the whole name, or -r's, anchored at the start. */
function nameMatcher(pattern: string, regex: boolean, text: string): RegExp {
  if (!regex) {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
    return new RegExp(`^${escaped}$`);
  }
  try {
    return new RegExp(`^(?:${pattern})`);
  } catch (e) {
    throw new UsageError(
      `trace funccount: '${text}': not a regular expression: ${(e as Error).message}`,
    );
  }
}

/**
 * Splits a funccount pattern as BCC does.
 * @throws UsageError naming the pattern when it has too many parts, an unknown type or
 * an empty name
 */
export function parseProbePattern(text: string, regex = false): ProbePattern {
  const parts = text.split(":");
  let type: string;
  let library: string;
  let pattern: string;
  if (parts.length === 1) [type, library, pattern] = ["p", "", text];
  else if (parts.length === 2) [type, library, pattern] = ["p", parts[0] ?? "", parts[1] ?? ""];
  else if (parts.length === 3) {
    [type, library, pattern] = parts as [string, string, string];
    if (type === "t") [library, pattern] = ["", `${parts[1]}:${parts[2]}`];
    else if (type !== "p" && type !== "u") {
      throw new UsageError(
        `trace funccount: '${text}': the type must be 'p', 't' or 'u', not '${type}'`,
      );
    }
  } else {
    throw new UsageError(`trace funccount: '${text}': too many ':'-separated parts (at most 3)`);
  }
  if (pattern === "" || pattern.endsWith(":") || pattern.startsWith(":")) {
    throw new UsageError(`trace funccount: '${text}': nothing to match after the last ':'`);
  }
  const kind = type === "t" ? "tracepoint" : type === "u" ? "usdt" : library ? "uprobe" : "kprobe";
  if (kind === "usdt" && !library) {
    throw new UsageError(
      `trace funccount: '${text}': a USDT pattern names its binary (u:lib:probe)`,
    );
  }
  return { kind, library, pattern, match: nameMatcher(pattern, regex, text) };
}

/**
 * The file a process has mapped for library `name` ("c" → its libc.so.6, "python3" →
 * its python3.11), as BCC looks in /proc/PID/maps when given a PID; undefined when it
 * maps none.
 */
export function libraryOfProcess(pid: number, name: string): string | undefined {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return undefined;
  }
  const stem = name.startsWith("lib") ? name : `lib${name}`;
  for (const line of maps.split("\n")) {
    const slash = line.indexOf("/");
    if (slash < 0) continue;
    const path = line.slice(slash).replace(/ \(deleted\)$/, "");
    const file = basename(path);
    // "c": libc.so.6 (or libc-2.31.so); "python3": python3.11, the versioned executable.
    const named = file === name || file.startsWith(`${name}.`);
    if (named || file.startsWith(`${stem}.so`) || file.startsWith(`${stem}-`)) {
      return path;
    }
  }
  return undefined;
}

/**
 * The path of a pattern's binary: a path as given; a library through the process's
 * maps (with `pid`), then the ld.so cache and the library directories; else a program
 * in $PATH.
 * @throws UsageError naming the library when nothing is found
 */
export function binaryOf(library: string, pid?: number): string {
  const mapped =
    pid !== undefined && !library.includes("/") ? libraryOfProcess(pid, library) : undefined;
  if (mapped) return mapped;
  try {
    return resolve(resolveBinary(library));
  } catch (e) {
    throw new UsageError(
      `trace funccount: unable to find library ${library}: ${(e as Error).message}`,
    );
  }
}

function limited(probes: Probe[], text: string): Probe[] {
  if (probes.length === 0) {
    throw new UsageError(`trace funccount: no functions matched by pattern '${text}'`);
  }
  if (probes.length > MAX_PROBES) {
    throw new UsageError(
      `trace funccount: '${text}' matches ${probes.length} functions; at most ${MAX_PROBES} probes are allowed`,
    );
  }
  return probes;
}

/** The user functions of `path` a pattern takes: one per address and per name. */
function userProbes(path: string, match: RegExp): Probe[] {
  const seenOffsets = new Set<bigint>();
  const seenNames = new Set<string>();
  const out: Probe[] = [];
  for (const s of functionSymbols(path)) {
    if (!match.test(s.name) || seenOffsets.has(s.fileOffset) || seenNames.has(s.name)) continue;
    seenOffsets.add(s.fileOffset);
    seenNames.add(s.name);
    out.push({
      name: s.name,
      sites: [{ offset: s.fileOffset, refCtrOffset: 0n }],
      ...(s.ifunc && { ifunc: true }),
    });
  }
  return out;
}

/** The USDT probes of `path` whose name a pattern takes (BCC matches names, not providers). */
function usdtSites(path: string, match: RegExp): Probe[] {
  const byName = new Map<string, UprobeSite[]>();
  for (const p of usdtProbes(readBinaryElf(path))) {
    if (!match.test(p.name)) continue;
    const sites = byName.get(p.name) ?? [];
    sites.push({ offset: p.fileOffset, refCtrOffset: p.semaphoreOffset });
    byName.set(p.name, sites);
  }
  return [...byName].map(([name, sites]) => ({ name, sites }));
}

/** Kernel functions kprobes may probe (tracefs available_filter_functions), matching. */
function kernelProbes(match: RegExp): Probe[] {
  const names = new Set<string>();
  const text = readFileSync(`${tracefsDir()}/available_filter_functions`, "utf8");
  for (const line of text.split("\n")) {
    const name = line.split(/\s/)[0];
    if (name && match.test(name)) names.add(name);
  }
  return [...names].map((name) => ({ name }));
}

/** Tracepoints ("group:event") under tracefs events/, matching. */
function tracepointProbes(match: RegExp): Probe[] {
  const dir = `${tracefsDir()}/events`;
  const out: Probe[] = [];
  for (const group of readdirSync(dir, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const event of readdirSync(`${dir}/${group.name}`, { withFileTypes: true })) {
      const name = `${group.name}:${event.name}`;
      if (
        event.isDirectory() &&
        match.test(name) &&
        existsSync(`${dir}/${name.replace(":", "/")}/id`)
      ) {
        out.push({ name });
      }
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** True when this kernel can make kprobes (the kprobe PMU or tracefs kprobe_events). */
export function haveKprobes(): boolean {
  return pmuType("kprobe") !== undefined || tracefsHas("kprobe_events");
}

/**
 * The functions (or tracepoints) `text` names.
 *
 * @throws UsageError for a bad pattern, a missing library or nothing matched;
 * NotSupportedError for kernel functions on a kernel without kprobes; ELFError for a
 * binary that cannot be read; Error when tracefs is missing
 */
export function resolveProbes(
  text: string,
  opts: { regex?: boolean; pid?: number } = {},
): ResolvedProbes {
  const pattern = parseProbePattern(text, opts.regex);
  switch (pattern.kind) {
    case "uprobe":
    case "usdt": {
      const path = binaryOf(pattern.library, opts.pid);
      const found = pattern.kind === "uprobe" ? userProbes : usdtSites;
      return { pattern, path, probes: limited(found(path, pattern.match), text) };
    }
    case "kprobe":
      if (!haveKprobes()) {
        throw new NotSupportedError(`counting kernel functions '${text}'`, KPROBES_UNAVAILABLE);
      }
      return { pattern, probes: limited(kernelProbes(pattern.match), text) };
    case "tracepoint":
      return { pattern, probes: limited(tracepointProbes(pattern.match), text) };
  }
}
