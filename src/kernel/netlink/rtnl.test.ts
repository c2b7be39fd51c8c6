/**
 * The rtnetlink dumps `net show` asks for (classes, qdiscs, filters under any parent) and
 * the action lists of cls_bpf filters, on bytes alone: requests compared with the
 * `tcmsg` layout of <linux/rtnetlink.h>, answers built the way the kernel lays them out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { hdr, u16, u32 } from "../../../test/support/netlink-bytes.ts";
import { NLA_F_NESTED, NlmFlags, parseMessages } from "./message.ts";
import {
  getClassesRequest,
  getFiltersRequest,
  getQdiscsRequest,
  parseFilter,
  parseQdisc,
  Rtm,
  TCA_ACT_MAX_PRIO,
  TcaAct,
  TcaActBpf,
  TcaBpf,
} from "./rtnl.ts";

const pad = (b: number[]) => [...b, ...Array((4 - (b.length % 4)) % 4).fill(0)];
const attr = (type: number, payload: number[]) => [
  ...u16(4 + payload.length),
  ...u16(type),
  ...pad(payload),
];
const nest = (type: number, body: number[]) => attr(type | NLA_F_NESTED, body);
const str = (s: string) => [...Buffer.from(`${s}\0`)];
const tcmsg = (ifindex: number, handle: number, parent: number, info: number) => [
  0,
  0,
  0,
  0,
  ...u32(ifindex),
  ...u32(handle),
  ...u32(parent),
  ...u32(info),
];
const message = (type: number, body: number[]) =>
  parseMessages(new Uint8Array([...hdr(16 + body.length, type, NlmFlags.MULTI, 1), ...body]))[0]!;

test("class, qdisc and filter dumps: a tcmsg with the device, and the parent for filters", () => {
  const dump = NlmFlags.REQUEST | NlmFlags.DUMP;
  assert.deepEqual(
    [...getClassesRequest(7).finish(3)],
    [...hdr(36, Rtm.GETTCLASS, dump, 3), ...tcmsg(7, 0, 0, 0)],
  );
  assert.deepEqual(
    [...getQdiscsRequest(7).finish(4)],
    [...hdr(36, Rtm.GETQDISC, dump, 4), ...tcmsg(7, 0, 0, 0)],
  );
  assert.deepEqual([...getQdiscsRequest().finish(4)].slice(20, 24), u32(0));
  assert.deepEqual(
    [...getFiltersRequest(7, 0xffffffff).finish(5)],
    [...hdr(36, Rtm.GETTFILTER, dump, 5), ...tcmsg(7, 0, 0xffffffff, 0)],
  );
});

test("a class from a dump: its handle and its qdisc's kind; a missing kind is told apart", () => {
  const cls = parseQdisc(
    message(Rtm.NEWTCLASS, [...tcmsg(3, 0x10010, 0x10000, 0), ...attr(1, str("htb"))]),
  );
  assert.deepEqual(cls, {
    ifindex: 3,
    handle: 0x10010,
    parent: 0x10000,
    kind: "htb",
    hasKind: true,
  });
  const bare = parseQdisc(message(Rtm.NEWQDISC, tcmsg(3, 0x10000, 0xffffffff, 0)));
  assert.deepEqual([bare.kind, bare.hasKind], ["", false]);
  assert.throws(
    () => parseQdisc(message(Rtm.NEWTCLASS, [0, 0, 0, 0, ...u32(3)])),
    /^NetlinkFormatError: class message of 8 bytes; needs 20$/,
  );
});

test("a cls_bpf filter's action list: bpf actions with name and id, others by kind, in priority order", () => {
  const bpfAct = (prio: number, name: string | undefined, id: number, parms = true) =>
    nest(prio, [
      ...attr(TcaAct.KIND, str("bpf")),
      ...nest(TcaAct.OPTIONS, [
        ...(parms ? attr(TcaActBpf.PARMS, Array(20).fill(0)) : []),
        ...(name !== undefined ? attr(TcaActBpf.NAME, str(name)) : []),
        ...attr(TcaActBpf.ID, u32(id)),
      ]),
    ]);
  const gact = (prio: number) => nest(prio, attr(TcaAct.KIND, str("gact")));
  const filter = (acts: number[]) =>
    parseFilter(
      message(Rtm.NEWTFILTER, [
        ...tcmsg(2, 1, 0xfffffff2, (0xc000 << 16) | 0x0300),
        ...attr(1, str("bpf")),
        ...nest(2, [
          ...nest(TcaBpf.ACT, acts),
          ...attr(TcaBpf.NAME, str("f.o:[tc]")),
          ...attr(TcaBpf.ID, u32(40)),
        ]),
      ]),
    );
  // The kernel numbers actions from 1; listed out of order, they come back in order.
  const f = filter([...bpfAct(2, "second", 42), ...gact(3), ...bpfAct(1, "first", 41)]);
  assert.deepEqual(f.bpf?.actions, [
    { prio: 1, kind: "bpf", bpf: { name: "first", id: 41, hasParms: true } },
    { prio: 2, kind: "bpf", bpf: { name: "second", id: 42, hasParms: true } },
    { prio: 3, kind: "gact" },
  ]);
  assert.equal(f.bpf?.name, "f.o:[tc]");
  assert.equal(f.bpf?.id, 40);
  // Past TCA_ACT_MAX_PRIO: left out; without parameters: said so; a filter without an
  // action list has no `actions`.
  const odd = filter([
    ...bpfAct(TCA_ACT_MAX_PRIO + 1, "far", 1),
    ...bpfAct(5, undefined, 9, false),
  ]);
  assert.deepEqual(odd.bpf?.actions, [{ prio: 5, kind: "bpf", bpf: { id: 9, hasParms: false } }]);
  const plain = parseFilter(
    message(Rtm.NEWTFILTER, [
      ...tcmsg(2, 1, 0xfffffff2, 0),
      ...attr(1, str("bpf")),
      ...nest(2, attr(TcaBpf.ID, u32(40))),
    ]),
  );
  assert.equal(plain.bpf && "actions" in plain.bpf, false);
});
