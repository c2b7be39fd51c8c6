/**
 * `tsbpf export otlp` (and `export prometheus --otlp`) against an OTLP/HTTP receiver run
 * by the test: a node:http server that decodes each JSON ExportMetricsServiceRequest
 * and checks the metric names, the counter's labels and values, the histogram's
 * buckets, that pushes repeat every interval, and that a receiver's error is reported
 * without stopping the exporter. Run in-process, so the test also sees that every map
 * descriptor is closed at the end. Also the CLI's refusals of bad lines.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { BpfMap } from "../src/kernel/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { tsbpf } from "./cli-run.ts";
import { EXAMPLE_PROG, pinTestMaps, programsNamed, ROOT } from "./export-support.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

// biome-ignore lint/suspicious/noExplicitAny: the decoded JSON is checked field by field
type Json = any;

async function body(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

/** A receiver that answers 500 to the first push and 200 to the rest. */
async function receiver() {
  const requests: { path: string; type: string; json: Json }[] = [];
  const server = createServer(async (req, res) => {
    requests.push({
      path: req.url ?? "",
      type: req.headers["content-type"] ?? "",
      json: JSON.parse(await body(req)),
    });
    if (requests.length === 1) res.writeHead(500).end("not yet");
    else res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { url: `http://127.0.0.1:${port}/v1/metrics`, requests, close };
}

const metricsOf = (json: Json) => json.resourceMetrics[0].scopeMetrics[0].metrics as Json[];

test("export otlp pushes counters and histograms to an OTLP/HTTP receiver", {
  skip: kernelSkip,
  timeout: 20_000,
}, async () => {
  const maps = pinTestMaps("otlp");
  const rx = await receiver();
  const latId = BpfMap.fromPin(maps.lat);
  const before = fdCounts();
  try {
    const run = await tsbpf(
      "export",
      "otlp",
      "--otlp",
      rx.url,
      "--interval",
      "0.2",
      "--duration",
      "1",
      "--counter",
      "tcp_connects",
      "--histogram",
      "lat=log2,unit=1e-6",
      "--metric",
      "lat=lat_seconds",
      maps.connects,
      "id",
      String(latId.info().id),
    );
    assert.equal(run.code, 0, run.stderr);
    // fetch keeps its connections to the receiver open for reuse: they end with it.
    await rx.close();
    await new Promise((r) => setTimeout(r, 100));
    assertFdCounts(before);
    assert.match(run.stderr, /^Pushing 2 maps \(tcp_connects, lat\) to http:\S+ every 0\.2 s$/m);
    assert.match(run.stderr, /^Error: OTLP push to \S+: HTTP 500: not yet$/m);
    // The first at once, one per 0.2 s for a second, and the last on the way out.
    assert.ok(rx.requests.length >= 4, `${rx.requests.length} pushes`);
    const last = rx.requests.at(-1)!;
    assert.equal(last.path, "/v1/metrics");
    assert.equal(last.type, "application/json");
    const rm = last.json.resourceMetrics[0];
    assert.deepEqual(rm.resource.attributes, [
      { key: "service.name", value: { stringValue: "tsbpf" } },
    ]);
    assert.equal(rm.scopeMetrics[0].scope.name, "tsbpf");

    const [connects, lat] = metricsOf(last.json);
    assert.equal(connects.name, "tcp_connects");
    assert.equal(connects.sum.isMonotonic, true);
    assert.equal(connects.sum.aggregationTemporality, 2);
    const points = connects.sum.dataPoints.map((p: Json) => ({
      attrs: Object.fromEntries(p.attributes.map((a: Json) => [a.key, a.value.stringValue])),
      value: p.asInt,
    }));
    points.sort((a: Json, b: Json) => Number(a.attrs.port) - Number(b.attrs.port));
    assert.deepEqual(points, [
      { attrs: { port: "443", family: "ipv4", direction: "outbound" }, value: "12" },
      { attrs: { port: "8080", family: "ipv6", direction: "inbound" }, value: "3" },
    ]);
    const start = BigInt(connects.sum.dataPoints[0].startTimeUnixNano);
    const time = BigInt(connects.sum.dataPoints[0].timeUnixNano);
    assert.ok(start > 0n && time >= start, `start ${start}, time ${time}`);

    assert.equal(lat.name, "lat_seconds");
    const h = lat.histogram.dataPoints[0];
    assert.equal(lat.histogram.aggregationTemporality, 2);
    assert.equal(h.count, "7");
    assert.deepEqual(h.bucketCounts, ["0", "2", "0", "5", "0", "0", "0", "0", "0"]);
    assert.deepEqual(
      h.explicitBounds.map((b: number) => Math.round(b * 1e6)),
      [1, 3, 7, 15, 31, 63, 127, 255],
    );
    assert.ok(Math.abs(h.sum - 62.5e-6) < 1e-12, `sum ${h.sum}`);
  } finally {
    await rx.close();
    latId.close();
    maps.close();
  }
});

test("export loads, attaches and exports an ELF object's maps, and takes it all down", {
  skip: kernelSkip,
  timeout: 20_000,
}, async () => {
  const rx = await receiver();
  const before = fdCounts();
  const progsBefore = new Set(programsNamed(EXAMPLE_PROG));
  try {
    const run = await tsbpf(
      "export",
      "prometheus",
      "--listen",
      "127.0.0.1:0",
      "--otlp",
      rx.url,
      "--duration",
      "0.3",
      "--counter",
      "tcp_connects",
      join(ROOT, "examples/tcp-connect-exporter/tcp-connect-exporter.bpf.o"),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^Serving 1 map \(tcp_connects\) at http:\/\/127\.0\.0\.1:\d+\/metrics$/m,
    );
    await rx.close();
    await new Promise((r) => setTimeout(r, 100));
    assertFdCounts(before);
    const left = programsNamed(EXAMPLE_PROG).filter((id) => !progsBefore.has(id));
    assert.deepEqual(left, [], "no program left loaded");
    const pushed = rx.requests.map((r) => metricsOf(r.json).map((m: Json) => m.name));
    assert.deepEqual(pushed.at(-1), ["tcp_connects"]);
  } finally {
    await rx.close();
  }
});

test("export refuses bad lines, naming what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["prometheus", "--histogram", "lat=log3", "x"], /--histogram lat: 'log3' is not a kind/],
    [["prometheus", "--histogram", "lat"], /--histogram takes MAP=VALUE, not 'lat'/],
    [["prometheus", "--listen", "9435"], /--listen takes HOST:PORT/],
    [["prometheus", "--field", "m=3:3", "x"], /--field m: a field is 1, 2, 4 or 8 bytes, not 3/],
    [["prometheus", "--bogus"], /export prometheus: Unknown option '--bogus'/],
    [["prometheus", "-j", "x"], /export prometheus: Unknown option '-j'/],
    [["otlp", "x"], /export otlp needs --otlp URL/],
    [["otlp", "--otlp", "ftp://x/v1/metrics", "x"], /--otlp takes an http:\/\/ or https:\/\/ URL/],
    [["prometheus", "id", "nope"], /can't parse nope as ID/],
    [["prometheus"], /no maps to export: name at least one SOURCE/],
  ];
  for (const [args, re] of cases) {
    const run = await tsbpf("export", ...args);
    assert.equal(run.code, 255, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, re, args.join(" "));
  }
});

test("export refuses maps it cannot export, closing what it opened", {
  skip: kernelSkip,
}, async () => {
  const maps = pinTestMaps("refuse");
  const ring = BpfMap.create({
    name: "ring",
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 4096,
  });
  const before = fdCounts();
  try {
    ring.pin(join(maps.dir, "ring"));
    const cases: [string[], RegExp][] = [
      [["--counter", "nosuch", maps.lat], /no exported map is named "nosuch" \(maps: lat\)/],
      [
        [maps.lat, join(maps.dir, "ring")],
        /map "ring" is a ringbuf map: only hash and array maps hold values/,
      ],
      [
        ["--field", "lat=bytes", maps.lat],
        /map "lat": member "bytes" needs the map's BTF, and it has none/,
      ],
      [
        [maps.lat, maps.lat],
        /two metric families are named "lat" \(rename with --metric or --prefix\)/,
      ],
      [[join(maps.dir, "nothing")], /nothing: .*No such file or directory/],
    ];
    for (const [args, re] of cases) {
      const run = await tsbpf("export", "prometheus", "--listen", "127.0.0.1:0", ...args);
      assert.equal(run.code, 255, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, re, args.join(" "));
      assertFdCounts(before);
    }
  } finally {
    ring.close();
    maps.close();
  }
});
