/**
 * Device names as `net` commands take them (`dev NAME`), with bpftool's messages.
 */
import { getLinkRequest, parseLink } from "../../kernel/netlink/rtnl.ts";
import { NetlinkSocket } from "../../kernel/netlink/socket.ts";
import type { Args } from "../args.ts";
import { CliError } from "../format/output.ts";

/**
 * if_nametoindex: the ifindex of `name` in this thread's network namespace, asked of
 * the kernel through netlink (as the ioctl does, alternative names count); 0 when
 * there is no such device or the name cannot be one.
 */
export function ifNameToIndex(name: string): number {
  if (name === "" || Buffer.byteLength(name) >= 16) return 0;
  try {
    using nl = new NetlinkSocket();
    const link = nl.request(getLinkRequest(name), `find interface ${name}`, parseLink)[0];
    return link?.ifindex ?? 0;
  } catch {
    return 0;
  }
}

/**
 * bpftool's net_parse_dev: `dev NAME` → its ifindex. `exitCode` is the status of a
 * failure (255 for `show`, 234 — bpftool's -EINVAL — for attach and detach).
 */
export function parseDev(args: Args, exitCode: number): number {
  if (!args.is("dev")) throw new CliError(`expected 'dev', got: '${args.peek() ?? ""}'?`, exitCode);
  args.skip();
  const name = args.next();
  const ifindex = ifNameToIndex(name);
  if (!ifindex) throw new CliError(`invalid devname ${name}`, exitCode);
  return ifindex;
}
