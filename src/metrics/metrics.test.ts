/**
 * Maps as metrics without a kernel: VM maps (the same interface as kernel maps) read
 * into counters, gauges and histograms, with the BTF clang wrote into the committed
 * tcp-connect-exporter object, then rendered as Prometheus text and OTLP JSON.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadCollectionSpec } from "../elf/index.ts";
import type { KeyValueMap } from "../spec/index.ts";
import { MapType } from "../uapi/index.ts";
import { createVmMap } from "../vm/index.ts";
import {
  histogramMetrics,
  type MapTypes,
  MetricsError,
  mapMetrics,
  otlpMetricsRequest,
  renderPrometheus,
  sanitizeLabelName,
  sanitizeMetricName,
} from "./index.ts";

const u32 = (...v: number[]) => new Uint8Array(new Uint32Array(v).buffer);
const u64 = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);

const OBJECT = new URL(
  "../../examples/tcp-connect-exporter/tcp-connect-exporter.bpf.o",
  import.meta.url,
);

/** The example's map spec and the BTF of its key and value. */
function exampleMap(): { map: KeyValueMap; types: MapTypes } {
  const spec = loadCollectionSpec(readFileSync(OBJECT));
  const ms = spec.maps.tcp_connects;
  assert.ok(ms && spec.btf, "the example object has its map and BTF");
  const types = {
    btf: spec.btf,
    keyTypeId: ms.btfKeyTypeId ?? 0,
    valueTypeId: ms.btfValueTypeId ?? 0,
  };
  return { map: createVmMap(ms) as KeyValueMap, types };
}

test("BTF key fields become labels, enums by enumerator name", () => {
  const { map, types } = exampleMap();
  map.update(u32(443, 2, 0), u64(12n));
  map.update(u32(8080, 10, 1), u64(3n));
  const families = mapMetrics(map, { name: "tcp_connections", type: "counter", types });
  assert.equal(families.length, 1);
  const text = renderPrometheus(families);
  assert.equal(
    text,
    [
      '# HELP tcp_connections_total BPF map "tcp_connects"',
      "# TYPE tcp_connections_total counter",
      'tcp_connections_total{port="443",family="ipv4",direction="outbound"} 12',
      'tcp_connections_total{port="8080",family="ipv6",direction="inbound"} 3',
      "",
    ].join("\n"),
  );
});

test("an empty map still announces its family", () => {
  const { map, types } = exampleMap();
  const text = renderPrometheus(mapMetrics(map, { name: "c", type: "counter", types }));
  assert.equal(text, '# HELP c_total BPF map "tcp_connects"\n# TYPE c_total counter\n');
});

test("without BTF: the key as a number or hex, per-CPU values summed, a chosen field", () => {
  const pc = createVmMap(
    { name: "pc", type: MapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
    { cpus: 2 },
  );
  pc.updatePerCpu(u32(7), [u64(5n), u64(6n)]);
  assert.deepEqual(mapMetrics(pc)[0]?.samples, [{ labels: { key: "7" }, value: 11n }]);

  const wide = createVmMap({
    name: "wide",
    type: MapType.HASH,
    keySize: 3,
    valueSize: 16,
    maxEntries: 8,
  }) as KeyValueMap;
  const value = new Uint8Array(16);
  value.set(u32(9), 8);
  wide.update(new Uint8Array([1, 2, 0xff]), value);
  assert.throws(() => mapMetrics(wide), /16-byte value is not an integer and has no BTF/);
  const [f] = mapMetrics(wide, { field: { offset: 8, size: 4 }, keyLabel: "id" });
  assert.deepEqual(f?.samples, [{ labels: { id: "0x0102ff" }, value: 9n }]);
  assert.throws(() => mapMetrics(wide, { field: "bytes" }), MetricsError);
});

test("a field the BTF value does not have is named with the ones it has", () => {
  const { map, types } = exampleMap();
  assert.throws(
    () => mapMetrics(map, { types, field: "bytes" }),
    /no numeric member "bytes" \(it has: \(the whole value\)\)/,
  );
});

test("log2 histograms: cumulative le buckets at each slot's top value, midpoint sums", () => {
  const h = createVmMap({
    name: "lat",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 4,
  }) as KeyValueMap;
  // libbpf slots: 0 holds 0..1, 1 holds 2..3, 2 holds 4..7, 3 holds 8..15.
  h.update(u32(0), u64(1n));
  h.update(u32(2), u64(4n));
  h.update(u32(3), u64(2n));
  const family = histogramMetrics(h, { name: "lat_usecs" });
  assert.deepEqual(family.samples[0]?.bounds, [1, 3, 7, 15]);
  assert.equal(
    renderPrometheus([family]),
    [
      '# HELP lat_usecs BPF map "lat" (histogram)',
      "# TYPE lat_usecs histogram",
      'lat_usecs_bucket{le="1"} 1',
      'lat_usecs_bucket{le="3"} 1',
      'lat_usecs_bucket{le="7"} 5',
      'lat_usecs_bucket{le="15"} 7',
      'lat_usecs_bucket{le="+Inf"} 7',
      // 1 * 0.5 + 4 * 5.5 + 2 * 11.5
      "lat_usecs_sum 45.5",
      "lat_usecs_count 7",
      "",
    ].join("\n"),
  );
  const bcc = histogramMetrics(h, {
    scale: { kind: "log2", slots: "bcc" },
    unitScale: 1e-6,
    sum: "none",
  });
  assert.deepEqual(bcc.samples[0]?.bounds, [0, 1e-6, 3e-6, 7e-6]);
  assert.equal(bcc.samples[0]?.sum, undefined);
  assert.throws(() => histogramMetrics(h, { unitScale: 0 }), /unit scale 0/);
});

test("labelled histograms: the key's other bytes label each section", () => {
  const h = createVmMap({
    name: "by_disk",
    type: MapType.HASH,
    keySize: 8,
    valueSize: 8,
    maxEntries: 16,
  }) as KeyValueMap;
  h.update(u32(3, 1), u64(2n)); // disk 3, slot 1
  h.update(u32(5, 0), u64(1n)); // disk 5, slot 0
  const f = histogramMetrics(h, {
    layout: { kind: "slot-per-entry", slot: { offset: 4 } },
    keyLabel: "disk",
  });
  assert.deepEqual(
    f.samples.map((s) => [s.labels, s.counts]),
    [
      [{ disk: "3" }, [0n, 2n, 0n]],
      [{ disk: "5" }, [1n, 0n]],
    ],
  );
});

test("names and label values are made valid and escaped", () => {
  assert.equal(sanitizeMetricName("9p.reads-total"), "_9p_reads_total");
  assert.equal(sanitizeMetricName("ns:sub_x"), "ns:sub_x");
  assert.equal(sanitizeLabelName("__name__"), "key__name__");
  assert.equal(sanitizeLabelName("a:b"), "a_b");
  const text = renderPrometheus([
    {
      name: "g",
      type: "gauge",
      help: 'back\\slash\nnew "quoted"',
      samples: [{ labels: { path: 'C:\\x\n"y"' }, value: Number.NaN }],
    },
  ]);
  assert.equal(
    text,
    '# HELP g back\\\\slash\\nnew "quoted"\n# TYPE g gauge\ng{path="C:\\\\x\\n\\"y\\""} NaN\n',
  );
  const twice = { name: "x", type: "gauge", help: "", samples: [] } as const;
  assert.throws(() => renderPrometheus([twice, twice]), /two metric families are named "x"/);
  assert.throws(
    () =>
      renderPrometheus([{ ...twice, samples: [{ labels: { "a.b": "1", a_b: "2" }, value: 1 }] }]),
    /label "a_b" repeats label "a_b"/,
  );
});

test("OTLP JSON: monotonic cumulative sums, gauges, explicit-bucket histograms", () => {
  const req = otlpMetricsRequest(
    [
      {
        name: "c",
        help: "h",
        type: "counter",
        samples: [{ labels: { k: "v" }, value: 1n << 63n }],
      },
      { name: "g", help: "", type: "gauge", samples: [{ labels: {}, value: 2.5 }] },
      {
        name: "h",
        help: "",
        type: "histogram",
        samples: [{ labels: {}, bounds: [1, 3], counts: [1n, 2n, 0n], count: 3n, sum: 5 }],
      },
    ],
    { startTimeUnixNano: 10n, timeUnixNano: 20n },
  );
  const metrics = JSON.parse(JSON.stringify(req)).resourceMetrics[0].scopeMetrics[0].metrics;
  assert.deepEqual(metrics[0], {
    name: "c",
    description: "h",
    unit: "",
    sum: {
      dataPoints: [
        {
          attributes: [{ key: "k", value: { stringValue: "v" } }],
          startTimeUnixNano: "10",
          timeUnixNano: "20",
          asDouble: 2 ** 63,
        },
      ],
      aggregationTemporality: 2,
      isMonotonic: true,
    },
  });
  assert.deepEqual(metrics[1].gauge.dataPoints, [
    { attributes: [], timeUnixNano: "20", asDouble: 2.5 },
  ]);
  assert.deepEqual(metrics[2].histogram.dataPoints[0].bucketCounts, ["1", "2", "0"]);
  assert.deepEqual(metrics[2].histogram.dataPoints[0].explicitBounds, [1, 3]);
  assert.equal(metrics[2].histogram.dataPoints[0].count, "3");
});
