/**
 * A socket filter on a raw packet socket, with real packets (issue 10):
 * examples/socket-filter counts what an AF_PACKET socket in the test's own network
 * namespace sees, by protocol and direction. UDP datagrams from a veth peer are
 * counted exactly; after the link closes (SO_DETACH_BPF) nothing more is counted; bad
 * input is refused before or by the kernel in one line.
 */
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadSocketFilter } from "../examples/socket-filter/socket-filter.gen.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelBackend, type Program } from "../src/kernel/index.ts";
import { attachReuseport, attachSocketFilter } from "../src/kernel/links/socket.ts";
import { openSocket, Socket } from "../src/kernel/sys/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns, receivedWhile, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const spec = loadCollectionSpec(
  readFileSync(join(import.meta.dirname, "../examples/socket-filter/socket-filter.bpf.o")),
);

/** Sends `count` datagrams from the peer to a socket listening here (so no ICMP comes back). */
const deliver = (pair: VethPair, count: number) =>
  receivedWhile(pair, 7007, () => pair.sendUdp(7007, count));

describe("a socket filter on a raw packet socket", { skip }, () => {
  let pair: VethPair;
  before(() => {
    pair = vethPair();
  });
  after(() => pair?.remove());

  test("counts the UDP datagrams a peer sends, and nothing once detached", async () => {
    const fds = fdCounts();
    {
      using obj = loadSocketFilter(kernelBackend, spec);
      using raw = openSocket(
        Socket.AF_PACKET,
        Socket.SOCK_RAW,
        Socket.ETH_P_ALL_BE,
        "packet socket",
      );
      const prog = obj.programs.count_packets as Program;
      {
        using link = attachSocketFilter(prog, raw.value);
        assert.equal(link.isBpfLink, false);
        assert.equal(await deliver(pair, 5), 5);
        const incoming = obj.maps.by_direction.lookup(0);
        const outgoing = obj.maps.by_direction.lookup(1);
        assert.equal(incoming?.udp, 5n);
        assert.equal(outgoing?.udp, 0n);
      }
      assert.equal(await deliver(pair, 3), 3);
      assert.equal(obj.maps.by_direction.lookup(0)?.udp, 5n, "detached: no more counting");
    }
    assertFdCounts(fds);
  });

  test("bad input: wrong program type, a descriptor that is not a socket, a closed socket", () => {
    using obj = loadSocketFilter(kernelBackend, spec);
    const prog = obj.programs.count_packets as Program;
    assert.throws(
      () => attachReuseport(prog, -1),
      /^RangeError: reuseport group: -1 is not a socket descriptor$/,
    );
    assert.throws(
      () => attachSocketFilter(prog, 0x7fff),
      (e: unknown) =>
        (e as { code?: string }).code === "EBADF" && /socket filter \(fd 32767\)/.test(String(e)),
    );
    const file = openSync("/dev/null", "r");
    try {
      assert.throws(() => attachSocketFilter(prog, file), /Socket operation on non-socket/);
    } finally {
      closeSync(file);
    }
    const raw = openSocket(Socket.AF_PACKET, Socket.SOCK_RAW, Socket.ETH_P_ALL_BE, "packet socket");
    const link = attachSocketFilter(prog, raw.value);
    raw.close();
    // The socket went first: closing the link is then harmless.
    link.close();
  });
});
