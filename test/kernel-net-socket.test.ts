/**
 * Programs on sockets, with real traffic in the test's own network namespace (issue 10):
 * - examples/socket-filter counts what an AF_PACKET socket sees, by protocol and
 *   direction. UDP datagrams from a veth peer are counted exactly; after the link
 *   closes (SO_DETACH_BPF) nothing more is counted; bad input is refused before or by
 *   the kernel in one line.
 * - examples/reuseport-select picks the listener of a SO_REUSEPORT group that takes
 *   each TCP connection; the accept queues in /proc/net/tcp say where they went.
 */
import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { connect, type Socket as NetSocket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadReuseportSelect } from "../examples/reuseport-select/reuseport-select.gen.ts";
import { loadSocketFilter } from "../examples/socket-filter/socket-filter.gen.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelBackend, type Program } from "../src/kernel/index.ts";
import { attachReuseport, attachSocketFilter } from "../src/kernel/links/socket.ts";
import {
  bindInet,
  type Fd,
  listenSocket,
  openSocket,
  Socket,
  setSocketOptionInt,
} from "../src/kernel/sys/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns, receivedWhile, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const exampleSpec = (name: string) =>
  loadCollectionSpec(readFileSync(join(import.meta.dirname, `../examples/${name}/${name}.bpf.o`)));
const spec = exampleSpec("socket-filter");

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

/** A TCP listener on 127.0.0.1:`port` in a SO_REUSEPORT group. */
function reuseportListener(port: number): Fd {
  const fd = openSocket(Socket.AF_INET, Socket.SOCK_STREAM, 0, "TCP socket");
  try {
    setSocketOptionInt(fd.value, Socket.SOL_SOCKET, Socket.SO_REUSEPORT, 1, "SO_REUSEPORT");
    bindInet(fd.value, "127.0.0.1", port);
    listenSocket(fd.value);
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

/**
 * How many connections wait in each listener's accept queue: a listening socket's
 * rx_queue in /proc/net/tcp (this namespace's, as /proc/net follows the process).
 */
function acceptQueues(listeners: readonly Fd[]): number[] {
  const byInode = new Map<number, number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== "0A") continue; // TCP_LISTEN
    byInode.set(Number(f[9]), Number.parseInt((f[4] as string).split(":")[1] as string, 16));
  }
  return listeners.map((l) => byInode.get(fstatSync(l.value).ino) ?? -1);
}

/** Opens `count` connections to 127.0.0.1:`port`, each once it is established. */
async function connectMany(port: number, count: number): Promise<NetSocket[]> {
  const out: NetSocket[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      await new Promise<NetSocket>((resolve, reject) => {
        const c = connect({ host: "127.0.0.1", port }, () => resolve(c));
        c.once("error", reject);
      }),
    );
  return out;
}

describe("a reuseport selector on a group of TCP listeners", { skip }, () => {
  const PORT = 9100;

  test("every connection goes to the listener the program picks; detached, the kernel's hash picks", async () => {
    const fds = fdCounts();
    const clients: NetSocket[] = [];
    try {
      using obj = loadReuseportSelect(kernelBackend, exampleSpec("reuseport-select"));
      using a = reuseportListener(PORT);
      using b = reuseportListener(PORT);
      const listeners = [a, b];
      listeners.forEach((l, i) => {
        const value = new Uint8Array(8);
        new DataView(value.buffer).setUint32(0, l.value, true);
        obj.maps.group.update(Uint8Array.of(i, 0, 0, 0), value);
      });
      {
        using link = attachReuseport(obj.programs.select_socket as Program, a.value);
        assert.equal(link.isBpfLink, false);
        obj.variables.chosen.set(1);
        clients.push(...(await connectMany(PORT, 4)));
        assert.deepEqual(acceptQueues(listeners), [0, 4]);
        obj.variables.chosen.set(0);
        clients.push(...(await connectMany(PORT, 3)));
        assert.deepEqual(acceptQueues(listeners), [3, 4]);
        obj.variables.chosen.set(3); // an empty slot: the kernel's hash picks
        clients.push(...(await connectMany(PORT, 2)));
        const [x, y] = acceptQueues(listeners) as [number, number];
        assert.equal(x + y, 9);
        assert.equal(obj.variables.picked.get(), 7n);
        assert.equal(obj.variables.missed.get(), 2n);
      }
      clients.push(...(await connectMany(PORT, 2)));
      assert.equal(obj.variables.picked.get() + obj.variables.missed.get(), 9n, "detached");
    } finally {
      for (const c of clients) c.destroy();
    }
    assertFdCounts(fds);
  });

  test("bad input: a socket array slot for a socket outside any group, a non-socket", () => {
    using obj = loadReuseportSelect(kernelBackend, exampleSpec("reuseport-select"));
    using lone = openSocket(Socket.AF_INET, Socket.SOCK_STREAM, 0, "TCP socket");
    const value = new Uint8Array(8);
    new DataView(value.buffer).setUint32(0, lone.value, true);
    assert.throws(
      () => obj.maps.group.update(new Uint8Array(4), value),
      /^SyscallError: update in reuseport_sockarray map "group": Invalid argument$/,
    );
    assert.throws(
      () => attachReuseport(obj.programs.select_socket as Program, { fd: -3 }),
      /^RangeError: reuseport group: -3 is not a socket descriptor$/,
    );
  });
});
