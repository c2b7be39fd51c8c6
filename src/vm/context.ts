/**
 * Program inputs as BPF_PROG_TEST_RUN builds them (net/bpf/test_run.c, Linux 6.18):
 * the packet buffer with the kernel's headroom, and the context struct a program
 * reads. The kernel rewrites context accesses (a 4-byte load of `xdp_md.data` becomes
 * a 64-bit pointer load), so the context regions here answer field loads with what a
 * program would see, pointers included.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { ProgType, skBuff, xdpMd } from "../uapi/index.ts";
import type { Machine } from "./interpreter.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO, type RegionHandler } from "./memory.ts";

/** Bytes before an XDP packet (`XDP_PACKET_HEADROOM`). */
export const XDP_PACKET_HEADROOM = 256;
/** The frame an XDP test run allocates (one page). */
export const XDP_FRAME_SIZE = 4096;
/** `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on x86-64: reserved at a frame's end. */
export const SKB_SHARED_INFO_SIZE = 320;
/** `sizeof(struct xdp_frame)`, kept at the start of the headroom. */
export const XDP_FRAME_STRUCT_SIZE = 40;
/** `ETH_HLEN`. */
export const ETH_HLEN = 14;
/** Headroom of a test-run skb on x86-64 (`NET_SKB_PAD + NET_IP_ALIGN`). */
export const SKB_HEADROOM = 64;
/** Ifindex of the loopback device, which test runs use by default. */
export const LOOPBACK_IFINDEX = 1;

/** What a prepared run gives back after the program ran. */
export interface RunOutput {
  /** The packet (or raw memory) after the run. */
  readonly dataOut: Uint8Array;
  /** The context after the run, when the caller gave one. */
  readonly ctxOut: Uint8Array | undefined;
}

/** A prepared input: r1 (and r2) are set; `finish` reads the output. */
export interface PreparedInput {
  /** Reads the packet and context after the run. */
  finish(): RunOutput;
}

/** One region per role, created on a machine's first run and reused after. */
function region(m: Machine, role: string, kind: "packet" | "ctx" | "mem"): number {
  const key = `region:${role}`;
  let id = m.env[key] as number | undefined;
  if (id === undefined) {
    id = m.memory.addRegion(role, new Uint8Array(0), { kind });
    m.env[key] = id;
    m.access.grant(id);
  }
  return id;
}

/** Sets a region's bounds in the space and in the machine's view, which follows them. */
function setBounds(
  m: Machine,
  id: number,
  read: readonly [number, number],
  write: readonly [number, number],
): void {
  m.memory.setBounds(id, read, write);
  m.access.follow(id);
}

function u32(ctx: Uint8Array | undefined, off: number): number {
  if (!ctx || off + 4 > ctx.length) return 0;
  return new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength).getUint32(off, true);
}

function setPtr(out: Int32Array, id: number, offset: number): void {
  out[0] = LO + offset;
  out[1] = HI + id;
}

/**
 * The state of an XDP buffer: offsets of data_meta, data and data_end in the
 * 4096-byte frame (hard start at 0). The helpers that move them (adjust_head/meta/
 * tail) call {@link sync} to move the region's bounds with them.
 */
export class XdpBuffer {
  /** Region id of the frame. */
  readonly id: number;
  /** The frame. */
  readonly bytes: Uint8Array;
  dataMeta: number;
  data: number;
  dataEnd: number;
  /** What xdp_md.ingress_ifindex reads. */
  ingressIfindex = LOOPBACK_IFINDEX;
  /** What xdp_md.rx_queue_index reads. */
  rxQueueIndex = 0;
  /** Where data_end may grow to (`xdp_data_hard_end`). */
  readonly hardEnd = XDP_FRAME_SIZE - SKB_SHARED_INFO_SIZE;
  private readonly m: Machine;

  constructor(
    m: Machine,
    id: number,
    bytes: Uint8Array,
    dataMeta: number,
    data: number,
    dataEnd: number,
  ) {
    this.m = m;
    this.id = id;
    this.bytes = bytes;
    this.dataMeta = dataMeta;
    this.data = data;
    this.dataEnd = dataEnd;
    this.sync();
  }

  /** Makes `[data_meta, data_end)` the readable and writable bytes. */
  sync(): void {
    setBounds(this.m, this.id, [this.dataMeta, this.dataEnd], [this.dataMeta, this.dataEnd]);
  }
}

interface XdpSetup {
  readonly xdp: XdpBuffer;
  readonly bytes: Uint8Array;
  readonly ctxId: number;
  readonly handler: RegionHandler;
}

function makeXdpSetup(m: Machine): XdpSetup {
  const f = xdpMd.fields;
  const id = region(m, "xdp frame", "packet");
  const bytes = m.allocate(id, XDP_FRAME_SIZE);
  m.memory.setBytes(id, bytes);
  const h = XDP_PACKET_HEADROOM;
  const xdp = new XdpBuffer(m, id, bytes, h, h, h);
  const handler: RegionHandler = {
    pure: true,
    load(off, size, out) {
      if (size !== 4) return false;
      switch (off) {
        case f.data.offset:
          setPtr(out, id, xdp.data);
          return true;
        case f.data_end.offset:
          setPtr(out, id, xdp.dataEnd);
          return true;
        case f.data_meta.offset:
          setPtr(out, id, xdp.dataMeta);
          return true;
        case f.ingress_ifindex.offset:
          out[0] = xdp.ingressIfindex;
          out[1] = 0;
          return true;
        case f.rx_queue_index.offset:
          out[0] = xdp.rxQueueIndex;
          out[1] = 0;
          return true;
        case f.egress_ifindex.offset:
          out[0] = 0;
          out[1] = 0;
          return true;
        default:
          return false;
      }
    },
    store: () => false,
  };
  const ctxId = region(m, "xdp_md context", "ctx");
  m.memory.setBytes(ctxId, new Uint8Array(xdpMd.size));
  setBounds(m, ctxId, [0, 0], [0, 0]);
  const setup = { xdp, bytes, ctxId, handler };
  m.env.xdpSetup = setup;
  return setup;
}

/**
 * XDP: the packet at offset 256 of a 4096-byte frame, `xdp_md` answering data,
 * data_end and data_meta with pointers, ingress_ifindex 1 (loopback) and rx queue 0
 * unless `ctx` says otherwise. With a ctx, `ctx.data` bytes of the input are metadata.
 * Output: data_meta..data_end, as the kernel copies it.
 */
export function prepareXdp(
  m: Machine,
  data: Uint8Array,
  ctx: Uint8Array | undefined,
): PreparedInput {
  const f = xdpMd.fields;
  const max = XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_SIZE;
  if (data.length < ETH_HLEN)
    throw new RangeError(
      `xdp programs need at least ${ETH_HLEN} bytes of data, got ${data.length}`,
    );
  if (data.length > max)
    throw new RangeError(
      `xdp data of ${data.length} bytes is above ${max} (multi-buffer frames are not supported)`,
    );
  let meta = 0;
  if (ctx) {
    if (ctx.length > xdpMd.size)
      throw new RangeError(`xdp_md ctx is ${ctx.length} bytes, at most ${xdpMd.size}`);
    meta = u32(ctx, f.data.offset);
    if (
      u32(ctx, f.data_meta.offset) !== 0 ||
      u32(ctx, f.data_end.offset) !== data.length ||
      meta > data.length ||
      meta % 4 !== 0 ||
      meta > 32
    )
      throw new RangeError(
        "xdp_md ctx: data_meta must be 0, data_end the data's size and data a metadata length (multiple of 4, at most 32)",
      );
    if (u32(ctx, f.egress_ifindex.offset) !== 0)
      throw new RangeError("xdp_md ctx: egress_ifindex must be 0");
  }
  const ingress =
    ctx && u32(ctx, f.ingress_ifindex.offset)
      ? u32(ctx, f.ingress_ifindex.offset)
      : LOOPBACK_IFINDEX;
  const rxQueue = u32(ctx, f.rx_queue_index.offset);
  // The frame, its xdp_buff and the xdp_md handler are made once per machine and reset
  // for every run: a run then costs a 4 KiB clear and a copy, not allocations.
  const setup = (m.env.xdpSetup as XdpSetup | undefined) ?? makeXdpSetup(m);
  const { xdp, bytes, ctxId } = setup;
  const start = XDP_PACKET_HEADROOM - meta;
  bytes.fill(0);
  bytes.set(data, start);
  xdp.dataMeta = start;
  xdp.data = XDP_PACKET_HEADROOM;
  xdp.dataEnd = start + data.length;
  xdp.ingressIfindex = ingress;
  xdp.rxQueueIndex = rxQueue;
  xdp.sync();
  m.memory.handlers[ctxId] = setup.handler;
  m.env.xdp = xdp;
  m.ldPacket = undefined;
  m.R[2] = LO;
  m.R[3] = HI + ctxId;
  return {
    finish() {
      const dataOut = bytes.slice(xdp.dataMeta, xdp.dataEnd);
      let ctxOut: Uint8Array | undefined;
      if (ctx) {
        ctxOut = new Uint8Array(xdpMd.size);
        ctxOut.set(ctx);
        const v = new DataView(ctxOut.buffer);
        v.setUint32(f.data.offset, xdp.data - xdp.dataMeta, true);
        v.setUint32(f.data_end.offset, xdp.dataEnd - xdp.dataMeta, true);
      }
      return { dataOut, ctxOut };
    },
  };
}

/** Program types whose test run builds an skb (`bpf_prog_test_run_skb`). */
export function isSkbProgType(type: number): boolean {
  return (
    type === ProgType.SOCKET_FILTER ||
    type === ProgType.SCHED_CLS ||
    type === ProgType.SCHED_ACT ||
    type === ProgType.CGROUP_SKB ||
    type === ProgType.LWT_IN ||
    type === ProgType.LWT_OUT ||
    type === ProgType.LWT_XMIT
  );
}

/** `__sk_buff` fields a test-run program may write. */
const SKB_WRITABLE: readonly (readonly [number, number])[] = [
  [skBuff.fields.mark.offset, 4],
  [skBuff.fields.queue_mapping.offset, 4],
  [skBuff.fields.priority.offset, 4],
  [skBuff.fields.tc_index.offset, 4],
  [skBuff.fields.cb.offset, 20],
  [skBuff.fields.tc_classid.offset, 4],
  [skBuff.fields.tstamp.offset, 8],
];

/** `__sk_buff` fields a caller's ctx may set (everything else must be zero). */
const SKB_CTX_IN: readonly string[] = [
  "mark",
  "priority",
  "ingress_ifindex",
  "ifindex",
  "cb",
  "tstamp",
  "wire_len",
  "gso_segs",
  "gso_size",
  "hwtstamp",
];

/** `__sk_buff` fields the kernel copies back to ctx_out. */
const SKB_CTX_OUT: readonly string[] = [
  "mark",
  "priority",
  "ingress_ifindex",
  "ifindex",
  "tstamp",
  "cb",
  "wire_len",
  "gso_segs",
  "hwtstamp",
];

/**
 * The `__sk_buff` view of a packet as `bpf_prog_test_run_skb` builds it on the
 * loopback device: `eth_type_trans` sets protocol and pkt_type and pulls the Ethernet
 * header; sched_cls/sched_act (and cgroup_skb, lwt) see the packet from byte 0
 * for direct access, socket_filter from the network header. After the run a
 * socket_filter's output gets 14 zero bytes back in front, as the kernel pushes them.
 */
export function prepareSkb(
  m: Machine,
  type: number,
  data: Uint8Array,
  ctx: Uint8Array | undefined,
): PreparedInput {
  const F = skBuff.fields;
  const max = 4096 - SKB_HEADROOM - SKB_SHARED_INFO_SIZE;
  if (data.length < ETH_HLEN)
    throw new RangeError(
      `skb programs need at least ${ETH_HLEN} bytes of data, got ${data.length}`,
    );
  if (data.length > max) throw new RangeError(`skb data of ${data.length} bytes is above ${max}`);
  if (ctx) {
    if (ctx.length > skBuff.size)
      throw new RangeError(`__sk_buff ctx is ${ctx.length} bytes, at most ${skBuff.size}`);
    const allowed = new Uint8Array(skBuff.size);
    for (const name of SKB_CTX_IN) {
      const fld = F[name as keyof typeof F];
      allowed.fill(1, fld.offset, fld.offset + fld.size);
    }
    for (let i = 0; i < ctx.length; i++)
      if (ctx[i] !== 0 && !allowed[i])
        throw new RangeError(
          `__sk_buff ctx: byte ${i} is not zero, but only ${SKB_CTX_IN.join(", ")} may be set`,
        );
  }
  const isL2 = type === ProgType.SCHED_CLS || type === ProgType.SCHED_ACT;
  const direct =
    isL2 ||
    type === ProgType.LWT_IN ||
    type === ProgType.LWT_OUT ||
    type === ProgType.LWT_XMIT ||
    type === ProgType.CGROUP_SKB;
  const id = region(m, "skb data", "packet");
  const bytes = m.allocate(id, SKB_HEADROOM + data.length + SKB_SHARED_INFO_SIZE);
  bytes.set(data, SKB_HEADROOM);
  m.memory.setBytes(id, bytes);
  const start = SKB_HEADROOM + (isL2 ? 0 : ETH_HLEN);
  const end = SKB_HEADROOM + data.length;
  setBounds(m, id, [start, end], [start, end]);
  m.ldPacket = { id, start, end };
  m.env.xdp = undefined;

  // eth_type_trans on the loopback device (all-zero address and broadcast address).
  const dest = data.subarray(0, 6);
  let pktType = 0; // PACKET_HOST
  if (dest.some((b) => b !== 0))
    pktType = (dest[0]! & 1) !== 0 ? 2 /* MULTICAST */ : 3; /* OTHERHOST */
  const ethType = (data[12]! << 8) | data[13]!;
  let proto: number; // __be16 as the kernel stores it, read little-endian
  if (ethType >= 0x600) proto = ethType;
  else if (data[14] === 0xff && data[15] === 0xff)
    proto = 0x0001; // ETH_P_802_3
  else proto = 0x0004; // ETH_P_802_2
  const protoLe = ((proto & 0xff) << 8) | (proto >>> 8);

  const skb = new Uint8Array(skBuff.size);
  if (ctx) skb.set(ctx);
  const v = new DataView(skb.buffer);
  const len = end - start;
  v.setUint32(F.len.offset, len, true);
  v.setUint32(F.pkt_type.offset, pktType, true);
  v.setUint32(F.protocol.offset, protoLe, true);
  if (!v.getUint32(F.ifindex.offset, true)) v.setUint32(F.ifindex.offset, LOOPBACK_IFINDEX, true);
  // wire_len (qdisc cb pkt_len) is only set when the caller passes a ctx.
  if (ctx && !v.getUint32(F.wire_len.offset, true)) v.setUint32(F.wire_len.offset, len, true);
  const net = ETH_HLEN;
  if (proto === 0x0800) {
    v.setUint32(F.family.offset, 2, true); // AF_INET
    if (data.length - net >= 20) {
      skb.set(data.subarray(net + 16, net + 20), F.remote_ip4.offset);
      skb.set(data.subarray(net + 12, net + 16), F.local_ip4.offset);
    }
  } else if (proto === 0x86dd) {
    v.setUint32(F.family.offset, 10, true); // AF_INET6
    if (data.length - net >= 40) {
      skb.set(data.subarray(net + 24, net + 40), F.remote_ip6.offset);
      skb.set(data.subarray(net + 8, net + 24), F.local_ip6.offset);
    }
  }

  const handler: RegionHandler = {
    pure: true,
    load(off, size, out) {
      if (direct && size === 4) {
        if (off === F.data.offset) {
          setPtr(out, id, start);
          return true;
        }
        if (off === F.data_end.offset) {
          setPtr(out, id, end);
          return true;
        }
        if (off === F.data_meta.offset) {
          setPtr(out, id, start);
          return true;
        }
      }
      if (off === F.data.offset || off === F.data_end.offset || off === F.data_meta.offset)
        return false;
      if (off < 0 || off + size > skBuff.size) return false;
      out[0] =
        size === 1 ? v.getUint8(off) : size === 2 ? v.getUint16(off, true) : v.getInt32(off, true);
      out[1] = size === 8 ? v.getInt32(off + 4, true) : 0;
      return true;
    },
    store(off, size, lo, hi) {
      const ok = SKB_WRITABLE.some(([o, n]) => off >= o && off + size <= o + n);
      if (!ok) return false;
      if (size === 1) v.setUint8(off, lo);
      else if (size === 2) v.setUint16(off, lo, true);
      else {
        v.setInt32(off, lo, true);
        if (size === 8) v.setInt32(off + 4, hi, true);
      }
      return true;
    },
  };
  const ctxId = region(m, "__sk_buff context", "ctx");
  m.memory.setBytes(ctxId, skb);
  setBounds(m, ctxId, [0, 0], [0, 0]);
  m.memory.handlers[ctxId] = handler;
  m.R[2] = LO;
  m.R[3] = HI + ctxId;
  return {
    finish() {
      const pkt = bytes.slice(start, end);
      let dataOut = pkt;
      if (!isL2) {
        dataOut = new Uint8Array(ETH_HLEN + pkt.length);
        dataOut.set(pkt, ETH_HLEN);
      }
      let ctxOut: Uint8Array | undefined;
      if (ctx) {
        ctxOut = new Uint8Array(skBuff.size);
        ctxOut.set(ctx);
        for (const name of SKB_CTX_OUT) {
          const fld = F[name as keyof typeof F];
          ctxOut.set(skb.subarray(fld.offset, fld.offset + fld.size), fld.offset);
        }
      }
      return { dataOut, ctxOut };
    },
  };
}

/** Raw memory: r1 points at a copy of `mem` (readable and writable), r2 holds its length. */
export function prepareMem(m: Machine, mem: Uint8Array): PreparedInput {
  const id = region(m, "input memory", "mem");
  const bytes = m.allocate(id, mem.length);
  bytes.set(mem);
  m.memory.setBytes(id, bytes);
  setBounds(m, id, [0, bytes.length], [0, bytes.length]);
  m.ldPacket = undefined;
  m.env.xdp = undefined;
  m.R[2] = LO;
  m.R[3] = HI + id;
  m.R[4] = bytes.length;
  m.R[5] = 0;
  return { finish: () => ({ dataOut: bytes.slice(), ctxOut: undefined }) };
}

/** A plain context struct (raw tracepoint args, syscall ctx...): r1 points at a copy. */
export function prepareRawCtx(m: Machine, ctx: Uint8Array): PreparedInput {
  const id = region(m, "context", "ctx");
  const bytes = m.allocate(id, ctx.length);
  bytes.set(ctx);
  m.memory.setBytes(id, bytes);
  setBounds(m, id, [0, bytes.length], [0, bytes.length]);
  m.ldPacket = undefined;
  m.env.xdp = undefined;
  m.R[2] = LO;
  m.R[3] = HI + id;
  return { finish: () => ({ dataOut: new Uint8Array(0), ctxOut: bytes.slice() }) };
}
