/**
 * Network-namespace hooks with real connections (issue 10): examples/sk-lookup steers
 * TCP connections to ports 7000-7099 to one listening socket bound elsewhere, in the
 * test's own network namespace. Without the program a connection is refused; with it
 * the connection is accepted and counted; after close it is refused again. A
 * flow_dissector attaches as a netns link the kernel lists, and wrong program types or
 * namespaces are refused in one line.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { closeSync, openSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadSkLookup } from "../examples/sk-lookup/sk-lookup.gen.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { kernelEnumHas } from "../src/kernel/features/kernel-enum.ts";
import { kernelBackend, Program, progQuery } from "../src/kernel/index.ts";
import { attachNetfilter } from "../src/kernel/links/netfilter.ts";
import { attachFlowDissector, attachSkLookup, CURRENT_NETNS } from "../src/kernel/links/netns.ts";
import { bindInet, listenSocket, openSocket, Socket } from "../src/kernel/sys/index.ts";
import { AttachType, ProgType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());
const spec = loadCollectionSpec(
  readFileSync(join(import.meta.dirname, "../examples/sk-lookup/sk-lookup.bpf.o")),
);

/** "connected" or the error code of a TCP connection to 127.0.0.1:`port`. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port }, () => {
      c.destroy();
      resolve("connected");
    });
    c.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
  });
}

/** How many of `count` datagrams sent to 127.0.0.1 arrive. */
async function udpToSelf(count: number): Promise<number> {
  const rx = createSocket("udp4");
  const tx = createSocket("udp4");
  let n = 0;
  rx.on("message", () => n++);
  await new Promise<void>((resolve) => rx.bind(7300, "127.0.0.1", resolve));
  try {
    for (let i = 0; i < count; i++)
      await new Promise<void>((resolve) =>
        tx.send(Buffer.alloc(8), 7300, "127.0.0.1", () => resolve()),
      );
    await new Promise((r) => setTimeout(r, 200));
    return n;
  } finally {
    rx.close();
    tx.close();
  }
}

describe("network-namespace hooks in the test's own namespace", { skip }, () => {
  test("sk_lookup steers ports 7000-7099 to a socket listening on 9000; close ends it", async () => {
    const fds = fdCounts();
    {
      using obj = loadSkLookup(kernelBackend, spec);
      using listener = openSocket(Socket.AF_INET, Socket.SOCK_STREAM, 0, "TCP socket");
      bindInet(listener.value, "127.0.0.1", 9000);
      listenSocket(listener.value);
      const key = new Uint8Array(4);
      const value = new Uint8Array(8);
      new DataView(value.buffer).setUint32(0, listener.value, true);
      obj.maps.target.update(key, value);
      assert.equal(await tryConnect(7050), "ECONNREFUSED");
      {
        using link = attachSkLookup(obj.programs.steer as Program);
        assert.equal(link.info().typeName, "netns");
        assert.equal(await tryConnect(7050), "connected");
        assert.equal(await tryConnect(7099), "connected");
        assert.equal(await tryConnect(7100), "ECONNREFUSED", "outside the range");
        assert.equal(obj.variables.steered.get(), 2n);
      }
      assert.equal(await tryConnect(7050), "ECONNREFUSED");
    }
    assertFdCounts(fds);
  });

  test("flow_dissector: a netns link BPF_PROG_QUERY lists; one per namespace", () => {
    const prog = () =>
      Program.load({
        name: "dissect",
        type: ProgType.FLOW_DISSECTOR,
        license: "GPL",
        // r0 = BPF_OK (0): keys as the program left them
        instructions: new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
      });
    using a = prog();
    using b = prog();
    const ns = openSync(CURRENT_NETNS, "r");
    try {
      {
        using link = attachFlowDissector(a);
        assert.deepEqual(progQuery(ns, AttachType.FLOW_DISSECTOR, "this namespace").progIds, [
          a.id,
        ]);
        // One program per namespace: the kernel says E2BIG.
        assert.throws(() => attachFlowDissector(b), /Argument list too long/);
        assert.ok(link.isBpfLink);
      }
      assert.deepEqual(progQuery(ns, AttachType.FLOW_DISSECTOR, "this namespace").progIds, []);
    } finally {
      closeSync(ns);
    }
  });

  test("netfilter (Linux 6.4): NF_DROP at ipv4 local_in drops datagrams to 127.0.0.1 until closed", async (t) => {
    if (kernelEnumHas("bpf_prog_type", ProgType.NETFILTER) === false)
      return t.skip("this kernel has no netfilter programs (Linux 6.4)");
    using drop = Program.load({
      name: "nf_drop",
      type: ProgType.NETFILTER,
      expectedAttachType: AttachType.NETFILTER,
      license: "GPL",
      instructions: new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
    });
    assert.equal(await udpToSelf(3), 3);
    {
      using link = attachNetfilter(drop, { family: "ipv4", hook: "local_in", priority: -100 });
      assert.equal(link.info().typeName, "netfilter");
      assert.equal(await udpToSelf(3), 0);
    }
    assert.equal(await udpToSelf(3), 3);
    assert.throws(
      () => attachNetfilter(drop, { family: "ipv4", hook: "nope" as "local_in", priority: 0 }),
      /^RangeError: netfilter ipv4 nope priority 0: the hook is one of prerouting, local_in/,
    );
  });

  test("bad input: the wrong program type, a path that is no namespace", () => {
    using obj = loadSkLookup(kernelBackend, spec);
    const steer = obj.programs.steer as Program;
    assert.throws(
      () => attachFlowDissector(steer),
      /^TypeError: sk_lookup program "steer" cannot attach to flow_dissector in network namespace \/proc\/thread-self\/ns\/net: that needs a flow_dissector program$/,
    );
    assert.throws(
      () => attachSkLookup(steer, "/nonexistent/ns"),
      /^Error: cannot open network namespace \/nonexistent\/ns: ENOENT/,
    );
    assert.throws(
      () => attachSkLookup(steer, "/dev/null"),
      /sk_lookup in network namespace \/dev\/null/,
    );
  });
});
