/**
 * One XDP object, two backends: xdp-count.bpf.o counts packets and bytes per IP
 * protocol and drops DNS over UDP. This script runs the same object on the same
 * packets in the kernel (BPF_PROG_TEST_RUN) and in tsbpf's userspace VM, and prints
 * both results side by side: each packet's verdict, then the per-protocol counters and
 * the `dropped` global variable. The two columns must agree. One typed loader,
 * xdp-count.gen.ts (`tsbpf gen types`), loads it into either backend.
 *
 * Run (as root for the kernel column; without root only the VM runs):
 *   node node_modules/tsbpf/dist/examples/xdp-count/xdp-count.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/xdp-count/xdp-count.ts)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "tsbpf/elf";
import { kernelBackend } from "tsbpf/kernel";
import { vmBackend } from "tsbpf/vm";
import { loadXdpCount, type XdpCountObject } from "./xdp-count.gen.ts";

const ACTIONS = ["ABORTED", "DROP", "PASS", "TX", "REDIRECT"];
const PROTOS: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 255: "other" };

/** An Ethernet frame: IPv4 with `proto` and destination port `dport`, or ARP. */
function frame(proto: number | "arp", dport = 0, payload = 0): Uint8Array {
  const ip = proto === "arp" ? 28 : 20 + 8 + payload;
  const p = new Uint8Array(14 + ip);
  const v = new DataView(p.buffer);
  v.setUint16(12, proto === "arp" ? 0x0806 : 0x0800);
  if (proto !== "arp") {
    p[14] = 0x45;
    v.setUint16(16, ip);
    p[22] = 64;
    p[23] = proto;
    v.setUint16(34, 40000);
    v.setUint16(36, dport);
  }
  return p;
}

const packets: [string, Uint8Array][] = [
  ["tcp to :443", frame(6, 443, 100)],
  ["udp to :53 (dns)", frame(17, 53, 30)],
  ["udp to :123", frame(17, 123, 48)],
  ["icmp echo", frame(1, 0, 56)],
  ["arp", frame("arp")],
  ["tcp to :80", frame(6, 80, 0)],
];

const spec = loadCollectionSpec(readFileSync(join(import.meta.dirname, "xdp-count.bpf.o")));
using vm = loadXdpCount(vmBackend, spec);
using kernel = process.getuid?.() === 0 ? loadXdpCount(kernelBackend, spec) : undefined;
if (!kernel) console.log("(not root: the kernel column is skipped)");

const col = (s: string) => s.padEnd(10);
console.log(`${"packet".padEnd(20)}${col("kernel")}${col("vm")}`);
for (const [name, data] of packets) {
  const k = kernel?.programs.xdp_count.run({ data });
  const v = vm.programs.xdp_count.run({ data });
  const kText = k ? (ACTIONS[k.retval] ?? String(k.retval)) : "-";
  console.log(`${name.padEnd(20)}${col(kText)}${col(ACTIONS[v.retval] ?? String(v.retval))}`);
}
const counters = (obj: XdpCountObject) => {
  const out = new Map<string, string>();
  for (const [proto, c] of obj.maps.by_proto) {
    out.set(PROTOS[proto] ?? String(proto), `${c.packets} pkts/${c.bytes} B`);
  }
  return out;
};
const kc = kernel ? counters(kernel) : new Map<string, string>();
const vc = counters(vm);
console.log(`\n${"by_proto".padEnd(10)}${"kernel".padEnd(20)}vm`);
for (const proto of ["tcp", "udp", "icmp", "other"]) {
  console.log(`${proto.padEnd(10)}${(kc.get(proto) ?? "-").padEnd(20)}${vc.get(proto) ?? "-"}`);
}
const kd = kernel?.variables.dropped.get();
console.log(`${"dropped".padEnd(10)}${String(kd ?? "-").padEnd(20)}${vm.variables.dropped.get()}`);
