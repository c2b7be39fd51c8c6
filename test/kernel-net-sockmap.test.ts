/**
 * Programs on a sockmap with real TCP sockets (issue 10): an sk_msg verdict attached to
 * a sockhash sees what a socket in it sends. With a program that passes, data flows;
 * with one that drops, the sender gets EACCES; after the link closes, data flows again.
 * Mismatched programs, hooks and maps are refused before the kernel is asked.
 *
 * Node keeps a socket's descriptor in `socket._handle.fd` (Linux); the test reads it
 * there to put the socket in the map.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Socket as NetSocket } from "node:net";
import { describe, test } from "node:test";
import { BpfMap, Program, progQuery } from "../src/kernel/index.ts";
import { attachSockmap } from "../src/kernel/links/sockmap.ts";
import { AttachType, MapType, ProgType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip, needs } from "./support/kernel.ts";
import { enterTestNetns } from "./support/netns.ts";

const skip = needs(kernelSkip, enterTestNetns());

/** `r0 = verdict; exit` as an sk_msg program (SK_PASS 1, SK_DROP 0). */
function skMsg(name: string, verdict: number): Program {
  return Program.load({
    name,
    type: ProgType.SK_MSG,
    license: "GPL",
    instructions: new Uint8Array([0xb7, 0, 0, 0, verdict, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
  });
}

const fdOf = (s: NetSocket) => (s as unknown as { _handle: { fd: number } })._handle.fd;

/** A connected TCP pair over loopback: the client and the server's side. */
async function tcpPair(): Promise<{ client: NetSocket; peer: NetSocket; close(): void }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const accepted = once(server, "connection");
  const client = connect(port, "127.0.0.1");
  await once(client, "connect");
  const [peer] = (await accepted) as [NetSocket];
  return {
    client,
    peer,
    close() {
      client.destroy();
      peer.destroy();
      server.close();
    },
  };
}

/**
 * Puts the client of a new pair in `map` (key `slot`), writes `text` and says what the
 * other side received within 300 ms, or the error code the write failed with.
 */
async function sendThrough(map: BpfMap, slot: number, text: string): Promise<string> {
  const pair = await tcpPair();
  const key = Uint8Array.of(slot, 0, 0, 0);
  const value = new Uint8Array(4);
  new DataView(value.buffer).setUint32(0, fdOf(pair.client), true);
  map.update(key, value);
  let got = "";
  pair.peer.on("data", (d: Buffer) => {
    got += d.toString();
  });
  try {
    const error = await new Promise<string | undefined>((resolve) => {
      pair.client.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
      pair.client.write(text, (e) => {
        if (!e) resolve(undefined);
      });
    });
    if (error) return error;
    await new Promise((r) => setTimeout(r, 300));
    return got;
  } finally {
    map.delete(key); // (false when closing the socket already took it out)
    pair.close();
  }
}

describe("an sk_msg verdict on a sockhash", { skip }, () => {
  test("pass lets data through, drop makes the sender fail with EACCES, close restores", async () => {
    const fds = fdCounts();
    {
      using map = BpfMap.create({
        name: "socks",
        type: MapType.SOCKHASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 4,
      });
      using pass = skMsg("msg_pass", 1);
      using drop = skMsg("msg_drop", 0);
      {
        using link = attachSockmap(pass, map, AttachType.SK_MSG_VERDICT);
        assert.equal(link.isBpfLink, false);
        assert.deepEqual(progQuery(map.fd, AttachType.SK_MSG_VERDICT, "socks").progIds, [pass.id]);
        // The verdict runs for sockets added after it is attached.
        assert.equal(await sendThrough(map, 0, "hello"), "hello");
      }
      {
        using link = attachSockmap(drop, map, AttachType.SK_MSG_VERDICT);
        assert.equal(await sendThrough(map, 1, "dropped"), "EACCES");
        assert.ok(link);
      }
      assert.deepEqual(progQuery(map.fd, AttachType.SK_MSG_VERDICT, "socks").progIds, []);
      assert.equal(await sendThrough(map, 2, "again"), "again");
    }
    assertFdCounts(fds);
  });

  test("bad input: a hook sockmaps lack, the wrong program type, a map that is no sockmap", () => {
    using hash = BpfMap.create({
      name: "h",
      type: MapType.HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    });
    using socks = BpfMap.create({
      name: "s",
      type: MapType.SOCKMAP,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    });
    using msg = skMsg("msg_pass", 1);
    assert.throws(
      () => attachSockmap(msg, socks, AttachType.CGROUP_INET_EGRESS),
      /^RangeError: map "s" \(cgroup_inet_egress\): a sockmap takes sk_skb_stream_parser/,
    );
    assert.throws(
      () => attachSockmap(msg, socks, AttachType.SK_SKB_STREAM_VERDICT),
      /^TypeError: sk_msg program "msg_pass" cannot attach to map "s" \(sk_skb_stream_verdict\): that needs a sk_skb program$/,
    );
    assert.throws(
      () => attachSockmap(msg, hash, AttachType.SK_MSG_VERDICT),
      /^TypeError: map "h" \(sk_msg_verdict\): programs attach to a sockmap or sockhash, not this map$/,
    );
  });
});
