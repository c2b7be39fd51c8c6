/**
 * `tsbpf prog show|list [PROG]`: every program the kernel holds, or those a selector
 * names, as bpftool prints them.
 */
import { readFdInfo } from "../kernel/map-info.ts";
import { objectFdById, progIds } from "../kernel/objects.ts";
import { type ProgramInfo, programInfoByFd } from "../kernel/prog-info.ts";
import type { Fd } from "../kernel/sys/index.ts";
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { type ProgView, progJson, progPlain } from "./format-prog.ts";
import { CliError } from "./output.ts";
import { pinnedFor, pinnedPaths } from "./pinned-paths.ts";
import { progFullName } from "./prog-btf.ts";
import { closeAll, openProgs, reason } from "./selectors.ts";

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
  };
}

/** bpftool's show_prog: one program, plain or JSON. */
function showOne(ctx: Context, fd: Fd, pins: Map<number, string[]> | undefined): void {
  let info: ProgramInfo;
  try {
    info = programInfoByFd(fd.value);
  } catch (e) {
    throw new CliError(`can't get prog info: ${reason(e)}`);
  }
  const view = progView(fd, info, pins);
  if (ctx.out.json) progJson(ctx.out.w, view);
  else ctx.out.write(progPlain(view));
}

/** `prog show|list`. */
export async function showProgs(ctx: Context, args: Args): Promise<void> {
  const pins = ctx.opts.bpffs ? pinnedPaths("prog") : undefined;
  if (args.count === 2) {
    const fds = openProgs(args, (fd) => {
      const info = programInfoByFd(fd.value);
      return { name: progFullName(info), tag: info.tag };
    });
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
  for (const id of progIds()) {
    let fd: Fd | undefined;
    try {
      fd = objectFdById("prog", id);
    } catch (e) {
      throw new CliError(`can't get prog by id (${id}): ${reason(e)}`);
    }
    if (!fd) continue; // gone since we saw its id
    try {
      showOne(ctx, fd, pins);
    } finally {
      fd.close();
    }
  }
  if (ctx.out.json) ctx.out.w.endArray();
}
