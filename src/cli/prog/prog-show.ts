/**
 * `tsbpf prog show|list [PROG]`: every program the kernel holds, or those a selector
 * names, as bpftool prints them.
 */
import { readFdInfo } from "../../kernel/maps/map-info.ts";
import { type ProgramInfo, programInfoByFd } from "../../kernel/programs/prog-info.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { pinnedFor } from "../objects/pinned-paths.ts";
import { openProgs } from "../objects/selectors.ts";
import { showObjects } from "../objects/show-objects.ts";
import { type ProgView, progJson, progPlain } from "./format-prog.ts";
import { progFullName } from "./prog-btf.ts";
import { progMetadata } from "./prog-metadata.ts";

/** The view `prog show` prints, from the kernel's info and fdinfo. */
export function progView(
  fd: Fd,
  info: ProgramInfo,
  pins: Map<number, string[]> | undefined,
): ProgView {
  const fdinfo = readFdInfo(fd.value);
  return {
    id: info.id,
    type: info.type,
    name: info.name ? progFullName(info) : "",
    tag: info.tag,
    gplCompatible: info.gplCompatible,
    runTimeNs: info.runTimeNs,
    runCnt: info.runCnt,
    recursionMisses: info.recursionMisses,
    ifindex: info.ifindex,
    netnsDev: info.netnsDev,
    netnsIno: info.netnsIno,
    loadedAt: info.loadTime ? info.loadedAt : undefined,
    uid: info.createdByUid,
    bytesXlated: info.xlatedProgLen,
    bytesJited: info.jitedProgLen,
    memlock: fdinfo.memlock,
    mapIds: info.mapIds,
    btfId: info.btfId,
    pinned: pinnedFor(pins, info.id),
    metadata: info.mapIds.length > 0 ? progMetadata(info.mapIds) : undefined,
  };
}

/** `prog show|list`. */
export async function showProgs(ctx: Context, args: Args): Promise<void> {
  showObjects(ctx, args, {
    kind: "prog",
    select: (a) =>
      openProgs(a, (fd) => {
        const info = programInfoByFd(fd.value);
        return { name: progFullName(info), tag: info.tag };
      }),
    info: (fd) => programInfoByFd(fd.value),
    view: progView,
    json: progJson,
    plain: progPlain,
  });
}
