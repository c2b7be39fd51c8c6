/**
 * tc programs on a real device with real packets (issue 10): examples/tc-clsact's two
 * programs on a veth pair in namespaces this test makes, as direct-action cls_bpf
 * filters under clsact (what `tc filter add ... bpf da` makes) and as tcx links where
 * the kernel has them. Ingress drops UDP to :53 and counts the rest, egress counts;
 * `tc filter show` agrees; closing removes the filters and the qdisc tsbpf added, and
 * leaves a qdisc it found.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadTcClsact } from "../examples/tc-clsact/tc-clsact.gen.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelEnumHas } from "../src/kernel/features/kernel-enum.ts";
import {
  attachProgram,
  attachTc,
  ifindexOf,
  kernelBackend,
  listClsactFilters,
  NotSupportedError,
  type Program,
} from "../src/kernel/index.ts";
import { NetlinkError } from "../src/kernel/netlink/socket.ts";
import { AttachType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns, receivedWhile, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const spec = loadCollectionSpec(
  readFileSync(join(import.meta.dirname, "../examples/tc-clsact/tc-clsact.bpf.o")),
);

/** Sends `count` datagrams from here to the peer (out through this end's egress). */
async function sendToPeer(pair: VethPair, count: number): Promise<void> {
  const sock = createSocket("udp4");
  try {
    for (let i = 0; i < count; i++)
      await new Promise<void>((resolve, reject) =>
        sock.send(Buffer.alloc(16), 9, pair.peerAddr, (e) => (e ? reject(e) : resolve())),
      );
  } finally {
    sock.close();
  }
}

const tc = (...args: string[]) => execFileSync("tc", args, { encoding: "utf8" });
const hasClsact = (dev: string) => /qdisc clsact ffff:/.test(tc("qdisc", "show", "dev", dev));

describe("tc programs on a veth pair in test namespaces", { skip }, () => {
  let pair: VethPair;
  before(() => {
    pair = vethPair();
  });
  after(() => pair?.remove());

  test("clsact: ingress drops :53 and counts, egress counts, tc agrees, close removes filters and qdisc", async () => {
    const fds = fdCounts();
    {
      using obj = loadTcClsact(kernelBackend, spec);
      const ingress = obj.programs.tc_ingress as Program;
      const egress = obj.programs.tc_egress as Program;
      {
        using a = attachTc(ingress, pair.name, "ingress", { via: "clsact" });
        using b = attachTc(egress, pair.name, "egress", { via: "clsact", priority: 7 });
        assert.equal(a.isBpfLink, false);
        assert.match(
          String(b),
          /^tc egress \(clsact, pref 7 handle 0x1\) on tv\d+ \(ifindex \d+\) link$/,
        );
        assert.ok(hasClsact(pair.name));
        const shown = tc("filter", "show", "dev", pair.name, "ingress");
        assert.match(
          shown,
          new RegExp(`bpf chain 0 handle 0x1 tc_ingress direct-action .*id ${ingress.id} `),
        );
        const [f] = listClsactFilters(ifindexOf(pair.name), "egress");
        assert.equal(f?.priority, 7);
        assert.equal(f?.bpf?.id, egress.id);
        assert.equal(f?.bpf?.directAction, true);

        assert.equal(await receivedWhile(pair, 53, () => pair.sendUdp(53, 4)), 0);
        assert.equal(await receivedWhile(pair, 123, () => pair.sendUdp(123, 3)), 3);
        assert.equal(obj.variables.dropped.get(), 4n);
        assert.equal(obj.variables.ingress_packets.get(), 3n);
        assert.equal(obj.variables.egress_packets.get(), 0n);
        // (The peer answers these with ICMP port unreachable: more ingress packets.)
        await sendToPeer(pair, 2);
        assert.equal(obj.variables.egress_packets.get(), 2n);
      }
      assert.equal(hasClsact(pair.name), false, "the qdisc tsbpf added is gone");
      assert.equal(
        await receivedWhile(pair, 53, () => pair.sendUdp(53, 2)),
        2,
        "detached: :53 passes",
      );
    }
    assertFdCounts(fds);
  });

  test("a clsact qdisc that was there stays; a taken priority and handle is EEXIST unless replaced", () => {
    tc("qdisc", "add", "dev", pair.name, "clsact");
    try {
      using obj = loadTcClsact(kernelBackend, spec);
      const ingress = obj.programs.tc_ingress as Program;
      const egress = obj.programs.tc_egress as Program;
      {
        using first = attachTc(ingress, pair.name, "ingress", { priority: 3, handle: 5 });
        assert.throws(
          () => attachTc(egress, pair.name, "ingress", { priority: 3, handle: 5 }),
          (e: unknown) =>
            e instanceof NetlinkError && e.code === "EEXIST" && !e.message.includes("\n"),
        );
        using second = attachTc(egress, pair.name, "ingress", {
          priority: 3,
          handle: 5,
          replace: true,
        });
        assert.equal(listClsactFilters(ifindexOf(pair.name), "ingress")[0]?.bpf?.id, egress.id);
        // The first no longer runs: closing it leaves the replacement alone.
        first.close();
        assert.equal(listClsactFilters(ifindexOf(pair.name), "ingress").length, 1);
        assert.ok(second);
      }
      assert.deepEqual(listClsactFilters(ifindexOf(pair.name), "ingress"), []);
      assert.ok(hasClsact(pair.name), "a qdisc tsbpf did not add stays");
    } finally {
      tc("qdisc", "del", "dev", pair.name, "clsact");
    }
  });

  test('attachProgram: SEC("tc") goes to the interface and direction the caller names', async () => {
    using obj = loadTcClsact(kernelBackend, spec);
    const progSpec = spec.programs.tc_ingress;
    assert.ok(progSpec);
    assert.throws(
      () => attachProgram(obj.programs.tc_ingress as Program, progSpec, { iface: pair.name }),
      /tc programs need target.direction \(ingress or egress\)/,
    );
    {
      using link = attachProgram(obj.programs.tc_ingress as Program, progSpec, {
        iface: pair.name,
        direction: "ingress",
        tc: { via: "clsact" },
      });
      assert.equal(await receivedWhile(pair, 53, () => pair.sendUdp(53, 2)), 0);
      assert.ok(link);
    }
    assert.equal(hasClsact(pair.name), false);
  });

  test("tcx where the kernel has it, else a NotSupportedError naming 6.6; the default falls back to clsact", async (t) => {
    using obj = loadTcClsact(kernelBackend, spec);
    const ingress = obj.programs.tc_ingress as Program;
    const hasTcx = kernelEnumHas("bpf_attach_type", AttachType.TCX_INGRESS) !== false;
    {
      using link = attachTc(ingress, pair.name, "ingress");
      assert.equal(link.isBpfLink, hasTcx, String(link));
      assert.equal(await receivedWhile(pair, 53, () => pair.sendUdp(53, 2)), 0);
    }
    if (hasTcx) {
      t.diagnostic("this kernel has tcx: the default made a tcx link");
    } else {
      assert.throws(
        () => attachTc(ingress, pair.name, "ingress", { via: "tcx" }),
        NotSupportedError,
      );
    }
    assert.equal(hasClsact(pair.name), false);
  });
});
