/**
 * `tsbpf trace tcpconnect|tcplife|tcpretrans` against the real kernel, in a network
 * namespace of the test's own (only its connections there): connects over IPv4 and
 * IPv6 loopback, a session that sends 50 KiB and receives 20 KiB, and a retransmission
 * made by dropping everything lo receives for a moment (a tc program returning
 * TC_ACT_SHOT, tsbpf's own attachTc: this kernel has no netem or other classifiers).
 * Each tool must report exactly those, with the addresses, ports, byte counts and
 * BCC's columns.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/load-collection-spec.ts";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { haveKprobes } from "../src/kernel/features/kprobes.ts";
import { attachTc } from "../src/kernel/links/netdev.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { AttachType, ProgType } from "../src/uapi/index.ts";
import { compareSkip, tsbpf } from "./cli-run.ts";
import { needs } from "./support/kernel.ts";
import { enterTestNetns } from "./support/netns.ts";
import { attached, jsonLines, start } from "./support/trace-tool.ts";

const skip = needs(compareSkip, enterTestNetns());

const SENT = 50 * 1024;
const RECEIVED = 20 * 1024;

/**
 * A server on `host` that reads until the client's FIN, then answers RECEIVED bytes
 * and closes.
 */
async function listen(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on("data", () => {});
    s.on("end", () => s.end(Buffer.alloc(RECEIVED, 1)));
    s.on("error", () => {});
  });
  await new Promise<void>((res) => server.listen(0, host, res));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no port");
  return { server, port: addr.port };
}

/**
 * Connects, sends `send` bytes and its FIN, reads until the server closes; resolves
 * with the client's local port.
 */
function session(host: string, port: number, send = SENT): Promise<number> {
  return new Promise((res, rej) => {
    let local = 0;
    const s = connect(port, host, () => {
      local = s.localPort ?? 0;
      s.end(Buffer.alloc(send, 2));
    });
    s.on("data", () => {});
    s.on("close", () => res(local));
    s.on("error", rej);
  });
}

let v4: { server: Server; port: number };
let v6: { server: Server; port: number } | undefined;

before(async () => {
  if (skip) return;
  v4 = await listen("127.0.0.1");
  v6 = await listen("::1").catch(() => undefined);
});

after(() => {
  v4?.server.close();
  v6?.server.close();
});

describe("tsbpf trace tcpconnect", { skip }, () => {
  test("-j --pid: connects to 127.0.0.1 and ::1 with addresses and ports; plain columns with -P", async () => {
    const tool = start(["trace", "tcpconnect", "-j", "--pid", String(process.pid)]);
    await attached(tool);
    await session("127.0.0.1", v4.port, 1);
    if (v6) await session("::1", v6.port, 1);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    const want = [[process.pid, "node", 4, "127.0.0.1", "127.0.0.1", v4.port]];
    if (v6) want.push([process.pid, "node", 6, "::1", "::1", v6.port]);
    assert.deepEqual(
      events.map((e) => [e.pid, e.comm, e.ip, e.saddr, e.daddr, e.dport]),
      want,
      d.stdout,
    );

    const plain = start(["trace", "tcpconnect", "-P", String(v4.port), "-4"]);
    await attached(plain);
    await session("127.0.0.1", v4.port, 1);
    if (v6) await session("::1", v6.port, 1); // -4 and -P: not shown
    plain.proc.kill("SIGINT");
    const p = await plain.done;
    assert.equal(p.code, 0, p.stderr);
    assert.equal(
      p.stdout,
      "PID    COMM         IP SADDR            DADDR            DPORT\n" +
        `${String(process.pid).padEnd(6)} node         4  127.0.0.1        127.0.0.1        ${v4.port}\n`,
    );
  });
});

describe("tsbpf trace tcplife", { skip }, () => {
  test("-j: both ends of a 50 KiB out, 20 KiB back session, bytes from tcp_sock by CO-RE; plain with -D", async () => {
    const tool = start(["trace", "tcplife", "-j"]);
    await attached(tool);
    const local = await session("127.0.0.1", v4.port);
    tool.proc.kill("SIGINT");
    const d = await tool.done;
    assert.equal(d.code, 0, d.stderr);
    const events = jsonLines(d.stdout);
    const client = events.find((e) => e.lport === local && e.rport === v4.port);
    const server = events.find((e) => e.lport === v4.port && e.rport === local);
    assert.ok(client && server, d.stdout);
    assert.deepEqual(
      [client.pid, client.comm, client.ip, client.laddr, client.raddr],
      [process.pid, "node", 4, "127.0.0.1", "127.0.0.1"],
    );
    // bytes_acked can count the SYN and FIN sequence numbers too.
    const near = (v: unknown, n: number) => (v as number) >= n && (v as number) <= n + 2;
    assert.ok(near(client.tx_bytes, SENT) && near(client.rx_bytes, RECEIVED), d.stdout);
    assert.ok(near(server.tx_bytes, RECEIVED) && near(server.rx_bytes, SENT), d.stdout);
    assert.ok((client.ms as number) > 0 && (client.ms as number) < 10_000, d.stdout);

    const plain = start(["trace", "tcplife", "-D", String(v4.port)]);
    await attached(plain);
    const local2 = await session("127.0.0.1", v4.port);
    plain.proc.kill("SIGINT");
    const p = await plain.done;
    assert.equal(p.code, 0, p.stderr);
    const lines = p.stdout.split("\n");
    assert.equal(
      lines[0],
      "PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS",
    );
    const row = `${String(process.pid).padEnd(5)} node       127.0.0.1       ${String(local2).padEnd(5)} 127.0.0.1       ${String(v4.port).padEnd(5)}    50    20 \\d+\\.\\d\\d`;
    assert.match(lines[1] ?? "", new RegExp(`^${row}$`), p.stdout);
    assert.equal(lines.length, 3, `-D shows the client's end only:\n${p.stdout}`);
  });
});

describe("tsbpf trace tcpretrans", { skip }, () => {
  test("lo's ingress dropped for a moment: the established connection's retransmits, in -j and plain", async () => {
    const drop = Program.load({
      name: "drop_all",
      type: ProgType.SCHED_CLS,
      license: "GPL",
      instructions: encodeProgram(assemble("r0 = 2\nexit")), // TC_ACT_SHOT
      expectedAttachType: AttachType.TCX_INGRESS,
    });
    const retransmitted = async (args: string[]) => {
      const tool = start(["trace", "tcpretrans", ...args]);
      await attached(tool);
      const s = await new Promise<Socket>((res) => {
        const c = connect(v4.port, "127.0.0.1", () => res(c));
        c.on("error", () => {});
      });
      const lport = s.localPort;
      // Dropped as they arrive, not as they leave: a send that fails locally is not
      // retransmitted, it stays queued.
      const link = attachTc(drop, "lo", "ingress");
      s.write(Buffer.alloc(100));
      // the minimum RTO is 200 ms; the first retransmit comes after it
      await new Promise((r) => setTimeout(r, 700));
      link.close();
      s.destroy();
      tool.proc.kill("SIGINT");
      const d = await tool.done;
      assert.equal(d.code, 0, d.stderr);
      return { d, lport };
    };
    try {
      const { d, lport } = await retransmitted(["-j"]);
      const events = jsonLines(d.stdout).filter((e) => e.lport === lport);
      assert.ok(events.length >= 1, d.stdout);
      for (const e of events) {
        // s.destroy() sends a FIN into the same drop: a slow machine (6.1 under TCG)
        // reports its retransmits too, before the tool is stopped
        assert.deepEqual(
          [
            e.ip,
            e.laddr,
            e.raddr,
            e.rport,
            e.type,
            e.state === "FIN_WAIT1" ? "ESTABLISHED" : e.state,
          ],
          [4, "127.0.0.1", "127.0.0.1", v4.port, "R", "ESTABLISHED"],
        );
      }
      assert.ok(
        events.some((e) => e.state === "ESTABLISHED"),
        d.stdout,
      );

      const plain = await retransmitted(["-4"]);
      const lines = plain.d.stdout.split("\n");
      assert.equal(
        lines[0],
        "TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE",
      );
      const row = `\\d+ +4  ${`127.0.0.1:${plain.lport}`.padEnd(20)} R> ${`127.0.0.1:${v4.port}`.padEnd(20)} ESTABLISHED`;
      assert.ok(
        lines.some((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${row}$`).test(l)),
        plain.d.stdout,
      );
      // -c: BCC's count table, this connection's pair with as many as -j showed.
      const counted = await retransmitted(["-c", "-4"]);
      const table = counted.d.stdout.split("\n");
      assert.equal(table[0], "");
      assert.equal(table[1], "LADDR:LPORT              RADDR:RPORT             RETRANSMITS");
      const pair = `${`127.0.0.1:${counted.lport}`.padEnd(20)} <-> ${`127.0.0.1:${v4.port}`.padEnd(20)} +(\\d+)`;
      const n = table.map((l) => new RegExp(`^${pair}$`).exec(l)?.[1]).find(Boolean);
      assert.ok(Number(n) >= 1, counted.d.stdout);
      // -l: with kprobes, tail loss probes join the tracepoint's rows; without, it says
      // plainly which kernel feature is missing, before loading anything.
      if (haveKprobes().available) {
        const probed = await retransmitted(["-l", "-j"]);
        assert.ok(
          jsonLines(probed.d.stdout).some((e) => e.lport === probed.lport && e.type === "R"),
          probed.d.stdout,
        );
      } else {
        const r = await tsbpf("trace", "tcpretrans", "-l");
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /trace tcpretrans -l \(tail loss probes\) needs a kprobe on tcp_send_loss_probe \(no tracepoint shows it\), and kprobes are missing: this kernel was built without CONFIG_KPROBES/,
        );
      }
    } finally {
      drop.close();
    }
  });
});

test("tcpretrans -l's kprobe program passes the verifier, its socket fields relocated against this kernel's BTF", {
  skip: compareSkip,
}, () => {
  // Attaching needs kprobes; loading does not, so every kernel checks the CO-RE reads.
  const object = readFileSync(join(import.meta.dirname, "../src/cli/trace/bpf/tcpretrans.bpf.o"));
  const coll = Collection.load(loadCollectionSpec(object), {
    objectName: "tcpretrans",
    programs: ["loss_probe"],
    constants: { targ_count: 1 },
  });
  try {
    assert.ok(coll.program("loss_probe").fd > 0);
  } finally {
    coll.close();
  }
});
