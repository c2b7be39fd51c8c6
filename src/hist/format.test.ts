import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatLinearHistogram,
  formatLog2Histogram,
  histogramJson,
  linearBuckets,
  log2Buckets,
  log2Slot,
  log2SlotRange,
} from "./format.ts";

// The counts of the per-disk example in BCC's biolatency documentation ("Bucket disk =
// 'xvdb'"), in libbpf's slots: the rows below are what BCC printed for them.
const XVDB = [0, 0, 0, 0, 0, 0, 0, 1, 33, 36, 58, 51, 21, 2];
const XVDB_ROWS = [
  "     usecs               : count     distribution",
  "         0 -> 1          : 0        |                                        |",
  "         2 -> 3          : 0        |                                        |",
  "         4 -> 7          : 0        |                                        |",
  "         8 -> 15         : 0        |                                        |",
  "        16 -> 31         : 0        |                                        |",
  "        32 -> 63         : 0        |                                        |",
  "        64 -> 127        : 0        |                                        |",
  "       128 -> 255        : 1        |                                        |",
  "       256 -> 511        : 33       |**********************                  |",
  "       512 -> 1023       : 36       |************************                |",
  "      1024 -> 2047       : 58       |****************************************|",
  "      2048 -> 4095       : 51       |***********************************     |",
  "      4096 -> 8191       : 21       |**************                          |",
  "      8192 -> 16383      : 2        |*                                       |",
  "",
].join("\n");

test("log2, BCC's layout: the rows BCC's biolatency printed", () => {
  assert.equal(formatLog2Histogram(XVDB, { unit: "usecs" }), XVDB_ROWS);
  // The same counts in BCC's own slots (shifted by one, slot 0 never shown).
  assert.equal(formatLog2Histogram([5, ...XVDB], { unit: "usecs", slots: "bcc" }), XVDB_ROWS);
  // bigint counts read from u64 values print the same.
  assert.equal(formatLog2Histogram(XVDB.map(BigInt), { unit: "usecs" }), XVDB_ROWS);
});

test("log2: strip leading zeros, empty histograms, a count past the maximum", () => {
  const stripped = formatLog2Histogram(XVDB, { unit: "usecs", stripLeadingZero: true });
  assert.equal(stripped.split("\n")[1], XVDB_ROWS.split("\n")[8]);
  assert.equal(formatLog2Histogram([0, 0, 0]), "");
  assert.equal(formatLog2Histogram([]), "");
  // BCC's slot 0 alone prints nothing (BCC never shows it).
  assert.equal(formatLog2Histogram([7], { slots: "bcc" }), "");
});

test("log2: more than 32 slots widen the rows and halve the bar", () => {
  const counts = new Array(40).fill(0);
  counts[39] = 4;
  counts[3] = 2;
  const lines = formatLog2Histogram(counts, { unit: "nsecs" }).split("\n");
  assert.equal(lines[0], `               ${"nsecs".padEnd(29)} : count     distribution`);
  assert.equal(
    lines.at(-2),
    `${"549755813888".padStart(20)} -> ${"1099511627775".padEnd(20)} : 4        |${"*".repeat(20)}|`,
  );
  assert.equal(
    lines[4],
    `${"8".padStart(20)} -> ${"15".padEnd(20)} : 2        |${"*".repeat(10).padEnd(20)}|`,
  );
});

test("linear, BCC's layout", () => {
  const out = formatLinearHistogram([0, 2, 4], { unit: "kbytes" });
  assert.equal(
    out,
    [
      "     kbytes        : count     distribution",
      `        0          : 0        |${" ".repeat(40)}|`,
      `        1          : 2        |${"*".repeat(20).padEnd(40)}|`,
      `        2          : 4        |${"*".repeat(40)}|`,
      "",
    ].join("\n"),
  );
  assert.equal(formatLinearHistogram([0, 0]), "");
  assert.throws(() => formatLinearHistogram([1], { step: 0 }), /step 0 is not a positive integer/);
});

test("bpftrace's hist(): [low, high) labels with K/M suffixes, 52-wide @ bars", () => {
  // bpftrace's own example: values 0, 1, 2-3 and 1K-2K.
  const counts = new Array(12).fill(0);
  counts[1] = 5; // BCC slots: slot 1 holds exactly 1
  counts[2] = 10; // [2, 4)
  counts[11] = 1; // [1K, 2K)
  const out = formatLog2Histogram(counts, { style: "bpftrace", slots: "bcc" }).split("\n");
  assert.equal(out[0], `[1]                    5 |${"@".repeat(26).padEnd(52)}|`);
  assert.equal(out[1], `[2, 4)                10 |${"@".repeat(52)}|`);
  assert.equal(out[2], `[4, 8)                 0 |${" ".repeat(52)}|`);
  assert.equal(out.at(-2), `[1K, 2K)               1 |${"@".repeat(5).padEnd(52)}|`);
  // libbpf's slot 0 holds 0 and 1.
  assert.equal(
    formatLog2Histogram([3], { style: "bpftrace" }),
    `[0, 2)                 3 |${"@".repeat(52)}|\n`,
  );
});

test("bpftrace's lhist(): labels in K only for steps that are multiples of 1024", () => {
  const out = formatLinearHistogram([0, 1, 2], { style: "bpftrace", min: 0, step: 10 });
  assert.equal(out.split("\n")[0], `[10, 20)               1 |${"@".repeat(26).padEnd(52)}|`);
  const kb = formatLinearHistogram([1, 1], { style: "bpftrace", step: 1024 });
  assert.equal(kb.split("\n")[1]?.slice(0, 16), "[1K, 2K)        ");
});

test("slots: the value ranges and the slot a value falls in agree, both conventions", () => {
  for (const slots of ["libbpf", "bcc"] as const) {
    for (const v of [0n, 1n, 2n, 3n, 4n, 1000n, 1023n, 1024n, (1n << 63n) + 5n]) {
      const [lo, hi] = log2SlotRange(log2Slot(v, slots), slots);
      assert.ok(lo <= v && v <= hi, `${slots}: ${v} in [${lo}, ${hi}]`);
    }
  }
  assert.equal(log2Slot(1, "libbpf"), 0);
  assert.equal(log2Slot(1, "bcc"), 1);
  assert.throws(() => log2Slot(-1), /negative/);
});

test("JSON: BCC's fields as real JSON, buckets up to the last non-zero one", () => {
  const now = new Date(2026, 11, 7, 8, 5, 9);
  const j = histogramJson(log2Buckets([0, 3, 0, 1, 0, 0]), {
    unit: "usecs",
    section: ["disk", "sda"],
    now,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(j)), {
    ts: "2026-12-07 08:05:09",
    val_type: "usecs",
    data: [
      { "interval-start": 0, "interval-end": 1, count: 0 },
      { "interval-start": 2, "interval-end": 3, count: 3 },
      { "interval-start": 4, "interval-end": 7, count: 0 },
      { "interval-start": 8, "interval-end": 15, count: 1 },
    ],
    disk: "sda",
  });
  // BCC's slots give BCC's intervals: slot 1 reads 0..1, as BCC prints it.
  assert.deepEqual(
    log2Buckets([9, 1, 1], "bcc").map((b) => [b.low, b.high]),
    [
      [0n, 1n],
      [2n, 3n],
    ],
  );
  assert.deepEqual(
    linearBuckets([1, 2], { min: 10, step: 5 }).map((b) => [b.low, b.high, b.count]),
    [
      [10n, 14n, 1n],
      [15n, 19n, 2n],
    ],
  );
  // A count past 2^53 stays exact, as a string.
  const big = histogramJson(log2Buckets([1n << 60n]), { now });
  assert.equal(big.data[0]?.count, String(1n << 60n));
});
