/**
 * Netlink round trips from TypeScript vs C (bench/c/netlink-rtt.c, compiled here with
 * `cc -O2`): the request `ifindexOf`, `queryXdp` and `tsbpf net show` make — RTM_GETLINK
 * of one device with NLM_F_ACK, answered by the link message and the acknowledgement —
 * on one open socket. tsbpf's side builds the request, sends it, receives the answer and
 * the acknowledgement (one recvmmsg), splits them, hands the answer to a decoder in place
 * and checks the acknowledgement (NetlinkSocket.request); C's sends a prebuilt request
 * and receives each datagram with recv(2), as libbpf and iproute2 do.
 *
 * Where the time goes (measured on the 2-core dev VM): a system call costs ~1 µs even
 * from C there (getppid(2): 0.99 µs), and ~0.4 µs more through koffi (1.4 µs); tsbpf
 * makes two (send, recvmmsg) where C makes three (send, recv, recv). The JavaScript
 * between them is now ~0.2 µs: messages are written and read with byte operations,
 * because a DataView over a fresh small array made V8 create an ArrayBuffer for it
 * (~1 µs each, which once made building the request cost as much as sending it).
 *
 * Goal (issue 10): at least 0.8 of C's round trips per second. Timed in windows of
 * {@link WINDOW} round trips, each side's figure the rate of its 10th-percentile window
 * (see bench/map-ops.ts), best of interleaved rounds.
 *
 * Run alone with `node --import tsx bench/netlink.ts`, or `npm run bench -- netlink`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLinkRequest } from "../src/kernel/netlink/rtnl.ts";
import { NetlinkSocket } from "../src/kernel/netlink/socket.ts";
import type { BenchResult } from "./result.ts";

const ITERATIONS = 40_000;
const WINDOW = 2000;
const ROUNDS = 5;
/** The loopback device: every network namespace has it, as ifindex 1. */
const IFINDEX = 1;

/** A decoder that reads the answer in place, as queryXdp and ifindexOf decode theirs. */
const messageType = (m: { type: number }) => m.type;

function tsRoundTrips(nl: NetlinkSocket): number {
  const windows: number[] = [];
  for (let w = 0; w < ITERATIONS / WINDOW; w++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < WINDOW; k++) nl.request(getLinkRequest(IFINDEX), "bench", messageType);
    windows.push(Number(process.hrtime.bigint() - t0) / WINDOW);
  }
  windows.sort((a, b) => a - b);
  return 1e9 / (windows[Math.floor(windows.length / 10)] as number);
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-netlink-"));
  try {
    const exe = join(dir, "netlink-rtt");
    execFileSync("cc", ["-O2", "-o", exe, join(import.meta.dirname, "c", "netlink-rtt.c")], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    using nl = new NetlinkSocket();
    tsRoundTrips(nl); // warm up: JIT and the socket's buffers
    let ts = 0;
    let c = 0;
    for (let r = 0; r < ROUNDS; r++) {
      c = Math.max(
        c,
        Number(execFileSync(exe, [String(IFINDEX), String(ITERATIONS)], { encoding: "utf8" })),
      );
      ts = Math.max(ts, tsRoundTrips(nl));
    }
    return [
      {
        name: "netlink RTM_GETLINK round trips/s vs C",
        value: ts,
        baseline: c,
        ratio: ts / c,
        goal: ">= 0.8",
        unit: "rt/s",
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
