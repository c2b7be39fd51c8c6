/**
 * Element commands of `tsbpf map`: dump, lookup, getnext, update, delete and the
 * queue/stack forms push, enqueue, pop, dequeue, peek — with bpftool's argument grammar
 * (`key [hex] BYTES`, `value [hex] BYTES | MAP | PROG`, `any|exist|noexist`) and output.
 */
import { BpfMap } from "../../kernel/maps/map.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { isMapInMapType, isPerCpuMapType } from "../../spec/map-spec.ts";
import { Errno, MapType, mapTypeName, UpdateFlags } from "../../uapi/index.ts";
import { Args, parseBytes } from "../args.ts";
import { entryBtf, type MapBtf, mapBtf } from "../btf/btf-value.ts";
import type { Context } from "../command.ts";
import { fprintHex, hexBytesJson } from "../format/hex.ts";
import { JsonWriter } from "../format/json-writer.ts";
import { CliError, exitForErrno, UsageError } from "../format/output.ts";
import { closeAll, errnoOf, openMap, openMaps, openProg, reason } from "../objects/selectors.ts";
import { identifyProg } from "../prog/prog-pin.ts";
import {
  type EntryShape,
  entryErrorJson,
  entryErrorPlain,
  entryJson,
  entryPlain,
  isMapOfProgs,
  type MapEntry,
  mapHeaderJson,
  mapHeaderPlain,
} from "./format-map.ts";

/** Opens the map a MAP selector names (exactly one). */
function open(args: Args): BpfMap {
  const fd = openMap(args);
  try {
    return BpfMap.fromFd(fd);
  } catch (e) {
    fd.close();
    throw new CliError(`can't get map info: ${reason(e)}`);
  }
}

/** What bpftool's parse_elem found. */
interface Elem {
  key: Uint8Array | undefined;
  value: Uint8Array | undefined;
  flags: number | undefined;
  /** A map or program opened for a map-in-map or program-array value. */
  valueFd: Fd | undefined;
}

/**
 * bpftool's parse_elem: `key`, `value` and (when `flags` is wanted) one of
 * `any`/`exist`/`noexist`, in any order. A key is wanted when the map has keys;
 * `value` only when `wantValue`.
 */
function parseElem(args: Args, map: BpfMap, wantValue: boolean, wantFlags: boolean): Elem {
  const out: Elem = { key: undefined, value: undefined, flags: undefined, valueFd: undefined };
  let needKey = map.keySize > 0;
  let needValue = wantValue && map.valueSize > 0;
  let flagsOpen = wantFlags;
  try {
    for (;;) {
      const w = args.peek();
      if (w === undefined) {
        if (!needKey && !needValue) return out;
        throw new CliError(`did not find ${needKey ? "key" : "value"}`);
      }
      if (args.is("key")) {
        if (!needKey) throw new CliError(map.keySize ? "duplicate key" : "unnecessary key");
        args.skip();
        out.key = parseBytes(args, "key", map.keySize);
        needKey = false;
      } else if (args.is("value")) {
        if (!needValue) {
          throw new CliError(wantValue && map.valueSize ? "duplicate value" : "unnecessary value");
        }
        args.skip();
        out.value = parseValue(args, map, out);
        needValue = false;
      } else if (args.is("any") || args.is("noexist") || args.is("exist")) {
        if (!flagsOpen) throw new CliError(`flags specified multiple times: ${w}`);
        out.flags = args.is("any")
          ? UpdateFlags.ANY
          : args.is("noexist")
            ? UpdateFlags.NOEXIST
            : UpdateFlags.EXIST;
        args.skip();
        flagsOpen = false;
      } else {
        throw new CliError(`expected key or value, got: ${w}`);
      }
    }
  } catch (e) {
    out.valueFd?.close();
    throw e;
  }
}

function fdBytes(fd: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, fd, true);
  return b;
}

function parseValue(args: Args, map: BpfMap, out: Elem): Uint8Array {
  if (isMapInMapType(map.type) || isMapOfProgs(map.type)) {
    const what = isMapInMapType(map.type) ? "map in map" : "map of progs";
    if (map.valueSize !== 4) {
      throw new CliError(`value smaller than 4B for ${what}?`);
    }
    if (args.count < 2) throw new CliError(`not enough value arguments for ${what}`);
    const sel = new Args(args.rest().slice(0, 2));
    args.skip();
    args.skip();
    out.valueFd = isMapInMapType(map.type) ? openMap(sel) : openProg(sel, identifyProg);
    return fdBytes(out.valueFd.value);
  }
  return parseBytes(args, "value", map.valueSize);
}

/** The shape entry formatting needs. */
function shapeOf(map: BpfMap): EntryShape {
  return { type: map.type, keySize: map.keySize, valueSize: map.valueSize };
}

/**
 * bpftool's print_key_value (lookup, peek, pop): through the map's BTF when it has
 * some — the "formatted" member with `-j`, a pretty object of its own in plain text.
 */
function printEntry(ctx: Context, map: BpfMap, e: MapEntry): void {
  const mb = mapBtf(map.info());
  if (ctx.out.json) {
    const w = ctx.out.w;
    entryJson(w, e, mb && (() => entryBtf(w, mb, e, false)));
  } else if (mb) {
    const w = new JsonWriter((s) => ctx.out.write(s), true);
    entryBtf(w, mb, e, true);
    ctx.out.write("\n");
  } else {
    ctx.out.write(entryPlain(shapeOf(map), e));
  }
}

/** Looks a key up; per-CPU maps give one value per CPU. */
function lookupEntry(map: BpfMap, key: Uint8Array): MapEntry | undefined {
  if (isPerCpuMapType(map.type)) {
    const values = map.lookupPerCpu(key);
    return values && { key, values };
  }
  const value = map.lookup(key);
  return value && { key, value };
}

/** `map dump MAP`. */
export async function dumpMap(ctx: Context, args: Args): Promise<void> {
  if (args.count !== 2) throw new UsageError();
  const fds = openMaps(args);
  const maps: BpfMap[] = [];
  try {
    for (const fd of fds.splice(0)) {
      try {
        maps.push(BpfMap.fromFd(fd));
      } catch (e) {
        fd.close();
        throw new CliError(`can't get map info: ${reason(e)}`);
      }
    }
    const several = maps.length > 1;
    // Plain text goes through a pretty JSON writer of its own when every map has BTF
    // (bpftool's get_btf_writer); its end adds a newline (jsonw_destroy).
    const plainBtf = !ctx.out.json && maps.every((m) => m.info().btfId !== 0);
    const wtr = ctx.out.json
      ? ctx.out.w
      : plainBtf
        ? new JsonWriter((s) => ctx.out.write(s), true)
        : undefined;
    if (wtr && several) wtr.startArray();
    try {
      maps.forEach((map, i) => {
        dumpOne(ctx, map, several, wtr);
        if (!wtr && i !== maps.length - 1) ctx.out.write("\n");
      });
    } finally {
      if (plainBtf && wtr) {
        wtr.closeAll();
        ctx.out.write("\n");
      }
    }
    if (ctx.out.json && several) ctx.out.w.endArray();
  } finally {
    closeAll(fds);
    for (const m of maps) m.close();
  }
}

/**
 * bpftool's map_dump: `wtr` is the JSON writer (`-j`), the plain-text BTF writer, or
 * undefined for plain hex.
 */
function dumpOne(ctx: Context, map: BpfMap, header: boolean, wtr: JsonWriter | undefined): void {
  const info = map.info();
  const w = ctx.out.w;
  let mb: MapBtf | undefined;
  if (wtr) {
    mb = mapBtf(info);
    if (header) {
      wtr.startObject();
      mapHeaderJson(wtr, info);
      wtr.name("elements");
    }
    wtr.startArray();
  } else if (header) {
    ctx.out.write(mapHeaderPlain(info));
  }
  const isQueue = map.type === MapType.QUEUE || map.type === MapType.STACK;
  if (isQueue || map.type === MapType.BLOOM_FILTER) {
    throw new CliError(
      `can't dump a ${mapTypeName(map.type)} map: it has no keys to walk (use peek${isQueue ? " or pop" : ""})`,
    );
  }
  let count = 0;
  let key: Uint8Array | undefined;
  for (;;) {
    let next: Uint8Array | undefined;
    try {
      next = map.nextKey(key);
    } catch (e) {
      throw new CliError(`can't get next key: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
    if (next === undefined) break;
    key = next;
    let entry: MapEntry | undefined;
    let failure: string | undefined;
    try {
      entry = lookupEntry(map, key);
      if (!entry) failure = "ENOENT";
    } catch (e) {
      failure = reason(e);
    }
    if (entry) {
      const e = entry;
      if (ctx.out.json) entryJson(w, e, mb && (() => entryBtf(w, mb, e, false)));
      else if (mb && wtr) entryBtf(wtr, mb, e, true);
      else ctx.out.write(entryPlain(shapeOf(map), e));
      count++;
      continue;
    }
    // A key without a value: an empty slot of a map-in-map or program array (silent,
    // as in bpftool), or a key deleted while we walked.
    if ((isMapInMapType(map.type) || isMapOfProgs(map.type)) && failure === "ENOENT") continue;
    if (ctx.out.json) {
      entryErrorJson(w, key, failure === "ENOENT" ? "No such file or directory" : (failure ?? ""));
    } else {
      const msg = failure === "ENOENT" ? "<no entry>" : (failure ?? "");
      ctx.out.write(entryErrorPlain(shapeOf(map), key, msg));
    }
  }
  if (wtr) {
    wtr.endArray();
    if (header) wtr.endObject();
  } else {
    ctx.out.write(`Found ${count} element${count !== 1 ? "s" : ""}\n`);
  }
}

/** `map lookup MAP [key DATA]` and `map peek MAP`. */
export async function lookupMap(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) throw new UsageError();
  const map = open(args);
  try {
    const { key } = parseElem(args, map, false, false);
    let entry: MapEntry | undefined;
    try {
      if (map.keySize === 0) {
        const value = map.type === MapType.BLOOM_FILTER ? undefined : map.peek();
        if (map.type === MapType.BLOOM_FILTER) {
          throw new CliError("a bloom filter has no values to read: it only answers membership");
        }
        entry = value && { key: new Uint8Array(0), value };
      } else {
        entry = lookupEntry(map, key as Uint8Array);
      }
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`lookup failed: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
    if (!entry) {
      if (ctx.out.json) ctx.out.value(null);
      else ctx.out.write(`key:\n${fprintHex(key ?? new Uint8Array(0))}\n\nNot found\n`);
      // bpftool exits with an error here (the lookup failed), after printing "Not found".
      throw new NotFound();
    }
    printEntry(ctx, map, entry);
  } finally {
    map.close();
  }
}

/** A lookup that found nothing: already reported on stdout, exit code 255. */
export class NotFound extends CliError {
  constructor() {
    super("", exitForErrno(Errno.ENOENT));
  }
}

/** `map getnext MAP [key DATA]`. */
export async function getnextMap(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) throw new UsageError();
  const map = open(args);
  try {
    const key = args.count > 0 ? parseElem(args, map, false, false).key : undefined;
    let next: Uint8Array | undefined;
    try {
      next = map.nextKey(key);
    } catch (e) {
      throw new CliError(`can't get next key: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
    if (next === undefined) {
      throw new CliError(
        "can't get next key: No such file or directory",
        exitForErrno(Errno.ENOENT),
      );
    }
    if (ctx.out.json) {
      ctx.out.value({ key: key ? hexBytesJson(key) : null, next_key: hexBytesJson(next) });
    } else {
      ctx.out.write(
        `${key ? `key:\n${fprintHex(key)}\n` : "key: None\n"}next key:\n${fprintHex(next)}\n`,
      );
    }
  } finally {
    map.close();
  }
}

/** `map update MAP [key DATA] [value VALUE] [UPDATE_FLAGS]`, `push` and `enqueue`. */
export async function updateMap(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) throw new UsageError();
  const map = open(args);
  let elem: Elem | undefined;
  try {
    elem = parseElem(args, map, true, true);
    const flags = elem.flags ?? UpdateFlags.ANY;
    const value = elem.value ?? new Uint8Array(0);
    try {
      if (map.keySize === 0) map.push(value, flags);
      else if (isPerCpuMapType(map.type)) {
        map.updatePerCpu(elem.key as Uint8Array, new Array(map.cpus).fill(value), flags);
      } else map.update(elem.key as Uint8Array, value, flags);
    } catch (e) {
      throw new CliError(`update failed: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
  } finally {
    elem?.valueFd?.close();
    map.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `map delete MAP key DATA`. */
export async function deleteMap(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) throw new UsageError();
  const map = open(args);
  try {
    const { key } = parseElem(args, map, false, false);
    let deleted: boolean;
    try {
      deleted = map.delete(key ?? new Uint8Array(0));
    } catch (e) {
      throw new CliError(`delete failed: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
    if (!deleted)
      throw new CliError("delete failed: No such file or directory", exitForErrno(Errno.ENOENT));
  } finally {
    map.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `map pop MAP` and `map dequeue MAP`. */
export async function popMap(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) throw new UsageError();
  const map = open(args);
  try {
    let value: Uint8Array | undefined;
    try {
      value = map.pop();
    } catch (e) {
      throw new CliError(`pop failed: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
    if (value === undefined) {
      // bpftool prints this on stdout and fails.
      if (ctx.out.json) ctx.out.value(null);
      else ctx.out.write("Error: empty map\n");
      throw new NotFound();
    }
    printEntry(ctx, map, { key: new Uint8Array(0), value });
  } finally {
    map.close();
  }
}
