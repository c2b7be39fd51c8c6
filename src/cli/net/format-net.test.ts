/**
 * `net show` output for what this machine cannot make — XDP in two modes at once (a
 * driver with native and offloaded XDP), bpf actions on a filter (act_bpf is not
 * built here), tcx flags — laid out as bpftool's netlink_dumper.c prints them: plain
 * text field by field, and JSON through the same writer as every other command.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonWriter } from "../format/json-writer.ts";
import { type NetView, netJson, netPlain } from "./format-net.ts";

function json(v: NetView, pretty = false): string {
  let s = "";
  netJson(new JsonWriter((t) => (s += t), pretty), v);
  return s;
}

const view: NetView = {
  xdp: [
    { devname: "eth0", ifindex: 2, progs: [{ mode: "driver", id: 7 }] },
    {
      devname: "eth1",
      ifindex: 3,
      progs: [
        { mode: "driver", id: 8 },
        { mode: "offload", id: 9 },
      ],
    },
  ],
  tc: [
    {
      type: "mprog",
      devname: "eth0",
      ifindex: 2,
      kind: "tcx/ingress",
      name: "count",
      progId: 11,
      progFlags: [8],
      linkId: 12,
      linkFlags: [],
    },
    {
      type: "filter",
      devname: "eth0",
      ifindex: 2,
      kind: "clsact/ingress",
      name: "f.o:[tc]",
      id: 13,
      actions: [{ name: "a.o:[act]", id: 14 }, { id: 15 }],
    },
    { type: "filter", devname: "", ifindex: 4, kind: "root", id: 16, actions: [] },
  ],
  flowDissector: undefined,
};

test("plain: modes after the device, a list of actions in braces and a trailing space", () => {
  assert.equal(
    netPlain(view),
    "xdp:\n" +
      "eth0(2) driver id 7\n" +
      "eth1(3) driver id 8 offload id 9\n" +
      "\n" +
      "tc:\n" +
      "eth0(2) tcx/ingress count prog_id 11 prog_flags 8 link_id 12 \n" +
      "eth0(2) clsact/ingress f.o:[tc] id 13 act [{a.o:[act] id 14}{ id 15}] \n" +
      "(4) root id 16 act [] \n" +
      "\n" +
      "flow_dissector:\n" +
      "\n",
  );
  // No tc section when the devices could not be listed; a flow dissector's id, no blank line.
  assert.equal(
    netPlain({ xdp: [], tc: undefined, flowDissector: 5 }),
    "xdp:\n\nflow_dissector:\nid 5\n",
  );
});

test("JSON: multi_attachments for two modes, act lists, every tcx field, the id inside an array", () => {
  assert.equal(
    json(view),
    '[{"xdp":[{"devname":"eth0","ifindex":2,"mode":"driver","id":7},' +
      '{"devname":"eth1","ifindex":3,"multi_attachments":[{"mode":"driver","id":8},{"mode":"offload","id":9}]}],' +
      '"tc":[{"devname":"eth0","ifindex":2,"kind":"tcx/ingress","name":"count","prog_id":11,"prog_flags":[8],"link_id":12,"link_flags":[]},' +
      '{"devname":"eth0","ifindex":2,"kind":"clsact/ingress","name":"f.o:[tc]","id":13,"act":[{"name":"a.o:[act]","id":14},{"id":15}]},' +
      '{"ifindex":4,"kind":"root","id":16,"act":[]}],' +
      '"flow_dissector":[]}]',
  );
  assert.equal(
    json({ xdp: [], tc: [], flowDissector: 5 }, true),
    '[{\n        "xdp": [],\n        "tc": [],\n        "flow_dissector": [\n            "id": 5\n        ]\n    }\n]',
  );
});
