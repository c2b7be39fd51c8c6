/**
 * Decoding and formatting `tsbpf_log.h` records, for both backends: the kernel's
 * `BpfLogger` (tsbpf/kernel) and the VM's `VmLogger` (tsbpf/vm) read their ring
 * buffer and hand each record's bytes to one {@link LogDecoder}.
 *
 * A record (see tsbpf_log.h): a 16-byte header — u32 site id, u8 level, u8 argument
 * count, u8 version, u8 reserved, u8 types[8] — then each argument at an 8-byte aligned
 * offset: integers and pointers as a u64; a MAC as 6 bytes in an 8-byte slot; a string
 * as an s32 (bpf_probe_read_*_str's result: length with the NUL, or -errno), a u32 (its
 * buffer's size) and the buffer padded to 8 bytes.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */
import { errnoName } from "../uapi/index.ts";
import type { LoadedCollection } from "./backend.ts";
import type { CollectionSpec } from "./collection-spec.ts";
import { formatLogMessage, type LogArg } from "./log-format.ts";
import {
  LOG_DROPPED_VARIABLE,
  LOG_FORMAT_VERSION,
  LOG_LEVEL_NAMES,
  LOG_MAP_NAME,
  LOG_MAX_ARGS,
  LogError,
  type LogLevel,
  type LogSite,
  logArgType,
  parseLogLevel,
  readLogSites,
  siteLabel,
} from "./log-sites.ts";

/** Offsets in a record's header. */
const Rec = { site: 0, level: 4, nargs: 5, version: 6, types: 8, args: 16 } as const;
/** Largest string buffer a record may claim (a ring record is at most a few MiB anyway). */
const MAX_STR = 1 << 16;

/** A decoded log record. */
export interface LogRecord {
  /** Its level (1 error .. 5 trace). */
  readonly level: LogLevel;
  /** "ERROR", "WARN", "INFO", "DEBUG" or "TRACE". */
  readonly levelName: string;
  /** The function that logged (the program, or a helper inlined into it). */
  readonly target: string;
  /** The call site's id. */
  readonly site: number;
  /** The call's format string. */
  readonly format: string;
  /** The arguments, decoded. */
  readonly args: readonly LogArg[];
  /** The formatted message (format and arguments). */
  readonly message: string;
}

/** What a logger does with records: filter, callback or lines. */
export interface LogOptions {
  /**
   * The most verbose level delivered (a number 1..5 or a name: "info"); default every
   * level. Records above it are decoded no further. The program-side filter is the
   * `tsbpf_log_level` constant (see {@link logLevelConstants}): it stops them earlier.
   */
  readonly level?: LogLevel | string;
  /** Receives each record; when given, no line is written. */
  readonly onRecord?: (record: LogRecord) => void;
  /** Makes a record's line (default {@link formatLogLine}: `[INFO  target] message`). */
  readonly format?: (record: LogRecord) => string;
  /** Writes a line (default `console.log`). */
  readonly write?: (line: string) => void;
  /**
   * Receives records that do not decode (truncated, unknown site, wrong arguments);
   * default: `console.error` of the message. Never thrown from the reading loop.
   */
  readonly onError?: (error: LogError, bytes: Uint8Array) => void;
}

/** `[INFO  target] message`: the level padded to 5, the function, the message. */
export function formatLogLine(record: LogRecord): string {
  const head = record.target
    ? `${record.levelName.padEnd(5)} ${record.target}`
    : record.levelName.padEnd(5);
  return `[${head}] ${record.message}`;
}

/**
 * The `constants` load option that sets the program-side level filter
 * (`tsbpf_log_level`): calls above `level` do not run, and the kernel's verifier drops
 * them as dead code.
 *
 * @example
 * ```ts
 * using coll = Collection.load(spec, { constants: logLevelConstants("info") });
 * ```
 */
export function logLevelConstants(level: LogLevel | string): Record<string, number> {
  return { tsbpf_log_level: parseLogLevel(level) };
}

/**
 * Decodes the records of one object's log calls, with the call sites read from its
 * spec (`.rodata.tsbpf_log`), and delivers them per {@link LogOptions}.
 *
 * @example
 * ```ts
 * const decoder = new LogDecoder(spec);
 * const rec = decoder.decode(bytes); // throws LogError for a bad record
 * console.log(formatLogLine(rec));
 * ```
 */
export class LogDecoder {
  /** The object's call sites by id. */
  readonly sites: ReadonlyMap<number, LogSite>;
  /** Records delivered by {@link handle}. */
  delivered = 0;
  /** Records {@link handle} skipped for their level. */
  filtered = 0;
  /** Records {@link handle} could not decode. */
  errors = 0;
  readonly #level: LogLevel;
  readonly #opts: LogOptions;
  readonly #text = new TextDecoder("utf-8", { fatal: false });

  /** @throws LogError for a malformed call site or format (see `readLogSites`). */
  constructor(object: CollectionSpec | LoadedCollection, opts: LogOptions = {}) {
    this.sites = readLogSites(object);
    this.#level = opts.level === undefined ? 5 : parseLogLevel(opts.level);
    this.#opts = opts;
  }

  /**
   * Decodes one record.
   *
   * @throws LogError saying what is wrong: too short, unknown site id, level, argument
   * count or types that differ from the site's, an argument past the end.
   */
  decode(bytes: Uint8Array): LogRecord {
    const site = this.#site(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const args: LogArg[] = [];
    let off: number = Rec.args;
    for (let i = 0; i < site.types.length; i++) {
      const type = site.types[i]!;
      const where = `${siteLabel(site)}: argument ${i + 1} (${type}) at byte ${off}`;
      if (off + 8 > bytes.length)
        throw new LogError(`${where}: the record ends at ${bytes.length} (truncated)`, site.id);
      const u64 = view.getBigUint64(off, true);
      if (type === "kstr" || type === "ustr") {
        const ret = view.getInt32(off, true);
        const cap = view.getUint32(off + 4, true);
        const end = off + 8 + Math.ceil(cap / 8) * 8;
        if (cap > MAX_STR || end > bytes.length)
          throw new LogError(
            `${where}: a ${cap}-byte string buffer does not fit in the record's ${bytes.length} bytes`,
            site.id,
          );
        if (ret > cap)
          throw new LogError(`${where}: length ${ret} exceeds its ${cap}-byte buffer`, site.id);
        if (ret < 0) {
          args.push({ type, value: "", fault: errnoName(ret) ?? `error ${ret}` });
        } else {
          const text = bytes.subarray(off + 8, off + 8 + Math.max(0, ret - 1));
          args.push({ type, value: this.#text.decode(text) });
        }
        off = end;
        continue;
      }
      if (type === "mac") {
        const mac = [...bytes.subarray(off, off + 6)];
        args.push({ type, value: mac.map((b) => b.toString(16).padStart(2, "0")).join(":") });
      } else if (type === "u64" || type === "s64" || type === "ptr") {
        args.push({ type, value: type === "s64" ? BigInt.asIntN(64, u64) : u64 });
      } else {
        const bits = type.endsWith("8") ? 8 : type.endsWith("16") ? 16 : 32;
        const v = type.startsWith("s") ? BigInt.asIntN(bits, u64) : BigInt.asUintN(bits, u64);
        args.push({ type, value: Number(v) });
      }
      off += 8;
    }
    if (off !== bytes.length)
      throw new LogError(
        `${siteLabel(site)}: ${bytes.length - off} bytes after the last argument (record of ${bytes.length}, arguments end at ${off})`,
        site.id,
      );
    return {
      level: site.level,
      levelName: LOG_LEVEL_NAMES[site.level],
      target: site.target,
      site: site.id,
      format: site.format,
      args,
      message: formatLogMessage(site.pieces, args),
    };
  }

  /** Checks the header of `bytes` against its site: the site. */
  #site(bytes: Uint8Array): LogSite {
    if (bytes.length < Rec.args)
      throw new LogError(
        `log record of ${bytes.length} bytes: truncated (the header alone is ${Rec.args})`,
      );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const id = view.getUint32(Rec.site, true);
    const version = bytes[Rec.version]!;
    if (version !== LOG_FORMAT_VERSION)
      throw new LogError(
        `log record version ${version}, this reader knows ${LOG_FORMAT_VERSION}`,
        id,
      );
    const site = this.sites.get(id);
    if (site === undefined) {
      const known = [...this.sites.keys()].sort((a, b) => a - b).join(", ") || "none";
      throw new LogError(
        `log record from unknown call site ${id} (the object's sites: ${known}; a record from another object?)`,
        id,
      );
    }
    const level = bytes[Rec.level]!;
    if (level !== site.level)
      throw new LogError(
        `${siteLabel(site)}: record has level ${level}, the site ${site.level}`,
        id,
      );
    const nargs = bytes[Rec.nargs]!;
    if (nargs !== site.types.length)
      throw new LogError(
        `${siteLabel(site)}: record has ${nargs} arguments, the site takes ${site.types.length}`,
        id,
      );
    for (let i = 0; i < LOG_MAX_ARGS; i++) {
      const tag = bytes[Rec.types + i]!;
      const want = site.types[i];
      if (i >= nargs ? tag !== 0 : logArgType(tag) !== want)
        throw new LogError(
          `${siteLabel(site)}: record's argument ${i + 1} has type tag ${tag}, the site's is ${want ?? "none"}`,
          id,
        );
    }
    return site;
  }

  /**
   * Decodes `bytes` and delivers the record per the options: dropped when above the
   * level, else to `onRecord`, or formatted and written. A record that does not decode
   * goes to `onError` (never thrown).
   */
  handle(bytes: Uint8Array): void {
    // The level byte is checked against the site in decode(); filtering on it first
    // spares the decoding of records nobody wants.
    if (bytes.length > Rec.level && bytes[Rec.level]! > this.#level) {
      this.filtered++;
      return;
    }
    let rec: LogRecord;
    try {
      rec = this.decode(bytes);
    } catch (e) {
      if (!(e instanceof LogError)) throw e;
      this.errors++;
      if (this.#opts.onError) this.#opts.onError(e, bytes);
      else console.error(`tsbpf log: ${e.message}`);
      return;
    }
    this.delivered++;
    const { onRecord, format = formatLogLine, write = console.log } = this.#opts;
    if (onRecord) onRecord(rec);
    else write(format(rec));
  }
}

/**
 * The `TSBPF_LOG` ring buffer map of a loaded collection.
 *
 * @throws LogError when the collection has none (the object does not include tsbpf_log.h).
 */
export function logMapOf<T>(maps: Readonly<Record<string, T>>): T {
  const map = maps[LOG_MAP_NAME];
  if (map === undefined)
    throw new LogError(
      `no ${LOG_MAP_NAME} map in the collection (maps: ${Object.keys(maps).join(", ") || "none"}): does the object include tsbpf_log.h?`,
    );
  return map;
}

/** `tsbpf_log_dropped` of a loaded collection: records lost to a full ring (0 without it). */
export function logDroppedOf(coll: LoadedCollection): bigint {
  const v = (coll.variables as Record<string, LoadedCollection["variables"][string]>)[
    LOG_DROPPED_VARIABLE
  ];
  return v === undefined ? 0n : v.toBigInt();
}
