/**
 * XDP through netlink (RTM_SETLINK with IFLA_XDP), the way `ip link set dev X xdp...`
 * attaches: no bpf_link, so the program stays on the device until it is detached —
 * also after the process exits. {@link Link.close} detaches it, and only if it is
 * still the program tsbpf attached (XDP_FLAGS_REPLACE with the expected program).
 *
 * @module
 */
import { ProgType, XdpFlags } from "../../uapi/index.ts";
import { getLinkRequest, parseLink, setXdpRequest } from "../netlink/rtnl.ts";
import { NetlinkSocket } from "../netlink/socket.ts";
import type { Program } from "../programs/program.ts";
import { dupFd } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";

/** Where an XDP program runs: in the driver, in the generic (skb) path, or offloaded to the NIC. */
export type XdpMode = "generic" | "driver" | "offload";

/** The XdpFlags bit of a mode. */
export function xdpModeFlag(mode: XdpMode | undefined): number {
  switch (mode) {
    case "generic":
      return XdpFlags.SKB_MODE;
    case "driver":
      return XdpFlags.DRV_MODE;
    case "offload":
      return XdpFlags.HW_MODE;
    default:
      return 0;
  }
}

/** The XDP programs on a device, by mode (program ids; absent modes have none). */
export interface XdpPrograms {
  readonly generic?: number;
  readonly driver?: number;
  readonly offload?: number;
}

/** The XDP programs attached to interface `ifindex` (from RTM_GETLINK). */
export function queryXdp(ifindex: number): XdpPrograms {
  using nl = new NetlinkSocket();
  const answer = nl.request(getLinkRequest(ifindex), `query xdp on ifindex ${ifindex}`, parseLink);
  const link = answer.find((l) => l.ifindex === ifindex);
  return link?.xdp ?? {};
}

/**
 * Attaches `prog` to `ifindex` through netlink. Without `replace`, a device that
 * already has an XDP program in that mode refuses (EBUSY, "XDP program already
 * attached"); with it, the program there is swapped for this one.
 */
export function attachXdpNetlink(
  prog: Program,
  ifindex: number,
  what: string,
  modeFlag: number,
  replace: boolean,
): Link {
  expectProgType(prog, [ProgType.XDP], what);
  // The link keeps its own descriptor of the program: detaching names it as the
  // expected one, whatever happened to `prog` since.
  const own = dupFd(prog.fd, `${prog}`);
  try {
    using nl = new NetlinkSocket();
    const flags = modeFlag | (replace ? 0 : XdpFlags.UPDATE_IF_NOEXIST);
    nl.request(
      setXdpRequest(ifindex, own.value, flags),
      `attach ${prog} to ${what} through netlink`,
    );
  } catch (e) {
    own.close();
    throw e;
  }
  return newLink({
    description: `${what} (netlink)`,
    noLinkReason:
      'it was attached through netlink (RTM_SETLINK), which makes no bpf_link; attach with via: "link" for one',
    cleanup: () => {
      try {
        using nl = new NetlinkSocket();
        nl.request(
          setXdpRequest(ifindex, -1, modeFlag | XdpFlags.REPLACE, own.value),
          `detach ${prog} from ${what} through netlink`,
        );
      } catch (e) {
        // Gone with its device, or replaced by someone else since: nothing of ours is left.
        const code = (e as { code?: string }).code;
        if (code !== "ENODEV" && code !== "EEXIST") throw e;
      } finally {
        own.close();
      }
    },
  });
}
