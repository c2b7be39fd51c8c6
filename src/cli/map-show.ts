/** `tsbpf map show|list [MAP]`, as bpftool prints it. */
import { type MapInfo, mapInfoByFd, readFdInfo } from "../kernel/map-info.ts";
import { mapIds, objectFdById } from "../kernel/objects.ts";
import type { Fd } from "../kernel/sys/index.ts";
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { type MapView, mapJson, mapPlain } from "./format-map.ts";
import { CliError } from "./output.ts";
import { pinnedFor, pinnedPaths } from "./pinned-paths.ts";
import { closeAll, openMaps, reason } from "./selectors.ts";

/** The view `map show` prints, from the kernel's info and fdinfo. */
export function mapView(fd: Fd, info: MapInfo, pins: Map<number, string[]> | undefined): MapView {
  const fdinfo = readFdInfo(fd.value);
  const owner = fdinfo.owner_prog_type;
  const jited = fdinfo.owner_jited;
  return {
    id: info.id,
    type: info.type,
    name: info.name,
    flags: info.flags,
    ifindex: info.ifindex,
    netnsDev: info.netnsDev,
    netnsIno: info.netnsIno,
    keySize: info.keySize,
    valueSize: info.valueSize,
    maxEntries: info.maxEntries,
    memlock: fdinfo.memlock,
    ownerProgType: owner === undefined ? undefined : Number.parseInt(owner, 10),
    ownerJited: jited === undefined ? undefined : Number.parseInt(jited, 10) !== 0,
    frozen: info.frozen,
    btfId: info.btfId,
    pinned: pinnedFor(pins, info.id),
  };
}

function showOne(ctx: Context, fd: Fd, pins: Map<number, string[]> | undefined): void {
  let info: MapInfo;
  try {
    info = mapInfoByFd(fd.value);
  } catch (e) {
    throw new CliError(`can't get map info: ${reason(e)}`);
  }
  const view = mapView(fd, info, pins);
  if (ctx.out.json) mapJson(ctx.out.w, view);
  else ctx.out.write(mapPlain(view));
}

/** `map show|list`. */
export async function showMaps(ctx: Context, args: Args): Promise<void> {
  const pins = ctx.opts.bpffs ? pinnedPaths("map") : undefined;
  if (args.count === 2) {
    const fds = openMaps(args);
    try {
      if (ctx.out.json && fds.length > 1) ctx.out.w.startArray();
      for (const fd of fds) showOne(ctx, fd, pins);
      if (ctx.out.json && fds.length > 1) ctx.out.w.endArray();
    } finally {
      closeAll(fds);
    }
    return;
  }
  args.end();
  if (ctx.out.json) ctx.out.w.startArray();
  for (const id of mapIds()) {
    let fd: Fd | undefined;
    try {
      fd = objectFdById("map", id);
    } catch (e) {
      throw new CliError(`can't get map by id (${id}): ${reason(e)}`);
    }
    if (!fd) continue;
    try {
      showOne(ctx, fd, pins);
    } finally {
      fd.close();
    }
  }
  if (ctx.out.json) ctx.out.w.endArray();
}
