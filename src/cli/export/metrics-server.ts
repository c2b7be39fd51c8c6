/**
 * The HTTP side of `tsbpf export prometheus`: `GET /metrics` answers with every map's
 * values read at that moment, in Prometheus's text format; `/` says where the metrics
 * are; anything else is 404 (405 for methods other than GET and HEAD).
 *
 * @module
 */

import { createServer, type Server } from "node:http";
import {
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../metrics/index.ts";
import { type ListeningServer, listen } from "../http-listen.ts";
import { reason } from "../objects/selectors.ts";

/** A listening /metrics server. */
export type MetricsServer = ListeningServer;

/**
 * Serves `collect()` at /metrics on `host:port`. A scrape that fails is a 500 whose
 * body says why, and `onError` hears of it.
 */
export async function serveMetrics(
  host: string,
  port: number,
  collect: () => MetricFamily[],
  onError: (message: string) => void,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/") {
      res
        .writeHead(200, { "content-type": "text/plain; charset=utf-8" })
        .end("tsbpf exporter: metrics at /metrics\n");
      return;
    }
    if (path !== "/metrics") {
      res
        .writeHead(404, { "content-type": "text/plain; charset=utf-8" })
        .end("not found: try /metrics\n");
      return;
    }
    let body: string;
    try {
      body = renderPrometheus(collect());
    } catch (e) {
      const message = `scrape failed: ${reason(e)}`;
      onError(message);
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`${message}\n`);
      return;
    }
    res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return listen(server, host, port);
}
