/**
 * Netlink messages on bytes alone (no socket, no root): requests are compared with the
 * layout <linux/netlink.h> and <linux/rtnetlink.h> define, answers are built by hand
 * the way the kernel lays them out, and bad lengths are refused with the place named.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { hdr, u16, u32 } from "../../../test/support/netlink-bytes.ts";
import { XdpFlags } from "../../uapi/index.ts";
import {
  Attrs,
  MessageWriter,
  NetlinkFormatError,
  NLA_F_NESTED,
  NlmFlags,
  NlmsgType,
  parseAck,
  parseDone,
  parseMessages,
} from "./message.ts";
import {
  addBpfFilterRequest,
  addClsactRequest,
  clsactParent,
  IflaXdp,
  parseFilter,
  parseLink,
  Rtm,
  setXdpRequest,
  TcaBpf,
  XdpAttached,
} from "./rtnl.ts";

test("RTM_SETLINK with IFLA_XDP: ifinfomsg, then a nested attribute of fd, flags, expected fd", () => {
  const bytes = setXdpRequest(7, 42, XdpFlags.SKB_MODE | XdpFlags.REPLACE, 9).finish(0x1234);
  const expected = [
    ...hdr(60, Rtm.SETLINK, NlmFlags.REQUEST | NlmFlags.ACK, 0x1234),
    // ifinfomsg: family 0, pad, type 0, index 7, flags 0, change 0
    0,
    0,
    0,
    0,
    ...u32(7),
    ...u32(0),
    ...u32(0),
    // IFLA_XDP (43) | NLA_F_NESTED, 28 bytes
    ...u16(28),
    ...u16(43 | NLA_F_NESTED),
    ...u16(8),
    ...u16(IflaXdp.FD),
    ...u32(42),
    ...u16(8),
    ...u16(IflaXdp.FLAGS),
    ...u32(XdpFlags.SKB_MODE | XdpFlags.REPLACE),
    ...u16(8),
    ...u16(IflaXdp.EXPECTED_FD),
    ...u32(9),
  ];
  assert.deepEqual([...bytes], expected);
});

test("a detach is fd -1, and strings are NUL-terminated and padded to 4 bytes", () => {
  const detach = setXdpRequest(1, -1, 0).finish(1);
  const a = new Attrs(detach.subarray(32)).nested(43);
  assert.equal(a?.i32(IflaXdp.FD), -1);
  assert.equal(a?.has(IflaXdp.FLAGS), false);

  const clsact = addClsactRequest(3).finish(2);
  const m = parseMessages(clsact)[0];
  assert.equal(m?.type, Rtm.NEWQDISC);
  assert.equal(m?.flags, NlmFlags.REQUEST | NlmFlags.ACK | NlmFlags.CREATE | NlmFlags.EXCL);
  // tcmsg: ifindex 3, handle ffff:0, parent ffff:fff1
  const v = new DataView(m!.payload.buffer, m!.payload.byteOffset);
  assert.deepEqual(
    [v.getInt32(4, true), v.getUint32(8, true), v.getUint32(12, true)],
    [3, 0xffff0000, 0xfffffff1],
  );
  // TCA_KIND "clsact\0": 4 + 7 bytes, padded to 12
  assert.deepEqual(
    [...m!.payload.subarray(20)],
    [...u16(11), ...u16(1), ...Buffer.from("clsact\0"), 0],
  );
  assert.equal(clsact.length, 16 + 20 + 12);
});

test("a cls_bpf filter: parent ffff:fff2 for ingress, info = priority << 16 | ETH_P_ALL (big-endian), da", () => {
  const m = parseMessages(
    addBpfFilterRequest(5, "ingress", { priority: 3, handle: 1 }, 11, "x.o:[tc]", false).finish(3),
  )[0]!;
  assert.equal(m.flags & NlmFlags.EXCL, NlmFlags.EXCL);
  const v = new DataView(m.payload.buffer, m.payload.byteOffset);
  assert.equal(v.getUint32(12, true), clsactParent("ingress"));
  assert.equal(v.getUint32(12, true), 0xfffffff2);
  assert.equal(v.getUint32(16, true), (3 << 16) | 0x0300);
  const a = new Attrs(m.payload.subarray(20));
  assert.equal(a.string(1), "bpf");
  const o = a.nested(2)!;
  assert.deepEqual(
    [o.u32(TcaBpf.FD), o.string(TcaBpf.NAME), o.u32(TcaBpf.FLAGS)],
    [11, "x.o:[tc]", 1],
  );
  // Replacing asks for NLM_F_REPLACE instead of NLM_F_EXCL.
  const r = parseMessages(
    addBpfFilterRequest(5, "egress", { priority: 3, handle: 1 }, 11, "x", true).finish(4),
  )[0]!;
  assert.equal(r.flags & (NlmFlags.EXCL | NlmFlags.REPLACE), NlmFlags.REPLACE);
});

test("an error answer with an extended ACK gives errno, the kernel's message and the offset", () => {
  // struct nlmsgerr { int error = -EBUSY; nlmsghdr msg (capped) } + NLMSGERR_ATTR_MSG + _OFFS
  const msg = Buffer.from("XDP program already attached\0");
  const msgAttr = [
    ...u16(4 + msg.length),
    ...u16(1),
    ...msg,
    ...new Array((4 - (msg.length % 4)) % 4).fill(0),
  ];
  const offsAttr = [...u16(8), ...u16(2), ...u32(36)];
  const payload = [...u32(-16 >>> 0), ...hdr(56, Rtm.SETLINK, 5, 77), ...msgAttr, ...offsAttr];
  const datagram = new Uint8Array([
    ...hdr(16 + payload.length, NlmsgType.ERROR, NlmFlags.CAPPED | NlmFlags.ACK_TLVS, 77),
    ...payload,
  ]);
  const [m] = parseMessages(datagram);
  assert.deepEqual(parseAck(m!), {
    errno: 16,
    seq: 77,
    message: "XDP program already attached",
    offset: 36,
  });
  // Without ACK_TLVS: the errno alone; errno 0 is an acknowledgement.
  const plain = new Uint8Array([
    ...hdr(36, NlmsgType.ERROR, 0, 5),
    ...u32(0),
    ...hdr(16, 18, 5, 5),
  ]);
  assert.deepEqual(parseAck(parseMessages(plain)[0]!), { errno: 0, seq: 5 });
  // NLMSG_DONE carries the dump's error.
  const done = new Uint8Array([...hdr(20, NlmsgType.DONE, NlmFlags.MULTI, 9), ...u32(-22 >>> 0)]);
  assert.deepEqual(parseDone(parseMessages(done)[0]!), { errno: 22, seq: 9 });
  const clean = new Uint8Array([...hdr(20, NlmsgType.DONE, NlmFlags.MULTI, 9), ...u32(0)]);
  assert.equal(parseDone(parseMessages(clean)[0]!), undefined);
});

test("RTM_NEWLINK: the device name and XDP programs by mode, one or several", () => {
  const link = (xdp: number[]) => {
    const name = [...Buffer.from("veth0\0"), 0, 0];
    const body = [
      0,
      0,
      ...u16(1),
      ...u32(6),
      ...u32(0),
      ...u32(0),
      ...u16(10),
      ...u16(3),
      ...name,
      ...u16(4 + xdp.length),
      ...u16(43 | NLA_F_NESTED),
      ...xdp,
    ];
    return parseMessages(
      new Uint8Array([...hdr(16 + body.length, Rtm.NEWLINK, 0, 1), ...body]),
    )[0]!;
  };
  const attached = (v: number) => [...u16(5), ...u16(IflaXdp.ATTACHED), v, 0, 0, 0];
  const id = (type: number, v: number) => [...u16(8), ...u16(type), ...u32(v)];
  assert.deepEqual(parseLink(link([...attached(XdpAttached.SKB), ...id(IflaXdp.PROG_ID, 33)])), {
    ifindex: 6,
    name: "veth0",
    xdp: { generic: 33 },
  });
  assert.deepEqual(
    parseLink(
      link([
        ...attached(XdpAttached.MULTI),
        ...id(IflaXdp.DRV_PROG_ID, 4),
        ...id(IflaXdp.SKB_PROG_ID, 5),
      ]),
    ).xdp,
    { generic: 5, driver: 4 },
  );
  assert.deepEqual(parseLink(link(attached(XdpAttached.NONE))).xdp, {});
});

test("a cls_bpf filter from a dump: priority, protocol, handle, name, id, tag, direct action", () => {
  const tag = [0x61, 0x4b, 0x43, 0x4c, 0xd8, 0x32, 0x4e, 0xcc];
  const name = [...Buffer.from("prog.o:[tc]\0")];
  const opts = [
    ...u16(8),
    ...u16(TcaBpf.FD + 0),
    ...u32(0),
    ...u16(4 + name.length),
    ...u16(TcaBpf.NAME),
    ...name,
    ...u16(8),
    ...u16(TcaBpf.FLAGS),
    ...u32(1),
    ...u16(12),
    ...u16(TcaBpf.TAG),
    ...tag,
    ...u16(8),
    ...u16(TcaBpf.ID),
    ...u32(99),
  ];
  const body = [
    0,
    0,
    0,
    0,
    ...u32(2),
    ...u32(1),
    ...u32(0xfffffff3),
    ...u32((1 << 16) | 0x0300),
    ...u16(8),
    ...u16(1),
    ...Buffer.from("bpf\0"),
    ...u16(8),
    ...u16(11),
    ...u32(0),
    ...u16(4 + opts.length),
    ...u16(2 | NLA_F_NESTED),
    ...opts,
  ];
  const f = parseFilter(
    parseMessages(new Uint8Array([...hdr(16 + body.length, Rtm.NEWTFILTER, 0, 1), ...body]))[0]!,
  );
  assert.deepEqual(f, {
    ifindex: 2,
    parent: 0xfffffff3,
    handle: 1,
    kind: "bpf",
    priority: 1,
    protocol: 3,
    chain: 0,
    bpf: { id: 99, name: "prog.o:[tc]", tag: "614b434cd8324ecc", directAction: true },
  });
});

test("lengths that overrun: a message, an attribute, a short integer — each named", () => {
  assert.throws(
    () => parseMessages(new Uint8Array(hdr(64, 16, 0, 0))),
    (e: unknown) =>
      e instanceof NetlinkFormatError &&
      /message at byte 0 claims 64 bytes; 16 remain/.test(e.message),
  );
  assert.throws(() => parseMessages(new Uint8Array(hdr(8, 16, 0, 0))), /claims 8 bytes/);
  assert.throws(
    () => new Attrs(new Uint8Array([...u16(12), ...u16(3), 1, 2]), "link 4"),
    (e: unknown) =>
      e instanceof NetlinkFormatError &&
      /^link 4: attribute 3 at byte 0 claims 12 bytes; 6 remain$/.test(e.message),
  );
  const short = new Attrs(new Uint8Array([...u16(6), ...u16(1), 1, 2, 0, 0]));
  assert.throws(() => short.u32(1), /attribute 1 has 2 bytes, needs 4/);
  assert.equal(short.u16(1), 0x201);
  assert.equal(short.u32(9), undefined);
});

test("a nested attribute grows the message past its first buffer", () => {
  const w = new MessageWriter(Rtm.NEWLINK, NlmFlags.REQUEST | NlmFlags.ACK);
  w.nest(1, (n) => {
    for (let i = 0; i < 100; i++) n.attrU32(i + 1, i);
  });
  const m = parseMessages(w.finish(1))[0]!;
  const inner = new Attrs(m.payload).nested(1)!;
  assert.equal(inner.list.length, 100);
  assert.equal(inner.u32(100), 99);
});
