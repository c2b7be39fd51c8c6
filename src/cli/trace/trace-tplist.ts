/**
 * `tsbpf trace tplist --lib BINARY | --pid PID [--verbose] [--json] [FILTER]`: the USDT
 * probes of an executable or library (or of every file a process maps), as BCC's
 * `tplist -l` lists them — `BINARY PROVIDER:NAME` — and with `--verbose` as its `-vv`
 * does: the semaphore, each site and each argument's size, signedness and place.
 * FILTER matches `PROVIDER:NAME` with `*` wildcards. Reads files only: no privileges.
 *
 * @module
 */

import { readFileSync, realpathSync } from "node:fs";
import { UsdtArgKind, type UsdtArgSpec, type UsdtProbe, usdtProbes } from "../../elf/index.ts";
import { resolveBinary } from "../../kernel/links/uprobe-library.ts";
import { readBinaryElf } from "../../kernel/links/uprobe-symbols.ts";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { parseToolArgs } from "./tool-options.ts";
import { TPLIST_OPTIONS } from "./tool-tables.ts";

/** One argument as tplist -vv words it: `8 unsigned bytes @ rbp`. */
export function describeUsdtArg(a: UsdtArgSpec): string {
  const what = `${a.size} ${a.signed ? "signed" : "unsigned"} bytes`;
  if (a.kind === UsdtArgKind.CONST) return `${what} = ${BigInt.asIntN(64, a.valueOffset)}`;
  if (a.kind === UsdtArgKind.REG) return `${what} @ ${a.register}`;
  return `${what} @ ${BigInt.asIntN(64, a.valueOffset)}(${a.register})`;
}

/** Groups sites by probe, in the notes' order. */
function byProbe(probes: readonly UsdtProbe[]): Map<string, UsdtProbe[]> {
  const out = new Map<string, UsdtProbe[]>();
  for (const p of probes) {
    const key = `${p.provider}:${p.name}`;
    const list = out.get(key);
    if (list) list.push(p);
    else out.set(key, [p]);
  }
  return out;
}

/** tplist's lines for the probes of `path` (`verbose`: its -vv detail). */
export function formatProbeList(path: string, probes: readonly UsdtProbe[], verbose: boolean) {
  let out = "";
  for (const [key, sites] of byProbe(probes)) {
    if (!verbose) {
      out += `${path} ${key}\n`;
      continue;
    }
    out += `${key} [sema 0x${(sites[0]?.semaphoreAddress ?? 0n).toString(16)}]\n`;
    sites.forEach((s, i) => {
      out += `  location #${i} ${path} 0x${s.address.toString(16)}\n`;
      s.argSpecs.forEach((a, j) => {
        out += `    argument #${j} ${describeUsdtArg(a)}\n`;
      });
    });
  }
  return out;
}

/** tplist's JSON: one object per probe. */
export function probeListJson(path: string, probes: readonly UsdtProbe[]): string {
  let out = "";
  for (const [key, sites] of byProbe(probes)) {
    const [provider, name] = key.split(":");
    out += `${JSON.stringify({
      binary: path,
      provider,
      name,
      semaphore: Number(sites[0]?.semaphoreAddress ?? 0n),
      locations: sites.map((s) => ({
        address: Number(s.address),
        file_offset: Number(s.fileOffset),
        arguments: s.argSpecs.map((a) => a.text),
      })),
    })}\n`;
  }
  return out;
}

function globMatcher(glob: string | undefined): (key: string) => boolean {
  if (glob === undefined) return () => true;
  const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return (key) => re.test(key);
}

/** The executable and the file-backed mappings of process `pid`. */
function processFiles(pid: number): string[] {
  try {
    const files = new Set([realpathSync(`/proc/${pid}/exe`)]);
    for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
      const path = line.split(/\s+/)[5];
      if (path?.startsWith("/") && !path.startsWith("/dev/") && !path.startsWith("/memfd:")) {
        files.add(path);
      }
    }
    return [...files];
  } catch (e) {
    throw new CliError(`no process ${pid}: ${(e as Error).message}`, 1);
  }
}

/** Runs `tsbpf trace tplist ...`. */
export function traceTplist(ctx: Context, args: Args): void {
  const { values: v, positionals } = parseToolArgs(args.rest(), TPLIST_OPTIONS, "tplist");
  if (v.help) {
    printHelp(ctx, ctx.usage());
    return;
  }
  if (positionals.length > 1) throw new UsageError("trace tplist takes one FILTER");
  const lib = typeof v.lib === "string" ? v.lib : undefined;
  const pid = typeof v.pid === "string" ? v.pid : undefined;
  if ((lib === undefined) === (pid === undefined)) {
    throw new UsageError("trace tplist needs --lib BINARY or --pid PID");
  }
  if (pid !== undefined && !/^\d+$/.test(pid)) {
    throw new UsageError(`--pid takes a process id, not '${pid}'`);
  }
  const files = lib !== undefined ? [resolveBinary(lib)] : processFiles(Number(pid));
  const wanted = globMatcher(positionals[0]);
  const json = v.json === true || ctx.opts.json;
  for (const file of files) {
    let probes: UsdtProbe[];
    try {
      probes = usdtProbes(readBinaryElf(file)).filter((p) => wanted(`${p.provider}:${p.name}`));
    } catch (e) {
      // A mapped file that is not ELF (a locale archive) has no probes; a named one must be.
      if (lib === undefined) continue;
      throw new CliError(`trace tplist: ${(e as Error).message}`, 1);
    }
    ctx.out.write(
      json ? probeListJson(file, probes) : formatProbeList(file, probes, v.verbose === true),
    );
  }
}
