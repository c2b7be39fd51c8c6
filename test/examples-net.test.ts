/**
 * examples/tc-clsact run the way its header says, on a veth in namespaces this test
 * makes (the example inherits the test's network namespace): once it has attached, the
 * peer sends 4 datagrams to port 53 and 3 to port 9999, and Ctrl-C (SIGINT) ends it; it
 * must report them dropped and counted, for each way of attaching, and leave nothing
 * attached.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kernelEnumHas } from "../src/kernel/features/kernel-enum.ts";
import { AttachType } from "../src/uapi/index.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const EXAMPLE = join(import.meta.dirname, "../examples/tc-clsact/tc-clsact.ts");

/**
 * Runs the example, sends the traffic once it has attached, then interrupts it (SIGINT)
 * so it prints its counters and detaches: no fixed window to miss on a slow machine.
 */
function runExample(pair: VethPair, how: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...FROM_SOURCE, EXAMPLE, pair.name, "600", how], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let sent = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!sent && out.includes("attached:")) {
        sent = true;
        try {
          pair.sendUdp(53, 4);
          pair.sendUdp(9999, 3);
          // the last datagrams (and the ICMP answers) are through before it stops
          setTimeout(() => child.kill("SIGINT"), 300);
        } catch (e) {
          child.kill();
          reject(e);
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

const nothingAttached = (dev: string) => {
  const link = execFileSync("ip", ["-d", "link", "show", dev], { encoding: "utf8" });
  const qdiscs = execFileSync("tc", ["qdisc", "show", "dev", dev], { encoding: "utf8" });
  return !/prog\/xdp/.test(link) && !/clsact/.test(qdiscs);
};

describe("examples/tc-clsact on a veth pair", { skip }, () => {
  let pair: VethPair;
  before(() => {
    pair = vethPair();
  });
  after(() => pair?.remove());

  const hasTcx = kernelEnumHas("bpf_attach_type", AttachType.TCX_INGRESS) !== false;
  for (const how of ["clsact", "tcx"]) {
    test(`${how}: 4 dropped, 3 counted in, answers counted out`, async () => {
      const { code, out } = await runExample(pair, how);
      if (how === "tcx" && !hasTcx) {
        assert.notEqual(code, 0);
        assert.match(out, /attach type tcx_ingress came in Linux 6\.6/);
        return;
      }
      assert.equal(code, 0, out);
      // ingress: the 3 datagrams to :9999 pass; egress: our ICMP port-unreachable answers
      const m = /ingress (\d+) egress (\d+) dropped (\d+)/.exec(out);
      assert.ok(m, out);
      assert.equal(Number(m[3]), 4, out);
      assert.equal(Number(m[1]), 3, out);
      assert.ok(Number(m[2]) >= 1, out);
      assert.match(out, /detached/);
      assert.ok(nothingAttached(pair.name));
    });
  }
  for (const how of ["xdp-netlink", "xdp-link"]) {
    test(`${how}: 4 dropped, 3 udp counted`, async () => {
      const { code, out } = await runExample(pair, how);
      assert.equal(code, 0, out);
      assert.match(out, /udp 3 dropped 4/);
      assert.ok(nothingAttached(pair.name));
    });
  }
});
