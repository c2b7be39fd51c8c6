/**
 * examples/xdp-count, run the way its header says (`node --import tsx
 * examples/xdp-count/xdp-count.ts`): the kernel and VM columns agree on every packet's
 * verdict, the per-protocol counters and the `dropped` variable, and they are the
 * expected numbers. Without root only the VM column is checked.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { FROM_SOURCE } from "./support/examples.ts";
import { kernelSkip } from "./support/kernel.ts";

const ROOT = join(import.meta.dirname, "..");
const root = !kernelSkip;

test("xdp-count prints the same results for the kernel and the VM", () => {
  const out = execFileSync(
    process.execPath,
    [...FROM_SOURCE, join(ROOT, "examples/xdp-count/xdp-count.ts")],
    { cwd: ROOT, encoding: "utf8" },
  );
  const rows = new Map(
    out
      .split("\n")
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((c) => c.length === 3)
      .map(([name, k, v]) => [name!, [k!, v!]] as const),
  );
  const want: Record<string, string> = {
    "tcp to :443": "PASS",
    "udp to :53 (dns)": "DROP",
    "udp to :123": "PASS",
    "icmp echo": "PASS",
    arp: "PASS",
    "tcp to :80": "PASS",
    tcp: "2 pkts/184 B",
    udp: "1 pkts/90 B",
    icmp: "1 pkts/98 B",
    other: "1 pkts/42 B",
    dropped: "1",
  };
  for (const [name, value] of Object.entries(want)) {
    const row = rows.get(name);
    assert.ok(row, `no row "${name}" in:\n${out}`);
    assert.equal(row[1], value, `vm column of "${name}"`);
    assert.equal(row[0], root ? value : "-", `kernel column of "${name}"`);
  }
});
