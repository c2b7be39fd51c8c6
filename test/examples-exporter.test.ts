/**
 * examples/tcp-connect-exporter, run the way its header says: the test makes TCP
 * connections over loopback (IPv4, and IPv6 where ::1 is up) to listeners on ports of
 * its own, scrapes the example's /metrics until each port's inbound and outbound counts
 * are exactly the connections made, then stops it and checks that its program is gone.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { EXAMPLE_PROG, programsNamed, ROOT, until } from "./export-support.ts";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

/** A listener that accepts and closes; its port. */
async function listener(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end());
  server.listen(0, host);
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

async function connectTimes(host: string, port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = connect(port, host);
    await once(s, "connect");
    s.end();
    await once(s, "close");
  }
}

async function ipv6Loopback(): Promise<boolean> {
  try {
    const l = await listener("::1");
    l.server.close();
    return true;
  } catch {
    return false;
  }
}

test("tcp-connect-exporter counts loopback connections by port, family and direction", {
  skip: kernelSkip,
  timeout: 30_000,
}, async () => {
  const before = new Set(programsNamed(EXAMPLE_PROG));
  const child = spawn(
    process.execPath,
    [
      ...FROM_SOURCE,
      join("examples", "tcp-connect-exporter", "tcp-connect-exporter.ts"),
      "--listen",
      "127.0.0.1:0",
      "-d",
      "25",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = once(child, "exit");
  const servers: Server[] = [];
  try {
    const url = await until(
      "the example serves",
      15_000,
      async () => /Serving (\S+)/.exec(out)?.[1],
    );
    const running = programsNamed(EXAMPLE_PROG).filter((id) => !before.has(id));
    assert.equal(running.length, 1, "the example's program is loaded");

    const v4 = await listener("127.0.0.1");
    servers.push(v4.server);
    await connectTimes("127.0.0.1", v4.port, 3);
    const expected: string[] = [
      `tcp_connections_established_total{port="${v4.port}",family="ipv4",direction="outbound"} 3`,
      `tcp_connections_established_total{port="${v4.port}",family="ipv4",direction="inbound"} 3`,
    ];
    if (await ipv6Loopback()) {
      const v6 = await listener("::1");
      servers.push(v6.server);
      await connectTimes("::1", v6.port, 2);
      expected.push(
        `tcp_connections_established_total{port="${v6.port}",family="ipv6",direction="outbound"} 2`,
        `tcp_connections_established_total{port="${v6.port}",family="ipv6",direction="inbound"} 2`,
      );
    }
    const text = await until("the counts reach the connections made", 10_000, async () => {
      const res = await fetch(url);
      assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const body = await res.text();
      return expected.every((l) => body.split("\n").includes(l)) ? body : undefined;
    });
    assert.match(text, /^# TYPE tcp_connections_established_total counter$/m);
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0, err);
    assert.deepEqual(
      programsNamed(EXAMPLE_PROG).filter((id) => !before.has(id)),
      [],
      "the program is gone",
    );
  } finally {
    for (const s of servers) s.close();
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
