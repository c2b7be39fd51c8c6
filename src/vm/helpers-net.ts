/**
 * Packet helpers of skb and XDP programs: skb_load_bytes/store_bytes, l3/l4
 * csum_replace and redirect, computed as net/core/filter.c computes them on a test
 * run's skb (ip_summed = CHECKSUM_NONE).
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId, ProgType, XdpAction } from "../uapi/index.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";

/** `BPF_F_RECOMPUTE_CSUM` and `BPF_F_INVALIDATE_HASH`: skb_store_bytes flags. */
const STORE_FLAGS = 0x1n | 0x2n;
/** `BPF_F_HDR_FIELD_MASK`: the size of the field a csum_replace changes (0, 2 or 4). */
const HDR_FIELD_MASK = 0xfn;
/** `BPF_F_PSEUDO_HDR`. */
const PSEUDO_HDR = 0x10n;
/** `BPF_F_MARK_MANGLED_0`. */
const MARK_MANGLED_0 = 0x20n;
/** `BPF_F_MARK_ENFORCE`. */
const MARK_ENFORCE = 0x40n;
/** `BPF_F_IPV6` (Linux >= 6.16). */
const F_IPV6 = 0x80n;
/** `BPF_F_INGRESS`. */
const INGRESS = 0x1n;
/** `CSUM_MANGLED_0`. */
const CSUM_MANGLED_0 = 0xffff;
/** `TC_ACT_SHOT` and `TC_ACT_REDIRECT`. */
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const INT_MAX = 0x7fff_ffff;

/** `csum_add` on 32-bit one's-complement sums. */
function csumAdd(a: number, b: number): number {
  const r = ((a >>> 0) + (b >>> 0)) >>> 0;
  return (r + (r < b >>> 0 ? 1 : 0)) >>> 0;
}

/** `csum_sub`. */
function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** `csum_fold`: 32 to 16 bits, inverted. */
function csumFold(sum: number): number {
  let s = sum >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** `csum16_add`. */
function csum16Add(csum: number, addend: number): number {
  const a = addend & 0xffff;
  const res = ((csum & 0xffff) + a) & 0xffff;
  return (res + (res < a ? 1 : 0)) & 0xffff;
}

/** `csum_replace4(sum, from, to)`: the new 16-bit checksum. */
export function csumReplace4(sum: number, from: number, to: number): number {
  // csum_unfold(*sum) is the zero-extended 16-bit value; ~ is over 32 bits.
  return csumFold(csumAdd(csumSub(~(sum & 0xffff) >>> 0, from), to));
}

/** `csum_replace2(sum, old, new)`. */
export function csumReplace2(sum: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to) & 0xffff;
}

/** `csum_replace_by_diff(sum, diff)`. */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~(sum & 0xffff) >>> 0));
}

/** The skb's packet (`skb->data .. + len`) or a VmError for programs without one. */
function skbPacket(m: Machine, op: string): { bytes: Uint8Array; start: number; len: number } {
  const p = m.ldPacket;
  if (!p)
    throw m.error(`${op} needs an skb (run the program as socket_filter or sched_cls with data)`);
  return { bytes: m.memory.bytes[p.id] as Uint8Array, start: p.start, len: p.end - p.start };
}

/** The packet helpers of this module, by id. */
export function netHelpers(): [number, HelperFunction][] {
  const loadBytes: HelperFunction = (m) => {
    const { bytes, start, len: plen } = skbPacket(m, "bpf_skb_load_bytes");
    const offset = m.argU32(2);
    const len = m.argU32(4);
    const to = m.argPtr(3, len, "write");
    if (offset > INT_MAX || offset + len > plen) {
      to.fill(0);
      return -Errno.EFAULT;
    }
    to.set(bytes.subarray(start + offset, start + offset + len));
    return 0;
  };
  const storeBytes: HelperFunction = (m) => {
    const { bytes, start, len: plen } = skbPacket(m, "bpf_skb_store_bytes");
    const offset = m.argU32(2);
    const len = m.argU32(4);
    const from = m.argPtr(3, len, "read");
    if (m.arg(5) & ~STORE_FLAGS) return -Errno.EINVAL;
    if (offset > INT_MAX) return -Errno.EFAULT;
    if (offset + len > plen) return -Errno.EFAULT;
    bytes.set(from, start + offset);
    return 0;
  };
  /** The checksum field at `offset` (a DataView and its position), or an errno. */
  const field = (m: Machine, op: string, offset: number): { v: DataView; at: number } | number => {
    const { bytes, start, len } = skbPacket(m, op);
    if (offset > 0xffff || offset & 1) return -Errno.EFAULT;
    if (offset + 2 > len) return -Errno.EFAULT;
    return { v: new DataView(bytes.buffer, bytes.byteOffset), at: start + offset };
  };
  const l3: HelperFunction = (m) => {
    const flags = m.arg(5);
    if (flags & ~HDR_FIELD_MASK) return -Errno.EINVAL;
    const f = field(m, "bpf_l3_csum_replace", m.argU32(2));
    if (typeof f === "number") return f;
    const sum = f.v.getUint16(f.at, true);
    const from = m.arg(3);
    const to = m.arg(4);
    let out: number;
    switch (flags & HDR_FIELD_MASK) {
      case 0n:
        if (from !== 0n) return -Errno.EINVAL;
        out = csumReplaceByDiff(sum, Number(to & 0xffff_ffffn));
        break;
      case 2n:
        out = csumReplace2(sum, Number(from & 0xffffn), Number(to & 0xffffn));
        break;
      case 4n:
        out = csumReplace4(sum, Number(from & 0xffff_ffffn), Number(to & 0xffff_ffffn));
        break;
      default:
        return -Errno.EINVAL;
    }
    f.v.setUint16(f.at, out, true);
    return 0;
  };
  const l4: HelperFunction = (m) => {
    const flags = m.arg(5);
    if (flags & ~(MARK_MANGLED_0 | MARK_ENFORCE | PSEUDO_HDR | HDR_FIELD_MASK | F_IPV6))
      return -Errno.EINVAL;
    const f = field(m, "bpf_l4_csum_replace", m.argU32(2));
    if (typeof f === "number") return f;
    const sum = f.v.getUint16(f.at, true);
    const mmzero = (flags & MARK_MANGLED_0) !== 0n;
    if (mmzero && !(flags & MARK_ENFORCE) && sum === 0) return 0;
    const from = m.arg(3);
    const to = m.arg(4);
    let out: number;
    // A test run's skb has ip_summed = CHECKSUM_NONE: the pseudo-header flag changes nothing.
    switch (flags & HDR_FIELD_MASK) {
      case 0n:
        if (from !== 0n) return -Errno.EINVAL;
        out = csumReplaceByDiff(sum, Number(to & 0xffff_ffffn));
        break;
      case 2n:
        out = csumReplace4(sum, Number(from & 0xffffn), Number(to & 0xffffn));
        break;
      case 4n:
        out = csumReplace4(sum, Number(from & 0xffff_ffffn), Number(to & 0xffff_ffffn));
        break;
      default:
        return -Errno.EINVAL;
    }
    if (mmzero && out === 0) out = CSUM_MANGLED_0;
    f.v.setUint16(f.at, out, true);
    return 0;
  };
  const redirect: HelperFunction = (m) => {
    const ifindex = m.argU32(1);
    const flags = m.arg(2);
    if (m.env.type === ProgType.XDP) {
      if (flags !== 0n) return XdpAction.ABORTED;
      m.env.redirect = { target: ifindex, flags };
      return XdpAction.REDIRECT;
    }
    if (flags & ~INGRESS) return TC_ACT_SHOT;
    m.env.redirect = { target: ifindex, flags };
    return TC_ACT_REDIRECT;
  };
  return [
    [HelperId.skb_load_bytes, loadBytes],
    [HelperId.skb_store_bytes, storeBytes],
    [HelperId.l3_csum_replace, l3],
    [HelperId.l4_csum_replace, l4],
    [HelperId.redirect, redirect],
  ];
}
