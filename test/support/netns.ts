/**
 * Networks for tests, in namespaces the test makes: the test process moves its main
 * thread into a new network namespace of its own ({@link enterTestNetns}), and each
 * {@link vethPair} puts one end of a veth pair there and the other in a second, named
 * namespace, with addresses and static neighbours in those namespaces only. Nothing
 * touches the host's network; the named namespaces are deleted at exit.
 *
 * Packets come from the peer's namespace: a short Node script sends UDP datagrams
 * (no ping or netcat needed on the machine).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { unshareNetworkNamespace } from "../../src/kernel/sys/index.ts";
import { isRoot } from "./kernel.ts";

let entered: string | false | undefined;
const peers = new Set<string>();

process.on("exit", () => {
  for (const ns of peers) spawnSync("ip", ["netns", "del", ns]);
});

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Moves this process (its main thread, and the children it starts) into a fresh
 * network namespace with `lo` up. Returns a skip reason when it cannot (not root, no
 * `ip`), false when done; once per process.
 */
export function enterTestNetns(): string | false {
  entered ??= enter();
  return entered;
}

function enter(): string | false {
  if (!isRoot) return "needs root (network namespaces)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "needs iproute2's ip";
  try {
    unshareNetworkNamespace();
    ip(["link", "set", "lo", "up"]);
    return false;
  } catch (e) {
    return `cannot make a network namespace: ${(e as Error).message}`;
  }
}

/** A veth pair: `name` here, its peer in namespace `peerNs`, on 10.201.N.0/24. */
export interface VethPair {
  /** This end's interface name (in the test's namespace). */
  readonly name: string;
  readonly addr: string;
  readonly peerNs: string;
  readonly peerName: string;
  readonly peerAddr: string;
  /** Runs `argv` in the peer's namespace; returns its stdout. */
  inPeer(argv: string[]): string;
  /**
   * Sends `count` UDP datagrams of `size` bytes from the peer to this end's `port`
   * (one process, so the count is exact unless something drops them).
   */
  sendUdp(port: number, count: number, size?: number): void;
  /** Deletes the pair (and the peer's namespace). */
  remove(): void;
}

let pairs = 0;

function mac(name: string, ns?: string): string {
  const argv = ns ? ["-n", ns, "link", "show", name] : ["link", "show", name];
  const m = /link\/ether ([0-9a-f:]{17})/.exec(ip(argv));
  if (!m) throw new Error(`no MAC address on ${name}`);
  return m[1] as string;
}

/** Makes a veth pair; call {@link enterTestNetns} first. */
export function vethPair(): VethPair {
  const n = ++pairs;
  const tag = `${process.pid % 100000}${n}`;
  const name = `tv${tag}`;
  const peerName = `tv${tag}p`;
  const peerNs = `tsbpf-test-${tag}`;
  const addr = `10.201.${n}.1`;
  const peerAddr = `10.201.${n}.2`;
  ip(["netns", "add", peerNs]);
  peers.add(peerNs);
  ip(["link", "add", name, "type", "veth", "peer", "name", peerName, "netns", peerNs]);
  ip(["addr", "add", `${addr}/24`, "dev", name]);
  ip(["link", "set", name, "up"]);
  ip(["-n", peerNs, "addr", "add", `${peerAddr}/24`, "dev", peerName]);
  ip(["-n", peerNs, "link", "set", peerName, "up"]);
  ip(["-n", peerNs, "link", "set", "lo", "up"]);
  // Static neighbours: a program that drops ARP must not stop the datagrams themselves.
  ip([
    "neigh",
    "replace",
    peerAddr,
    "lladdr",
    mac(peerName, peerNs),
    "dev",
    name,
    "nud",
    "permanent",
  ]);
  ip([
    "-n",
    peerNs,
    "neigh",
    "replace",
    addr,
    "lladdr",
    mac(name),
    "dev",
    peerName,
    "nud",
    "permanent",
  ]);
  const inPeer = (argv: string[]) =>
    execFileSync("ip", ["netns", "exec", peerNs, ...argv], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
  return {
    name,
    addr,
    peerNs,
    peerName,
    peerAddr,
    inPeer,
    sendUdp(port, count, size = 32) {
      const script = `const s = require("node:dgram").createSocket("udp4"); const b = Buffer.alloc(${size}); let n = 0; const next = () => n++ < ${count} ? s.send(b, ${port}, "${addr}", next) : s.close(); next();`;
      inPeer([process.execPath, "-e", script]);
    },
    remove() {
      spawnSync("ip", ["netns", "del", peerNs]);
      peers.delete(peerNs);
    },
  };
}

/** The interface's rx/tx packet counters (this namespace), from `ip -s -j link`. */
export function linkStats(name: string): { rxPackets: number; txPackets: number } {
  const [link] = JSON.parse(ip(["-s", "-j", "link", "show", name])) as {
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  if (!link) throw new Error(`no link ${name}`);
  return { rxPackets: link.stats64.rx.packets, txPackets: link.stats64.tx.packets };
}

/**
 * How many datagrams reach `port` on the pair's own address while `send` runs (and
 * 200 ms after, for the last ones to be read).
 */
export async function receivedWhile(
  pair: VethPair,
  port: number,
  send: () => void,
): Promise<number> {
  const sock = createSocket("udp4");
  let n = 0;
  sock.on("message", () => n++);
  await new Promise<void>((resolve) => sock.bind(port, pair.addr, resolve));
  try {
    send();
    await new Promise((r) => setTimeout(r, 200));
    return n;
  } finally {
    sock.close();
  }
}
