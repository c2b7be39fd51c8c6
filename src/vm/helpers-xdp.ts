/**
 * xdp_adjust_head, xdp_adjust_meta and xdp_adjust_tail over the run's XDP buffer, with
 * the kernel's limits (headroom, ETH_HLEN, 4-byte aligned metadata of at most 255 bytes).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId } from "../uapi/index.ts";
import { ETH_HLEN, XDP_FRAME_STRUCT_SIZE, type XdpBuffer } from "./context.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";

/** The XDP buffer of the current run, or a VmError when the program has none. */
function xdp(m: Machine): XdpBuffer {
  const x = m.env.xdp as XdpBuffer | undefined;
  if (!x) throw m.error("this helper needs an XDP packet (run the program as XDP with data)");
  return x;
}

/** The XDP adjust helpers, by id. */
export function xdpHelpers(): [number, HelperFunction][] {
  const h = new Map<number, HelperFunction>();
  h.set(HelperId.xdp_adjust_head, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const metalen = x.data - x.dataMeta;
    const data = x.data + offset;
    if (data < XDP_FRAME_STRUCT_SIZE + metalen || data > x.dataEnd - ETH_HLEN) return -Errno.EINVAL;
    if (metalen) x.bytes.copyWithin(x.dataMeta + offset, x.dataMeta, x.data);
    x.dataMeta += offset;
    x.data = data;
    x.sync();
    return 0;
  });
  h.set(HelperId.xdp_adjust_meta, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const meta = x.dataMeta + offset;
    const metalen = x.data - meta;
    if (meta < XDP_FRAME_STRUCT_SIZE || meta > x.data) return -Errno.EINVAL;
    // Linux >= 6.5 (xdp_metalen_invalid): 4-byte aligned, at most skb_shared_info's u8 meta_len.
    if (metalen % 4 !== 0 || metalen > 255) return -Errno.EACCES;
    x.dataMeta = meta;
    x.sync();
    return 0;
  });
  h.set(HelperId.xdp_adjust_tail, (m) => {
    const x = xdp(m);
    const offset = m.argI32(2);
    const end = x.dataEnd + offset;
    if (end > x.hardEnd || end < x.data + ETH_HLEN) return -Errno.EINVAL;
    if (offset > 0) x.bytes.fill(0, x.dataEnd, end);
    x.dataEnd = end;
    x.sync();
    return 0;
  });
  return [...h];
}
