/**
 * `tsbpf export prometheus` scraped by a real Prometheus (Debian's `prometheus`
 * package): the test pins kernel maps, starts the exporter on a free loopback port and
 * its own Prometheus (temporary config and storage, another free port) scraping it,
 * and asks Prometheus's query API for the series until they appear: the BTF-keyed
 * counter with its labels, the log2 histogram's cumulative buckets and count, and a
 * quantile Prometheus computes from them.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pinTestMaps, startExporter, until } from "./export-support.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

const PROMETHEUS = "prometheus";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

interface Series {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(port: number, q: string): Promise<Series[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: Series[] }; error?: string };
  if (body.status !== "success") throw new Error(`${q}: ${body.error}`);
  return body.data.result;
}

const skip = needs(kernelSkip, toolSkip(PROMETHEUS));

test("a real Prometheus scrapes tsbpf export prometheus", { skip, timeout: 30_000 }, async () => {
  const maps = pinTestMaps("prom");
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-prometheus-"));
  let prom: ChildProcess | undefined;
  let promLog = "";
  const exporter = await startExporter([
    "prometheus",
    "--listen",
    "127.0.0.1:0",
    "--counter",
    "tcp_connects",
    "--histogram",
    "lat=log2",
    "--prefix",
    "test_",
    maps.connects,
    maps.lat,
  ]);
  try {
    const url = exporter.url as string;
    const target = new URL(url).host;
    assert.equal((await fetch(new URL("/nope", url))).status, 404);
    assert.equal((await fetch(url, { method: "POST" })).status, 405);
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const port = await freePort();
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: tsbpf\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prom.stderr!.setEncoding("utf8").on("data", (c: string) => {
      promLog += c;
    });

    const connects = await until("Prometheus has test_tcp_connects_total", 15_000, async () => {
      const r = await query(port, "test_tcp_connects_total");
      return r.length === 2 ? r : undefined;
    });
    const byPort = Object.fromEntries(connects.map((s) => [s.metric.port, s]));
    assert.deepEqual(
      { ...byPort["443"]?.metric, instance: undefined },
      {
        __name__: "test_tcp_connects_total",
        port: "443",
        family: "ipv4",
        direction: "outbound",
        job: "tsbpf",
        instance: undefined,
      },
    );
    assert.equal(byPort["443"]?.value[1], "12");
    assert.equal(byPort["8080"]?.metric.family, "ipv6");
    assert.equal(byPort["8080"]?.metric.direction, "inbound");
    assert.equal(byPort["8080"]?.value[1], "3");

    // lat: slot 1 (2..3) = 2, slot 3 (8..15) = 5: cumulative at le 1, 3, 7, 15, ...
    const buckets = await query(port, "test_lat_bucket");
    const cumulative = Object.fromEntries(buckets.map((s) => [s.metric.le, s.value[1]]));
    assert.deepEqual(cumulative, {
      "1": "0",
      "3": "2",
      "7": "2",
      "15": "7",
      "31": "7",
      "63": "7",
      "127": "7",
      "255": "7",
      "+Inf": "7",
    });
    assert.equal((await query(port, "test_lat_count"))[0]?.value[1], "7");
    // Midpoints: 2 * 2.5 + 5 * 11.5.
    assert.equal((await query(port, "test_lat_sum"))[0]?.value[1], "62.5");
    // The median (the 3.5th of 7) is in the 8..15 bucket, interpolated within it.
    const median = Number(
      (await query(port, "histogram_quantile(0.5, test_lat_bucket)"))[0]?.value[1],
    );
    assert.ok(median > 7 && median <= 15, `median ${median}`);
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\nexporter: ${exporter.stderr()}\nprometheus: ${promLog}`,
      { cause: e },
    );
  } finally {
    prom?.kill("SIGTERM");
    const code = await exporter.stop();
    if (prom && prom.exitCode === null) await new Promise((r) => prom?.on("exit", r));
    rmSync(dir, { recursive: true, force: true });
    maps.close();
    assert.equal(code, 0, `exporter exit code (stderr: ${exporter.stderr()})`);
  }
});
