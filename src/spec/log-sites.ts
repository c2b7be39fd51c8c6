/**
 * The call sites of `tsbpf_log.h` in an object: each `log_info(ctx, "fmt", ...)` leaves
 * a descriptor in the `.rodata.tsbpf_log` section (magic, site id, level, argument
 * count and types, format string), named after its function by clang
 * (`log_openat.__tsbpf_log_site.3`). This module reads them from a
 * {@link CollectionSpec}: the section's contents and its BTF variables.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */
import type { LoadedCollection } from "./backend.ts";
import type { CollectionSpec, VariableSpec } from "./collection-spec.ts";
import { type FormatPiece, parseLogFormat } from "./log-format.ts";

/** The section `tsbpf_log.h` keeps its call sites in. */
export const LOG_SITES_SECTION = ".rodata.tsbpf_log";
/** The ring buffer map `tsbpf_log.h` defines. */
export const LOG_MAP_NAME = "TSBPF_LOG";
/** The `.rodata` variable holding the most verbose level the program writes. */
export const LOG_LEVEL_VARIABLE = "tsbpf_log_level";
/** The `.bss` counter of records dropped on a full ring. */
export const LOG_DROPPED_VARIABLE = "tsbpf_log_dropped";
/** Format version of sites and records (`TSBPF_LOG_VERSION`). */
export const LOG_FORMAT_VERSION = 1;
/** Most arguments a call takes (`TSBPF_LOG_MAX_ARGS`). */
export const LOG_MAX_ARGS = 8;

const SITE_MAGIC = 0x474c5354; // "TSLG"
/** Offsets in a site descriptor (the static struct of `__tsbpf_log`). */
const Site = { magic: 0, id: 4, level: 8, nargs: 9, version: 10, types: 12, format: 20 } as const;

/** Log levels, as in tsbpf_log.h (and aya-log): lower is more severe. */
export const LogLevel = { Error: 1, Warn: 2, Info: 3, Debug: 4, Trace: 5 } as const;
/** A log level number (1..5). */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];
/** Level names as lines show them, by level. */
export const LOG_LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  1: "ERROR",
  2: "WARN",
  3: "INFO",
  4: "DEBUG",
  5: "TRACE",
};

/** True for a level number 1..5. */
export function isLogLevel(n: number): n is LogLevel {
  return Number.isInteger(n) && n >= LogLevel.Error && n <= LogLevel.Trace;
}

/**
 * A level given as a number or a name ("info", "WARN"...); throws a RangeError naming
 * the accepted values otherwise.
 */
export function parseLogLevel(level: LogLevel | string | number): LogLevel {
  if (typeof level === "number") {
    if (isLogLevel(level)) return level;
  } else {
    const n = Object.entries(LOG_LEVEL_NAMES).find(([, name]) => name === level.toUpperCase());
    if (n) return Number(n[0]) as LogLevel;
  }
  throw new RangeError(
    `log level ${JSON.stringify(level)}: expected 1..5 or error, warn, info, debug, trace`,
  );
}

/** Argument type tags (`TSBPF_LOG_ARG_*`), by tag. */
export const LOG_ARG_TYPES = {
  1: "u8",
  2: "s8",
  3: "u16",
  4: "s16",
  5: "u32",
  6: "s32",
  7: "u64",
  8: "s64",
  9: "kstr",
  10: "ustr",
  11: "ptr",
  12: "mac",
} as const;
/** What a log argument is, from its C type. */
export type LogArgType = (typeof LOG_ARG_TYPES)[keyof typeof LOG_ARG_TYPES];

/** The type name of tag `tag`, or undefined for an unknown tag. */
export function logArgType(tag: number): LogArgType | undefined {
  return (LOG_ARG_TYPES as Record<number, LogArgType>)[tag];
}

/** One `log_*()` call of the object. */
export interface LogSite {
  /** The call's id (its `__COUNTER__`), written in each record. */
  readonly id: number;
  /** Its level. */
  readonly level: LogLevel;
  /** The function the call is in (the program, or an inlined helper); "" when unknown. */
  readonly target: string;
  /** The format string, as written in C. */
  readonly format: string;
  /** The arguments' types, in order. */
  readonly types: readonly LogArgType[];
  /** The format, parsed (literal text and conversions). */
  readonly pieces: readonly FormatPiece[];
}

/** A call site or a record that cannot be read or formatted; `site` when known. */
export class LogError extends Error {
  override name = "LogError";
  /** The call site's id, when the error is about one. */
  readonly site: number | undefined;
  constructor(message: string, site?: number) {
    super(message);
    this.site = site;
  }
}

function describeSite(id: number, target: string, format?: string): string {
  return `log site ${id}${target ? ` in ${target}()` : ""}${format === undefined ? "" : ` ("${format}")`}`;
}

/** `describeSite` for a read site: "log site 3 in log_openat() ("pid=%d")". */
export function siteLabel(site: LogSite): string {
  return describeSite(site.id, site.target, site.format);
}

/** True for a loaded collection (either backend), false for a spec. */
export function isLoadedCollection(o: CollectionSpec | LoadedCollection): o is LoadedCollection {
  return typeof (o as LoadedCollection).map === "function";
}

/**
 * The site section's bytes and variables: from a spec, its initial contents; from a
 * loaded collection, its map's value (the kernel's copy, or the VM's).
 */
function siteSection(
  object: CollectionSpec | LoadedCollection,
): { bytes: Uint8Array | undefined; vars: VariableSpec[] } | undefined {
  if (isLoadedCollection(object)) {
    const map = (object.maps as Record<string, LoadedCollection["maps"][string]>)[
      LOG_SITES_SECTION
    ];
    if (map === undefined) return undefined;
    const vars = Object.values(object.variables).map((v) => v.spec);
    return {
      bytes: map.lookup(new Uint8Array(4)),
      vars: vars.filter((v) => v.map === LOG_SITES_SECTION),
    };
  }
  const map = object.maps[LOG_SITES_SECTION];
  if (map === undefined) return undefined;
  const vars = Object.values(object.variables).filter((v) => v.map === LOG_SITES_SECTION);
  return { bytes: map.contents?.[0]?.value, vars };
}

/**
 * The call sites of `object` (a spec, or a collection loaded by either backend) by id: none when the object has no `.rodata.tsbpf_log`.
 * Each site's format is checked against its arguments (count, and a type each
 * conversion can print).
 *
 * @throws LogError naming the site for a malformed descriptor, a duplicate id, or a
 * format that does not fit its arguments; for a site section without BTF variables.
 */
export function readLogSites(object: CollectionSpec | LoadedCollection): Map<number, LogSite> {
  const sites = new Map<number, LogSite>();
  const section = siteSection(object);
  if (section === undefined) return sites;
  const { bytes, vars } = section;
  if (bytes === undefined || vars.length === 0) {
    throw new LogError(
      `${LOG_SITES_SECTION}: no call sites readable (compile with -g: the reader finds them through the section's BTF)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const v of vars) {
    const dot = v.name.indexOf(".");
    const target = dot > 0 ? v.name.slice(0, dot) : "";
    const where = `${LOG_SITES_SECTION}: variable "${v.name}" (offset ${v.offset}, ${v.size} bytes)`;
    if (v.size < Site.format + 1 || v.offset < 0 || v.offset + v.size > bytes.length)
      throw new LogError(`${where}: not a call site (too small or outside the section)`);
    const at = (o: number) => view.getUint8(v.offset + o);
    if (view.getUint32(v.offset + Site.magic, true) !== SITE_MAGIC)
      throw new LogError(`${where}: not a call site (no TSLG magic)`);
    const id = view.getUint32(v.offset + Site.id, true);
    const level = at(Site.level);
    const nargs = at(Site.nargs);
    const version = at(Site.version);
    if (version !== LOG_FORMAT_VERSION)
      throw new LogError(
        `${describeSite(id, target)}: version ${version}, this reader knows ${LOG_FORMAT_VERSION}`,
        id,
      );
    if (!isLogLevel(level))
      throw new LogError(`${describeSite(id, target)}: level ${level} is not 1..5`, id);
    if (nargs > LOG_MAX_ARGS)
      throw new LogError(
        `${describeSite(id, target)}: ${nargs} arguments, at most ${LOG_MAX_ARGS}`,
        id,
      );
    const types: LogArgType[] = [];
    for (let i = 0; i < nargs; i++) {
      const t = logArgType(at(Site.types + i));
      if (t === undefined)
        throw new LogError(
          `${describeSite(id, target)}: argument ${i + 1} has unknown type tag ${at(Site.types + i)}`,
          id,
        );
      types.push(t);
    }
    const fmtBytes = bytes.subarray(v.offset + Site.format, v.offset + v.size);
    const nul = fmtBytes.indexOf(0);
    const format = new TextDecoder().decode(nul < 0 ? fmtBytes : fmtBytes.subarray(0, nul));
    if (sites.has(id))
      throw new LogError(
        `${describeSite(id, target, format)}: id used twice (tsbpf_log.h included in more than one file of the object?)`,
        id,
      );
    let pieces: FormatPiece[];
    try {
      pieces = parseLogFormat(format, types);
    } catch (e) {
      throw new LogError(`${describeSite(id, target, format)}: ${(e as Error).message}`, id);
    }
    sites.set(id, { id, level, target, format, types, pieces });
  }
  return sites;
}
