/**
 * `tsbpf link show|list [LINK]`: every link the kernel holds, or the one a selector
 * names, as bpftool prints them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { type LinkInfo, linkInfoByFd } from "../kernel/link-info.ts";
import { linkIds, objectFdById } from "../kernel/objects.ts";
import { programInfoByFd } from "../kernel/prog-info.ts";
import type { Fd } from "../kernel/sys/index.ts";
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { type LinkView, linkJson, linkPlain } from "./format-link.ts";
import { openLink } from "./link-select.ts";
import { CliError } from "./output.ts";
import { pinnedFor, pinnedPaths } from "./pinned-paths.ts";
import { reason } from "./selectors.ts";

/** The name of interface `ifindex` in this network namespace (if_indextoname). */
export function interfaceName(ifindex: number): string | undefined {
  try {
    for (const name of readdirSync("/sys/class/net")) {
      try {
        if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8")) === ifindex) return name;
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no sysfs
  }
  return undefined;
}

function progTypeOf(progId: number): number {
  const fd = objectFdById("prog", progId);
  if (!fd)
    throw new CliError(`can't get prog info: ${reason(new Error("No such file or directory"))}`);
  try {
    return programInfoByFd(fd.value).type;
  } catch (e) {
    throw new CliError(`can't get prog info: ${reason(e)}`);
  } finally {
    fd.close();
  }
}

/** The view `link show` prints, from the kernel's info. */
export function linkView(info: LinkInfo, pins: Map<number, string[]> | undefined): LinkView {
  const d = info.detail;
  const ifindex =
    d.kind === "xdp" || d.kind === "tcx" || d.kind === "netkit" ? d.ifindex : undefined;
  const ifname = ifindex ? interfaceName(ifindex) : undefined;
  return {
    info,
    ...(d.kind === "tracing" && { progType: progTypeOf(info.progId) }),
    ...(ifname !== undefined && { ifname }),
    pinned: pinnedFor(pins, info.id),
  };
}

function showOne(ctx: Context, fd: Fd, pins: Map<number, string[]> | undefined): void {
  let info: LinkInfo;
  try {
    info = linkInfoByFd(fd.value);
  } catch (e) {
    throw new CliError(`can't get link info: ${reason(e)}`);
  }
  const view = linkView(info, pins);
  if (ctx.out.json) linkJson(ctx.out.w, view);
  else ctx.out.write(linkPlain(view));
}

/** `link show|list`. */
export async function showLinks(ctx: Context, args: Args): Promise<void> {
  const pins = ctx.opts.bpffs ? pinnedPaths("link") : undefined;
  if (args.count === 2) {
    const fd = openLink(args);
    try {
      showOne(ctx, fd, pins);
    } finally {
      fd.close();
    }
    return;
  }
  args.end();
  if (ctx.out.json) ctx.out.w.startArray();
  for (const id of linkIds()) {
    let fd: Fd | undefined;
    try {
      fd = objectFdById("link", id);
    } catch (e) {
      throw new CliError(`can't get link by id (${id}): ${reason(e)}`);
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
