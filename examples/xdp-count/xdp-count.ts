/**
 * One XDP object, two backends: xdp-count.bpf.o counts packets and bytes per IP
 * protocol and drops DNS over UDP. This script runs the same object on the same
 * packets in the kernel (BPF_PROG_TEST_RUN) and in tsbpf's userspace VM, and prints
 * both results side by side: each packet's verdict, then the per-protocol counters and
 * the `dropped` global variable. The two columns must agree.
 *
 * Run (as root for the kernel column; without root only the VM runs):
 *   node --import tsx examples/xdp-count/xdp-count.ts
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "../../src/elf/index.ts";
import { Collection } from "../../src/kernel/index.ts";
import { VirtualMachine } from "../../src/vm/index.ts";

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
const vm = VirtualMachine.load(spec);
let kernel: Collection | undefined;
if (process.getuid?.() === 0) kernel = Collection.load(spec, { objectName: "xdp-count" });
else console.log("(not root: the kernel column is skipped)");

try {
  const col = (s: string) => s.padEnd(10);
  console.log(`${"packet".padEnd(20)}${col("kernel")}${col("vm")}`);
  for (const [name, data] of packets) {
    const k = kernel?.programs.xdp_count?.run({ data });
    const v = vm.program("xdp_count").run({ data });
    const kText = k ? (ACTIONS[k.retval] ?? String(k.retval)) : "-";
    console.log(`${name.padEnd(20)}${col(kText)}${col(ACTIONS[v.retval] ?? String(v.retval))}`);
  }
  const counters = (map: { entries(): IterableIterator<[Uint8Array, Uint8Array]> }) => {
    const out = new Map<string, string>();
    for (const [key, value] of map.entries()) {
      const d = new DataView(value.buffer, value.byteOffset);
      const proto = new DataView(key.buffer, key.byteOffset).getUint32(0, true);
      out.set(
        PROTOS[proto] ?? String(proto),
        `${d.getBigUint64(0, true)} pkts/${d.getBigUint64(8, true)} B`,
      );
    }
    return out;
  };
  const kc = kernel ? counters(kernel.map("by_proto")) : new Map<string, string>();
  const vc = counters(vm.map("by_proto"));
  console.log(`\n${"by_proto".padEnd(10)}${"kernel".padEnd(20)}vm`);
  for (const proto of ["tcp", "udp", "icmp", "other"]) {
    console.log(`${proto.padEnd(10)}${(kc.get(proto) ?? "-").padEnd(20)}${vc.get(proto) ?? "-"}`);
  }
  const kd = kernel?.variables.dropped?.toBigInt();
  console.log(
    `${"dropped".padEnd(10)}${String(kd ?? "-").padEnd(20)}${vm.variables.dropped?.toBigInt()}`,
  );
} finally {
  kernel?.close();
  vm.close();
}
