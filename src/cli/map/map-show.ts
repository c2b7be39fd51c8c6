/** `tsbpf map show|list [MAP]`, as bpftool prints it. */
import { type MapInfo, mapInfoByFd, readFdInfo } from "../../kernel/maps/map-info.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { pinnedFor } from "../objects/pinned-paths.ts";
import { openMaps } from "../objects/selectors.ts";
import { showObjects } from "../objects/show-objects.ts";
import { type MapView, mapJson, mapPlain } from "./format-map.ts";

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

/** `map show|list`. */
export async function showMaps(ctx: Context, args: Args): Promise<void> {
  showObjects(ctx, args, {
    kind: "map",
    select: openMaps,
    info: (fd) => mapInfoByFd(fd.value),
    view: mapView,
    json: mapJson,
    plain: mapPlain,
  });
}
