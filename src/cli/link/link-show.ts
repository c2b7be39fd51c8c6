/**
 * `tsbpf link show|list [LINK]`: every link the kernel holds, or the one a selector
 * names, as bpftool prints them.
 */

import { type LinkInfo, linkInfoByFd } from "../../kernel/links/link-info.ts";
import { interfaceNameOf } from "../../kernel/links/netdev.ts";
import { objectFdById } from "../../kernel/objects/objects.ts";
import { programInfoByFd } from "../../kernel/programs/prog-info.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { pinnedFor } from "../objects/pinned-paths.ts";
import { reason } from "../objects/selectors.ts";
import { showObjects } from "../objects/show-objects.ts";
import { type LinkView, linkJson, linkPlain } from "./format-link.ts";
import { openLink } from "./link-select.ts";

/** The name of interface `ifindex` in this network namespace, as bpftool's if_indextoname. */
export function interfaceName(ifindex: number): string | undefined {
  return interfaceNameOf(ifindex);
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

/** `link show|list`. */
export async function showLinks(ctx: Context, args: Args): Promise<void> {
  showObjects(ctx, args, {
    kind: "link",
    select: (a) => [openLink(a)],
    info: (fd) => linkInfoByFd(fd.value),
    view: (_fd, info, pins) => linkView(info, pins),
    json: linkJson,
    plain: linkPlain,
  });
}
