/**
 * XDP on a real device with real packets (issue 10): examples/xdp-count's object on a
 * veth pair in namespaces this test makes, attached in generic mode through netlink (as
 * `ip link set dev X xdpgeneric obj ...` does) and through a bpf_link. UDP datagrams
 * from the peer to port 53 are dropped and counted in the `dropped` global, the others
 * pass and reach a socket here; `ip link` agrees with tsbpf on what is attached; closing
 * detaches. Bad input: a busy device, the wrong program type, a missing device, a mode
 * veth lacks — each a one-line error and nothing left attached.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadXdpCount } from "../examples/xdp-count/xdp-count.gen.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { attachXdp, kernelBackend, Program, queryXdp } from "../src/kernel/index.ts";
import { ifindexOf } from "../src/kernel/links/netdev.ts";
import { NetlinkError } from "../src/kernel/netlink/socket.ts";
import { ProgType } from "../src/uapi/index.ts";
import { tsbpf } from "./cli-run.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns, receivedWhile, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const spec = loadCollectionSpec(
  readFileSync(join(import.meta.dirname, "../examples/xdp-count/xdp-count.bpf.o")),
);

/** What `ip -j link show` says is attached (xdp mode and program id), or undefined. */
function ipLinkXdp(name: string): { mode: number; id: number } | undefined {
  const [link] = JSON.parse(
    execFileSync("ip", ["-d", "-j", "link", "show", name], { encoding: "utf8" }),
  ) as {
    xdp?: { mode: number; prog?: { id: number } };
  }[];
  return link?.xdp?.prog ? { mode: link.xdp.mode, id: link.xdp.prog.id } : undefined;
}

describe("XDP on a veth pair in test namespaces", { skip }, () => {
  let pair: VethPair;
  before(() => {
    pair = vethPair();
  });
  after(() => pair?.remove());

  for (const via of ["netlink", "link"] as const) {
    test(`generic XDP through ${via}: DNS dropped and counted, the rest passes, close detaches`, async () => {
      const fds = fdCounts();
      {
        using obj = loadXdpCount(kernelBackend, spec);
        const prog = obj.programs.xdp_count as Program;
        {
          using link = attachXdp(prog, pair.name, { mode: "generic", via });
          assert.equal(link.isBpfLink, via === "link");
          if (via === "link") {
            // The device's name comes from this namespace, as bpftool's if_indextoname.
            const ours = await tsbpf("link", "show", "id", String(link.id));
            assert.ok(
              ours.stdout.includes(`ifindex ${pair.name}(${ifindexOf(pair.name)})`),
              ours.stdout,
            );
            // (bpftool 7.1 prints no device for xdp links; newer ones print this line.)
          }
          assert.deepEqual(queryXdp(ifindexOf(pair.name)), { generic: prog.id });
          // XDP_ATTACHED_SKB (2) with our program, as iproute2 reads it
          assert.deepEqual(ipLinkXdp(pair.name), { mode: 2, id: prog.id });
          const dns = await receivedWhile(pair, 53, () => pair.sendUdp(53, 5));
          const ntp = await receivedWhile(pair, 123, () => pair.sendUdp(123, 3, 48));
          assert.equal(dns, 0, "datagrams to :53 must be dropped");
          assert.equal(ntp, 3, "datagrams to :123 must pass");
          assert.equal(obj.variables.dropped.get(), 5n);
          const udp = obj.maps.by_proto.lookup(17);
          assert.equal(udp?.packets, 3n);
        }
        assert.deepEqual(queryXdp(ifindexOf(pair.name)), {});
        assert.equal(ipLinkXdp(pair.name), undefined);
        assert.equal(
          await receivedWhile(pair, 53, () => pair.sendUdp(53, 2)),
          2,
          "detached: DNS passes",
        );
      }
      assertFdCounts(fds);
    });
  }

  test("a second program without replace: EBUSY with the kernel's words; replace swaps it", () => {
    using a = loadXdpCount(kernelBackend, spec);
    using b = loadXdpCount(kernelBackend, spec);
    const pa = a.programs.xdp_count as Program;
    const pb = b.programs.xdp_count as Program;
    using first = attachXdp(pa, pair.name, { mode: "generic", via: "netlink" });
    assert.throws(
      () => attachXdp(pb, pair.name, { mode: "generic", via: "netlink" }),
      (e: unknown) =>
        e instanceof NetlinkError &&
        e.code === "EBUSY" &&
        e.kernelMessage === "XDP program already attached" &&
        !e.message.includes("\n"),
    );
    // A link cannot take the place of a netlink attachment either.
    assert.throws(() => attachXdp(pb, pair.name, { mode: "generic", via: "link" }), /busy/i);
    {
      using second = attachXdp(pb, pair.name, { mode: "generic", via: "netlink", replace: true });
      assert.equal(ipLinkXdp(pair.name)?.id, pb.id);
      // The first one's close must not detach what replaced it.
      first.close();
      assert.equal(ipLinkXdp(pair.name)?.id, pb.id);
      assert.ok(second);
    }
    assert.equal(ipLinkXdp(pair.name), undefined);
  });

  test("bad input: wrong program type, no such device, a mode veth lacks; nothing attached", () => {
    const fds = fdCounts();
    {
      using tc = Program.load({
        name: "not_xdp",
        type: ProgType.SCHED_CLS,
        license: "GPL",
        instructions: new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
      });
      assert.throws(
        () => attachXdp(tc, pair.name, { via: "netlink" }),
        /sched_cls program "not_xdp" cannot attach to xdp on tv\d+ \(ifindex \d+\): that needs a xdp program/,
      );
      using obj = loadXdpCount(kernelBackend, spec);
      const prog = obj.programs.xdp_count as Program;
      assert.throws(
        () => attachXdp(prog, "tsbpf-none0", { via: "netlink" }),
        /^Error: no network interface named tsbpf-none0 \(in this network namespace\)$/,
      );
      assert.throws(
        () => attachXdp(prog, pair.name, { mode: "offload", via: "netlink" }),
        (e: unknown) => e instanceof NetlinkError && !e.message.includes("\n"),
      );
      assert.equal(ipLinkXdp(pair.name), undefined);
    }
    assertFdCounts(fds);
  });
});
