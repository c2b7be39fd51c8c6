/**
 * Maps as metrics without a kernel: VM maps (the same interface as kernel maps) read
 * into counters, gauges and histograms, with the BTF clang wrote into the committed
 * tcp-connect-exporter object, then rendered as Prometheus text and OTLP JSON.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { encodeTypes, parseBTF } from "../btf/index.ts";
import type { BTFType } from "../btf/types.ts";
import { loadCollectionSpec } from "../elf/index.ts";
import type { KeyValueMap } from "../spec/index.ts";
import { MapType } from "../uapi/index.ts";
import { createVmMap } from "../vm/index.ts";
import {
  detectHistogramLayout,
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

/** BTF as libbpf-tools' histogram maps and a stats map would carry it. */
const HIST_BTF = (() => {
  const uint = {
    kind: "INT",
    name: "unsigned int",
    size: 4,
    signed: false,
    char: false,
    bool: false,
    bitOffset: 0,
    bits: 32,
  } as const;
  const types: BTFType[] = [
    { ...uint, id: 1 },
    {
      kind: "STRUCT",
      id: 2,
      name: "disk_slot",
      size: 8,
      members: [
        { name: "disk", type: 1, bitOffset: 0, bitfieldSize: 0 },
        { name: "slot", type: 1, bitOffset: 32, bitfieldSize: 0 },
      ],
    },
    { kind: "ARRAY", id: 3, name: "", type: 1, indexType: 1, nelems: 4 },
    {
      kind: "STRUCT",
      id: 4,
      name: "hist",
      size: 16,
      members: [{ name: "slots", type: 3, bitOffset: 0, bitfieldSize: 0 }],
    },
    {
      kind: "INT",
      id: 5,
      name: "char",
      size: 1,
      signed: true,
      char: true,
      bool: false,
      bitOffset: 0,
      bits: 8,
    },
    { kind: "ARRAY", id: 6, name: "", type: 5, indexType: 1, nelems: 4 },
    {
      kind: "STRUCT",
      id: 7,
      name: "comm_key",
      size: 4,
      members: [{ name: "comm", type: 6, bitOffset: 0, bitfieldSize: 0 }],
    },
    { ...uint, id: 8, name: "unsigned long long", size: 8, bits: 64 },
    {
      kind: "STRUCT",
      id: 9,
      name: "stats",
      size: 16,
      members: [
        { name: "packets", type: 8, bitOffset: 0, bitfieldSize: 0 },
        { name: "bytes", type: 8, bitOffset: 64, bitfieldSize: 0 },
      ],
    },
  ];
  return parseBTF(encodeTypes(types));
})();

test("BTF histograms: a key member named slot, or libbpf-tools' struct hist values", () => {
  const bySlot = { btf: HIST_BTF, keyTypeId: 2, valueTypeId: 1 };
  assert.deepEqual(detectHistogramLayout(bySlot), {
    kind: "slot-per-entry",
    slot: { offset: 4, size: 4 },
  });
  const h = createVmMap({
    name: "bio",
    type: MapType.HASH,
    keySize: 8,
    valueSize: 4,
    maxEntries: 8,
  }) as KeyValueMap;
  h.update(u32(3, 2), u32(9));
  const f = histogramMetrics(h, { types: bySlot });
  assert.deepEqual(
    f.samples.map((x) => [x.labels, x.counts]),
    [[{ disk: "3" }, [0n, 0n, 9n, 0n]]],
  );

  const inValue = { btf: HIST_BTF, keyTypeId: 7, valueTypeId: 4 };
  assert.deepEqual(detectHistogramLayout(inValue), {
    kind: "slots-in-value",
    offset: 0,
    count: 4,
    size: 4,
  });
  const v = createVmMap({
    name: "by_comm",
    type: MapType.HASH,
    keySize: 4,
    valueSize: 16,
    maxEntries: 8,
  }) as KeyValueMap;
  v.update(new Uint8Array([0x73, 0x68, 0, 0]), u32(1, 0, 0, 4));
  const g = histogramMetrics(v, { types: inValue });
  assert.deepEqual(
    g.samples.map((x) => [x.labels, x.counts, x.count]),
    [[{ comm: "sh" }, [1n, 0n, 0n, 4n, 0n], 5n]],
  );
});

test("a struct value gives one family per numeric member, or the member asked for", () => {
  const types = { btf: HIST_BTF, keyTypeId: 1, valueTypeId: 9 };
  const m = createVmMap({
    name: "ifstats",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 1,
  }) as KeyValueMap;
  const value = new Uint8Array(16);
  value.set(u64(10n), 0);
  value.set(u64(1500n), 8);
  m.update(u32(0), value);
  const all = mapMetrics(m, { types, type: "counter", keyLabel: "ifindex" });
  assert.deepEqual(
    all.map((f) => [f.name, f.samples]),
    [
      ["ifstats_packets", [{ labels: { ifindex: "0" }, value: 10n }]],
      ["ifstats_bytes", [{ labels: { ifindex: "0" }, value: 1500n }]],
    ],
  );
  const one = mapMetrics(m, { types, field: "bytes", name: "if_bytes" });
  assert.deepEqual(
    one.map((f) => [f.name, f.samples[0]?.value]),
    [["if_bytes", 1500n]],
  );
});
