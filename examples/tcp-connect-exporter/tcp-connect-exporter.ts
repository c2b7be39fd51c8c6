/**
 * tcp-connect-exporter: a Prometheus exporter of TCP connection counts, ready for a
 * dashboard. tcp-connect-exporter.bpf.c counts every connection that becomes
 * established (sock:inet_sock_set_state) by service port, address family and direction;
 * this file serves the counts at /metrics, read from the map on each scrape, with the
 * labels named by the map key's BTF:
 *
 *   tcp_connections_established_total{port="443",family="ipv4",direction="outbound"} 12
 *
 * Run (as root): node --conditions=tsbpf-source --import tsx examples/tcp-connect-exporter/tcp-connect-exporter.ts [--listen HOST:PORT] [-d SECONDS]
 *   --listen HOST:PORT  where to serve (default 127.0.0.1:9435; port 0 picks a free one)
 *   -d SECONDS          stop after this long (default: until Ctrl-C / SIGTERM)
 *
 * Output: `Serving http://HOST:PORT/metrics` once attached. A dashboard panel:
 *   sum by (port, direction) (rate(tcp_connections_established_total[5m]))
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { Collection } from "tsbpf/kernel";
import { mapMetrics, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "tsbpf/metrics";

const { values } = parseArgs({
  options: { listen: { type: "string" }, d: { type: "string", short: "d" } },
});
const [, host = "127.0.0.1", port = "9435"] = /^(.*):(\d+)$/.exec(values.listen ?? "") ?? [];

const spec = loadCollectionSpec(
  readFileSync(new URL("tcp-connect-exporter.bpf.o", import.meta.url)),
);
const mapSpec = spec.maps.tcp_connects;
if (!spec.btf || !mapSpec?.btfKeyTypeId) throw new Error("the object has no BTF for tcp_connects");
// The key's BTF (struct conn_key) names the labels; its enums give their values.
const types = {
  btf: spec.btf,
  keyTypeId: mapSpec.btfKeyTypeId,
  valueTypeId: mapSpec.btfValueTypeId ?? 0,
};

using coll = Collection.load(spec);
using _links = coll.attachAll();
const connects = coll.map("tcp_connects");

const server = createServer((req, res) => {
  if (req.url !== "/metrics") {
    res.writeHead(404).end("metrics at /metrics\n");
    return;
  }
  const families = mapMetrics(connects, {
    name: "tcp_connections_established",
    type: "counter",
    help: "TCP connections established, by server port, address family and direction.",
    types,
  });
  res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(renderPrometheus(families));
});
await new Promise<void>((resolve) => server.listen(Number(port), host, resolve));
const addr = server.address() as AddressInfo;
console.log(
  `Serving http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`,
);

await new Promise<void>((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
  // unref: the timer alone must not keep the exporter running after a signal.
  if (values.d !== undefined) setTimeout(resolve, Number(values.d) * 1000).unref();
});
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
