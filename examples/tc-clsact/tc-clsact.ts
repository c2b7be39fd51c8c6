/**
 * Packet counters on a real device, the classic way or the link way: attaches
 * examples/tc-clsact's two programs to DEVICE's ingress and egress hooks (a direct-action
 * cls_bpf filter under clsact, as `tc filter add dev DEVICE ingress bpf da` makes, or tcx
 * links on Linux >= 6.6), or examples/xdp-count to its XDP hook (generic mode, through
 * netlink as `ip link set dev DEVICE xdpgeneric` does, or as an XDP link); waits SECONDS
 * (or until Ctrl-C); prints what was counted and dropped (UDP to port 53); and detaches
 * everything.
 *
 * Run as root:
 *   node node_modules/tsbpf/dist/examples/tc-clsact/tc-clsact.js DEVICE [SECONDS] [clsact|tcx|xdp-netlink|xdp-link]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/tc-clsact/tc-clsact.ts DEVICE [SECONDS] [clsact|tcx|xdp-netlink|xdp-link])
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "tsbpf/elf";
import { attachTc, attachXdp, kernelBackend, type Program } from "tsbpf/kernel";
import { loadXdpCount } from "../xdp-count/xdp-count.gen.ts";
import { loadTcClsact } from "./tc-clsact.gen.ts";

const [device, secondsText = "5", how = "clsact"] = process.argv.slice(2);
if (!device || !["clsact", "tcx", "xdp-netlink", "xdp-link"].includes(how)) {
  console.error("usage: tc-clsact.ts DEVICE [SECONDS] [clsact|tcx|xdp-netlink|xdp-link]");
  process.exit(2);
}
const seconds = Number(secondsText);
/** SECONDS, or less when interrupted (SIGINT, SIGTERM): then the counters are printed all the same. */
const wait = () =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });

if (how === "clsact" || how === "tcx") {
  const spec = loadCollectionSpec(readFileSync(join(import.meta.dirname, "tc-clsact.bpf.o")));
  using obj = loadTcClsact(kernelBackend, spec, { constants: { drop_port: 53 } });
  {
    using ingress = attachTc(obj.programs.tc_ingress as Program, device, "ingress", { via: how });
    using egress = attachTc(obj.programs.tc_egress as Program, device, "egress", { via: how });
    console.log(`attached: ${ingress}, ${egress}`);
    await wait();
  }
  const v = obj.variables;
  console.log(
    `ingress ${v.ingress_packets.get()} egress ${v.egress_packets.get()} dropped ${v.dropped.get()}`,
  );
} else {
  const spec = loadCollectionSpec(
    readFileSync(join(import.meta.dirname, "../xdp-count/xdp-count.bpf.o")),
  );
  using obj = loadXdpCount(kernelBackend, spec);
  {
    using link = attachXdp(obj.programs.xdp_count as Program, device, {
      mode: "generic",
      via: how === "xdp-netlink" ? "netlink" : "link",
    });
    console.log(`attached: ${link}`);
    await wait();
  }
  const udp = obj.maps.by_proto.lookup(17);
  console.log(`udp ${udp?.packets ?? 0n} dropped ${obj.variables.dropped.get()}`);
}
console.log("detached");
