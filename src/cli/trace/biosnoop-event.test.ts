import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BIO_EVENT_SIZE,
  type BioEvent,
  bioDirection,
  biosnoopHeader,
  biosnoopJson,
  decodeBioEvent,
  formatBiosnoopRow,
} from "./biosnoop-event.ts";

const event: BioEvent = {
  ts: 5_000_000_000n,
  latNs: 740_000n,
  queueNs: 10_000n,
  sector: 13092560n,
  dev: (202 << 20) | 1,
  pid: 1950,
  bytes: 4096,
  comm: "supervise",
  rwbs: "WS",
};

test("biosnoop rows line up as BCC's documented example", () => {
  // BCC's biosnoop_example.txt, first row and the -Q header
  assert.equal(
    biosnoopHeader(false),
    "TIME(s)     COMM           PID    DISK    T SECTOR     BYTES   LAT(ms)\n",
  );
  assert.equal(
    formatBiosnoopRow(event, 0.000004, "xvda1", false),
    "0.000004    supervise      1950   xvda1   W 13092560   4096       0.74\n",
  );
  assert.equal(
    biosnoopHeader(true),
    "TIME(s)     COMM           PID    DISK    T SECTOR     BYTES  QUE(ms) LAT(ms)\n",
  );
  assert.equal(
    formatBiosnoopRow(
      { ...event, comm: "kworker/u72:1", sector: 1142400n, latNs: 550_000n },
      0,
      "nvme1n1",
      true,
    ),
    "0.000000    kworker/u72:1  1950   nvme1n1 W 1142400    4096      0.01    0.55\n",
  );
  // comm is cut at 14 characters, as %-14.14s
  assert.match(
    formatBiosnoopRow({ ...event, comm: "xfsaild/nvme1n1" }, 0, "d", false),
    / xfsaild\/nvme1n +1950 /,
  );
});

test("bioDirection: writes and discards are W, reads, flushes and the rest R", () => {
  assert.deepEqual(["W", "WS", "FWS", "D", "R", "RA", "FF", "N"].map(bioDirection), [
    "W",
    "W",
    "W",
    "W",
    "R",
    "R",
    "R",
    "R",
  ]);
});

test("decodeBioEvent reads struct bio_event; a short record is refused", () => {
  const b = new Uint8Array(BIO_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 7n, true);
  v.setBigUint64(8, 8n, true);
  v.setBigUint64(16, 9n, true);
  v.setBigUint64(24, 10n, true);
  v.setUint32(32, 11, true);
  v.setUint32(36, 12, true);
  v.setUint32(40, 512, true);
  b.set(new TextEncoder().encode("dd"), 44);
  b.set(new TextEncoder().encode("RA"), 60);
  assert.deepEqual(decodeBioEvent(b), {
    ts: 7n,
    latNs: 8n,
    queueNs: 9n,
    sector: 10n,
    dev: 11,
    pid: 12,
    bytes: 512,
    comm: "dd",
    rwbs: "RA",
  });
  assert.throws(() => decodeBioEvent(b.subarray(0, 71)), /record of 71 bytes, expected 72/);
  assert.deepEqual(Object.keys(JSON.parse(biosnoopJson(event, "xvda1"))), [
    "ts",
    "comm",
    "pid",
    "disk",
    "rwbs",
    "t",
    "sector",
    "bytes",
    "lat_ns",
    "queue_ns",
  ]);
});
