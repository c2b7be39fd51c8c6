/** `tsbpf map create|pin|freeze`, with bpftool's grammar and messages. */
import { BpfMap } from "../../kernel/maps/map.ts";
import type { MapSpec } from "../../spec/map-spec.ts";
import { MapType, mapTypeName } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { pinAt, requirePinArgs } from "../objects/pin-path.ts";
import { errnoOf, openMap, reason } from "../objects/selectors.ts";

/** The map type bpftool's `type` keyword names (exact names only, as bpftool). */
export function mapTypeByName(name: string): MapType | undefined {
  for (const t of Object.values(MapType)) {
    if (t !== 0 && mapTypeName(t) === name) return t;
  }
  return undefined;
}

/** `map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries N name NAME [flags F] [inner_map MAP]`. */
export async function createMap(ctx: Context, args: Args): Promise<void> {
  args.require(7);
  const pinfile = args.next();
  let type: MapType | undefined;
  let name: string | undefined;
  let keySize = 0;
  let valueSize = 0;
  let maxEntries = 0;
  let flags = 0;
  let inner: MapSpec | undefined;
  const u32Once = (current: number, what: string): number => {
    args.skip();
    if (current) throw new CliError(`${what} already specified`);
    return args.u32(what);
  };
  while (args.count > 0) {
    args.require(2);
    if (args.is("type")) {
      args.skip();
      if (type !== undefined) throw new CliError("map type already specified");
      const w = args.next();
      type = mapTypeByName(w);
      if (type === undefined) throw new CliError(`unrecognized map type: ${w}`);
    } else if (args.is("name")) {
      args.skip();
      name = args.next();
    } else if (args.is("key")) {
      keySize = u32Once(keySize, "key size");
    } else if (args.is("value")) {
      valueSize = u32Once(valueSize, "value size");
    } else if (args.is("entries")) {
      maxEntries = u32Once(maxEntries, "max entries");
    } else if (args.is("flags")) {
      flags = u32Once(flags, "flags");
    } else if (args.is("dev")) {
      throw new CliError("offloading maps to a device (dev NAME) is not supported by tsbpf yet");
    } else if (args.is("inner_map")) {
      args.skip();
      args.require(2);
      const m = BpfMap.fromFd(openMap(args));
      try {
        inner = {
          name: m.name,
          type: m.type,
          keySize: m.keySize,
          valueSize: m.valueSize,
          maxEntries: m.maxEntries,
          flags: m.flags,
        };
      } finally {
        m.close();
      }
    } else {
      throw new CliError(`unknown arg ${args.peek()}`);
    }
  }
  if (name === undefined) throw new CliError("map name not specified");
  if (type === undefined) throw new CliError("map create failed: no map type given (type TYPE)");
  let map: BpfMap;
  try {
    map = BpfMap.create({
      name,
      type,
      keySize,
      valueSize,
      maxEntries,
      flags,
      ...(inner ? { innerMap: inner } : {}),
    });
  } catch (e) {
    throw new CliError(`map create failed: ${reason(e)}`);
  }
  try {
    pinAt(map.fd, pinfile);
  } finally {
    map.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `map pin MAP FILE`. */
export async function pinMap(ctx: Context, args: Args): Promise<void> {
  requirePinArgs(args);
  const fd = openMap(args);
  try {
    pinAt(fd.value, args.next());
  } finally {
    fd.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `map freeze MAP`. */
export async function freezeMap(ctx: Context, args: Args): Promise<void> {
  args.require(2);
  const map = BpfMap.fromFd(openMap(args));
  try {
    args.end();
    try {
      map.freeze();
    } catch (e) {
      throw new CliError(`failed to freeze map: ${reason(e)}`, exitForErrno(errnoOf(e)));
    }
  } finally {
    map.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}
